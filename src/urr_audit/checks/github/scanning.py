"""Vulnerability scans of the images a pipeline builds: pushed before the scan has run, pushed
and never scanned, scanners that cannot fail the build, reports nobody reads. Scanners are
params (`facts.gha_builds.ScannerAction` / `ScannerCommand`); the defaults describe trivy,
grype, anchore, docker scout and snyk as their documentation says."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.github.security._common import is_true, matches
from urr_audit.checks.github.testing import ignored_in_script
from urr_audit.facts.gha_builds import (
    Scan,
    ScannerAction,
    ScannerCommand,
    ScannerParams,
    job_scans,
    reads_file,
    runs_before,
    same_image,
    scans,
    tree_of,
)
from urr_audit.facts.pipeline import Push, ecr_registry, pushes, same_repository
from urr_audit.facts.tf import existing, setting
from urr_audit.model.gha_images import ImageName
from urr_audit.model.project import Project
from urr_audit.model.workflows import Workflow

_IMAGE_FLAGS = ["--format", "-f", "--severity", "-s", "--timeout", "--cache-dir", "--template", "-t", "--input", "-i"]
_IMAGE_FLAGS += ["--vuln-type", "--scanners", "--platform", "--ignorefile", "--ignore-policy", "--skip-dirs"]
_IMAGE_FLAGS += ["--skip-files", "--db-repository", "--username", "--password", "--registry-token", "--config", "-c"]

DEFAULT_ACTIONS = [
    ScannerAction(
        action="aquasecurity/trivy-action",
        image_inputs=["image-ref"],
        archive_inputs=["input"],
        kind_input="scan-type",
        kind_default="image",
        image_kinds=["image"],
        fail_input="exit-code",
        pass_values=["0"],
        fails_by_default=False,
        report_input="output",
        config_inputs=["trivy-config"],
        fail_env=["TRIVY_EXIT_CODE"],
        config_files=["trivy.yaml"],
    ),
    ScannerAction(
        action="anchore/scan-action",
        image_inputs=["image"],
        fail_input="fail-build",
        pass_values=["false"],
        fails_by_default=True,
        report_input="output-file",
        fail_env=["GRYPE_FAIL_ON_SEVERITY"],
        config_files=[".grype.yaml", ".grype/config.yaml"],
    ),
    ScannerAction(
        action="docker/scout-action",
        image_inputs=["image"],
        kind_input="command",
        kind_default="",
        image_kinds=["*cves*"],
        only_kinds=True,
        fail_input="exit-code",
        pass_values=["false"],
        fails_by_default=False,
        report_input="sarif-file",
    ),
    ScannerAction(
        action="snyk/actions/docker",
        image_inputs=["image"],
        fails_by_default=True,
        args_input="args",
        report_flags=["--sarif-file-output", "--json-file-output"],
        sarif_default="snyk.sarif",
    ),
    ScannerAction(
        action="crazy-max/ghaction-container-scan",
        image_inputs=["image"],
        fail_input="severity_threshold",
        fails_by_default=False,
    ),
]
DEFAULT_COMMANDS = [
    ScannerCommand(
        command="trivy image",
        fail_flags=["--exit-code"],
        pass_values=["0"],
        fails_by_default=False,
        report_flags=["-o", "--output"],
        archive_flags=["--input", "-i"],
        value_flags=_IMAGE_FLAGS,
        config_flags=["--config", "-c"],
        fail_env=["TRIVY_EXIT_CODE"],
        config_files=["trivy.yaml"],
    ),
    ScannerCommand(
        command="grype",
        fail_flags=["--fail-on", "-f"],
        fails_by_default=False,
        report_flags=["--file"],
        value_flags=["-o", "--output", "--platform", "--scope", "-s", "--exclude", "--name"],
        config_flags=["--config", "-c"],
        fail_env=["GRYPE_FAIL_ON_SEVERITY"],
        config_files=[".grype.yaml", ".grype/config.yaml"],
    ),
    ScannerCommand(
        command="docker scout cves",
        fail_flags=["--exit-code", "-e"],
        fail_flag_takes_value=False,
        pass_values=["false"],
        fails_by_default=False,
        report_flags=["--output", "-o"],
        value_flags=["--format", "--only-severity", "--platform", "--only-package-type", "--org"],
    ),
    ScannerCommand(
        command="snyk container test",
        fails_by_default=True,
        report_flags=["--sarif-file-output", "--json-file-output"],
        value_flags=["--file", "--severity-threshold", "--platform", "--org", "--policy-path"],
    ),
]


class ScanParams(ScannerParams):
    scanner_actions: list[ScannerAction] = Field(default_factory=lambda: list(DEFAULT_ACTIONS))
    scanner_commands: list[ScannerCommand] = Field(default_factory=lambda: list(DEFAULT_COMMANDS))
    # actions that take a SARIF report into code scanning (findings shown, not failing the run)
    code_scanning: list[str] = Field(default_factory=lambda: ["github/codeql-action/upload-sarif"])


def _scan_subjects(p: ScanParams) -> tuple[str, ...]:
    return ("run", *(a.action for a in p.scanner_actions))


def _by(push: Push) -> str:
    return f" (run by {push.caller.path})" if push.caller is not None else ""


def _where(s: Scan) -> str:
    return f"step `{s.step.label}` of job `{s.job.id}`"


def _relations(push: Push, wf_scans: list[tuple[Scan, ImageName]]) -> tuple[list[Scan], list[Scan], list[Scan]]:
    """(scans of the pushed image that finish before the push, those that do not, scans whose
    image cannot be told) among the scans of the push's workflow (each with its name)."""
    before: list[Scan] = []
    after: list[Scan] = []
    unknown: list[Scan] = []
    for s, name in wf_scans:
        assert s.image is not None
        if push.inputs and any("inputs." in h.source for h in s.image.holes):
            name = ImageName.parse(s.image.bind({"inputs": push.inputs}))
        same = same_image(push.name, name)
        if same is False:
            continue
        if same is None:
            unknown.append(s)
            continue
        order = runs_before(push.workflow, (s.job.id, s.index), (push.job.id, push.step.index))
        (before if order is True else after).append(s)
    return before, after, unknown


def _pushes_by_build(project: Project) -> dict[tuple[str, int, int, str], list[Push]]:
    """Pushes grouped per build (step, build, caller): one finding per push instruction."""
    out: dict[tuple[str, int, int, str], list[Push]] = {}
    for p in pushes(project):
        key = (p.step.address, p.build.span.line, p.build.column, p.caller.path if p.caller else "")
        out.setdefault(key, []).append(p)
    return out


@check("gha-push-before-scan", scope="project", params=ScanParams, subjects=("build",))
def push_before_scan(ctx: Context, project: Project, params: ScanParams) -> Iterator[Hit]:
    """An image pushed (`push: true`, `--push`, `docker push`) by a step that runs before the
    vulnerability scan of the same image (an earlier step of the scanning job, a job the scan
    job `needs`, or a job running in parallel with it): whatever the scan finds is already in
    the registry, where a deploy or an image updater can take it."""
    all_scans = [(s, ImageName.parse(s.image)) for s in scans(project, params) if s.image is not None]
    for group in _pushes_by_build(project).values():
        push = group[0]
        wf_scans = [(s, n) for s, n in all_scans if s.workflow.path == push.workflow.path]
        late: list[Scan] = []
        gated = False
        for p in group:
            before, after, _unknown = _relations(p, wf_scans)
            gated = gated or bool(before)
            late.extend(s for s in after if s not in late)
        if gated or not late:
            continue
        first = late[0]
        how = "later in the same job" if first.job.id == push.job.id else f"in job `{first.job.id}`"
        if first.job.id != push.job.id and runs_before(push.workflow, (push.job.id, 0), (first.job.id, 0)) is None:
            how = f"in job `{first.job.id}`, which runs in parallel with job `{push.job.id}`"
        yield ctx.finding(
            at=push.span,
            node=push.step,
            column=push.build.column if push.caller is None else None,
            related=[s.span for s in late],
            message=(
                f"`{push.name.template}` is pushed by step `{push.step.label}`{_by(push)} before it is scanned: "
                f"the scan `{first.tool}` runs {how}, so a vulnerable image is in the registry whatever it finds"
            ),
        )


def _registry_scans(project: Project) -> tuple[bool, set[str]]:
    """(every ECR repository is scanned, names of those scanned on push) per the Terraform:
    an `aws_ecr_registry_scanning_configuration`, or `image_scanning_configuration {
    scan_on_push = true }` on an `aws_ecr_repository`."""
    everything, names = False, set()
    for env in project.terraform.environments:
        if existing(env, "aws_ecr_registry_scanning_configuration"):
            everything = True
        for ri in existing(env, "aws_ecr_repository"):
            on = setting(ri, "image_scanning_configuration.scan_on_push")
            name = ri.get("name")
            if on is not None and on.known and on.value.value is True and name.is_known:
                names.add(str(name.value))
    return everything, names


@check("gha-pushed-unscanned", scope="project", params=ScanParams, subjects=("build",))
def pushed_unscanned(ctx: Context, project: Project, params: ScanParams) -> Iterator[Hit]:
    """An image pushed by a workflow that no scan step of any workflow names or might name (a
    scan whose image is a run-time value counts), to a registry the repository's Terraform does
    not make scan on push (ECR `scan_on_push`, a registry scanning configuration). Registry
    scanning configured elsewhere (GHCR, Docker Hub, another repository) is not visible here:
    hence low severity."""
    named = [(s, ImageName.parse(s.image)) for s in scans(project, params) if s.image is not None]
    registry_all, registry_names = _registry_scans(project)
    for group in _pushes_by_build(project).values():
        push = group[0]
        covered = False
        for p in group:
            if ecr_registry(p) is not None and (
                registry_all or any(p.repository and same_repository(p.repository, n) for n in registry_names)
            ):
                covered = True  # the registry scans it on push
                break
            for s, name in named:
                assert s.image is not None
                if (
                    s.workflow.path == p.workflow.path
                    and p.inputs
                    and any("inputs." in h.source for h in s.image.holes)
                ):
                    name = ImageName.parse(s.image.bind({"inputs": p.inputs}))
                if same_image(p.name, name) is not False:
                    covered = True
                    break
            if covered:
                break
        if covered:
            continue
        yield ctx.finding(
            at=push.span,
            node=push.step,
            column=push.build.column if push.caller is None else None,
            message=(
                f"`{push.name.template}` is pushed by step `{push.step.label}`{_by(push)} and no workflow scans it "
                "for vulnerabilities: unless the registry scans on push, nothing looks at what it ships"
            ),
        )


def _config_file(s: Scan, files: set[str]) -> str | None:
    """A config file the scanner reads by default from its working directory (the repository
    root, or the step's literal `working-directory`) that is in the repository."""
    dirs = [""]
    wd = s.step.run.working_directory if s.step.run is not None else None
    if wd is not None and wd.is_literal and wd.text.strip("./"):
        dirs.insert(0, wd.text.strip("/").removeprefix("./") + "/")
    return next((d + f for d in dirs for f in s.config_files if d + f in files), None)


@check("gha-scanner-cannot-fail", scope="project", params=ScanParams, subjects=_scan_subjects)
def scanner_cannot_fail(ctx: Context, project: Project, params: ScanParams) -> Iterator[Hit]:
    """A vulnerability scanner whose findings cannot fail the step: trivy with `exit-code` 0 or
    unset (trivy's default), grype without `--fail-on`, anchore `fail-build: false`, docker
    scout without `exit-code`, `continue-on-error: true` on the scan step or its job, `|| true`
    after the command. When the job hands the report to code scanning (upload-sarif), the
    findings are at least shown: severity low, the code-scanning merge rule may be the gate.
    Where the failing behaviour may be set out of sight (an environment variable such as
    `TRIVY_EXIT_CODE`, a config file given to the scanner or read by default from its working
    directory, `trivy.yaml`), the scan is undecided."""
    tree = tree_of(project)
    files = tree.files if tree is not None else set()
    for wf in project.workflows.workflows:
        yield from _cannot_fail(ctx, wf, files, params)


def _cannot_fail(ctx: Context, wf: Workflow, files: set[str], params: ScanParams) -> Iterator[Hit]:
    for job in wf.jobs.values():
        found = job_scans(wf, job, params)
        job_ignores = is_true(job.continue_on_error)
        for s in found:
            uploaded = any(
                st.uses is not None and matches(st.uses.action, params.code_scanning) and reads_file(st, f)
                for st in job.steps[s.index + 1 :]
                for f in s.sarif or ([s.report] if s.report else [])
            )
            sev = "low" if uploaded else None
            shown = "; its report goes to code scanning, so findings are shown there either way" if uploaded else ""
            note = (
                "; its report goes to code scanning, so findings are shown there, but nothing fails the run"
                if uploaded
                else ""
            )
            if is_true(s.step.continue_on_error) and s.step.continue_on_error is not None:
                yield ctx.finding(
                    at=s.step.continue_on_error,
                    node=s.step,
                    severity=sev,
                    message=f"the scan `{s.tool}` in {_where(s)} has `continue-on-error: true`: a finding never fails the build{note}",
                )
                continue
            if s.command is not None:
                ignored = [how for c, _p, how in ignored_in_script(s.step, [s.tool.split()]) if c is s.command]
                if ignored:
                    yield ctx.finding(
                        at=s.span,
                        node=s.step,
                        column=s.column,
                        severity=sev,
                        message=f"the scan `{s.tool}` in {_where(s)} cannot fail the build: {ignored[0]}{note}",
                    )
                    continue
            if s.fails is None:
                yield ctx.undecided(
                    at=s.fail_at or s.span,
                    node=s.step,
                    severity=sev,
                    message=f"the scan `{s.tool}` in {_where(s)}: {s.fail_reason}{shown}",
                )
                continue
            configured = s.configured or (f"`{c}` in the repository" if (c := _config_file(s, files)) else "")
            if s.fails is False and configured:
                yield ctx.undecided(
                    at=s.fail_at or s.span,
                    node=s.step,
                    severity=sev,
                    message=f"the scan `{s.tool}` in {_where(s)}: {s.fail_reason}, but {configured} may make findings fail it{shown}",
                )
                continue
            if s.fails is False:
                yield ctx.finding(
                    at=s.fail_at or s.span,
                    node=s.step,
                    severity=sev,
                    message=(
                        f"the scan `{s.tool}` in {_where(s)} reports findings but never fails ({s.fail_reason}): "
                        f"a critical vulnerability passes the build{note}"
                    ),
                )
                continue
            if job_ignores and job.continue_on_error is not None:
                yield ctx.finding(
                    at=job.continue_on_error,
                    node=job,
                    severity=sev,
                    message=f"job `{job.id}` runs the scan `{s.tool}` with `continue-on-error: true`: a finding never fails the workflow{note}",
                )


@check("gha-scan-report-unread", scope="github.workflow", params=ScanParams, subjects=_scan_subjects)
def scan_report_unread(ctx: Context, wf: Workflow, params: ScanParams) -> Iterator[Hit]:
    """A scanner writes its report to a file (`output:`, `-o`, `--file`) that no later step of
    the job uploads (upload-sarif, upload-artifact), posts or reads: the runner is discarded
    with it, and the findings with it."""
    for job in wf.jobs.values():
        for s in job_scans(wf, job, params):
            if s.report is None:
                continue
            if s.command is not None and s.step.run is not None:
                text = s.step.run.text
                at = text.find(s.command.source)
                rest = text[at + len(s.command.source) :] if at >= 0 else ""
                if s.report.rsplit("/", 1)[-1] in rest:
                    continue
            if any(reads_file(st, s.report) for st in job.steps[s.index + 1 :]):
                continue
            yield ctx.finding(
                at=s.report_at or s.span,
                node=s.step,
                message=(
                    f"the scan `{s.tool}` in {_where(s)} writes `{s.report}` and no later step uploads or reads it: "
                    "its findings are lost with the runner"
                ),
            )
