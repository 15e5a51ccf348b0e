"""Where the text of a context comes from: attacker-controlled event fields, free-text inputs,
or values derived from them through `env`, `GITHUB_ENV`, step outputs and job outputs.

`Tracer.trace(scope, ref)` answers for one reference of an expression, in the place it is
written (`Scope`: the workflow or composite action, the job, the step), with a `Taint` (what
the text comes from and the hops that carried it) or None. Conservative: what cannot be
followed (a remote action's output, a matrix computed at run time) is not called tainted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.model.workflows import (
    Action,
    ContextRef,
    Expr,
    Job,
    Scalar,
    Step,
    Workflow,
    WorkflowProject,
    call_input_values,
)

MAX_DEPTH = 12

PULL_REQUEST_EVENTS = ["pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment"]


class Source(BaseModel):
    """Contexts whose text someone outside the repository's writers chooses, for these events
    (`*`: any event). A `*` part matches any one part (`github.event.commits.*.message`)."""

    model_config = ConfigDict(extra="forbid")

    events: list[str]
    contexts: list[str]


def _default_sources() -> list[Source]:
    return [
        Source(
            events=PULL_REQUEST_EVENTS,
            contexts=[
                "github.head_ref",
                "github.event.pull_request.title",
                "github.event.pull_request.body",
                "github.event.pull_request.head.ref",
                "github.event.pull_request.head.label",
                "github.event.pull_request.head.repo.description",
                "github.event.pull_request.head.repo.homepage",
                "github.event.pull_request.head.repo.default_branch",
                "github.event.pull_request.labels.*.name",
                "github.event.pull_request.labels.*.description",
                "github.event.pull_request.milestone.title",
                "github.event.pull_request.milestone.description",
            ],
        ),
        Source(events=["pull_request_review"], contexts=["github.event.review.body"]),
        Source(
            events=["issue_comment", "pull_request_review_comment", "commit_comment", "discussion_comment"],
            contexts=["github.event.comment.body"],
        ),
        Source(
            events=["issues", "issue_comment"],
            contexts=[
                "github.event.issue.title",
                "github.event.issue.body",
                "github.event.issue.labels.*.name",
                "github.event.issue.labels.*.description",
                "github.event.issue.milestone.title",
            ],
        ),
        Source(events=["issues", "pull_request", "pull_request_target", "label"], contexts=["github.event.label.name"]),
        Source(
            events=["discussion", "discussion_comment"],
            contexts=["github.event.discussion.title", "github.event.discussion.body"],
        ),
        Source(
            events=["push"],
            contexts=[
                "github.event.head_commit.message",
                "github.event.head_commit.author.name",
                "github.event.head_commit.author.email",
                "github.event.head_commit.committer.name",
                "github.event.head_commit.committer.email",
                "github.event.commits.*.message",
                "github.event.commits.*.author.name",
                "github.event.commits.*.author.email",
                "github.event.commits.*.committer.name",
                "github.event.commits.*.committer.email",
            ],
        ),
        Source(
            events=["workflow_run"],
            contexts=[
                "github.event.workflow_run.head_branch",
                "github.event.workflow_run.display_title",
                "github.event.workflow_run.head_commit.message",
                "github.event.workflow_run.head_commit.author.name",
                "github.event.workflow_run.head_commit.author.email",
                "github.event.workflow_run.head_commit.committer.name",
                "github.event.workflow_run.head_commit.committer.email",
                "github.event.workflow_run.head_repository.description",
                "github.event.workflow_run.pull_requests.*.head.ref",
            ],
        ),
        Source(events=["gollum"], contexts=["github.event.pages.*.page_name", "github.event.pages.*.title"]),
        Source(events=["release"], contexts=["github.event.release.name", "github.event.release.body"]),
        Source(events=["repository_dispatch"], contexts=["github.event.client_payload"]),
        Source(
            events=["check_run", "check_suite"],
            contexts=["github.event.check_suite.head_branch", "github.event.check_run.check_suite.head_branch"],
        ),
    ]


class TaintParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[Source] = Field(default_factory=_default_sources)
    # action -> the `with:` inputs it runs as code, like `run:`
    script_inputs: dict[str, list[str]] = Field(default_factory=lambda: {"actions/github-script": ["script"]})


@dataclass(frozen=True)
class Taint:
    """Text of `origin` reaches the reference through `hops` (what a reviewer follows)."""

    origin: str  # `github.event.pull_request.title`, `inputs.tag`
    kind: str  # "event": chosen by anyone who can open a PR, comment...; "input": by the caller
    hops: tuple[str, ...] = ()
    # for "input": all the known callers pass values from a closed set (choices, literals)
    callers_closed: bool = False
    related: tuple[tuple[str, int], ...] = ()  # (path, line) of the places it passed through

    def via(self, hop: str, where: tuple[str, int] | None = None) -> Taint:
        return Taint(
            self.origin,
            self.kind,
            (hop, *self.hops),
            self.callers_closed,
            ((where, *self.related) if where else self.related),
        )

    def describe(self, ref: str) -> str:
        """`ref` <- the hops <- the origin, each once."""
        chain: list[str] = []
        for c in (ref, *self.hops, self.origin):
            if not chain or chain[-1].lower() != c.lower():
                chain.append(c)
        return " <- ".join(f"`{c}`" for c in chain)


@dataclass
class Scope:
    """Where an expression is written."""

    file: Workflow | Action
    job: Job | None = None
    step: int | None = None  # index of the step in the job (or action); None at job level
    events: frozenset[str] = field(default_factory=frozenset)  # empty: not known (any)

    @property
    def steps(self) -> list[Step]:
        if self.job is not None:
            return self.job.steps
        return self.file.steps if isinstance(self.file, Action) else []


def _match(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """The reference is the pattern, inside it, or an object holding it (`toJSON(github.event)`)."""
    for p, q in zip(pattern, parts, strict=False):
        if p != "*" and p != q:
            return False
    return True


class Tracer:
    def __init__(self, project: WorkflowProject, params: TaintParams):
        self.project = project
        self.params = params
        self.sources = [(frozenset(s.events), tuple(c.lower().split("."))) for s in params.sources for c in s.contexts]
        self._events: dict[str, frozenset[str]] = {}
        self._callers: dict[str, list[tuple[Workflow, Job]]] = {}
        for wf in project.workflows:
            for job in wf.jobs.values():
                if job.called is not None:
                    self._callers.setdefault(job.called, []).append((wf, job))

    def callers_of(self, path: str) -> list[tuple[Workflow, Job]]:
        return self._callers.get(path, [])

    def events(self, wf: Workflow) -> frozenset[str]:
        if wf.path not in self._events:
            self._events[wf.path] = frozenset(self.project.triggering_events(wf.path))
        return self._events[wf.path]

    def scope(self, file: Workflow | Action, job: Job | None = None, step: int | None = None) -> Scope:
        return Scope(file, job, step, self.events(file) if isinstance(file, Workflow) else frozenset())

    # --- entry points -----------------------------------------------------------------------
    def trace(self, scope: Scope, ref: ContextRef | tuple[str, ...], depth: int = 0) -> Taint | None:
        parts = tuple(p.lower() for p in (ref.parts if isinstance(ref, ContextRef) else ref))
        if depth > MAX_DEPTH or not parts:
            return None
        ctx = parts[0]
        if ctx == "github":
            return self._event(scope, parts)
        if ctx == "inputs" and len(parts) > 1:
            return self._input(scope, parts[1], depth)
        if ctx == "env" and len(parts) > 1:
            return self._env(scope, parts[1], depth)
        if ctx == "steps" and len(parts) > 3 and parts[2] == "outputs":
            return self._step_output(scope, parts[1], parts[3], depth)
        if ctx == "needs" and len(parts) > 3 and parts[2] == "outputs":
            return self._needs_output(scope, parts[1], parts[3], depth)
        return None

    def trace_scalar(self, scope: Scope, scalar: Scalar | None, depth: int) -> Taint | None:
        if scalar is None:
            return None
        for expr in scalar.exprs:
            t = self.trace_expr(scope, expr, depth)
            if t is not None:
                return t
        return None

    def trace_expr(self, scope: Scope, expr: Expr, depth: int) -> Taint | None:
        for r in expr.refs:
            if r.reaches_value:
                t = self.trace(scope, r, depth + 1)
                if t is not None:
                    return t
        return None

    # --- sources ----------------------------------------------------------------------------
    def _event(self, scope: Scope, parts: tuple[str, ...]) -> Taint | None:
        if parts[:3] == ("github", "event", "inputs") and len(parts) > 3:
            return self._input(scope, parts[3], 0, written="github.event.inputs")
        for events, pattern in self.sources:
            if not _match(pattern, parts):
                continue
            if "*" in events or not scope.events or events & scope.events:
                return Taint(origin=".".join(parts), kind="event")
        return None

    def _input(self, scope: Scope, name: str, depth: int, written: str = "inputs") -> Taint | None:
        origin = f"{written}.{name}"
        file = scope.file
        if isinstance(file, Action):
            spec = next((i for k, i in file.inputs.items() if k.lower() == name), None)
            if spec is None:
                return None
            return self._from_callers_of_action(file, spec.name, origin, depth)
        declared = [
            (t.event, i)
            for t in file.triggers
            if t.event in ("workflow_dispatch", "workflow_call")
            for k, i in t.inputs.items()
            if k.lower() == name
        ]
        free = [(event, i) for event, i in declared if i.type == "string"]
        if not free:
            return None  # choice, boolean, number, environment, or not declared: not free text
        if any(event == "workflow_call" for event, _ in free):
            return self._from_callers_of_workflow(
                file,
                free[0][1].name,
                origin,
                depth,
                dispatch=len(free) > 1 or any(e == "workflow_dispatch" for e, _ in free),
            )
        return Taint(origin=origin, kind="input")

    def _from_callers_of_workflow(self, wf: Workflow, name: str, origin: str, depth: int, dispatch: bool) -> Taint:
        """A `workflow_call` string input: free text from callers; an attacker-controlled value
        passed by a local caller makes it an event taint; every caller passing a closed set of
        values (literals, choices) makes it `callers_closed`."""
        callers = self.callers_of(wf.path)
        closed = bool(callers) and not dispatch
        for caller, job in callers:
            value = next((v for k, v in job.with_.items() if k.lower() == name.lower()), None)
            if value is None:
                continue
            t = self.trace_scalar(self.scope(caller, job), value, depth + 1)
            if t is not None and t.kind == "event":
                return t.via(f"{caller.path}: jobs.{job.id}.with.{name}", (caller.path, value.span.line))
            values = call_input_values(caller, job).get(name)
            if values is None or any(not _inert(v) for v in values):
                closed = False
        return Taint(origin=origin, kind="input", callers_closed=closed)

    def _from_callers_of_action(self, action: Action, name: str, origin: str, depth: int) -> Taint:
        closed = True
        found = False
        for wf in self.project.workflows:
            for job in wf.jobs.values():
                for i, step in enumerate(job.steps):
                    if step.uses is None or step.uses.target != action.file:
                        continue
                    found = True
                    value = next((v for k, v in step.with_.items() if k.lower() == name.lower()), None)
                    if value is None:
                        continue
                    t = self.trace_scalar(self.scope(wf, job, i), value, depth + 1)
                    if t is not None and t.kind == "event":
                        return t.via(f"{wf.path}: with.{name}", (wf.path, value.span.line))
                    if not (value.is_literal and _inert(value.value)):
                        closed = False
        return Taint(origin=origin, kind="input", callers_closed=found and closed)

    # --- derived values ---------------------------------------------------------------------
    def _env(self, scope: Scope, name: str, depth: int) -> Taint | None:
        steps = scope.steps
        layers: list[tuple[str, dict[str, Scalar]]] = []
        if scope.step is not None and scope.step < len(steps):
            layers.append(("step env", steps[scope.step].env))
        if scope.job is not None:
            layers.append(("job env", scope.job.env))
        if isinstance(scope.file, Workflow):
            layers.append(("workflow env", scope.file.env))
        for where, env in layers:
            key, value = next(((k, v) for k, v in env.items() if k.lower() == name), (name, None))
            if value is not None:
                # an env value reads the contexts of the level it is written at
                at = Scope(
                    scope.file,
                    scope.job if where != "workflow env" else None,
                    scope.step if where == "step env" else None,
                    scope.events,
                )
                t = self.trace_scalar(at, value, depth + 1)
                return t.via(f"env.{key}", (value.span.path, value.span.line)) if t is not None else None
        # written to GITHUB_ENV by an earlier step of the job
        upto = scope.step if scope.step is not None else len(steps)
        for i in range(min(upto, len(steps)) - 1, -1, -1):
            run = steps[i].run
            for w in reversed(run.writes_to("GITHUB_ENV") if run is not None else []):
                if w.name is not None and w.name.lower() == name:
                    t = self._write(scope, i, w.exprs, w.variables, depth)
                    return t.via(f"env.{w.name}", (w.span.path, w.span.line)) if t is not None else None
        return None

    def _write(
        self, scope: Scope, index: int, exprs: tuple[Expr, ...], variables: tuple[str, ...], depth: int
    ) -> Taint | None:
        at = Scope(scope.file, scope.job, index, scope.events)
        for e in exprs:
            t = self.trace_expr(at, e, depth + 1)
            if t is not None:
                return t
        for v in variables:
            t = self._env(at, v.lower(), depth + 1)
            if t is not None:
                return t
        return None

    def _step_output(self, scope: Scope, step_id: str, output: str, depth: int) -> Taint | None:
        steps = scope.steps
        for i, step in enumerate(steps):
            if step.id is None or step.id.text.lower() != step_id:
                continue
            hop = f"steps.{step.id.text}.outputs.{output}"
            if step.run is not None:
                for w in step.run.writes_to("GITHUB_OUTPUT"):
                    if w.name is not None and w.name.lower() == output:
                        t = self._write(scope, i, w.exprs, w.variables, depth)
                        if t is not None:
                            return t.via(hop, (w.span.path, w.span.line))
                return None
            u = step.uses
            if u is not None and u.kind == "local-action" and u.target is not None:
                action = self.project.action(u.target)
                if action is None:
                    return None
                value = next((v for k, v in action.outputs.items() if k.lower() == output), None)
                t = self.trace_scalar(Scope(action), value, depth + 1)
                if t is not None and t.kind == "input" and t.origin.startswith("inputs."):
                    # the action's input: what this step passes it
                    passed = next((v for k, v in step.with_.items() if f"inputs.{k.lower()}" == t.origin.lower()), None)
                    t = self.trace_scalar(Scope(scope.file, scope.job, i, scope.events), passed, depth + 1)
                return t.via(hop, (step.span.path, step.span.line)) if t is not None else None
            return None
        return None

    def _needs_output(self, scope: Scope, job_id: str, output: str, depth: int) -> Taint | None:
        wf = scope.file
        if not isinstance(wf, Workflow):
            return None
        job = next((j for k, j in wf.jobs.items() if k.lower() == job_id), None)
        if job is None:
            return None
        value = next((v for k, v in job.outputs.items() if k.lower() == output), None)
        t = self.trace_scalar(Scope(wf, job, None, scope.events), value, depth + 1)
        if t is None:
            return None
        return t.via(f"needs.{job.id}.outputs.{output}", (value.span.path, value.span.line) if value else None)


def _inert(value: Any) -> bool:
    """A value that cannot change a script it is pasted into: letters, digits and `._-/:@+=,`."""
    if value is None or isinstance(value, (bool, int, float)):
        return True
    return isinstance(value, str) and all(c.isalnum() or c in "._-/:@+=, " for c in value)
