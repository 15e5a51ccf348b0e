"""`if:` conditions whose outcome is fixed: a job or step gated on an event that never starts
its workflow, or on inputs no caller passes (it never runs), and an `if:` that mixes text
with `${{ }}` (a non-empty string, so always true).

Conditions are evaluated with the three-state evaluator of `urr_audit.model.gha_expr` over
the values the workflow's runs give (`urr_audit.facts.gha_calls.run_domains`): only an outcome
that holds for every combination of those values is reported; anything the evaluator cannot
decide (a step output, a `needs` result, an event payload field) leaves the condition alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from urr_audit.checks.api import Context, Hit, NoParams, check
from urr_audit.facts.gha_calls import RunDomains, run_domains
from urr_audit.model.gha_expr import possible_truthiness, uses_status_function
from urr_audit.model.project import Project
from urr_audit.model.workflows import Condition, Workflow

_STATUSES = ("success", "failure", "cancelled")


def _conditions(wf: Workflow) -> Iterator[tuple[str, Any, Condition]]:
    for job in wf.jobs.values():
        if job.condition is not None:
            yield f"job `{job.id}`", job, job.condition
        for step in job.steps:
            if step.condition is not None:
                yield f"step `{step.label}` of job `{job.id}`", step, step.condition


def _read(cond: Condition, domains: RunDomains) -> list[str]:
    """The bound paths (`github.event_name`, `inputs.x`...) the condition reads."""
    assert cond.expr is not None
    bound = {k.lower(): k for k in domains.values}
    out: list[str] = []
    for r in cond.expr.refs:
        key = ".".join(r.parts[:2]).lower()
        if key in bound and bound[key] not in out:
            out.append(bound[key])
    return out


def _shown(values: list[Any]) -> str:
    def one(v: Any) -> str:
        if v is None:
            return "null (not given)"
        if isinstance(v, bool):
            return str(v).lower()
        return f"`{v}`"

    return ", ".join(one(v) for v in values)


@check("gha-dead-condition", scope="project", subjects=("job", "step"))
def dead_condition(ctx: Context, project: Project, params: NoParams) -> Iterator[Hit]:
    """A job or step whose `if:` is false for every event that starts its workflow (for a
    reusable workflow, its callers' events) and every value its inputs take (what each caller
    passes or the default it falls back to, dispatch choices): it never runs, and neither do
    the jobs that need it without `always()`. Conditions that read anything not enumerable are
    left alone."""
    wp = project.workflows
    for wf in wp.workflows:
        domains: RunDomains | None = None
        for what, node, cond in _conditions(wf):
            if cond.expr is None:
                continue
            if domains is None:
                domains = run_domains(wp, wf)
            read = _read(cond, domains)
            if not read:
                continue
            sub = {k: domains.values[k] for k in read}
            statuses = _STATUSES if uses_status_function(cond.expr.node) else ("success",)
            outcomes: set[bool | None] = set()
            for status in statuses:
                outcomes |= possible_truthiness(cond.expr.node, {}, sub, status=status)  # type: ignore[arg-type]
            if outcomes != {False}:
                continue
            given = "; ".join(f"`{k}` is {_shown(v)}" for k, v in sub.items())
            # a reusable workflow's values come from the callers read here; one in another
            # repository could pass others
            if domains.called:
                given += ", as called from this repository"
            yield ctx.finding(
                at=cond.span,
                node=node,
                address=f"{node.address}/if",
                confidence="medium" if domains.called else None,
                column=cond.expr.column if cond.expr.span.line == cond.span.line else None,
                message=(
                    f"{what} never runs: `if: {cond.expr.text.strip()}` is false whenever `{wf.path}` runs "
                    f"({given}); fix the condition or remove the {'job' if what.startswith('job') else 'step'}"
                ),
            )


@check("gha-always-true-condition", scope="github.workflow", subjects=("job", "step"))
def always_true_condition(ctx: Context, wf: Workflow, params: NoParams) -> Iterator[Hit]:
    """An `if:` that mixes text with `${{ }}` (`if: ${{ inputs.deploy }} && github.ref ==
    'refs/heads/main'`, or two `${{ }}` joined by text): GitHub evaluates the whole value as a
    string, which is never empty, so the condition is always true and the gate never closes."""
    for what, node, cond in _conditions(wf):
        if cond.expr is not None or not cond.scalar.exprs or not isinstance(cond.scalar.value, str):
            continue
        text = cond.scalar.value.strip()
        yield ctx.finding(
            at=cond.span,
            node=node,
            address=f"{node.address}/if",
            message=(
                f"{what} always runs: `if: {text}` mixes text with `${{{{ }}}}`, so GitHub reads it as a non-empty "
                "string, which is true; write the whole condition inside one `${{ }}` (or with none)"
            ),
        )
