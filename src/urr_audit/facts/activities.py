"""What CI/CD jobs do, read from the workflow model: the tools a step runs and the actions it
uses, named for a reviewer (runs tests, builds and pushes an image, rewrites a manifest, pushes
commits, notifies a webhook...), each with the line that does it. Nothing is inferred from a
workflow's or job's name: a job whose steps say nothing recognisable is described by its steps.

Also the values a run-time string can take where the inputs are enumerable (what a reusable
workflow's callers pass, dispatch choices, input defaults), so that `k8s/overlays/${{
inputs.environment }}/kustomization.yaml` becomes the files CI really rewrites.

The tables below are generic knowledge of CI tools (test runners, linters, scanners), not of
any repository.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from urr_audit.model.common import Span
from urr_audit.model.gha_expr import Closed, Unknown, evaluate, to_string
from urr_audit.model.gha_images import ImageBuild, Template
from urr_audit.model.workflows import (
    Job,
    Scalar,
    ShellCommand,
    Step,
    Workflow,
    WorkflowProject,
    call_input_values,
)

MAX_COMBINATIONS = 64

# Kinds in the order a pipeline usually runs them (how a purpose is summarised).
KINDS = (
    "gate",
    "detect",
    "setup",
    "test",
    "load-test",
    "lint",
    "validate",
    "build",
    "image",
    "scan",
    "cloud",
    "login",
    "gitops",
    "push",
    "deploy",
    "cluster",
    "script",
    "artifact",
    "notify",
    "call",
)
SUMMARY = {
    "gate": "deployment environment",
    "detect": "detects changed paths",
    "test": "tests",
    "load-test": "load tests",
    "lint": "lint / type checks",
    "validate": "renders manifests",
    "build": "builds",
    "image": "builds / pushes images",
    "scan": "scans",
    "gitops": "rewrites manifests in the repository",
    "push": "pushes commits",
    "deploy": "deploys to a cluster or cloud",
    "cluster": "cluster access",
    "script": "runs repository scripts",
    "notify": "notifies",
}

_SETUP = {
    "actions/setup-java": ("Java", "java-version"),
    "actions/setup-node": ("Node.js", "node-version"),
    "actions/setup-python": ("Python", "python-version"),
    "actions/setup-go": ("Go", "go-version"),
    "actions/setup-dotnet": (".NET", "dotnet-version"),
    "gradle/actions/setup-gradle": ("Gradle (with its build cache)", None),
    "gradle/gradle-build-action": ("Gradle (with its build cache)", None),
    "docker/setup-buildx-action": ("Docker Buildx", None),
    "docker/setup-qemu-action": ("QEMU (builds for other CPU architectures)", None),
    "azure/setup-kubectl": ("kubectl", "version"),
    "azure/setup-helm": ("Helm", "version"),
    "hashicorp/setup-terraform": ("Terraform", "terraform_version"),
    "grafana/setup-k6-action": ("k6", None),
}
_SCANNERS = {
    "aquasecurity/trivy-action": "Trivy",
    "github/codeql-action/analyze": "CodeQL",
    "anchore/scan-action": "Grype",
    "snyk/actions": "Snyk",
    "returntocorp/semgrep-action": "Semgrep",
    "semgrep/semgrep-action": "Semgrep",
    "bridgecrewio/checkov-action": "Checkov",
    "aquasecurity/tfsec-action": "tfsec",
    "zizmorcore/zizmor-action": "zizmor",
    "gitleaks/gitleaks-action": "Gitleaks",
    "trufflesecurity/trufflehog": "TruffleHog",
}
_LOAD_TESTS = {"grafana/run-k6-action": "k6", "grafana/k6-action": "k6", "artilleryio/action-cli": "Artillery"}
_CLOUD = {
    "aws-actions/configure-aws-credentials": "AWS",
    "google-github-actions/auth": "Google Cloud",
    "azure/login": "Azure",
}
_NOTIFY = (
    "slackapi/slack-github-action",
    "rtcamp/action-slack-notify",
    "8398a7/action-slack",
    "sarisia/actions-status-discord",
    "appleboy/discord-action",
    "tsickert/discord-webhook",
    "appleboy/telegram-action",
    "dawidd6/action-send-mail",
)
_DEPLOY_ACTIONS = {
    "azure/k8s-deploy": "Kubernetes",
    "aws-actions/amazon-ecs-deploy-task-definition": "Amazon ECS",
    "google-github-actions/deploy-cloudrun": "Cloud Run",
    "clowdhaus/argo-cd-action": "Argo CD CLI",
}
_DETECT = ("dorny/paths-filter", "tj-actions/changed-files")
_SHELL_WORDS = {"if", "then", "else", "elif", "do", "while", "until", "!", "time", "sudo", "exec", "command"}
_TEST_TASK = re.compile(r"(?i)(^|:)(test|check|\w*tests?|integrationtest|verify)$")
_BUILD_TASK = re.compile(r"(?i)(^|:)(build|assemble|bootjar|jar|shadowjar|jib|package|install)$")
_WEBHOOK = re.compile(r"(?i)webhook|hooks\.slack\.com|discord(app)?\.com/api/webhooks")


@dataclass(frozen=True)
class Activity:
    """One thing a job does. `what` is prose; `detail` is repository text (a command, an
    action, a path) shown as code; `span` is the line that does it."""

    kind: str
    what: str
    detail: str
    span: Span


# --- run-time values -----------------------------------------------------------------------


def input_values(project: WorkflowProject, wf: Workflow) -> dict[str, list[Any] | None]:
    """The values `inputs.X` takes in runs of `wf`, per input: what each caller of a reusable
    workflow passes (its default when a caller passes nothing), dispatch choices and booleans,
    literal defaults; None when some run gives a value that cannot be enumerated (free text, a
    step output)."""
    out: dict[str, list[Any] | None] = {}

    def add(name: str, values: list[Any] | None) -> None:
        if name in out and out[name] is None:
            return
        if values is None:
            out[name] = None
            return
        seen = out.setdefault(name, [])
        assert seen is not None
        seen.extend(v for v in values if v not in seen)

    call = wf.trigger("workflow_call")
    if call is not None:
        callers = project.callers_of(wf.path)
        for caller, job in callers:
            passed = call_input_values(caller, job)
            for name, spec in call.inputs.items():
                if name in passed:
                    add(name, passed[name])
                else:
                    add(name, _default(spec.default))
        if not callers:
            for name in call.inputs:
                add(name, None)
    dispatch = wf.trigger("workflow_dispatch")
    if dispatch is not None:
        others = any(t.event != "workflow_dispatch" for t in wf.triggers)
        for name, spec in dispatch.inputs.items():
            if spec.type == "choice" and spec.options:
                values: list[Any] | None = list(spec.options)
            elif spec.type == "boolean":
                values = [True, False]
            else:
                values = None
            add(name, values + [None] if values is not None and others else values)
    return out


def _default(default: Any) -> list[Any] | None:
    if default is None:
        return [None]
    literal = default.literal()
    return [literal] if literal is not None else None


def expand(template: Template, domains: dict[str, list[Any] | None]) -> list[str] | None:
    """Every string `template` can be, filling `${{ inputs.X }}` holes from `domains`; None
    when a hole reads something else, an input's values are not enumerable, or the
    combinations are too many to list."""
    if template.is_known:
        return [template.value or ""]
    needed: list[str] = []
    for hole in template.holes:
        if hole.node is None:
            return None
        names, others = _inputs_read(hole.source)
        if not names or others:
            return None
        for n in names:
            if domains.get(n) is None:
                return None
            if n not in needed:
                needed.append(n)
    combos = list(itertools.islice(itertools.product(*(domains[n] or [] for n in needed)), MAX_COMBINATIONS + 1))
    if len(combos) > MAX_COMBINATIONS:
        return None
    out: list[str] = []
    for combo in combos:
        bound = template.bind({"inputs": Closed(zip(needed, combo, strict=True))})
        if not bound.is_known:
            return None
        value = bound.value or ""
        if value not in out:
            out.append(value)
    return out


def _inputs_read(text: str) -> tuple[list[str], bool]:
    """The input names an expression reads, and whether it reads any other context."""
    names = list(dict.fromkeys(re.findall(r"\binputs\.([A-Za-z_][\w-]*)", text)))
    others = re.sub(r"\binputs\.[A-Za-z_][\w-]*", "", text)
    return names, bool(re.search(r"\b(steps|needs|env|github|vars|secrets|matrix|jobs|runner|job|strategy)\.", others))


def scalar_values(scalar: Scalar, domains: dict[str, list[Any] | None]) -> list[str] | None:
    """Every string a value written as one `${{ }}` over enumerable inputs can be (`${{
    inputs.environment == 'prod' && 'production' || 'staging' }}`); the value itself when it
    is literal; None otherwise."""
    if scalar.is_literal:
        return [scalar.text]
    if not scalar.is_expression:
        return None
    expr = scalar.exprs[0]
    names, others = _inputs_read(expr.text)
    if others or any(domains.get(n) is None for n in names):
        return None
    combos = list(itertools.islice(itertools.product(*(domains[n] or [] for n in names)), MAX_COMBINATIONS + 1))
    if len(combos) > MAX_COMBINATIONS:
        return None
    out: list[str] = []
    for combo in combos:
        v = evaluate(expr.node, {"inputs": Closed(zip(names, combo, strict=True))})
        if isinstance(v, Unknown):
            return None
        text = to_string(v)
        if text not in out:
            out.append(text)
    return out


def output_source(job: Job, step_id: str, name: str) -> list[tuple[str, Span]]:
    """How a `run:` step computes its output `name` (`echo "tag=..." >> "$GITHUB_OUTPUT"`):
    that line, preceded by the lines of the same script assigning the shell variables it reads,
    each with its line in the file. Empty when the step is not a script writing it."""
    step = job.step(step_id)
    if step is None or step.run is None:
        return []
    writes = [
        c
        for c in step.run.commands
        if "GITHUB_OUTPUT" in c.source and re.search(rf"(^|[\s\"']){re.escape(name)}=", c.source)
    ]
    if not writes:
        return []
    write = writes[0]
    out: list[tuple[str, Span]] = []
    script = step.run.text.splitlines()
    here = next((i for i, line in enumerate(script) if line.strip() == write.source.strip()), None)
    if here is not None and step.run.script.style == "|":
        for var in dict.fromkeys(re.findall(r"\$\{?([A-Za-z_]\w*)", write.source)):
            for i in range(here - 1, -1, -1):
                if re.match(rf"\s*(export\s+)?{var}=", script[i]):
                    line = write.span.line - (here - i)
                    out.append((script[i].strip(), Span(path=write.span.path, line=line, end_line=line)))
                    break
    out.sort(key=lambda x: x[1].line)
    out.append((write.source.strip(), write.span))
    return out


_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def describe_cron(text: str) -> str | None:
    """`0 2 * * 1` -> `every Monday at 02:00 UTC`; None for what is not a plain daily or
    weekly schedule (the cron text is then shown as it is)."""
    parts = text.split()
    if len(parts) != 5 or not (parts[0].isdigit() and parts[1].isdigit()) or parts[2:4] != ["*", "*"]:
        return None
    at = f"{int(parts[1]):02d}:{int(parts[0]):02d} UTC"
    if parts[4] == "*":
        return f"every day at {at}"
    if parts[4].isdigit() and int(parts[4]) < len(_DAYS):
        return f"every {_DAYS[int(parts[4])]} at {at}"
    return None


# --- what jobs do --------------------------------------------------------------------------


def workflow_of(project: WorkflowProject, step: Step) -> Workflow | None:
    return project.workflow(step.file)


def job_activities(job: Job) -> list[Activity]:
    """What the job does, in step order: its deployment environment, the call it makes, then
    what each step does."""
    out: list[Activity] = []
    if job.environment is not None and job.environment.name is not None and job.environment.name.text:
        out.append(Activity("gate", "deployment environment", job.environment.name.text, job.environment.span))
    if job.uses is not None:
        out.append(Activity("call", "calls", job.called or job.uses.raw, job.uses.span))
    for step in job.steps:
        out.extend(step_activities(step))
    return out


def step_activities(step: Step) -> list[Activity]:
    out: list[Activity] = []
    uses = step.uses
    if uses is not None and not uses.is_local and uses.action:
        out.extend(_action(step, uses.action, uses.span))
    out.extend(_image(b) for b in step.builds)
    for login in step.logins:
        where = str(login.registry) if login.registry is not None else "Docker Hub"
        if login.tool == "aws-actions/amazon-ecr-login":
            where = "Amazon ECR" + (f" (accounts {', '.join(login.accounts)})" if login.accounts else "")
        out.append(Activity("login", "logs in to", where, login.span))
    for edit in step.edits:
        out.append(Activity("gitops", "rewrites", str(edit.path), edit.span))
    if step.run is not None:
        for cmd in step.run.commands:
            out.extend(_command(cmd))
    return out


def _with(step: Step, key: str) -> str:
    v = step.with_.get(key)
    return v.text if v is not None else ""


def _action(step: Step, action: str, span: Span) -> Iterator[Activity]:
    if action in _SETUP:
        name, key = _SETUP[action]
        version = _with(step, key) if key else ""
        yield Activity("setup", "sets up", f"{name} {version}".strip(), span)
    elif action in _SCANNERS or any(action.startswith(a + "/") for a in _SCANNERS):
        tool = _SCANNERS.get(action) or next(v for a, v in _SCANNERS.items() if action.startswith(a + "/"))
        gate = _with(step, "exit-code") not in ("", "0") and _with(step, "severity")
        yield Activity("scan", "scans with", tool + (f", failing on {_with(step, 'severity')}" if gate else ""), span)
    elif action in _LOAD_TESTS:
        yield Activity("load-test", "runs load tests with", _LOAD_TESTS[action], span)
    elif action in _CLOUD:
        role = _with(step, "role-to-assume") or _with(step, "workload_identity_provider")
        how = "OIDC" if role and not _with(step, "aws-access-key-id") else "stored keys"
        what = f"gets {_CLOUD[action]} credentials ({how})" + (", role" if role else "")
        yield Activity("cloud", what, role, span)
    elif action in _NOTIFY:
        yield Activity("notify", "notifies with", action, span)
    elif action in _DEPLOY_ACTIONS:
        yield Activity("deploy", "deploys with", action, span)
    elif action in _DETECT:
        yield Activity("detect", "detects changed paths with", action, span)
    elif action == "actions/upload-artifact":
        yield Activity("artifact", "uploads artifact", _with(step, "name") or "artifact", span)
    elif action == "github/codeql-action/upload-sarif":
        yield Activity("artifact", "uploads SARIF to code scanning", _with(step, "sarif_file"), span)


def _image(b: ImageBuild) -> Activity:
    pushes = b.pushes
    if b.builds:
        what = {True: "builds and pushes image", False: "builds image", None: "builds image (push unknown)"}[pushes]
    else:
        what = "pushes image" if pushes else "tags image"
    first = str(b.tags[0].template) if b.tags else (str(b.context) if b.context is not None else b.tool)
    return Activity("image", what, first, b.span)


def normalized(argv: Iterable[str]) -> list[str]:
    """A command's words without the shell keywords and variable assignments in front
    (`if git push ...`, `FOO=1 make test`)."""
    words = list(argv)
    while words and (words[0] in _SHELL_WORDS or re.fullmatch(r"[A-Za-z_]\w*=.*", words[0])):
        words = words[1:]
    return words


def _command(cmd: ShellCommand) -> Iterator[Activity]:
    argv = normalized(cmd.argv)
    if not argv:
        return
    tool = argv[0].rsplit("/", 1)[-1]
    args = [a for a in argv[1:] if not a.startswith("-")]
    shown = " ".join(argv[:8])

    def act(kind: str, what: str, detail: str = shown) -> Activity:
        return Activity(kind, what, detail, cmd.span)

    if tool in ("gradle", "gradlew", "mvn", "mvnw"):
        if any(_TEST_TASK.search(a) for a in args):
            yield act("test", "runs tests:")
        elif any(_BUILD_TASK.search(a) for a in args):
            yield act("build", "builds:")
    elif tool in ("npm", "yarn", "pnpm", "bun"):
        script = args[1] if args[:1] == ["run"] and len(args) > 1 else (args[0] if args else "")
        if re.match(r"(?i)(test|e2e)", script):
            yield act("test", "runs tests:")
        elif re.match(r"(?i)(lint|type-?check|typecheck|format)", script):
            yield act("lint", "lints / type-checks:")
        elif re.match(r"(?i)build", script):
            yield act("build", "builds:")
    elif tool == "npx" and args:
        runner = args[0]
        if runner in ("playwright", "cypress") and args[1:2] in (["test"], ["run"]):
            yield act("test", "runs end-to-end tests:")
        elif runner in ("jest", "vitest", "mocha"):
            yield act("test", "runs tests:")
        elif runner in ("eslint", "tsc", "prettier"):
            yield act("lint", "lints / type-checks:")
    elif (
        tool in ("pytest", "tox", "nox")
        or (tool.startswith("python") and args[:2] == ["-m", "pytest"])
        or tool in ("go", "cargo", "dotnet")
        and args[:1] == ["test"]
    ):
        yield act("test", "runs tests:")
    elif tool in ("go", "cargo", "dotnet") and args[:1] == ["build"]:
        yield act("build", "builds:")
    elif tool == "k6" and args[:1] == ["run"]:
        yield act("load-test", "runs load tests:")
    elif tool in ("eslint", "ruff", "flake8", "mypy", "golangci-lint", "hadolint", "shellcheck", "tflint"):
        yield act("lint", "lints:")
    elif tool == "git" and args[:1] == ["push"]:
        yield act("push", "pushes commits:")
    elif tool == "kubectl" and args[:1] and args[0] in ("kustomize", "diff"):
        yield act("validate", "renders manifests:")
    elif tool == "kubectl" and (
        (args[:1] and args[0] in ("apply", "create", "replace", "set", "patch", "scale", "delete"))
        or (args[:1] == ["rollout"] and args[1:2] and args[1] in ("restart", "undo", "resume", "pause"))
    ):
        yield act("deploy", "changes the cluster:")
    elif tool == "kubectl":
        yield act("cluster", "reads the cluster:")
    elif (
        tool == "kustomize" and args[:1] == ["build"] or tool == "helm" and args[:1] and args[0] in ("template", "lint")
    ):
        yield act("validate", "renders manifests:")
    elif tool == "helm" and args[:1] and args[0] in ("upgrade", "install", "rollback", "uninstall"):
        yield act("deploy", "changes the cluster:")
    elif tool == "argocd" and args[:2] in (["app", "sync"], ["app", "set"], ["app", "rollback"]):
        yield act("deploy", "drives Argo CD:")
    elif tool == "terraform" and args[:1] and args[0] in ("apply", "destroy"):
        yield act("deploy", "changes infrastructure:")
    elif tool == "aws" and args[:2] == ["eks", "update-kubeconfig"]:
        yield act("cluster", "gets cluster credentials:")
    elif tool == "aws" and args[:2] in (["ecs", "update-service"], ["lambda", "update-function-code"]):
        yield act("deploy", "deploys:")
    elif tool in ("curl", "wget") and any(_WEBHOOK.search(a) for a in argv[1:]):
        hook = next((a for a in argv[1:] if _WEBHOOK.search(a)), "")
        yield act("notify", "posts to a webhook:", hook)
    elif argv[0].startswith("./") or (tool in ("bash", "sh") and args[:1] and args[0].startswith("./")):
        yield act("script", "runs", shown)


def summary(activities: Iterable[Activity]) -> list[str]:
    """The kinds of work done, in pipeline order, as short phrases (`tests`, `builds / pushes
    images`); setup, credentials and uploads are left out."""
    kinds = {a.kind for a in activities}
    return [SUMMARY[k] for k in KINDS if k in kinds and k in SUMMARY]
