"""The GITHUB_TOKEN a job gets against what it does: no `permissions:` (the repository default),
`write-all`/`read-all`, and write scopes granted to jobs whose steps use none of them.

What a job "uses" is decided conservatively: a step that can reach the token in a way we cannot
see through (an action not in the `actions` table, a script that reads the token, a remote
reusable workflow) may use any scope, and then no scope of that job is reported as unused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, NoParams, check
from urr_audit.checks.github.security._common import first_match, line
from urr_audit.model.common import Span
from urr_audit.model.project import Project
from urr_audit.model.workflows import Job, Permissions, Scalar, Step, Workflow, WorkflowProject

Default = Literal["permissive", "restricted"]


def _reusable_only(wf: Workflow) -> bool:
    """Run only when called: the caller's grant is the ceiling, so its own jobs are judged there."""
    return bool(wf.triggers) and all(t.event == "workflow_call" for t in wf.triggers)


class DefaultParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # the repository's (or organisation's) default token: `permissive` (read/write, GitHub's
    # default for repositories created before February 2023 and many organisations) or
    # `restricted` (read contents and packages)
    default: Default = "permissive"


@check("gha-default-permissions", scope="github.workflow", params=DefaultParams, subjects=("job",))
def default_permissions(ctx: Context, wf: Workflow, params: DefaultParams) -> Iterator[Hit]:
    """Jobs that get the repository's default token because neither the workflow nor the job
    writes `permissions:`. With a permissive default that is write access to the code,
    packages, releases, issues and pull requests, whatever the job does."""
    if params.default == "restricted" or wf.permissions is not None or _reusable_only(wf):
        return
    lacking = [j for j in wf.jobs.values() if j.permissions is None]
    # The token's reach depends on a repository setting the scan cannot see: say the assumption.
    what = (
        "assuming the permissive default (param `default: permissive`: repositories created before "
        "February 2023 and many organisations), that token can read and write every scope; newer "
        "repositories default to read-only (set the param to `restricted` for them)"
    )
    if len(wf.jobs) > 1 and lacking:
        names = ", ".join(f"`{j.id}`" for j in lacking)
        yield ctx.finding(
            at=line(wf.path, 1),
            node=wf,
            related=[j.span for j in lacking],
            message=(
                f"the workflow sets no top-level `permissions:`, so jobs {names} get the repository's default "
                f"GITHUB_TOKEN: {what}. Start with `permissions: {{}}` or `contents: read` and grant each job what it needs"
            ),
        )
    for job in lacking:
        yield ctx.finding(
            at=line(wf.path, job.span.line),
            node=job,
            message=(
                f"job `{job.id}` runs with the repository's default GITHUB_TOKEN, as neither the workflow "
                f"nor the job sets `permissions:`: {what}"
            ),
        )


@check("gha-broad-permissions", scope="github.workflow", subjects=("workflow",))
def broad_permissions(ctx: Context, wf: Workflow, params: NoParams) -> Iterator[Hit]:
    """`permissions: write-all` (every scope writable) or `read-all` (every scope readable,
    security alerts and deployments included), at the workflow or a job."""
    blocks: list[tuple[str, object, Permissions]] = []
    # a workflow-level block every job overrides grants nothing
    if wf.permissions is not None and any(j.permissions is None for j in wf.jobs.values()):
        blocks.append(("the workflow", wf, wf.permissions))
    blocks += [(f"job `{j.id}`", j, j.permissions) for j in wf.jobs.values() if j.permissions is not None]
    for where, owner, p in blocks:
        if p.preset == "write-all":
            yield ctx.finding(
                at=p.span,
                node=owner,
                message=f"{where} grants `write-all`: the token can push code, publish packages and releases, and change issues, pull requests and settings; list the scopes it needs",
            )
        elif p.preset == "read-all":
            yield ctx.finding(
                at=p.span,
                node=owner,
                severity="low",
                message=(
                    f"{where} grants `read-all`: the token reads every scope, security alerts, deployments and "
                    "actions logs included (a private repository's alerts reach every step); list the scopes it needs"
                ),
            )


# --- what a job uses ---------------------------------------------------------------------------


class UnusedParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # action (pattern) -> the scopes it may use with write access; actions not listed may use
    # any scope (they can read the token from an input default)
    actions: dict[str, list[str]] = Field(default_factory=dict)
    # severity of an unused write grant, by scope (GitHub's impact; others: the rule's)
    scope_severity: dict[str, str] = Field(default_factory=dict)


@dataclass
class Usage:
    scopes: dict[str, str] = field(default_factory=dict)  # scope -> the step that uses it
    unknown: str = ""  # why any scope may be used ('' when everything was seen through)

    def add(self, scope: str, why: str) -> None:
        self.scopes.setdefault(scope, why)


_TOKEN_REFS = (("github", "token"), ("secrets", "github_token"))


def _reads_token(scalars: list[Scalar]) -> bool:
    for s in scalars:
        for e in s.exprs:
            for r in e.refs:
                if tuple(p.lower() for p in r.parts[:2]) in _TOKEN_REFS:
                    return True
        if isinstance(s.value, str) and ("ACTIONS_RUNTIME_TOKEN" in s.value or "GITHUB_TOKEN" in s.value):
            return True
    return False


_OIDC_COMMANDS = {
    ("npm", "publish"),
    ("pnpm", "publish"),
    ("yarn", "npm"),
    ("uv", "publish"),
    ("cosign", "sign"),
    ("cosign", "attest"),
}


class _Analyser:
    def __init__(self, project: WorkflowProject, params: UnusedParams):
        self.project = project
        self.params = params

    def job(self, wf: Workflow, job: Job, seen: frozenset[str] = frozenset()) -> Usage:
        usage = Usage()
        if job.uses is not None:
            self._call(wf, job, usage, seen)
            return usage
        env = [*wf.env.values(), *job.env.values()]
        for step in job.steps:
            self._step(step, env, usage, seen)
            if usage.unknown:
                break
        return usage

    def _call(self, wf: Workflow, job: Job, usage: Usage, seen: frozenset[str]) -> None:
        assert job.uses is not None
        callee = self.project.workflow(job.called) if job.called else None
        if callee is None or callee.path in seen:
            usage.unknown = f"it calls `{job.uses.raw}`, whose needs are not read"
            return
        for cj in callee.jobs.values():
            block = cj.permissions or callee.permissions
            if block is not None:
                # the callee asks for these: the caller must grant them or the run fails
                for s in block.writes():
                    usage.add(s, f"`{callee.path}` job `{cj.id}` requests it")
            else:
                inner = self.job(callee, cj, seen | {wf.path})
                if inner.unknown:
                    usage.unknown = f"`{callee.path}` job `{cj.id}`: {inner.unknown}"
                    return
                for s, why in inner.scopes.items():
                    usage.add(s, why)

    def _step(self, step: Step, env: list[Scalar], usage: Usage, seen: frozenset[str]) -> None:
        label = f"step `{step.label}`"
        u = step.uses
        if u is not None:
            if u.kind == "local-action":
                action = self.project.action(u.target) if u.target else None
                if action is None or action.using != "composite":
                    usage.unknown = (
                        f"{label} runs the local action `{u.raw}`, which is not a composite action read here"
                    )
                    return
                for inner in action.steps:
                    self._step(inner, env, usage, seen)
                    if usage.unknown:
                        return
                return
            if u.kind == "docker":
                if _reads_token([*step.with_.values(), *step.env.values()]):
                    usage.unknown = f"{label} hands the token to `{u.raw}`"
                return
            known = first_match(u.action, self.params.actions)
            if known is None:
                usage.unknown = f"{label} uses `{u.raw}`, which may read the token"
                return
            for s in known:
                usage.add(s, f"{label} (`{u.action}`)")
            return
        if step.run is None:
            return
        if _reads_token([step.run.script, *step.env.values(), *env]):
            usage.unknown = f"{label} reads the token"
            return
        text = step.run.text
        if "ACTIONS_ID_TOKEN_REQUEST" in text:
            usage.add("id-token", label)
        for c in step.run.commands:
            words = [a for a in c.argv if not a.startswith("-")]
            if c.name == "git" and "push" in words[1:3]:
                usage.add("contents", f"{label} (`git push`)")
            if tuple(words[:2]) in _OIDC_COMMANDS:
                usage.add("id-token", f"{label} (`{' '.join(words[:2])}`)")
            if c.name == "gh":
                usage.unknown = f"{label} runs `gh`"
                return


@check("gha-unused-write-permissions", scope="project", params=UnusedParams, subjects=("job",))
def unused_write_permissions(ctx: Context, project: Project, params: UnusedParams) -> Iterator[Hit]:
    """Write scopes granted to jobs that use none of them, decided from what the job's steps do
    (actions of known needs, `git push`, OIDC requests, a local reusable workflow's requests).
    A job with a step whose use of the token cannot be seen through is not judged."""
    analyser = _Analyser(project.workflows, params)
    for wf in project.workflows.workflows:
        usages = {j.id: analyser.job(wf, j) for j in wf.jobs.values()}
        unused_by: dict[str, list[Job]] = {}
        users: dict[str, list[Job]] = {}
        for job in wf.jobs.values():
            block = job.permissions or wf.permissions
            if block is None or block.preset is not None:
                continue  # the default (URR-GHA-012) or write-all/read-all (URR-GHA-013)
            usage = usages[job.id]
            if usage.unknown:
                for s in block.writes():
                    users.setdefault(s, []).append(job)
                continue
            for s in block.writes():
                if s in usage.scopes:
                    users.setdefault(s, []).append(job)
                    continue
                if job.permissions is not None:
                    yield _finding(
                        ctx,
                        params,
                        job.permissions,
                        s,
                        job,
                        f"job `{job.id}` is granted `{s}: write`, but none of its steps uses it",
                        job.permissions is not None,
                    )
                else:
                    unused_by.setdefault(s, []).append(job)
        if wf.permissions is None:
            continue
        for s, jobs in unused_by.items():
            names = ", ".join(f"`{j.id}`" for j in jobs)
            who = users.get(s, [])
            if who:
                move = f"only {', '.join(f'`{j.id}`' for j in who)} may use it: grant it there"
            else:
                move = "no job uses it: remove it"
            yield _finding(
                ctx,
                params,
                wf.permissions,
                s,
                wf,
                f"`{s}: write` is granted to every job of the workflow, but {names} {'uses' if len(jobs) == 1 else 'use'} none of it; {move}",
                False,
                related=[j.span for j in jobs],
            )


def _finding(
    ctx: Context,
    params: UnusedParams,
    block: Permissions,
    scope: str,
    owner: object,
    message: str,
    job_level: bool,
    related: list[Span] | None = None,
) -> Hit:
    sev = params.scope_severity.get(scope)
    return ctx.finding(
        at=block.scope_spans.get(scope, block.span),
        node=owner,
        address=f"{getattr(owner, 'address', '')}/permissions/{scope}",
        severity=sev,
        related=related or [],
        message=f"{message} (steps seen: no action or command that needs it)" if job_level else message,
    )
