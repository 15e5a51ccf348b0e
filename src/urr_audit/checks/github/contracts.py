"""Calls of local reusable workflows that GitHub refuses at run start: the calling job's token
grants less than a called job asks for, a required secret or input is not passed, a secret or
input is passed that the callee does not declare, an input literal has the wrong type.

Only local callees (`uses: ./.github/workflows/x.yml`) are judged: a remote reusable workflow
is never fetched, so its contract is not known.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, NoParams, check
from urr_audit.facts.gha_calls import RANK, Call, Default, job_grants, local_calls, requested, shortfall
from urr_audit.model.project import Project
from urr_audit.model.workflows import Scalar, WorkflowInput


class CallPermissionParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # the repository's default token where no `permissions:` applies (as URR-GHA-012):
    # `permissive` (read/write, no id-token) or `restricted` (read contents and packages)
    default: Default = "permissive"


@check("gha-call-permissions", scope="project", params=CallPermissionParams, subjects=("call",))
def call_permissions(ctx: Context, project: Project, params: CallPermissionParams) -> Iterator[Hit]:
    """A job calling a local reusable workflow whose token grants less, in some scope, than a
    job of the called workflow asks for in its `permissions:` (or the called workflow's):
    GitHub refuses to start the run ("The nested job is requesting 'id-token: write', but is
    only allowed 'id-token: none'"). The caller's token is its job's `permissions:`, else its
    workflow's, else (for a workflow itself called) what its callers grant, else the
    repository default (a param)."""
    wp = project.workflows
    for call in local_calls(wp):
        asks = [(cj, r) for cj in call.callee.jobs.values() if (r := requested(call.callee, cj)) is not None]
        if not asks or call.job.uses is None:
            continue
        for grant in job_grants(wp, call.caller, call.job, params.default):
            missing: dict[str, list[Any]] = {}  # scope -> [level asked, level granted, job ids]
            related: list[Any] = []
            for cj, (levels, block) in asks:
                for scope, want, have in shortfall(grant.levels, levels):
                    entry = missing.setdefault(scope, [want, have, []])
                    if RANK[want] > RANK[entry[0]]:
                        entry[0] = want
                    entry[2].append(cj.id)
                    span = block.scope_spans.get(scope, block.span)
                    if span not in related:
                        related.append(span)
            if not missing:
                continue
            parts = [
                f"`{s}: {want}` (job{'s' if len(jobs) > 1 else ''} {', '.join(f'`{j}`' for j in jobs)}) but gets `{s}: {have}`"
                for s, (want, have, jobs) in sorted(missing.items())
            ]
            # an inherited token is decided where the outermost caller grants it: fix it there
            origin = grant.origin
            at_wf, at_job = origin if origin is not None else (call.caller, call.job)
            via = ""
            if grant.chain:
                path = " -> ".join(f"`{w.path}` job `{j.id}`" for w, j in grant.chain)
                via = f" (inherited through {path})"
                related.insert(0, call.job.uses.span)
            if grant.span is not None:
                related.insert(0, grant.span)
            yield ctx.finding(
                at=at_job.uses or at_job,
                node=at_job,
                address=f"{at_job.address}/calls/{call.caller.path}/{call.job.id}",
                related=related,
                message=(
                    f"job `{call.job.id}` of `{call.caller.path}` calls `{call.callee.path}`, which asks for "
                    f"{'; '.join(parts)} from {grant.how}{via}: GitHub refuses to start the run; grant "
                    f"{', '.join(f'`{s}: {m[0]}`' for s, m in sorted(missing.items()))} to job `{at_job.id}`"
                    + (f" of `{at_wf.path}`" if origin is not None else "")
                ),
            )


def _undeclared_and_missing(
    ctx: Context,
    call: Call,
    what: str,
    passed: dict[str, Scalar],
    declared: dict[str, Any],
    required: Callable[[Any], bool],
    why: str,
) -> Iterator[Hit]:
    """The `with:` inputs or `secrets:` a call passes that the callee does not declare under
    `on.workflow_call.<what>s`, and those it declares required that the call does not pass."""
    job, key = call.job, {"input": "with", "secret": "secrets"}[what]
    assert job.uses is not None
    names = {n.casefold() for n in declared}
    for name, scalar in passed.items():
        if name.casefold() not in names:
            known = ", ".join(f"`{n}`" for n in declared) or "none"
            yield ctx.finding(
                at=scalar,
                node=job,
                address=f"{job.address}/{key}/{name}",
                message=(
                    f"job `{job.id}` passes {what} `{name}` to `{call.callee.path}`, which does not declare it "
                    f"under `on.workflow_call.{what}s` (declared: {known}): GitHub refuses the workflow"
                ),
            )
    given = {n.casefold() for n in passed}
    for name, spec in declared.items():
        if required(spec) and name.casefold() not in given:
            yield ctx.finding(
                at=job.uses,
                node=job,
                address=f"{job.address}/{key}/{name}",
                related=[spec.span],
                message=(
                    f"job `{job.id}` calls `{call.callee.path}` without {what} `{name}`, which it declares {why}: "
                    f"GitHub refuses the workflow; pass it under `{key}:`"
                ),
            )


@check("gha-call-secrets", scope="project", subjects=("call",))
def call_secrets(ctx: Context, project: Project, params: NoParams) -> Iterator[Hit]:
    """A call of a local reusable workflow that does not pass a secret the callee declares
    `required: true`, or passes a secret the callee does not declare under
    `on.workflow_call.secrets`: GitHub refuses the workflow. `secrets: inherit` passes every
    secret, and passes none that could be undeclared."""
    for call in local_calls(project.workflows):
        trig = call.callee.trigger("workflow_call")
        if trig is None or call.job.uses is None or call.job.secrets_inherit is not None:
            continue
        yield from _undeclared_and_missing(
            ctx, call, "secret", call.job.secrets, trig.secrets, lambda s: s.required, "`required: true`"
        )


@check("gha-call-inputs", scope="project", subjects=("call",))
def call_inputs(ctx: Context, project: Project, params: NoParams) -> Iterator[Hit]:
    """A call of a local reusable workflow that does not give a required input (one with
    `required: true` and no default), gives an input the callee does not declare under
    `on.workflow_call.inputs`, or gives a literal of the wrong type to a `boolean` or `number`
    input: GitHub refuses the workflow. Values written as expressions are not typed here."""
    for call in local_calls(project.workflows):
        job, trig = call.job, call.callee.trigger("workflow_call")
        if trig is None or job.uses is None:
            continue
        yield from _undeclared_and_missing(
            ctx,
            call,
            "input",
            job.with_,
            trig.inputs,
            lambda s: s.required and s.default is None,
            "`required: true` with no default",
        )
        declared = {n.casefold(): spec for n, spec in trig.inputs.items()}
        for name, scalar in job.with_.items():
            spec = declared.get(name.casefold())
            wrong = _wrong_type(spec, scalar.value) if spec is not None and scalar.is_literal else None
            if spec is not None and wrong is not None:
                yield ctx.finding(
                    at=scalar,
                    node=job,
                    address=f"{job.address}/with/{name}",
                    related=[spec.span],
                    message=(
                        f"job `{job.id}` gives {wrong} to input `{name}` of `{call.callee.path}`, declared "
                        f"`type: {spec.type}`: GitHub refuses the workflow"
                    ),
                )


def _wrong_type(spec: WorkflowInput, value: Any) -> str | None:
    """How a literal does not fit a `boolean` or `number` input, else None. Strings that read
    as the type (`"true"`, `"3"`) are given the benefit of the doubt."""
    if value is None:
        return None
    if spec.type == "boolean":
        if isinstance(value, bool):
            return None
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return None
        return f"`{value}` (not a boolean)"
    if spec.type == "number":
        if isinstance(value, bool):
            return f"`{str(value).lower()}` (a boolean, not a number)"
        if isinstance(value, (int, float)):
            return None
        try:
            ok = not math.isnan(float(str(value).strip()))
        except ValueError:
            ok = False
        return None if ok else f"`{value}` (not a number)"
    return None
