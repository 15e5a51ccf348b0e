"""6. CI/CD: workflows with their triggers, reusable pipelines' stages in order and who calls
them, image builds (platforms, tags, push), the files CI rewrites (GitOps manifests)."""

from __future__ import annotations

from urr_audit.model.workflows import Trigger, Workflow
from urr_audit.report.review.doc import Mermaid, ReviewContext, Section, code, plain, shorten, table

TITLE = "CI/CD"


def build(ctx: ReviewContext) -> Section | None:
    project = getattr(ctx.project, "workflows", None)
    workflows: list[Workflow] = list(getattr(project, "workflows", []) or [])
    if not workflows:
        return None
    s = Section(TITLE)
    s.sub("Workflows", _workflows(ctx, workflows))
    for wf in workflows:
        if wf.is_reusable and wf.jobs:
            s.sub(f"Pipeline {wf.label}", *_pipeline(ctx, project, wf))
    builds = _builds(ctx, workflows)
    if builds:
        s.sub("Image builds", builds)
    edits = _edits(ctx, project)
    if edits:
        s.sub("Files CI rewrites", *edits)
    return s


def _trigger(t: Trigger) -> str:
    parts = []
    for label, values in (
        ("branches", t.branches),
        ("not branches", t.branches_ignore),
        ("tags", t.tags),
        ("paths", t.paths),
        ("not paths", t.paths_ignore),
        ("types", t.types),
        ("workflows", t.workflows),
    ):
        if values:
            shown = ", ".join(values[:3]) + (f" and {len(values) - 3} more" if len(values) > 3 else "")
            parts.append(f"{label} {shown}")
    if t.crons:
        parts.append("cron " + ", ".join(c.text for c in t.crons))
    if t.inputs:
        parts.append("inputs " + ", ".join(t.inputs))
    return code(t.event) + (f" ({plain('; '.join(parts))})" if parts else "")


def _workflows(ctx: ReviewContext, workflows: list[Workflow]) -> str:
    rows = []
    for wf in workflows:
        calls = sorted({(j.called or (j.uses.raw if j.uses else "")) for j in wf.jobs.values() if j.is_call} - {""})
        environments = sorted(
            {j.environment.name.text for j in wf.jobs.values() if j.environment and j.environment.name}
        )
        rows.append(
            [
                plain(wf.label),
                ctx.link.span(wf.span, wf.path.rsplit("/", 1)[-1]),
                "<br>".join(_trigger(t) for t in wf.triggers) or "-",
                str(len(wf.jobs)),
                ", ".join(code(c.rsplit("/", 1)[-1]) for c in calls) or "-",
                ", ".join(code(e) for e in environments) or "-",
                str(len(wf.callers)) if wf.is_reusable else "-",
            ]
        )
    return table(["workflow", "file", "triggers", "jobs", "calls", "deployment environments", "callers"], rows)


def _pipeline(ctx: ReviewContext, project, wf: Workflow) -> list[str]:  # type: ignore[no-untyped-def]
    chart = Mermaid("TB")
    stages = wf.stages()
    callers = project.callers_of(wf.path)
    if callers:
        names = ", ".join(c.label for c, _ in callers[:3]) + ("…" if len(callers) > 3 else "")
        chart.node("callers", f"{len(callers)} caller(s): {names}", "round")
    rows = []
    for n, stage in enumerate(stages, 1):
        for job_id in stage:
            job = wf.jobs[job_id]
            label = job.name.text if job.name is not None and job.name.text else job_id
            chart.node(job_id, f"{n}. {label}" + (f" → {job.called.rsplit('/', 1)[-1]}" if job.called else ""))
            for need in job.needs:
                if need.job in wf.jobs:
                    chart.edge(need.job, job_id)
            if not job.needs and callers:
                chart.edge("callers", job_id, "workflow_call")
            what = []
            if job.is_call:
                what.append(f"calls {code((job.called or job.uses.raw).rsplit('/', 1)[-1])}")  # type: ignore[union-attr]
            builds = [b for st in job.steps for b in st.builds]
            if builds:
                what.append(f"{len(builds)} image build/push step(s)")
            edits = [e for st in job.steps for e in st.edits]
            if edits:
                what.append(f"rewrites {len(edits)} file(s)")
            if not what:
                what.append(f"{len(job.steps)} step(s)")
            rows.append(
                [
                    str(n),
                    code(job_id),
                    ", ".join(code(x.job) for x in job.needs) or "-",
                    code(shorten(job.condition.scalar.text, 70)) if job.condition is not None else "always",
                    code(job.environment.name.text) if job.environment and job.environment.name else "-",
                    "; ".join(what),
                    ctx.link.span(job.span),
                ]
            )
    caller_rows = []
    for caller, job in callers:
        passed = ", ".join(f"{k} = {code(shorten(v.text, 40))}" for k, v in job.with_.items()) or "-"
        caller_rows.append([ctx.link.span(job.span, caller.path.rsplit("/", 1)[-1]), passed])
    out = [
        (
            "Jobs in the order `needs:` runs them (one stage per depth), with the condition, "
            "deployment environment and what each does; then the workflows that call it and what "
            "they pass."
        ),
        chart.render(),
        table(["stage", "job", "needs", "runs if", "environment", "does", "evidence"], rows),
    ]
    if caller_rows:
        out.append(table(["caller", "passes"], caller_rows))
    return out


def _builds(ctx: ReviewContext, workflows: list[Workflow]) -> str:
    rows = []
    for wf in workflows:
        for step in wf.steps():
            for b in step.builds:
                platforms = (
                    ", ".join(b.platforms)
                    if b.platforms
                    else (f"unknown ({b.platforms_unknown})" if b.platforms_unknown else "runner's own")
                )
                pushes = {True: "yes", False: "no", None: "unknown"}[b.pushes]
                tags = (
                    "<br>".join(code(str(t.repository) + (f":{t.tag}" if t.tag is not None else "")) for t in b.tags)
                    or "-"
                )
                registries = sorted({str(t.registry) for t in b.tags if t.registry is not None})
                rows.append(
                    [
                        ctx.link.span(b.span, f"{wf.path.rsplit('/', 1)[-1]}: {step.label}"),
                        code(b.tool),
                        plain(platforms),
                        pushes,
                        ", ".join(code(r) for r in registries) or "Docker Hub / none",
                        tags,
                        code(str(b.file)) if b.file is not None else (code(str(b.context)) if b.context else "-"),
                    ]
                )
    return table(["step", "tool", "platforms", "pushes", "registry", "repository:tag", "Dockerfile / context"], rows)


def _edits(ctx: ReviewContext, project) -> list[str]:  # type: ignore[no-untyped-def]
    rows = []
    for step in project.steps():
        for e in step.edits:
            rows.append(
                [
                    ctx.link.span(e.span, f"{step.file.rsplit('/', 1)[-1]}: {step.label}"),
                    code(e.tool),
                    code(str(e.path)),
                    ", ".join(code(i) for i in e.images) or "-",
                ]
            )
    if not rows:
        return []
    return [
        (
            "Files a workflow step rewrites in the repository (image tags in Kustomize overlays, "
            "the GitOps hand-off): a hole such as `${{ inputs.environment }}` is filled at run time."
        ),
        table(["step", "tool", "file", "images"], rows),
    ]
