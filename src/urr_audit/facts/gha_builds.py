"""What the pipeline does with the images it builds: the vulnerability scans its steps run (an
action such as trivy-action, or a command line such as `trivy image`), which image each scans,
whether a finding can fail it, the report it writes; and the order in which a workflow's steps
and jobs run (`needs:`), to tell a push that happens before the scan of its image.

Scanners are described by the rules' params (`ScannerAction`, `ScannerCommand`): nothing here
names a tool."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.model.common import Span
from urr_audit.model.gha_expr import Unknown, evaluate, to_string
from urr_audit.model.gha_images import Hole, ImageName, Template
from urr_audit.model.project import Project
from urr_audit.model.workflows import Job, Scalar, ShellCommand, Step, Workflow

_STRICT = ConfigDict(extra="forbid")


class ScannerAction(BaseModel):
    """An action that scans an image. Inputs are named as the action documents them."""

    model_config = _STRICT

    action: str  # `owner/repo[/path]`
    image_inputs: list[str] = Field(default_factory=list)  # the image scanned (first given wins)
    # inputs naming an image archive (`input: /tmp/image.tar`): an image scan whose image is
    # whatever the job wrote there, not a name
    archive_inputs: list[str] = Field(default_factory=list)
    # the input choosing what is scanned, and its values that mean a container image
    # (trivy-action's `scan-type`, default `image`); other values scan files, not images
    kind_input: str | None = None
    kind_default: str = "image"
    image_kinds: list[str] = Field(default_factory=lambda: ["image"])
    # True: a step whose kind is not an image kind is no vulnerability scan (`docker scout compare`)
    only_kinds: bool = False
    fail_input: str | None = None  # the input that makes a finding fail the step
    # values of `fail_input` under which findings never fail the step (`'0'`, `false`)
    pass_values: list[str] = Field(default_factory=list)
    fails_by_default: bool = True  # with `fail_input` not given
    report_input: str | None = None  # where the report is written
    report_default: str | None = None  # the file written when `report_input` is not given
    # the input holding extra command-line arguments (snyk's `args`), and the flags in it that
    # name the report (`--sarif-file-output=snyk.sarif`)
    args_input: str | None = None
    report_flags: list[str] = Field(default_factory=list)
    # a SARIF file the action writes without being asked (snyk's `snyk.sarif`): read by an
    # upload to code scanning, not a report anyone must read
    sarif_default: str | None = None
    # where else the failing behaviour can be set: inputs naming a config file, environment
    # variables the scanner reads (`TRIVY_EXIT_CODE`), config files it reads from the working
    # directory by default (`trivy.yaml`)
    config_inputs: list[str] = Field(default_factory=list)
    fail_env: list[str] = Field(default_factory=list)
    config_files: list[str] = Field(default_factory=list)


class ScannerCommand(BaseModel):
    """A command line that scans an image: `trivy image`, `grype`, `docker scout cves`."""

    model_config = _STRICT

    command: str  # words: the program (basename) and its subcommands, in order
    # flags that make a finding fail the command (`--exit-code`, `--fail-on`); a flag with a
    # value in `pass_values` does not
    fail_flags: list[str] = Field(default_factory=list)
    fail_flag_takes_value: bool = True  # False for a switch (`docker scout cves --exit-code`)
    pass_values: list[str] = Field(default_factory=list)
    fails_by_default: bool = False
    report_flags: list[str] = Field(default_factory=list)  # `-o`, `--output`
    archive_flags: list[str] = Field(default_factory=list)  # `--input image.tar`
    # flags that take a value (so the image is the first word that is neither a flag nor one)
    value_flags: list[str] = Field(default_factory=list)
    config_flags: list[str] = Field(default_factory=list)  # `--config FILE`
    fail_env: list[str] = Field(default_factory=list)
    config_files: list[str] = Field(default_factory=list)


class ScannerParams(BaseModel):
    model_config = _STRICT

    scanner_actions: list[ScannerAction] = Field(default_factory=list)
    scanner_commands: list[ScannerCommand] = Field(default_factory=list)


@dataclass
class Scan:
    """One scan step (or command) of a workflow job."""

    workflow: Workflow
    job: Job
    step: Step
    index: int  # of the step in its job
    tool: str  # the action (`aquasecurity/trivy-action`) or the command (`trivy image`)
    span: Span
    column: int = 1
    image: Template | None = None  # None: not an image scan (files, a repository)
    image_at: Span | None = None
    # can a finding fail the step? True / False / None (written as an expression)
    fails: bool | None = True
    fail_reason: str = ""  # why it cannot (or may not) fail
    fail_at: Span | None = None
    # when `fails` is False: what else may make it fail, unseen here (a config file, an env var)
    configured: str = ""
    config_files: list[str] = field(default_factory=list)  # read from the working directory
    report: str | None = None  # the report file, when literal
    report_at: Span | None = None
    command: ShellCommand | None = None
    related: list[Span] = field(default_factory=list)
    # SARIF files the step may write (the report, `*.sarif` words in its inputs or script, an
    # action's default), for the upload to code scanning that reads one
    sarif: list[str] = field(default_factory=list)

    @property
    def name(self) -> ImageName | None:
        return ImageName.parse(self.image) if self.image is not None else None


# --- strings as templates -----------------------------------------------------------------------

_OPEN = re.compile(r"\$\{\{")


def env_of(wf: Workflow, job: Job | None, step: Step | None) -> dict[str, str]:
    """The literal `env:` values in scope of a step (workflow, job, step; inner wins)."""
    out: dict[str, str] = {}
    for layer in (wf.env, job.env if job else {}, step.env if step else {}):
        for k, v in layer.items():
            if v.is_literal:
                out[k] = v.text
            else:
                out.pop(k, None)
    return out


def template_of(scalar: Scalar, contexts: dict[str, Any]) -> Template:
    """The scalar's text with each `${{ }}` filled in where `contexts` decide it, else a hole."""
    text = scalar.text
    parts: list[str | Hole] = []
    pos = 0
    exprs = list(scalar.exprs)
    for m in _OPEN.finditer(text):
        if m.start() < pos:
            continue
        end = text.find("}}", m.end())
        if end < 0 or not exprs:
            break
        expr = exprs.pop(0)
        parts.append(text[pos : m.start()])
        source = text[m.start() : end + 2]
        v = evaluate(expr.node, contexts)
        if isinstance(v, Unknown) or v is None:
            parts.append(Hole(source=source, reason="known at run time", node=expr.node))
        else:
            parts.append(to_string(v))
        pos = end + 2
    parts.append(text[pos:])
    return Template(parts=tuple(p for p in parts if p != "")).bind({})


def word_template(word: str, contexts: dict[str, Any]) -> Template:
    """A command-line word (`$IMAGE:${{ github.sha }}`): `${VAR}`/`$VAR` from `contexts['env']`
    when literal, every other expansion a hole."""
    env = contexts.get("env", {})
    parts: list[str | Hole] = []
    pos = 0
    for m in re.finditer(r"\$\{\{.*?\}\}|\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)|\$\(", word):
        parts.append(word[pos : m.start()])
        name = m.group(1) or m.group(2)
        if name and name in env:
            parts.append(env[name])
        else:
            parts.append(Hole(source=m.group(0), reason="known at run time"))
        pos = m.end()
    parts.append(word[pos:])
    return Template(parts=tuple(p for p in parts if p != "")).bind({})


# --- scans ---------------------------------------------------------------------------------------


def _archive(path: str) -> Template:
    """An image scanned from an archive: an image, but which one is not a name."""
    return Template(parts=(Hole(source=path, reason="an image archive written by the job"),))


def _words_match(argv: list[str], words: list[str]) -> int | None:
    """How many leading words of `argv` (first one by basename, flags between subcommands
    skipped) match `words`; None when they do not."""
    if not argv or not fnmatchcase(argv[0].rsplit("/", 1)[-1], words[0]):
        return None
    i, k = 1, 1
    while k < len(words):
        while i < len(argv) and argv[i].startswith("-"):
            i += 1
        if i >= len(argv) or argv[i] != words[k]:
            return None
        i += 1
        k += 1
    return i


def _flag_value(argv: list[str], flags: list[str], takes_value: bool = True) -> tuple[bool, str | None]:
    """(present, value) of the last of `flags` in argv (`--exit-code 1`, `--exit-code=1`; a
    switch has a value only as `--flag=value`)."""
    found, value = False, None
    for i, a in enumerate(argv):
        for f in flags:
            if a == f:
                found = True
                nxt = argv[i + 1] if i + 1 < len(argv) else None
                value = nxt if takes_value and nxt is not None and not nxt.startswith("-") else None
            elif a.startswith(f + "="):
                found, value = True, a[len(f) + 1 :]
    return found, value


def _configured(wf: Workflow, job: Job, step: Step, env_names: list[str], config: str | None) -> str:
    """Why a scan's failing behaviour may be set where this step does not show it: an
    environment variable the scanner reads, a config file given to it; '' when neither."""
    for layer, where in ((step.env, "step"), (job.env, "job"), (wf.env, "workflow")):
        for name in env_names:
            if name in layer:
                return f"`{name}: {layer[name].text}` in the {where} `env:`"
    return f"its config file `{config}`" if config else ""


def _command_scans(wf: Workflow, job: Job, step: Step, index: int, spec: ScannerCommand) -> list[Scan]:
    out: list[Scan] = []
    if step.run is None:
        return out
    words = spec.command.split()
    contexts = {"env": env_of(wf, job, step)}
    for cmd in step.run.commands:
        n = _words_match(cmd.argv, words)
        if n is None:
            continue
        args = cmd.argv[n:]
        image = None
        skip = False
        for a in args:
            if skip:
                skip = False
                continue
            if a.startswith("-"):
                skip = (
                    a in spec.value_flags
                    or (a in spec.fail_flags and spec.fail_flag_takes_value)
                    or a in spec.report_flags
                )
                continue
            image = a
            break
        present, value = _flag_value(args, spec.fail_flags, spec.fail_flag_takes_value)
        if present:
            fails: bool | None = value is None or value not in spec.pass_values
            if value is not None and ("$" in value):
                fails = None
            reason = f"`{' '.join(spec.fail_flags[:1])} {value}`" if value is not None else ""
        else:
            fails = spec.fails_by_default
            reason = f"no `{spec.fail_flags[0]}`" if spec.fail_flags else ""
        _present, report = _flag_value(args, spec.report_flags)
        _present, archive = _flag_value(args, spec.archive_flags)
        name: Template | None = word_template(image, contexts) if image else None
        if image is not None and image.startswith(("docker-archive:", "oci-archive:", "dir:", "file:", "sbom:")):
            name = _archive(image)
        elif image is None and archive is not None:
            name = _archive(archive)
        line = Span(path=cmd.span.path, line=cmd.span.line, end_line=cmd.span.line)
        _present, config = _flag_value(args, spec.config_flags)
        out.append(
            Scan(
                wf,
                job,
                step,
                index,
                spec.command,
                line,
                cmd.column,
                image=name,
                image_at=line,
                fails=fails,
                fail_reason=reason,
                fail_at=line,
                report=report if report and "$" not in report else None,
                report_at=line,
                command=cmd,
                configured=_configured(wf, job, step, spec.fail_env, config),
                config_files=list(spec.config_files),
                sarif=sarif_files(step, report if report and "$" not in report else None),
            )
        )
    return out


def _action_scan(wf: Workflow, job: Job, step: Step, index: int, spec: ScannerAction) -> Scan | None:
    assert step.uses is not None
    contexts = {"env": env_of(wf, job, step)}
    kind = step.with_.get(spec.kind_input) if spec.kind_input else None
    kind_value = (
        (kind.text if kind is not None and kind.is_literal else None) if kind is not None else spec.kind_default
    )
    image: Template | None = None
    image_at: Span | None = None
    is_image = kind_value is None or any(fnmatchcase(kind_value, k) for k in spec.image_kinds)
    if spec.only_kinds and not is_image:
        return None
    if is_image:
        given = next((step.with_[i] for i in spec.image_inputs if i in step.with_), None)
        archive = next((step.with_[i] for i in spec.archive_inputs if i in step.with_), None)
        if given is not None:
            image, image_at = template_of(given, contexts), given.span
        elif archive is not None:
            image, image_at = _archive(archive.text), archive.span
    fail = step.with_.get(spec.fail_input) if spec.fail_input else None
    fails: bool | None
    if fail is None:
        fails = spec.fails_by_default
        reason = f"`{spec.fail_input}` not set (its default lets findings pass)" if spec.fail_input else ""
    elif not fail.is_literal:
        fails, reason = None, f"`{spec.fail_input}: {fail.text}` is decided at run time"
    else:
        fails = fail.text.strip().strip("'\"").lower() not in [v.lower() for v in spec.pass_values]
        reason = f"`{spec.fail_input}: {fail.text}`"
    report_scalar = step.with_.get(spec.report_input) if spec.report_input else None
    report = spec.report_default
    report_at = step.uses.span
    if report_scalar is not None:
        report = report_scalar.text if report_scalar.is_literal and report_scalar.text.strip() else None
        report_at = report_scalar.span
    args = step.with_.get(spec.args_input) if spec.args_input else None
    if report is None and args is not None and args.is_literal and spec.report_flags:
        words = [w for a in args.text.split() for w in (a.split("=", 1) if a.startswith("--") else [a])]
        _present, flagged = _flag_value(words, spec.report_flags)
        if flagged and "$" not in flagged:
            report, report_at = flagged, args.span
    return Scan(
        wf,
        job,
        step,
        index,
        step.uses.action,
        step.uses.span,
        step.uses.column,
        image=image,
        image_at=image_at,
        fails=fails,
        fail_reason=reason,
        fail_at=fail.span if fail is not None else step.uses.span,
        report=report,
        report_at=report_at,
        configured=_configured(
            wf,
            job,
            step,
            spec.fail_env,
            next((step.with_[i].text for i in spec.config_inputs if i in step.with_), None),
        ),
        config_files=list(spec.config_files),
        sarif=sarif_files(step, report, spec.sarif_default),
    )


_SARIF = re.compile(r"[\w./-]+\.sarif\b")


def sarif_files(step: Step, report: str | None, default: str | None = None) -> list[str]:
    """The SARIF files a scan step may write: its report, the `*.sarif` paths its literal
    inputs and script name, the action's default file."""
    out = [report] if report else []
    texts = [v.text for v in step.with_.values() if v.is_literal]
    if step.run is not None:
        texts.append(step.run.text)
    out += [m.group(0) for t in texts for m in _SARIF.finditer(t)]
    if default:
        out.append(default)
    return list(dict.fromkeys(out))


def scans(project: Project, params: ScannerParams) -> list[Scan]:
    """Every scan in the workflows' jobs, in file order."""
    return [s for wf in project.workflows.workflows for job in wf.jobs.values() for s in job_scans(wf, job, params)]


def job_scans(wf: Workflow, job: Job, params: ScannerParams) -> list[Scan]:
    """The scans of one job, in step order."""
    out: list[Scan] = []
    for i, step in enumerate(job.steps):
        if step.uses is not None:
            for a in params.scanner_actions:
                if fnmatchcase(step.uses.action, a.action.lower()):
                    scan = _action_scan(wf, job, step, i, a)
                    if scan is not None:
                        out.append(scan)
                    break
        for c in params.scanner_commands:
            out.extend(_command_scans(wf, job, step, i, c))
    return out


# --- order ---------------------------------------------------------------------------------------


def upstream(wf: Workflow, job_id: str) -> set[str]:
    """The jobs that finish before `job_id` starts (its `needs:`, transitively)."""
    seen: set[str] = set()
    todo = [job_id]
    while todo:
        j = wf.jobs.get(todo.pop())
        if j is None:
            continue
        for n in j.needs:
            if n.job not in seen:
                seen.add(n.job)
                todo.append(n.job)
    return seen


def runs_before(wf: Workflow, a: tuple[str, int], b: tuple[str, int]) -> bool | None:
    """Whether step a (job id, index) has finished when step b starts: True (same job, earlier;
    or a's job is upstream of b's), False (the reverse), None (jobs not ordered: in parallel)."""
    if a[0] == b[0]:
        return a[1] < b[1]
    if a[0] in upstream(wf, b[0]):
        return True
    if b[0] in upstream(wf, a[0]):
        return False
    return None


def same_image(a: ImageName, b: ImageName) -> bool | None:
    """Whether two names are the same image repository: True / False when both are known
    enough to say, None when not (a name from a step output, a matrix value)."""
    from urr_audit.facts.pipeline import repository_of, same_repository

    ra, rb = repository_of(a), repository_of(b)
    if ra is not None and rb is not None:
        return same_repository(ra, rb)
    if str(a.repository) == str(b.repository):
        return True
    return None


def reads_file(step: Step, path: str) -> bool:
    """Whether a step may read the file `path`: it names it (or a directory or glob taking it
    in) in an input, its `env:` or its script (an upload, a `sarif_file:`, a script reading it),
    or one of its inputs is known only at run time."""
    base = posixpath.basename(path)
    norm = path.removeprefix("./")
    if any(not v.is_literal for v in step.with_.values()):
        return True  # a path known at run time may be it
    texts: list[str] = [v.text for v in (*step.with_.values(), *step.env.values())]
    if step.run is not None:
        texts.append(step.run.text)
    for text in texts:
        if base and base in text:
            return True
        for line in text.splitlines():
            entry = line.strip().removeprefix("./").rstrip("/")
            if not entry or entry.startswith("!"):
                continue
            if entry in (".", "*", "**") or norm.startswith(entry + "/") or fnmatchcase(norm, entry):
                return True
    return False


# --- build contexts ------------------------------------------------------------------------------


class Tree:
    """The repository's files and directories (repo-relative), for existence questions."""

    def __init__(self, files: list[str]):
        self.files = set(files)
        self.dirs: set[str] = {"."}
        for f in files:
            d = posixpath.dirname(f)
            while d and d not in self.dirs:
                self.dirs.add(d)
                d = posixpath.dirname(d)

    def exists(self, path: str) -> bool:
        return path in self.files or path in self.dirs

    def is_dir(self, path: str) -> bool:
        return path in self.dirs

    def under(self, directory: str) -> list[str]:
        """Files below a directory, relative to it."""
        if directory == ".":
            return sorted(self.files)
        prefix = directory.rstrip("/") + "/"
        return sorted(f[len(prefix) :] for f in self.files if f.startswith(prefix))


def tree_of(project: Project) -> Tree | None:
    """The repository's file tree, built once per scan; None when the project was not listed."""
    files = project.files
    return None if files is None else project.fact(Tree, lambda: Tree(files))


def clean(path: str) -> str | None:
    """A repository-relative path, normalised; None when it leaves the repository or is a URL."""
    if "://" in path or "{{" in path or path.startswith(("git@", "/")):
        return None
    p = posixpath.normpath(path)
    if p == ".." or p.startswith("../"):
        return None
    return p


class WorkspaceParams(BaseModel):
    """What steps leave the workspace as the checkout made it."""

    model_config = _STRICT

    checkout: list[str] = Field(default_factory=lambda: ["actions/checkout"])
    # actions that write nothing into the workspace (setup, login, metadata)
    inert_actions: list[str] = Field(
        default_factory=lambda: [
            "actions/setup-*",
            "docker/setup-*",
            "docker/login-action",
            "docker/metadata-action",
            "aws-actions/configure-aws-credentials",
            "aws-actions/amazon-ecr-login",
            "azure/login",
            "google-github-actions/auth",
            "google-github-actions/setup-gcloud",
            "gradle/actions/setup-gradle",
            "gradle/gradle-build-action",
        ]
    )
    # commands that write no files (unless redirected into one)
    inert_commands: list[str] = Field(
        default_factory=lambda: ["echo", "printf", "true", ":", "sleep", "env", "printenv", "ls", "pwd", "test", "["]
    )


_SHELL_OUT = ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY", "GITHUB_PATH", "GITHUB_STATE", "/dev/")


def _writes_files(cmd: ShellCommand, params: WorkspaceParams) -> bool:
    for op, target in cmd.redirects:
        if op in (">", ">>", ">|", "&>", "&>>") and not any(t in target for t in _SHELL_OUT):
            return True
    if cmd.name in params.inert_commands:
        return False
    if cmd.name == "git" and len(cmd.argv) > 1 and cmd.argv[1] in ("config", "rev-parse", "log", "describe", "status"):
        return False
    docker_only = ("login", "logout", "buildx", "build", "push", "tag")
    return not (cmd.name == "docker" and len(cmd.argv) > 1 and cmd.argv[1] in docker_only)


def may_write(job: Job, index: int, params: WorkspaceParams, before_line: int | None = None) -> Step | None:
    """The first step before step `index` of the job (or command of that step before
    `before_line`) that may write files into the workspace: a build, an artifact download, a
    script. None when every earlier step leaves the checkout as it was."""
    for step in job.steps[:index]:
        if step.uses is not None:
            action = step.uses.action
            if any(fnmatchcase(action, p) for p in params.checkout + params.inert_actions):
                continue
            return step
        if step.run is not None and (not step.run.commands or any(_writes_files(c, params) for c in step.run.commands)):
            return step
    step = job.steps[index]
    earlier = (
        [c for c in step.run.commands if before_line is not None and c.span.line < before_line] if step.run else []
    )
    if any(_writes_files(c, params) for c in earlier):
        return step
    return None


@dataclass
class BuildSite:
    """One image build of a job, with its context and Dockerfile resolved for one way it runs
    (a matrix combination, a caller's inputs)."""

    workflow: Workflow
    job: Job
    step: Step
    index: int
    build: Any  # ImageBuild
    context: str  # repository-relative directory ('.' the root)
    dockerfile: str
    git_context: bool  # build-push-action without `context:`: the commit's tree, not the workspace
    matrix: dict[str, Any] = field(default_factory=dict)  # the combination, when the paths read it
    caller: Workflow | None = None
    caller_job: Job | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    written: str = ""  # the context as written, for messages
    reads_matrix: bool = False
    reads_inputs: bool = False


def _checkout_ok(job: Job, index: int, params: WorkspaceParams) -> bool | None:
    """Whether the workspace holds this repository at its root when step `index` runs: True
    (checked out at the root), None (no checkout), False (another repository or a sub-path)."""
    seen: bool | None = None
    for step in job.steps[:index]:
        if step.uses is None or not any(fnmatchcase(step.uses.action, p) for p in params.checkout):
            continue
        repo = step.with_.get("repository")
        path = step.with_.get("path")
        other_repo = repo is not None and not (repo.exprs and "github.repository" in repo.text)
        sub_path = path is not None and (not path.is_literal or path.text.strip().strip("/") not in ("", "."))
        seen = not (other_repo or sub_path)
    return seen


def build_sites(project: Project, params: WorkspaceParams) -> list[BuildSite]:
    """Every image build of a workflow job whose context and Dockerfile are known, once per
    matrix combination and caller binding that decides them. Builds whose paths hold run-time
    values (a step output, free-text input) or whose workspace is not this repository's
    checkout are left out."""
    from urr_audit.model.workflows import run_bindings

    out: list[BuildSite] = []
    for wf in project.workflows.workflows:
        bindings = [b for b in run_bindings(project.workflows, wf) if not (b[0] is None and wf.callers)]
        for job in wf.jobs.values():
            matrix = job.matrix
            combos: list[dict[str, Any]] = (
                list(matrix.combinations) if matrix is not None and matrix.combinations is not None else []
            )
            for i, step in enumerate(job.steps):
                for build in step.builds:
                    if not build.builds:
                        continue
                    git_context = build.tool == "docker/build-push-action" and build.context is None
                    if build.context is None and not git_context:
                        continue  # `docker build -` reads stdin
                    checkout = _checkout_ok(job, i, params)
                    if not git_context and checkout is not True:
                        continue
                    templates = [t for t in (build.context, build.file) if t is not None]
                    holes = [h for t in templates for h in t.holes]
                    sources = " ".join(h.source for h in holes)
                    reads_matrix = "matrix." in sources
                    reads_inputs = "inputs." in sources
                    for caller, caller_job, inputs in bindings:
                        for combo in (combos or [{}]) if reads_matrix else [{}]:
                            contexts: dict[str, Any] = {
                                "inputs": inputs,
                                "matrix": combo,
                                "github": {"workspace": "."},
                            }
                            ctx_t = build.context.bind(contexts) if build.context is not None else Template.literal(".")
                            if ctx_t.value is None:
                                continue
                            context = clean(ctx_t.value or ".")
                            if context is None:
                                continue
                            if build.file is not None:
                                f = build.file.bind(contexts).value
                                if f is None:
                                    continue
                                dockerfile = clean(posixpath.join(context, f) if git_context else f)
                            else:
                                dockerfile = clean(posixpath.join(context, "Dockerfile"))
                            if dockerfile is None:
                                continue
                            out.append(
                                BuildSite(
                                    wf,
                                    job,
                                    step,
                                    i,
                                    build,
                                    context,
                                    dockerfile,
                                    git_context,
                                    combo if reads_matrix else {},
                                    caller,
                                    caller_job,
                                    dict(inputs),
                                    str(build.context) if build.context is not None else "",
                                    reads_matrix,
                                    reads_inputs,
                                )
                            )
                        if not reads_inputs:
                            break  # the same paths for every binding
    return out
