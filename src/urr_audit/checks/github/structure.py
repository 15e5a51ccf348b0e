"""Workflow structure GitHub refuses: schema violations, local `uses:` naming nothing, `needs:`
naming a missing job or forming a cycle."""

from __future__ import annotations

from collections.abc import Iterator

from urr_audit.checks.api import Context, Hit, check
from urr_audit.model.workflows import Action, Job, Step, Workflow


@check("gha-schema", scope="github.file", subjects=("workflow", "action"))
def schema(ctx: Context, node: Workflow | Action, params: object) -> Iterator[Hit]:
    """A workflow or action file that breaks GitHub's published schema (unknown keys, wrong
    types, missing required keys), at the offending key."""
    for v in node.schema_errors:
        yield ctx.finding(at=v.span, message=f"{v.location}: {v.message}", node=node)


def _checkout_paths(steps: list[Step], before: int) -> list[str]:
    """Directories earlier `actions/checkout` steps check out into (`with.path`)."""
    out = []
    for s in steps[:before]:
        if s.uses is not None and s.uses.action == "actions/checkout" and "path" in s.with_:
            out.append(s.with_["path"].text.strip().strip("/").removeprefix("./"))
    return out


def _local_step_problem(step: Step, steps: list[Step]) -> str | None:
    u = step.uses
    if u is None:
        return None
    if u.kind == "local-workflow":
        return f"`uses: {u.raw}` in a step: a reusable workflow is called by a job (`jobs.<id>.uses`), not a step"
    if u.kind != "local-action" or u.target is not None:
        return None
    local = u.local_path or ""
    # an action checked out by an earlier step (`actions/checkout` with `path:`) exists only at run time
    if any(p and (local == p or local.startswith(p + "/")) for p in _checkout_paths(steps, step.index)):
        return None
    where = "the repository root" if local in ("", ".") else f"`{local}`"
    return f"`uses: {u.raw}` names no action: there is no action.yml or action.yaml in {where}"


@check("gha-local-uses", scope="github.file", subjects=("local",))
def local_uses(ctx: Context, node: Workflow | Action, params: object) -> Iterator[Hit]:
    """A local `uses: ./...` that names nothing in the repository (or a workflow that is not
    reusable): GitHub fails the job when it reaches it."""
    if isinstance(node, Action):
        for step in node.steps:
            problem = _local_step_problem(step, node.steps)
            if problem and step.uses is not None:
                yield ctx.finding(at=step.uses, message=problem, node=step)
        return
    for job in node.jobs.values():
        for step in job.steps:
            problem = _local_step_problem(step, job.steps)
            if problem and step.uses is not None:
                yield ctx.finding(at=step.uses, message=problem, node=step)
        u = job.uses
        if u is None or not u.is_local:
            continue
        if u.kind == "local-action":
            yield ctx.finding(at=u, message=f"`uses: {u.raw}` on a job must name a workflow file (.yml)", node=job)
        elif u.target is None:
            yield ctx.finding(at=u, message=f"`uses: {u.raw}` names no file in the repository", node=job)


def _cycles(jobs: dict[str, Job]) -> list[list[str]]:
    """Each cycle of `needs:` once, as the job ids in order, starting from the smallest id."""
    graph = {j: [n.job for n in job.needs if n.job in jobs] for j, job in jobs.items()}
    found: set[tuple[str, ...]] = set()
    out: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(j: str) -> None:
        state[j] = 1
        stack.append(j)
        for n in graph[j]:
            if state.get(n) == 1:
                cycle = stack[stack.index(n) :]
                i = cycle.index(min(cycle))
                key = tuple(cycle[i:] + cycle[:i])
                if key not in found:
                    found.add(key)
                    out.append(list(key))
            elif n not in state:
                visit(n)
        stack.pop()
        state[j] = 2

    for j in sorted(graph):
        if j not in state:
            visit(j)
    return out


@check("gha-needs", scope="github.workflow", subjects=("job",))
def needs(ctx: Context, wf: Workflow, params: object) -> Iterator[Hit]:
    """`needs:` naming a job that does not exist, or jobs that need each other in a cycle:
    GitHub refuses the workflow."""
    for job in wf.jobs.values():
        for n in job.needs:
            if n.job not in wf.jobs:
                known = ", ".join(f"`{j}`" for j in wf.jobs if j != job.id)
                yield ctx.finding(
                    at=n.span,
                    message=f"job `{job.id}` needs `{n.job}`, which is not a job here (jobs: {known})",
                    node=job,
                )
    for cycle in _cycles(wf.jobs):
        first = wf.jobs[cycle[0]]
        edge = next(n for n in first.needs if n.job == cycle[1 % len(cycle)])
        path = " -> ".join([*cycle, cycle[0]])
        yield ctx.finding(
            at=edge.span,
            message=f"jobs need each other in a cycle ({path}): none of them can start",
            node=first,
            related=[wf.jobs[j].span for j in cycle[1:]],
        )
