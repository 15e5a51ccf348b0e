"""GitHub Actions workflows and local actions, as typed nodes (`Project.workflows`).

Built by `urr_audit.loaders.workflows` from `.github/workflows/*.y{a,}ml`, every local action
(`action.y{a,}ml`) a `uses: ./path` reaches, and the actions the repository publishes (a root
`action.y{a,}ml`, `.github/actions/**/action.y{a,}ml`) whether used here or not. Remote actions and reusable workflows are recorded
(`Uses`), never fetched. Image builds, registry logins and file edits recognised in steps are in
`urr_audit.model.gha_images`; the expression language in `urr_audit.model.gha_expr`.

Reading the model
-----------------
- `WorkflowProject.workflows` / `.actions`; `.workflow(path)`, `.callers_of(path)`,
  `.steps()` (every step of every workflow job and composite action), `.inventory()`,
  `.triggering_events(path)` (what `github.event_name` can be: a reusable workflow sees its
  callers' events).
- `Workflow`: `triggers` (`Trigger`: event, filters, typed `inputs`, `workflow_call`
  `secrets`/`outputs`), `permissions`, `env`, `defaults`, `concurrency`, `jobs` (ordered dict),
  `schema_errors`, `callers` (jobs of other workflows that call it, for a reusable workflow),
  `stages()` (job ids by `needs:` depth).
- `Job`: `needs`, `condition` (`if:`), `environment`, `runs_on`, `permissions`, `strategy`
  (`Matrix` with literal `combinations` expanded), `container`, `services`, `outputs`, `env`,
  `steps`, or for a reusable-workflow call `uses`/`with_`/`secrets`/`secrets_inherit` and
  `called` (the local callee's path once linked); `steps_using("docker/setup-qemu-action")`.
- `Step`: `uses` (`Uses`: kind, owner/repo/path, ref and `ref_kind`), `run` (`Run`: script,
  effective shell and working directory, its `commands` and the `writes` it makes to
  `GITHUB_ENV`/`GITHUB_OUTPUT`/`GITHUB_PATH` (`FileWrite`: name, expressions and shell variables
  written)), `with_`, `env`, `condition`, `continue_on_error`, `id`, `name`, and what the loader
  recognised in it: `builds`, `logins`, `edits`.
- Every value a user writes is a `Scalar`: the YAML value (`value`), its `span` and `column`,
  and the `${{ }}` expressions in it (`exprs`, each an `Expr` with its syntax tree, its exact
  line and column in the file, the context paths it reads (`refs`) and the functions it calls).
  An `if:` is always an expression, with or without `${{ }}`: `Condition.expr`.
- `effective_permissions(workflow, job, default)` resolves what the job's GITHUB_TOKEN gets;
  `default` is "permissive" (read/write) or "restricted" (read contents and packages), the
  repository setting, which a rule takes as a param.
- `iter_scalars(node)` yields (address, Scalar) for every value under any node: what
  expression-level rules iterate.
- `input_domains(wf)` / `call_input_values(caller, job)`: the values a workflow's inputs can
  take (dispatch choices and booleans; what each caller passes), for the evaluator's
  `possible_truthiness` ("can this `if:` be true when the event is push?").

Addresses are stable: `.github/workflows/ci.yml`, `.github/workflows/ci.yml/jobs/build`,
`.github/workflows/ci.yml/jobs/build/steps/3`, `.github/actions/setup/action.yml/steps/0`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.model.common import Span
from urr_audit.model.gha_expr import ContextPath, Node
from urr_audit.model.gha_images import FileEdit, ImageBuild, RegistryLogin
from urr_audit.model.gha_permissions import (
    SCOPES,
    EffectivePermissions,
    Level,
    Permissions,
    default_permissions,
    effective_permissions,
)

__all__ = ["SCOPES", "EffectivePermissions", "Level", "Permissions", "default_permissions", "effective_permissions"]

_FROZEN = ConfigDict(frozen=True, arbitrary_types_allowed=True)


class ContextRef(ContextPath, BaseModel):
    """A context path an expression reads (see `gha_expr.Ref`), located in the file."""

    model_config = _FROZEN

    parts: tuple[str, ...]
    dynamic: bool = False
    line: int
    column: int
    # Whether the value's text can reach the expression's result (`gha_expr.value_refs`): False
    # for `a` in `a == 'x'`, `contains(a, 'x')`, `!a`, `a && b`, a `case()` predicate.
    reaches_value: bool = True


class Expr(BaseModel):
    """One expression: a `${{ ... }}` in a value, or a whole `if:` written without `${{ }}`."""

    model_config = _FROZEN

    text: str  # the expression's own text (inside `${{ }}`)
    node: Node  # the syntax tree (gha_expr)
    span: Span  # line of `${{` (or of the bare condition) in the file
    column: int  # 1-based column of `${{` (or of the bare condition's first character)
    end_line: int
    end_column: int  # one past the closing `}}`
    bare: bool = False  # an `if:` without `${{ }}`
    refs: tuple[ContextRef, ...] = ()
    calls: tuple[str, ...] = ()  # lower-cased function names

    def reads(self, prefix: str) -> list[ContextRef]:
        return [r for r in self.refs if r.startswith(prefix)]


class Scalar(BaseModel):
    """A value as written: YAML scalar (or, for matrix values, any YAML value), where it is,
    and the expressions in it."""

    model_config = _FROZEN

    value: Any
    span: Span
    column: int = 1
    exprs: tuple[Expr, ...] = ()
    style: str | None = None  # YAML style: None plain, "'", '"', "|" literal block, ">" folded

    @property
    def text(self) -> str:
        """The value as GitHub renders it into a string."""
        v = self.value
        if v is None:
            return ""
        if v is True:
            return "true"
        if v is False:
            return "false"
        return str(v)

    @property
    def is_literal(self) -> bool:
        return not self.exprs

    @property
    def is_expression(self) -> bool:
        """The whole value is one `${{ }}` (its type is the expression's, not a string)."""
        return (
            len(self.exprs) == 1
            and isinstance(self.value, str)
            and self.value.strip().startswith("${{")
            and (self.value.strip().endswith("}}") and self.value.count("${{") == 1)
        )

    def literal(self) -> Any:
        """The value when it has no expression, else None."""
        return self.value if not self.exprs else None


class Condition(BaseModel):
    """An `if:`. `expr` is None only when the condition is a literal (`if: true`)."""

    model_config = _FROZEN

    scalar: Scalar
    expr: Expr | None = None

    @property
    def span(self) -> Span:
        return self.scalar.span


# --- triggers ------------------------------------------------------------------------------------


class WorkflowInput(BaseModel):
    """An input of `workflow_dispatch` or `workflow_call`."""

    model_config = _FROZEN

    name: str
    span: Span
    type: str = "string"  # string, boolean, number, choice, environment
    required: bool = False
    default: Scalar | None = None
    options: list[str] = Field(default_factory=list)  # choice
    description: str | None = None


class CallSecret(BaseModel):
    model_config = _FROZEN

    name: str
    span: Span
    required: bool = False
    description: str | None = None


class CallOutput(BaseModel):
    model_config = _FROZEN

    name: str
    span: Span
    value: Scalar | None = None
    description: str | None = None


class Trigger(BaseModel):
    """One event under `on:`. Filters are None when not written."""

    model_config = _FROZEN

    event: str
    span: Span
    types: list[str] | None = None
    branches: list[str] | None = None
    branches_ignore: list[str] | None = None
    tags: list[str] | None = None
    tags_ignore: list[str] | None = None
    paths: list[str] | None = None
    paths_ignore: list[str] | None = None
    workflows: list[str] | None = None  # workflow_run
    crons: list[Scalar] = Field(default_factory=list)  # schedule
    inputs: dict[str, WorkflowInput] = Field(default_factory=dict)  # workflow_dispatch, workflow_call
    secrets: dict[str, CallSecret] = Field(default_factory=dict)  # workflow_call
    outputs: dict[str, CallOutput] = Field(default_factory=dict)  # workflow_call


# --- jobs and steps ------------------------------------------------------------------------------

RefKind = Literal["sha", "version", "branch", "none"]
_SHA = re.compile(r"[0-9a-fA-F]{40}(?:[0-9a-fA-F]{24})?")
_VERSION = re.compile(r"v?\d+(?:\.\d+){0,3}(?:[-+][0-9A-Za-z.\-+]+)?")


def classify_ref(ref: str | None) -> RefKind:
    """`sha`: a full commit SHA (40 or 64 hex); `version`: a version tag (`v4`, `1.2.3`,
    `v2.0.0-rc.1`); `branch`: anything else (`main`, `release/x`, a short SHA); `none`: no ref."""
    if not ref:
        return "none"
    if _SHA.fullmatch(ref):
        return "sha"
    if _VERSION.fullmatch(ref):
        return "version"
    return "branch"


class Uses(BaseModel):
    """A `uses:` of a step or of a job (a reusable workflow call).

    kinds: `action` (owner/repo[/path]@ref), `reusable-workflow` (owner/repo/.github/workflows/
    x.yml@ref), `local-action` (`./path`), `local-workflow` (`./.github/workflows/x.yml`),
    `docker` (`docker://image`). `target`: for local uses, the repository-relative file it
    names (`action.yml` inside the directory, or the workflow) when it exists, else None
    (`local_path` is then what was looked for)."""

    model_config = _FROZEN

    raw: str
    span: Span
    column: int = 1
    kind: Literal["action", "reusable-workflow", "local-action", "local-workflow", "docker"]
    owner: str | None = None
    repo: str | None = None
    path: str | None = None  # inside the repository, for actions in subdirectories
    ref: str | None = None
    ref_kind: RefKind = "none"
    image: str | None = None  # docker://
    local_path: str | None = None
    target: str | None = None

    @property
    def action(self) -> str:
        """`owner/repo` (lower-cased) for remote uses, `owner/repo/path` with a path; else ''."""
        if not self.owner or not self.repo:
            return ""
        base = f"{self.owner}/{self.repo}".lower()
        return f"{base}/{self.path}" if self.path else base

    @property
    def is_local(self) -> bool:
        return self.kind in ("local-action", "local-workflow")


class ShellCommand(BaseModel):
    """One simple command of a `run:` script, split as the shell would (never executed):
    `argv` words with quotes removed, `${{ }}` and `$VAR` kept as written."""

    model_config = _FROZEN

    argv: list[str]
    span: Span  # the line in the file where the command starts
    column: int = 1  # of the command name
    source: str = ""  # the whole script line (continuations joined), as written
    # (operator, target as written): `(">>", "$GITHUB_ENV")`, a `{ ...; } >> f` group's included
    redirects: list[tuple[str, str]] = Field(default_factory=list)
    # the shell operators between the previous command of the same script line and this one:
    # `("||",)` for `true` in `pytest || true`, `("|",)` for `tee` in `pytest | tee log`,
    # `("||", "{")` for `echo` in `make || { echo failed; exit 1; }`; () at the start of a line
    before: tuple[str, ...] = ()
    # reserved words that introduced it (`if`, `!`, `while`, `until`): the script tests its status
    guard: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.argv[0] if self.argv else ""


CommandFile = Literal["GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_STATE", "GITHUB_STEP_SUMMARY"]


class FileWrite(BaseModel):
    """A write of a `run:` script to one of the runner's command files: `echo "X=$V" >>
    "$GITHUB_ENV"`, `tee -a $GITHUB_PATH`, a `cat >> $GITHUB_OUTPUT <<EOF` body line, a
    `{ ...; } >> $GITHUB_OUTPUT` group, the deprecated `::set-output`, or (PowerShell and other
    shells, not split) a line naming the file. What later steps read as `env.NAME`,
    `steps.<id>.outputs.NAME` or on their PATH."""

    model_config = _FROZEN

    file: CommandFile
    span: Span
    column: int = 1
    name: str | None = None  # `NAME=...` / `NAME<<EOF` when written literally; None for PATH or unknown
    exprs: tuple[Expr, ...] = ()  # the `${{ }}` expanded into the written text
    variables: tuple[str, ...] = ()  # shell variables read in the written text (`$TITLE`, `${X}`)
    literal: bool = False  # constant text: no expression, variable, command output or piped input
    computed: bool = False  # takes in a command's output (`$(...)`, a pipe into `tee`, `jq ... >>`)
    via: str = ""  # `echo`, `printf`, `tee`, `heredoc`, `::set-output`, `script` (not split)


class Run(BaseModel):
    model_config = _FROZEN

    script: Scalar
    shell: str | None = None  # step `shell:`, else job/workflow `defaults.run.shell`; None: runner default
    shell_span: Span | None = None
    working_directory: Scalar | None = None  # step's, else the defaults'
    commands: list[ShellCommand] = Field(default_factory=list)  # bash/sh scripts only
    writes: list[FileWrite] = Field(default_factory=list)  # to GITHUB_ENV / GITHUB_OUTPUT / ...

    @property
    def text(self) -> str:
        return self.script.text

    def writes_to(self, file: CommandFile) -> list[FileWrite]:
        return [w for w in self.writes if w.file == file]


class Container(BaseModel):
    """A job `container:` or one of its `services:` (`name` is the service key)."""

    model_config = _FROZEN

    name: str | None = None
    span: Span
    image: Scalar | None = None
    username: Scalar | None = None
    password: Scalar | None = None
    env: dict[str, Scalar] = Field(default_factory=dict)
    ports: list[Scalar] = Field(default_factory=list)
    volumes: list[Scalar] = Field(default_factory=list)
    options: Scalar | None = None


class RunDefaults(BaseModel):
    model_config = _FROZEN

    span: Span
    shell: Scalar | None = None
    working_directory: Scalar | None = None


class Concurrency(BaseModel):
    model_config = _FROZEN

    span: Span
    group: Scalar | None = None
    cancel_in_progress: Scalar | None = None


class EnvironmentRef(BaseModel):
    model_config = _FROZEN

    span: Span
    name: Scalar | None = None
    url: Scalar | None = None


class MatrixAxis(BaseModel):
    model_config = _FROZEN

    name: str
    span: Span
    values: list[Scalar] | None = None  # None when the axis is an expression
    expr: Scalar | None = None


class Matrix(BaseModel):
    """`strategy.matrix`. `combinations` is GitHub's expansion (product of the axes, minus
    `exclude`, plus `include`) when everything is literal, else None with `unknown_reason`."""

    model_config = _FROZEN

    span: Span
    expr: Scalar | None = None  # the whole matrix is one expression
    axes: dict[str, MatrixAxis] = Field(default_factory=dict)
    include: list[dict[str, Scalar]] | None = None
    exclude: list[dict[str, Scalar]] | None = None
    include_expr: Scalar | None = None
    exclude_expr: Scalar | None = None
    combinations: list[dict[str, Any]] | None = None
    unknown_reason: str = ""


class Strategy(BaseModel):
    model_config = _FROZEN

    span: Span
    matrix: Matrix | None = None
    fail_fast: Scalar | None = None
    max_parallel: Scalar | None = None


class NeedRef(BaseModel):
    model_config = _FROZEN

    job: str
    span: Span


class Step(BaseModel):
    model_config = _FROZEN

    index: int
    address: str
    span: Span  # from the `-` of the item to its last line
    file: str  # the workflow or action file
    job: str | None = None  # job id (None in a composite action)
    id: Scalar | None = None
    name: Scalar | None = None
    uses: Uses | None = None
    run: Run | None = None
    with_: dict[str, Scalar] = Field(default_factory=dict)  # `with:`
    env: dict[str, Scalar] = Field(default_factory=dict)
    condition: Condition | None = None  # `if:`
    continue_on_error: Scalar | None = None
    timeout_minutes: Scalar | None = None
    working_directory: Scalar | None = None
    shell: Scalar | None = None
    builds: list[ImageBuild] = Field(default_factory=list)
    logins: list[RegistryLogin] = Field(default_factory=list)
    edits: list[FileEdit] = Field(default_factory=list)

    @property
    def type(self) -> str:
        """What the engine indexes steps by (a check declaring `types=("actions/checkout",)`
        visits only those): the action (`owner/repo[/path]`), `local`, `docker` or `run`."""
        if self.uses is None:
            return "run"
        if self.uses.is_local:
            return "local"
        return self.uses.action or self.uses.kind

    @property
    def label(self) -> str:
        """What a reviewer calls the step: its name, id, action, or first line of its script."""
        for s in (self.name, self.id):
            if s is not None and s.text:
                return s.text
        if self.uses is not None:
            return self.uses.raw
        if self.run is not None:
            return self.run.text.strip().splitlines()[0] if self.run.text.strip() else "run"
        return f"step {self.index}"


class Job(BaseModel):
    model_config = _FROZEN

    id: str
    address: str
    span: Span
    file: str
    name: Scalar | None = None
    needs: list[NeedRef] = Field(default_factory=list)
    condition: Condition | None = None
    runs_on: list[Scalar] = Field(default_factory=list)  # labels; a group is `runs_on_group`
    runs_on_group: Scalar | None = None
    environment: EnvironmentRef | None = None
    permissions: Permissions | None = None
    env: dict[str, Scalar] = Field(default_factory=dict)
    defaults: RunDefaults | None = None
    concurrency: Concurrency | None = None
    continue_on_error: Scalar | None = None
    timeout_minutes: Scalar | None = None
    strategy: Strategy | None = None
    container: Container | None = None
    services: dict[str, Container] = Field(default_factory=dict)
    outputs: dict[str, Scalar] = Field(default_factory=dict)
    steps: list[Step] = Field(default_factory=list)
    # a reusable-workflow call
    uses: Uses | None = None
    with_: dict[str, Scalar] = Field(default_factory=dict)
    secrets: dict[str, Scalar] = Field(default_factory=dict)
    secrets_inherit: Span | None = None  # where `secrets: inherit` is written
    called: str | None = None  # the linked local callee's path (set by the loader)

    @property
    def is_call(self) -> bool:
        return self.uses is not None

    @property
    def matrix(self) -> Matrix | None:
        return self.strategy.matrix if self.strategy else None

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id is not None and s.id.text == step_id), None)

    def steps_using(self, action: str) -> list[Step]:
        """Steps whose `uses:` is this action (`owner/repo` or `owner/repo/path`, any ref),
        e.g. `job.steps_using("docker/setup-qemu-action")`."""
        want = action.lower()
        return [s for s in self.steps if s.uses is not None and s.uses.action == want]


class SchemaViolation(BaseModel):
    """A place where the file breaks GitHub's published schema (the best error of its branch)."""

    model_config = _FROZEN

    span: Span
    column: int = 1
    message: str
    location: str  # JSON path of the offending value, e.g. `jobs.build.steps[2].uses`


class CallSite(BaseModel):
    """A job of some workflow calling a local reusable workflow."""

    model_config = _FROZEN

    workflow: str  # caller's path
    job: str  # caller's job id
    span: Span  # the `uses:` line


class Workflow(BaseModel):
    model_config = _FROZEN

    path: str
    span: Span
    name: Scalar | None = None
    run_name: Scalar | None = None
    triggers: list[Trigger] = Field(default_factory=list)
    permissions: Permissions | None = None
    env: dict[str, Scalar] = Field(default_factory=dict)
    defaults: RunDefaults | None = None
    concurrency: Concurrency | None = None
    jobs: dict[str, Job] = Field(default_factory=dict)
    schema_errors: list[SchemaViolation] = Field(default_factory=list)
    callers: list[CallSite] = Field(default_factory=list)

    @property
    def address(self) -> str:
        return self.path

    @property
    def label(self) -> str:
        return self.name.text if self.name is not None and self.name.text else self.path.rsplit("/", 1)[-1]

    @property
    def events(self) -> list[str]:
        return [t.event for t in self.triggers]

    def trigger(self, event: str) -> Trigger | None:
        return next((t for t in self.triggers if t.event == event), None)

    @property
    def is_reusable(self) -> bool:
        return self.trigger("workflow_call") is not None

    def steps(self) -> Iterator[Step]:
        for job in self.jobs.values():
            yield from job.steps

    def stages(self) -> list[list[str]]:
        """Job ids by `needs:` depth: the jobs that need nothing, then those needing only
        those, and so on (what a pipeline diagram shows as stages). Jobs in a cycle or needing
        a missing job come last, in one stage."""
        level: dict[str, int] = {}
        remaining = dict(self.jobs)
        depth = 0
        while remaining:
            ready = [
                j for j, job in remaining.items() if all(n.job in level and level[n.job] < depth for n in job.needs)
            ]
            if not ready:
                ready = list(remaining)
            for j in ready:
                level[j] = depth
                del remaining[j]
            depth += 1
        out: list[list[str]] = [[] for _ in range(depth)]
        for j in self.jobs:
            out[level[j]].append(j)
        return [s for s in out if s]


class ActionInput(BaseModel):
    model_config = _FROZEN

    name: str
    span: Span
    required: bool = False
    default: Scalar | None = None
    description: str | None = None


class Action(BaseModel):
    """An action of this repository (`action.yml`): one reached by `uses: ./dir`, the root action
    (the repository publishes itself as an action, `path` "."), or one under `.github/actions/`.
    `using`: composite, docker, node20...; `steps` for composite ones only, `image` for docker ones."""

    model_config = _FROZEN

    path: str  # the action's directory
    file: str  # its action.yml / action.yaml
    span: Span
    name: Scalar | None = None
    using: str | None = None
    inputs: dict[str, ActionInput] = Field(default_factory=dict)
    outputs: dict[str, Scalar] = Field(default_factory=dict)
    steps: list[Step] = Field(default_factory=list)
    image: Scalar | None = None
    schema_errors: list[SchemaViolation] = Field(default_factory=list)

    @property
    def address(self) -> str:
        return self.file


class WorkflowProject(BaseModel):
    workflows: list[Workflow] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)

    def inventory(self) -> dict[str, int]:
        if not self.workflows and not self.actions:
            return {}
        environments = {j.environment.name.text for _, j in self.jobs() if j.environment and j.environment.name}
        return {
            "workflows": len(self.workflows),
            "local actions": len(self.actions),
            "jobs": sum(len(w.jobs) for w in self.workflows),
            # GitHub deployment environments (`environment:` of jobs), by name as written
            "deployment environments": len(environments),
            "image builds": sum(1 for s in self.steps() for b in s.builds if b.builds),
        }

    def workflow(self, path: str) -> Workflow | None:
        return next((w for w in self.workflows if w.path == path), None)

    def action(self, path: str) -> Action | None:
        """By directory or by file."""
        return next((a for a in self.actions if path in (a.path, a.file)), None)

    def jobs(self) -> Iterator[tuple[Workflow, Job]]:
        for w in self.workflows:
            for j in w.jobs.values():
                yield w, j

    def steps(self) -> Iterator[Step]:
        """Every step: of workflow jobs, then of composite actions."""
        for w in self.workflows:
            yield from w.steps()
        for a in self.actions:
            yield from a.steps

    def callers_of(self, path: str) -> list[tuple[Workflow, Job]]:
        """The jobs calling the local reusable workflow at `path`."""
        return [(w, j) for w, j in self.jobs() if j.called == path]

    def triggering_events(self, path: str) -> list[str]:
        """The values `github.event_name` takes in runs of the workflow at `path`: its own
        events, except that a reusable workflow sees its callers' events (followed through
        chains of callers) instead of `workflow_call`."""
        seen: set[str] = set()
        out: list[str] = []

        def visit(p: str) -> None:
            if p in seen:
                return
            seen.add(p)
            wf = self.workflow(p)
            if wf is None:
                return
            for event in wf.events:
                if event == "workflow_call":
                    for caller, _job in self.callers_of(p):
                        visit(caller.path)
                elif event not in out:
                    out.append(event)

        visit(path)
        return out


def iter_scalars(node: Any, address: str = "") -> Iterator[tuple[str, Scalar]]:
    """Every `Scalar` under a model node, with an address-like path to it
    (`.../steps/2/run`, `.../jobs/build/with/tags`): what expression-level rules iterate."""
    if isinstance(node, Scalar):
        yield address, node
        return
    if isinstance(node, BaseModel):
        base = getattr(node, "address", None) or address
        for name, key in _scalar_fields(type(node)):
            value = getattr(node, name)
            if value is None or isinstance(value, (str, int, bool, Span)):
                continue
            yield from iter_scalars(value, f"{base}/{key}")
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from iter_scalars(v, f"{address}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from iter_scalars(v, f"{address}/{i}")


@cache
def _scalar_fields(cls: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    """(field, address key) of the fields of a model class that can hold a `Scalar`: the walk
    skips the others (shell commands, image builds, spans), which are most of a step."""
    return tuple(
        ("if" if name == "condition" else name.rstrip("_").replace("_", "-"), name)[::-1]
        for name, info in cls.model_fields.items()
        if _may_hold_scalar(info.annotation, set())
    )


def _may_hold_scalar(tp: Any, seen: set[Any]) -> bool:
    if tp is Scalar:
        return True
    if get_origin(tp) is Literal:
        return False
    if isinstance(tp, str) or tp in seen:
        return isinstance(tp, str)  # an unresolved forward reference: walk it to be safe
    seen.add(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return any(_may_hold_scalar(f.annotation, seen) for f in tp.model_fields.values())
    return any(_may_hold_scalar(a, seen) for a in get_args(tp))


# --- values a reusable workflow's inputs take ----------------------------------------------------

MAX_VALUES = 32


def input_domains(wf: Workflow) -> dict[str, list[Any]]:
    """The values `inputs.X` can take in runs of `wf`, for the inputs that are enumerable: a
    `workflow_dispatch` choice (its options) or boolean; plus null when another event (push,
    schedule...) also starts the workflow, since `inputs` is then empty. Inputs of a reusable
    workflow (`workflow_call`) come from its callers and are left out (see `call_input_values`)."""
    dispatch = wf.trigger("workflow_dispatch")
    if dispatch is None or wf.trigger("workflow_call") is not None:
        return {}
    others = any(t.event != "workflow_dispatch" for t in wf.triggers)
    out: dict[str, list[Any]] = {}
    for name, spec in dispatch.inputs.items():
        if spec.type == "choice" and spec.options:
            values: list[Any] = list(spec.options)
        elif spec.type == "boolean":
            values = [True, False]
        else:
            continue
        out[name] = values + ([None] if others else [])
    return out


def call_input_values(caller: Workflow, job: Job) -> dict[str, list[Any] | None]:
    """For each `with:` input of a reusable-workflow call, the values it can take: `[v]` for a
    literal, every value of an expression over the caller's enumerable inputs (`${{ inputs.env
    || 'staging' }}` with a choice of staging/prod on a workflow also run on push gives
    `['staging', 'prod']`), None when not enumerable (a step output, free text, a secret)."""
    from urr_audit.model.gha_expr import Closed, Unknown, evaluate, to_string

    domains = input_domains(caller)
    out: dict[str, list[Any] | None] = {}
    for name, scalar in job.with_.items():
        if scalar.is_literal:
            out[name] = [scalar.value]
            continue
        if not scalar.is_expression:
            out[name] = None
            continue
        expr = scalar.exprs[0]
        needed = sorted({r.parts[1] for r in expr.refs if r.context == "inputs" and len(r.parts) > 1})
        if any(r.context != "inputs" for r in expr.refs) or any(n not in domains for n in needed):
            out[name] = None
            continue
        values: list[Any] = []
        combos = [dict(zip(needed, c, strict=True)) for c in _product([domains[n] for n in needed])]
        for combo in combos[:MAX_VALUES]:
            v = evaluate(expr.node, {"inputs": Closed(combo)})
            if isinstance(v, Unknown):
                values = []
                break
            v = to_string(v) if isinstance(v, float) else v
            if v not in values:
                values.append(v)
        out[name] = values or None
    return out


def _product(domains: list[list[Any]]) -> list[tuple[Any, ...]]:
    import itertools

    return list(itertools.product(*domains))


MAX_BINDINGS = 32


def run_bindings(project: WorkflowProject, wf: Workflow) -> list[tuple[Workflow | None, Job | None, dict[str, Any]]]:
    """(caller, calling job, inputs) for each way `wf` runs: itself (caller None), with each
    combination of its own enumerable inputs (dispatch choices, booleans, null when another
    event starts it), and per caller each combination of the input values the caller passes.
    A reusable workflow's names depend on its callers' inputs: bind its templates with these."""
    import itertools

    own = input_domains(wf)
    keys = sorted(own)
    out: list[tuple[Workflow | None, Job | None, dict[str, Any]]] = [
        (None, None, dict(zip(keys, combo, strict=True)))
        for combo in itertools.islice(itertools.product(*(own[k] for k in keys)), MAX_BINDINGS)
    ]
    for site in wf.callers:
        caller = project.workflow(site.workflow)
        job = caller.jobs.get(site.job) if caller is not None else None
        if caller is None or job is None:
            continue
        values = {k: v for k, v in call_input_values(caller, job).items() if v is not None}
        keys = sorted(values)
        for combo in itertools.islice(itertools.product(*(values[k] for k in keys)), MAX_BINDINGS):
            out.append((caller, job, dict(zip(keys, combo, strict=True))))
    return out
