"""Workflows whose trigger gives untrusted input the repository's privileges: privileged
triggers (`pull_request_target`, `workflow_run`, `issue_comment`) that check out and run the
pull request's code or write run-time values into `GITHUB_ENV`/`GITHUB_PATH`, and caches
restored where releases and packages are built."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.github.security._common import is_false, literal_text, matches
from urr_audit.checks.github.security.taint import Scope, TaintParams, Tracer
from urr_audit.model.common import Span
from urr_audit.model.project import Project
from urr_audit.model.workflows import Expr, Job, Scalar, Step, Trigger, Workflow
from urr_audit.wording import listed

PRIVILEGED = ["pull_request_target", "workflow_run", "issue_comment"]


def _privileged(tracer: Tracer, wf: Workflow, events: list[str]) -> list[str]:
    return sorted(tracer.events(wf) & set(events))


def _trigger_spans(wf: Workflow, events: list[str], tracer: Tracer) -> list[Span]:
    """Where the privileged events are written: the workflow's own `on:`, or its callers'."""
    spans = [t.span for t in wf.triggers if t.event in events]
    if not spans:
        for caller, _job in tracer.callers_of(wf.path):
            spans += [t.span for t in caller.triggers if t.event in events]
    return spans


# --- checking out the untrusted head -------------------------------------------------------------


class CheckoutParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[str] = Field(default_factory=lambda: list(PRIVILEGED))
    checkout: list[str] = Field(default_factory=lambda: ["actions/checkout"])
    # contexts naming the pull request's (or triggering run's) code
    untrusted_refs: list[str] = Field(
        default_factory=lambda: [
            "github.head_ref",
            "github.event.pull_request.head.sha",
            "github.event.pull_request.head.ref",
            "github.event.pull_request.head.repo.full_name",
            "github.event.pull_request.merge_commit_sha",
            "github.event.workflow_run.head_sha",
            "github.event.workflow_run.head_branch",
            "github.event.workflow_run.head_repository.full_name",
            "github.event.issue.number",
        ]
    )
    # commands that only print or inspect: a step made only of these runs nothing checked out
    inert_commands: list[str] = Field(
        default_factory=lambda: ["echo", "printf", "true", "exit", "ls", "pwd", "cat", "test", "[", "sleep", "date"]
    )


def _untrusted_expr(exprs: tuple[Expr, ...], params: CheckoutParams) -> tuple[Expr, str] | None:
    want = [tuple(c.lower().split(".")) for c in params.untrusted_refs]
    for e in exprs:
        for r in e.refs:
            parts = tuple(p.lower() for p in r.parts)
            if any(parts[: len(w)] == w for w in want):
                return e, r.dotted
    return None


def _untrusted_checkout(step: Step, params: CheckoutParams) -> tuple[Scalar | Span, int | None, str] | None:
    """(where, column, what) when the step checks out the pull request's code."""
    u = step.uses
    if u is not None and matches(u.action, params.checkout):
        for key in ("ref", "repository"):
            s = step.with_.get(key)
            if s is None:
                continue
            hit = _untrusted_expr(s.exprs, params)
            if hit is not None:
                return s, hit[0].column, f"`{key}: {s.text.strip()}`"
            if "refs/pull/" in s.text:
                return s, s.column, f"`{key}: {s.text.strip()}`"
        return None
    if step.run is None:
        return None
    for c in step.run.commands:
        text = " ".join(c.argv)
        if c.argv[:3] == ["gh", "pr", "checkout"] or (
            c.name == "git"
            and len(c.argv) > 1
            and c.argv[1] in ("fetch", "checkout", "switch", "pull")
            and (
                "refs/pull/" in text
                or re.search(r"\bpull/[^ ]+/(head|merge)", text)
                or _untrusted_expr(_exprs_in(step, c.span.line), params)
            )
        ):
            return c.span, c.column, f"`{' '.join(c.argv)}`"
    return None


def _exprs_in(step: Step, n: int) -> tuple[Expr, ...]:
    assert step.run is not None
    return tuple(e for e in step.run.script.exprs if e.span.line == n)


def _runs_code(step: Step, params: CheckoutParams) -> bool:
    if step.uses is not None:
        return step.uses.is_local
    if step.run is None:
        return False
    if not step.run.commands:
        return bool(step.run.text.strip())  # not split (pwsh, python...): it runs something
    return any(c.name not in params.inert_commands for c in step.run.commands)


def _gated(job: Job) -> str:
    """Why a maintainer's approval plausibly gates the job, or ''."""
    if job.environment is not None:
        return (
            "the job waits for the approval of environment `"
            + (job.environment.name.text if job.environment.name else "?")
            + "`"
        )
    cond = job.condition
    if cond is not None and cond.expr is not None:
        if any(r.startswith("github.event.label") or r.dotted.endswith("labels.*.name") for r in cond.expr.refs):
            return "the job runs only when a label is set (a maintainer's approval, but it stays when the author pushes new commits)"
        if any(r.dotted.endswith("author_association") for r in cond.expr.refs):
            return "the job checks the author's association with the repository"
    return ""


@check(
    "gha-untrusted-checkout",
    scope="project",
    params=CheckoutParams,
    subjects=lambda p: [f"on:{e}" for e in p.events],
)
def untrusted_checkout(ctx: Context, project: Project, params: CheckoutParams) -> Iterator[Hit]:
    """Workflows started by `pull_request_target`, `workflow_run` or `issue_comment` (which run
    with the base repository's secrets and a write token) that check out the pull request's
    head, then run it: build scripts, tests, package installs and local actions from the pull
    request then run with those privileges."""
    tracer = Tracer(project.workflows, TaintParams(sources=[]))
    for wf in project.workflows.workflows:
        events = _privileged(tracer, wf, params.events)
        if not events:
            continue
        triggers = _trigger_spans(wf, events, tracer)
        for job in wf.jobs.values():
            for i, step in enumerate(job.steps):
                hit = _untrusted_checkout(step, params)
                if hit is None:
                    continue
                at, column, what = hit
                runner = next((s for s in job.steps[i + 1 :] if _runs_code(s, params)), None)
                gate = _gated(job)
                on = " and ".join(f"`{e}`" for e in events)
                base = f"job `{job.id}` runs on {on} (base repository secrets, write token) and checks out the pull request's code ({what})"
                if runner is not None:
                    severity = "medium" if gate else None
                    msg = f"{base}, then step `{runner.label}` runs it"
                    related = [*triggers, runner.span]
                else:
                    severity = "medium"
                    msg = f"{base}; no later step visibly runs it, but tools reading the workspace (linters, builds, actions) run its configuration"
                    related = list(triggers)
                if gate:
                    msg += f"; {gate}, which lowers the risk"
                yield ctx.finding(
                    at=at,
                    column=column,
                    node=step,
                    severity=severity,
                    related=related,
                    message=msg,
                )


# --- GITHUB_ENV / GITHUB_PATH writes -------------------------------------------------------------


class EnvParams(TaintParams):
    model_config = ConfigDict(extra="forbid")

    events: list[str] = Field(default_factory=lambda: list(PRIVILEGED))


@check("gha-github-env", scope="project", params=EnvParams, subjects=lambda p: [f"on:{e}" for e in p.events])
def github_env(ctx: Context, project: Project, params: EnvParams) -> Iterator[Hit]:
    """Writes of run-time values to `GITHUB_ENV` or `GITHUB_PATH` in workflows started by
    privileged triggers: whoever controls the value (a PR title, a file of the PR, an
    artifact) sets variables such as `LD_PRELOAD`, `NODE_OPTIONS` or `BASH_ENV`, or puts
    their directory first on PATH, for every later step."""
    tracer = Tracer(project.workflows, params)
    for wf in project.workflows.workflows:
        events = _privileged(tracer, wf, params.events)
        if not events:
            continue
        triggers = _trigger_spans(wf, events, tracer)
        on = " and ".join(f"`{e}`" for e in events)
        for job in wf.jobs.values():
            for i, step in enumerate(job.steps):
                run = step.run
                if run is None:
                    continue
                for w in run.writes:
                    if w.file not in ("GITHUB_ENV", "GITHUB_PATH") or w.literal:
                        continue
                    scope = Scope(wf, job, i, tracer.events(wf))
                    taint = None
                    for e in w.exprs:
                        taint = taint or tracer.trace_expr(scope, e, 0)
                    for v in w.variables:
                        taint = taint or tracer.trace(scope, ("env", v))
                    unknown = w.computed or any(not _known_variable(job, wf, i, v) for v in w.variables)
                    if taint is None and not unknown and w.file == "GITHUB_ENV":
                        # expressions and variables traced to values no attacker picks (a directory
                        # added to PATH stays reported: what matters is what lands in it)
                        continue
                    if w.file == "GITHUB_PATH":
                        what = "adds a directory to PATH (GITHUB_PATH)"
                    else:
                        what = f"sets {f'`{w.name}`' if w.name else 'a variable'} in GITHUB_ENV"
                    severity: str | None = "medium"
                    why = "the value is computed at run time, in a run an untrusted pull request can start"
                    if taint is not None:
                        origin = taint.describe(taint.hops[0]) if taint.hops else f"`{taint.origin}`"
                        severity, why = None, f"the value comes from {origin}, which an attacker chooses"
                    yield ctx.finding(
                        at=w.span,
                        column=w.column,
                        node=step,
                        address=f"{step.address}/{w.file}/{w.name or w.span.line}",
                        severity=severity,
                        related=triggers,
                        message=f"a step of job `{job.id}` {what} in a workflow run on {on}: {why}; every later step of the job inherits it",
                    )


_RUNNER_VARIABLES = frozenset({"HOME", "PATH", "PWD", "CI", "USER", "RUNNER_TEMP", "RUNNER_TOOL_CACHE", "RANDOM"})


def _known_variable(job: Job, wf: Workflow, index: int, name: str) -> bool:
    """A shell variable whose value the workflow itself sets: the runner's (`GITHUB_SHA`,
    `HOME`), or one of the step's, job's or workflow's `env:`. Variables assigned by the
    script or read from a file are not known."""
    if name in _RUNNER_VARIABLES or name.startswith(("GITHUB_", "RUNNER_")):
        return True
    step = job.steps[index]
    return any(name in env for env in (step.env, job.env, wf.env))


# --- cache restores in release workflows ---------------------------------------------------------


class CacheAction(BaseModel):
    """How an action restores a cache: always (`default_on`) unless `disabled_by` an input
    value, or when `enabled_by` names an input given a value other than false."""

    model_config = ConfigDict(extra="forbid")

    action: str
    enabled_by: str | None = None
    default_on: bool = False
    default_on_from_major: int | None = None  # default on from this major version (unknown refs: on)
    disabled_by: dict[str, str] = Field(default_factory=dict)


class CacheParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    caches: list[CacheAction] = Field(default_factory=list)
    publishers: list[str] = Field(default_factory=list)  # actions that publish
    publish_commands: list[str] = Field(default_factory=list)  # `npm publish`, `twine upload`...


def _major(ref: str | None) -> int | None:
    m = re.match(r"v?(\d+)", ref or "")
    return int(m.group(1)) if m else None


def _restores(step: Step, params: CacheParams) -> str | None:
    u = step.uses
    if u is None or u.kind != "action":
        return None
    spec = next((c for c in params.caches if matches(u.action, [c.action])), None)
    if spec is None:
        return None
    for key, value in spec.disabled_by.items():
        if (literal_text(step.with_.get(key)) or "").strip().lower() == value.lower():
            return None
    if spec.enabled_by is not None and spec.enabled_by in step.with_:
        s = step.with_[spec.enabled_by]
        if is_false(s) or not s.text.strip():
            return None
        return f"`{spec.enabled_by}: {s.text.strip()}`"
    on = spec.default_on
    if spec.default_on_from_major is not None:
        major = _major(u.ref) if u.ref_kind == "version" else None
        on = major is None or major >= spec.default_on_from_major
    return "caching is on by default" if on else None


def _publishes(step: Step, params: CacheParams) -> str | None:
    u = step.uses
    if u is not None and matches(u.action, params.publishers):
        return f"`{u.action}`"
    if any(b.pushes for b in step.builds):
        return "an image push"
    if step.run is not None:
        for c in step.run.commands:
            words = " ".join(a for a in c.argv if not a.startswith("-"))
            for cmd in params.publish_commands:
                if words == cmd or words.startswith(cmd + " "):
                    return f"`{cmd}`"
    return None


def _release_triggers(wf: Workflow) -> list[Trigger]:
    return [t for t in wf.triggers if t.event == "release" or (t.event == "push" and t.tags)]


@check("gha-cache-poisoning", scope="project", params=CacheParams, subjects=lambda p: [c.action for c in p.caches])
def cache_poisoning(ctx: Context, project: Project, params: CacheParams) -> Iterator[Hit]:
    """Caches restored in workflows that publish (release triggers, tag pushes, jobs that
    publish packages, images or releases): a cache entry written by any workflow run of the
    repository (one that runs pull-request code included) ends up inside what is published."""
    callers: dict[str, list[Workflow]] = {}
    for caller, job in project.workflows.jobs():
        if job.called is not None:
            callers.setdefault(job.called, []).append(caller)
    for wf in project.workflows.workflows:
        release = _release_triggers(wf)
        for caller in callers.get(wf.path, []):
            release += _release_triggers(caller)
        for job in wf.jobs.values():
            publisher = next(((s, why) for s in job.steps if (why := _publishes(s, params))), None)
            if not release and publisher is None:
                continue
            for step in job.steps:
                how = _restores(step, params)
                if how is None or step.uses is None:
                    continue
                if publisher is not None:
                    where = f"job `{job.id}` publishes ({publisher[1]} in step `{publisher[0].label}`)"
                    related = [publisher[0].span, *(t.span for t in release)]
                    severity = None
                else:
                    names = ", ".join(
                        f"`{t.event}`" + (f" of tags {listed(f'`{g}`' for g in t.tags)}" if t.tags else "")
                        for t in release
                    )
                    where = f"the workflow runs on {names}, a release"
                    related = [t.span for t in release]
                    severity = "medium"
                yield ctx.finding(
                    at=step.uses,
                    node=step,
                    related=related,
                    severity=severity,
                    message=(
                        f"step `{step.label}` restores a cache ({how}) and {where}: a poisoned cache entry, which any "
                        "run of this repository can write, would end up in what it publishes; build releases without caches"
                    ),
                )
