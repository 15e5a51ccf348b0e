"""How secrets reach steps: expanded into scripts instead of passed through `env:`, every secret
at once (`toJSON(secrets)`, `secrets[...]`, `secrets: inherit`), or parts of a structured secret
that the runner does not mask (`fromJSON(secrets.X).y`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, NoParams, check
from urr_audit.checks.github.security._common import line, steps_of
from urr_audit.model.gha_expr import Call, Index, Property, refs, walk
from urr_audit.model.project import Project
from urr_audit.model.workflows import Action, ContextRef, Expr, Scalar, Workflow, WorkflowProject, iter_scalars


class ScriptParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # action -> the `with:` inputs it runs as code (like `run:`)
    script_inputs: dict[str, list[str]] = Field(default_factory=lambda: {"actions/github-script": ["script"]})


def scripts(node: Workflow | Action, script_inputs: dict[str, list[str]]) -> Iterator[tuple[object, object, Scalar]]:
    """(job or None, step, script) for every `run:` and every script input of an action that
    runs its input as code (`actions/github-script` `script:`)."""
    for job, step in steps_of(node):
        if step.run is not None:
            yield job, step, step.run.script
        elif step.uses is not None and step.uses.action in script_inputs:
            for key in script_inputs[step.uses.action]:
                if key in step.with_:
                    yield job, step, step.with_[key]


def _secret_refs(expr: Expr) -> list[ContextRef]:
    """Named secrets (and the token) whose value the expression expands."""
    out = []
    for r in expr.refs:
        if not r.reaches_value:
            continue
        named = r.context == "secrets" and len(r.parts) == 2 and r.parts[1] not in ("*", "?")
        if named or r.parts[:2] == ("github", "token"):
            out.append(r)
    return out


@check("gha-secrets-in-run", scope="github.file", params=ScriptParams, subjects=("run",))
def secrets_in_run(ctx: Context, node: Workflow | Action, params: ScriptParams) -> Iterator[Hit]:
    """`${{ secrets.X }}` (or `github.token`) expanded into a script: the value is written into
    the script file on the runner and into command lines other processes can read, and a value
    with quotes or `$(` changes the script. Passed through `env:`, the shell reads it as data."""
    for _job, step, script in scripts(node, params.script_inputs):
        for expr in script.exprs:
            for r in _secret_refs(expr):
                yield ctx.finding(
                    at=line(script.span.path, r.line),
                    column=r.column,
                    node=step,
                    address=f"{getattr(step, 'address', '')}/{r.dotted}",
                    message=(
                        f"`${{{{ {expr.text} }}}}` expands the secret `{r.dotted}` into the script text: set it "
                        f"in the step's `env:` (e.g. `{_env_name(r)}: ${{{{ {r.dotted} }}}}`) and read `${_env_name(r)}`"
                    ),
                )


def _env_name(r: ContextRef) -> str:
    return "GITHUB_TOKEN" if r.parts[:2] == ("github", "token") else r.parts[-1].upper().replace("-", "_")


def _whole_secrets(expr: Expr) -> ContextRef | None:
    """`toJSON(secrets)`, `secrets[expr]`, `secrets.*`: the expression reads every secret."""
    for r in expr.refs:
        if r.context == "secrets" and (len(r.parts) == 1 or r.parts[1] in ("*", "?")):
            return r
    return None


@check("gha-overprovisioned-secrets", scope="github.file", subjects=("workflow", "action"))
def overprovisioned_secrets(ctx: Context, node: Workflow | Action, params: NoParams) -> Iterator[Hit]:
    """Expressions that read the whole `secrets` context (`toJSON(secrets)`, `secrets[name]`
    with a computed name): the runner receives every secret of the repository and organisation,
    not the ones the step needs."""

    def message(expr: Expr) -> str | None:
        r = _whole_secrets(expr)
        if r is None:
            return None
        how = "a computed name" if r.dynamic else "the whole context"
        return (
            f"`${{{{ {expr.text} }}}}` reads the `secrets` context by {how}: every secret available to "
            "the workflow is sent to the runner for this job (name each secret the step needs)"
        )

    yield from _expression_findings(ctx, node, message)


def _expression_findings(ctx: Context, node: Workflow | Action, message: Callable[[Expr], str | None]) -> Iterator[Hit]:
    """A finding at each expression of the file for which `message` has something to say."""
    for address, scalar in iter_scalars(node):
        for expr in scalar.exprs:
            text = message(expr)
            if text is not None:
                yield ctx.finding(
                    at=expr.span, column=expr.column, node=node, address=f"{address}/{expr.text}", message=text
                )


def _unredacted(expr: Expr) -> str | None:
    """The secret of `fromJSON(secrets.X).y` (a property of a structured secret), else None."""
    for n in walk(expr.node):
        if isinstance(n, (Property, Index)) and isinstance(n.obj, Call) and n.obj.name == "fromjson":
            for r in refs(n.obj):
                if r.context == "secrets":
                    return r.dotted
    return None


@check("gha-unredacted-secrets", scope="github.file", subjects=("workflow", "action"))
def unredacted_secrets(ctx: Context, node: Workflow | Action, params: NoParams) -> Iterator[Hit]:
    """`fromJSON(secrets.X).field`: the runner masks the secret's whole text in logs, not the
    fields taken out of it, so `field` can be printed in clear."""

    def message(expr: Expr) -> str | None:
        secret = _unredacted(expr)
        if secret is None:
            return None
        return (
            f"`${{{{ {expr.text} }}}}` takes a field out of the structured secret `{secret}`: the runner "
            "masks only the secret's whole value, so this field appears unmasked in logs "
            "(store each field as its own secret)"
        )

    yield from _expression_findings(ctx, node, message)


def _callee_secrets(
    project: WorkflowProject, path: str, seen: set[str], memo: dict[str, set[str] | None]
) -> set[str] | None:
    """Names of the secrets a local reusable workflow (and what it calls) reads; None when it
    calls a remote workflow with `secrets: inherit` (then anything) or is not known."""
    if path in memo:
        return memo[path]
    if path in seen:
        return set()
    seen.add(path)
    memo[path] = found = _reads_secrets(project, path, seen, memo)
    return found


def _reads_secrets(
    project: WorkflowProject, path: str, seen: set[str], memo: dict[str, set[str] | None]
) -> set[str] | None:
    wf = project.workflow(path)
    if wf is None:
        return None
    names: set[str] = set()
    for _address, scalar in iter_scalars(wf):
        for expr in scalar.exprs:
            for r in expr.refs:
                if r.context == "secrets":
                    if len(r.parts) == 1 or r.dynamic or r.parts[1] == "*":
                        return None
                    names.add(r.parts[1])
    for job in wf.jobs.values():
        if job.secrets_inherit is not None:
            if job.called is None:
                return None
            inner = _callee_secrets(project, job.called, seen, memo)
            if inner is None:
                return None
            names |= inner
    return names


@check("gha-secrets-inherit", scope="project", subjects=("call",))
def secrets_inherit(ctx: Context, project: Project, params: NoParams) -> Iterator[Hit]:
    """Reusable workflows called with `secrets: inherit`: the callee gets every secret the
    caller can read, not the ones it needs."""
    wp = project.workflows
    memo: dict[str, set[str] | None] = {}
    for wf in wp.workflows:
        for job in wf.jobs.values():
            if job.secrets_inherit is None or job.uses is None:
                continue
            related = [job.uses.span]
            if job.called is not None:
                names = _callee_secrets(wp, job.called, set(), memo)
                if names is None:
                    needed = "it passes them on to workflows it calls"
                elif names:
                    listed = ", ".join(f"`{n}`" for n in sorted(names))
                    needed = f"it reads only {listed}: pass those under `secrets:`"
                else:
                    needed = "it reads no secret: drop `secrets:`"
                where = f"the local workflow `{job.called}`"
            else:
                needed = "pass only the secrets it declares under `secrets:`"
                where = f"`{job.uses.raw}`, another repository's workflow,"
            yield ctx.finding(
                at=job.secrets_inherit,
                node=job,
                related=related,
                message=f"job `{job.id}` calls {where} with `secrets: inherit`, handing it every secret of this repository; {needed}",
            )
