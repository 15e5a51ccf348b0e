"""6. CI/CD: workflows with their triggers and what they do (read from their steps: tests,
image builds, scans, manifest rewrites, pushes, notifications...), the jobs of each workflow,
reusable pipelines' stages in order and who calls them, image builds (platforms, registry,
repositories and tags, with how run-time tags are computed), and the files CI rewrites."""

from __future__ import annotations

import re
from typing import Any

from urr_audit.facts.activities import (
    SUMMARY,
    Activity,
    describe_cron,
    expand,
    input_values,
    job_activities,
    output_source,
    scalar_values,
    summary,
)
from urr_audit.model.gha_expr import possible_truthiness, to_string
from urr_audit.model.gha_images import ImageBuild, ImageName, Template
from urr_audit.model.workflows import Job, Scalar, Trigger, Workflow, WorkflowProject
from urr_audit.report.review.doc import Mermaid, ReviewContext, Section, code, plain, prose, shorten, table

TITLE = "CI/CD"

Domains = dict[str, list[Any] | None]


def build(ctx: ReviewContext) -> Section | None:
    project: WorkflowProject = ctx.project.workflows
    workflows = list(project.workflows)
    docker = getattr(ctx.project, "docker", None)
    dockerfiles = list(getattr(docker, "files", []) or [])
    if not workflows and not dockerfiles:
        return None
    domains = {wf.path: input_values(project, wf) for wf in workflows}
    s = Section(TITLE)
    if not workflows:
        s.sub("Dockerfiles", *_dockerfiles(ctx, dockerfiles, [], domains))
        return s
    s.sub(
        "Workflows",
        (
            "What starts each workflow and what it does, read from its steps (the tools they run "
            "and the actions they use), never from its name; a workflow calling a reusable one "
            "also does what that one does."
        ),
        _workflows(ctx, project, workflows, domains),
    )
    jobs = _jobs(ctx, [wf for wf in workflows if not wf.is_reusable], domains)
    if jobs:
        s.sub("Jobs", *jobs)
    # the most called pipeline first: the one the others hang off
    for wf in sorted(workflows, key=lambda w: (-len(w.callers), w.label)):
        if wf.is_reusable and wf.jobs:
            s.sub(f"Pipeline {wf.label}", *_pipeline(ctx, project, wf, domains[wf.path]))
    builds = _builds(ctx, workflows, domains)
    if builds:
        s.sub("Image builds", *builds)
    if dockerfiles:
        s.sub("Dockerfiles", *_dockerfiles(ctx, dockerfiles, workflows, domains))
    edits = _edits(ctx, workflows, domains)
    if edits:
        s.sub("Files CI rewrites", *edits)
    return s


# --- values --------------------------------------------------------------------------------


def _values(values: list[Any] | None, limit: int = 4) -> str:
    shown = [to_string(v) for v in values or [] if v is not None]
    text = ", ".join(code(v) for v in shown[:limit])
    return text + (f" and {len(shown) - limit} more" if len(shown) > limit else "")


def _scalar(s: Scalar | None, domains: Domains) -> str:
    """A value as written and, for an expression over enumerable inputs, what it can be."""
    if s is None:
        return "-"
    values = scalar_values(s, domains)
    if s.is_literal:
        return code(s.text)
    if values:
        return _values(values)
    return code(shorten(s.text, 60))


def _template(t: Template | None, domains: Domains, limit: int = 4) -> str:
    if t is None:
        return "-"
    if t.is_known:
        return code(t.value)
    values = expand(t, domains)
    if values:
        return f"{code(str(t))}: " + _values(values, limit)
    return code(str(t))


def _detail(text: str, domains: Domains) -> str:
    """Repository text with each `${{ inputs.X }}` that takes one value in every run replaced
    by it (`Java ${{ inputs.java-version }}` -> `Java 21`, the default no caller overrides)."""

    def one(m: re.Match[str]) -> str:
        values = [v for v in domains.get(m.group(1)) or [] if v is not None]
        return str(values[0]) if len(values) == 1 and len(domains.get(m.group(1)) or []) == 1 else m.group(0)

    return re.sub(r"\$\{\{\s*inputs\.([A-Za-z_][\w-]*)\s*\}\}", one, text)


# --- workflows -----------------------------------------------------------------------------


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
    for c in t.crons:
        when = describe_cron(c.text)
        parts.append(f"cron {c.text}" + (f": {when}" if when else ""))
    if t.inputs:
        parts.append(
            "inputs "
            + ", ".join(
                name + (f" ({' / '.join(spec.options)})" if spec.type == "choice" and spec.options else "")
                for name, spec in t.inputs.items()
            )
        )
    return code(t.event) + (f" ({plain('; '.join(parts))})" if parts else "")


def _kinds(project: WorkflowProject, wf: Workflow, events: list[str], seen: frozenset[str]) -> list[str]:
    """Kinds of work a called workflow does, itself and through the local workflows it calls,
    when its caller was started by one of `events`: a job whose condition those events make
    false (`if: github.event_name == 'schedule'`) does not count."""
    kinds: list[str] = []
    for job in wf.jobs.values():
        cond = job.condition.expr if job.condition is not None else None
        if cond is not None and possible_truthiness(cond.node, {}, {"github.event_name": events}) == {False}:
            continue
        kinds.extend(a.kind for a in job_activities(job))
        callee = project.workflow(job.called) if job.called and job.called not in seen else None
        if callee is not None:
            kinds.extend(_kinds(project, callee, events, seen | {wf.path}))
    return kinds


def _purpose(project: WorkflowProject, wf: Workflow) -> str:
    """What the workflow does, by kind of work; a call to a local reusable workflow names it and
    what it does (through its own calls too)."""
    acts = [a for j in wf.jobs.values() for a in job_activities(j)]
    parts = [p for p in summary(acts) if p != "deployment environment"]
    for job in wf.jobs.values():
        callee = project.workflow(job.called) if job.called else None
        if callee is not None and callee.path != wf.path:
            kinds = set(_kinds(project, callee, project.triggering_events(wf.path), frozenset({wf.path})))
            inner = [SUMMARY[k] for k in SUMMARY if k in kinds and k != "gate"]
            parts.append(f"calls {plain(callee.label)}" + (f", which: {', '.join(inner)}" if inner else ""))
        elif job.uses is not None and not job.uses.is_local:
            parts.append(f"calls {code(job.uses.raw)} (not read)")
    return "; ".join(parts)


def _environments(wf: Workflow, domains: Domains) -> str:
    out: list[str] = []
    for job in wf.jobs.values():
        if job.environment is None or job.environment.name is None:
            continue
        values = scalar_values(job.environment.name, domains)
        for v in values or [job.environment.name.text]:
            if v and v not in out:
                out.append(v)
    return ", ".join(code(shorten(v, 60)) for v in out) or "-"


def _workflows(
    ctx: ReviewContext, project: WorkflowProject, workflows: list[Workflow], domains: dict[str, Domains]
) -> str:
    rows = []
    for wf in workflows:
        rows.append(
            [
                plain(wf.label),
                ctx.link.span(wf.span, wf.path.rsplit("/", 1)[-1]),
                "<br>".join(_trigger(t) for t in wf.triggers) or "-",
                _purpose(project, wf) or "nothing recognised (see its jobs)",
                str(len(wf.jobs)),
                _environments(wf, domains[wf.path]),
                ", ".join(ctx.link.span(c.span, c.workflow.rsplit("/", 1)[-1]) for c in wf.callers)
                if wf.is_reusable
                else "-",
            ]
        )
    return table(["workflow", "file", "triggers", "what it does", "jobs", "deployment environments", "called by"], rows)


# --- jobs ----------------------------------------------------------------------------------


def _does(ctx: ReviewContext, job: Job, domains: Domains) -> str:
    """Each thing the job does, linked to its line; a job doing nothing recognised lists its
    steps."""
    items = []
    for a in job_activities(job):
        if a.kind == "gate":
            items.append(ctx.link.span(a.span, "deployment environment " + _scalar(job.environment.name, domains)))  # type: ignore[union-attr]
            continue
        items.append(_activity(ctx, a, domains))
    matrix = job.matrix
    if matrix is not None:
        if matrix.combinations is not None:
            axes = {k: [c.get(k) for c in matrix.combinations] for k in matrix.axes}
            shown = "; ".join(f"{k} = {_values(list(dict.fromkeys(v)), 6)}" for k, v in axes.items())
            items.append(
                ctx.link.span(matrix.span, f"matrix of {len(matrix.combinations)}") + (f" ({shown})" if shown else "")
            )
        else:
            items.append(ctx.link.span(matrix.span, "matrix known at run time") + f" ({prose(matrix.unknown_reason)})")
    if not any(a for a in job_activities(job) if a.kind not in ("setup", "artifact")) and job.steps:
        items.append(
            "steps: " + ", ".join(ctx.link.span(st.span, plain(shorten(st.label, 50))) for st in job.steps[:6])
        )
    return "<br>".join(items) or "-"


def _activity(ctx: ReviewContext, a: Activity, domains: Domains) -> str:
    detail = _detail(a.detail, domains)
    return ctx.link.span(a.span, plain(a.what)) + (f" {code(shorten(detail, 70))}" if detail else "")


def _condition(job: Job) -> str:
    return code(shorten(job.condition.scalar.text, 70)) if job.condition is not None else "always"


def _jobs(ctx: ReviewContext, workflows: list[Workflow], domains: dict[str, Domains]) -> list[str]:
    rows = []
    for wf in workflows:
        for i, job in enumerate(wf.jobs.values()):
            rows.append(
                [
                    plain(wf.label) if i == 0 else "",
                    ctx.link.span(job.span, code(job.id)),
                    ", ".join(code(n.job) for n in job.needs) or "-",
                    _condition(job),
                    _does(ctx, job, domains[wf.path]),
                ]
            )
    if not rows:
        return []
    return [
        "The jobs of the workflows above (reusable pipelines follow), with what each does and the line doing it.",
        table(["workflow", "job", "needs", "runs if", "does"], rows),
    ]


def _pipeline(ctx: ReviewContext, project: WorkflowProject, wf: Workflow, domains: Domains) -> list[str]:
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
            rows.append(
                [
                    str(n),
                    code(job_id),
                    ", ".join(code(x.job) for x in job.needs) or "-",
                    _condition(job),
                    _does(ctx, job, domains),
                    ctx.link.span(job.span),
                ]
            )
    caller_rows = []
    for caller, job in callers:
        passed = ", ".join(f"{k} = {code(shorten(v.text, 40))}" for k, v in job.with_.items()) or "-"
        caller_rows.append([ctx.link.span(job.span, caller.path.rsplit("/", 1)[-1]), passed])
    known = {k: v for k, v in domains.items() if v}
    out = [
        (
            "Jobs in the order `needs:` runs them (one stage per depth), with the condition and what "
            "each does; then the workflows that call it and what they pass."
        ),
        chart.render(),
        table(["stage", "job", "needs", "runs if", "does", "evidence"], rows),
    ]
    if caller_rows:
        out.append(table(["caller", "passes"], caller_rows))
    if known:
        out.append(
            "Its inputs take these values across its callers (defaults where a caller passes "
            "none): " + "; ".join(f"{code(k)}: {_values(v, 8)}" for k, v in known.items()) + "."
        )
    return out


# --- image builds --------------------------------------------------------------------------

_STEP_OUTPUT = re.compile(r"steps\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)")


def _job_of(wf: Workflow, b: ImageBuild) -> Job | None:
    m = re.search(r"/jobs/([^/]+)/steps/", b.step)
    return wf.jobs.get(m.group(1)) if m else None


def _registry(wf: Workflow, b: ImageBuild, names: list[ImageName]) -> str:
    registries = {str(n.registry) for n in names if n.registry is not None}
    if not registries:
        return "Docker Hub (no registry in the name)" if names else "-"
    job = _job_of(wf, b)
    out = []
    for r in sorted(registries):
        m = _STEP_OUTPUT.search(r)
        step = job.step(m.group(1)) if job is not None and m else None
        logins = [login for login in step.logins] if step is not None else []
        if logins and logins[0].tool == "aws-actions/amazon-ecr-login":
            out.append(f"Amazon ECR, the registry step {code(m.group(1))} logs in to (known at run time)")  # type: ignore[union-attr]
        else:
            out.append(code(r))
    return "<br>".join(out)


def _build_files(b: ImageBuild, domains: Domains) -> list[str] | None:
    """The Dockerfiles a build can read, repository-relative (`file:`, else `Dockerfile` in the
    context), for every value of the inputs its path holds; None when not enumerable."""
    if b.file is not None:
        return expand(b.file, domains)
    if b.context is not None:
        contexts = expand(b.context, domains)
        return [
            f"{c.strip('/')}/Dockerfile" if c.strip("/") not in ("", ".") else "Dockerfile" for c in contexts or []
        ] or None
    return None


def _dockerfile(ctx: ReviewContext, b: ImageBuild, domains: Domains) -> str:
    """The Dockerfile a build reads, and whether the repository has it (the paths are the
    workspace's, the checked-out repository's)."""
    if b.file is not None:
        shown = _template(b.file, domains, 2)
    elif b.context is not None:
        shown = f"{_template(b.context, domains, 2)} (its `Dockerfile`)"
    else:
        return "-"
    files = _build_files(b, domains)
    if not files:
        return shown
    # the Dockerfile model knows the ones it read; a file it could not parse still exists
    docker = getattr(ctx.project, "docker", None)
    here = [
        f
        for f in files
        if (docker is not None and docker.file(f) is not None)
        or (not ctx.workspace.escapes(f) and ctx.workspace.is_file(f))
    ]
    if len(files) == 1 and here:
        return ctx.link.file(here[0], code(here[0]))
    if not here:
        return shown + ": not in the repository"
    return shown + f": {len(here)} of {len(files)} in the repository"


def _builds(ctx: ReviewContext, workflows: list[Workflow], domains: dict[str, Domains]) -> list[str]:
    rows = []
    computed: dict[tuple[str, str, str], tuple[Workflow, list[tuple[str, Any]]]] = {}
    for wf in workflows:
        d = domains[wf.path]
        for step in wf.steps():
            for b in step.builds:
                platforms = (
                    ", ".join(b.platforms)
                    if b.platforms
                    else (f"unknown ({b.platforms_unknown})" if b.platforms_unknown else "the runner's (not written)")
                )
                pushes = {True: "yes", False: "no", None: "unknown"}[b.pushes]
                repos: list[str] = []
                for t in b.tags:
                    shown = _template(t.repository, d, 3)
                    if shown not in repos:
                        repos.append(shown)
                tags = "<br>".join(
                    _template(t.tag, d, 3) if t.tag is not None else "`latest` (none written)" for t in b.tags
                )
                for t in b.tags:
                    for hole in t.tag.holes if t.tag is not None else []:
                        m = _STEP_OUTPUT.search(hole.source)
                        job = _job_of(wf, b)
                        if m and job is not None:
                            key = (wf.path, job.id, m.group(0))
                            if key not in computed:
                                computed[key] = (wf, output_source(job, m.group(1), m.group(2)))
                dockerfile = _dockerfile(ctx, b, d)
                rows.append(
                    [
                        ctx.link.span(b.span, f"{wf.path.rsplit('/', 1)[-1]}: {plain(step.label)}"),
                        code(b.tool),
                        plain(platforms),
                        pushes,
                        _registry(wf, b, b.tags),
                        "<br>".join(repos) or "-",
                        tags or "-",
                        dockerfile,
                    ]
                )
    if not rows:
        return []
    out = [
        table(
            ["step", "tool", "platforms", "pushes", "registry", "repository", "tags", "Dockerfile / context"],
            rows,
        )
    ]
    notes = []
    for (_, job_id, ref), (wf, lines) in sorted(computed.items()):
        where = f"{code('${{ ' + ref + ' }}')} in {wf.path.rsplit('/', 1)[-1]} (job {code(job_id)})"
        if lines:
            notes.append(f"- {where}: " + ", then ".join(ctx.link.span(span, code(text)) for text, span in lines))
        else:
            notes.append(f"- {where}: set at run time by a step whose script does not show it")
    if notes:
        out.append("How the tags known only at run time are computed:\n\n" + "\n".join(notes))
    return out


# --- Dockerfiles ----------------------------------------------------------------------------


def _base(use: Any) -> str:
    if use.kind == "stage":
        return f"stage {code(use.written)}"
    if use.kind == "unknown":
        return f"{code(use.written)} (unknown: {prose(use.reason)})"
    if use.kind == "invalid":
        return f"{code(use.written)} (not a valid reference)"
    shown = use.resolved or use.written
    return code(shown) + (f" (ARG {', '.join(code(a) for a in use.args)})" if use.args else "")


def _dockerfiles(
    ctx: ReviewContext, files: list[Any], workflows: list[Workflow], domains: dict[str, Domains]
) -> list[str]:
    """Each Dockerfile: its stages in order (the image each starts from and the commands it
    runs), the user the final stage runs as, the ports it exposes, and the workflow steps
    that build it."""
    built_by: dict[str, list[str]] = {}
    for wf in workflows:
        for step in wf.steps():
            for b in step.builds:
                for path in _build_files(b, domains[wf.path]) or []:
                    link = ctx.link.span(b.span, f"{wf.path.rsplit('/', 1)[-1]}: {plain(step.label)}")
                    if link not in built_by.setdefault(path, []):
                        built_by[path].append(link)
    rows = []
    for f in sorted(files, key=lambda f: f.path):
        stages = []
        for st in f.stages:
            runs = [i for i in st.instructions if i.kind == "RUN"]
            what = ", ".join(code(shorten(" ".join(i.text.split()), 60)) for i in runs[:3])
            what += f" and {len(runs) - 3} more" if len(runs) > 3 else ""
            platform = f" (platform {code(st.platform.value)})" if st.platform.is_known else ""
            stages.append(
                f"{st.index + 1}. "
                + (f"{code(st.name)} " if st.name else "")
                + ctx.link.span(st.from_.span, "from")
                + f" {_base(st.base)}{platform}"
                + (f"; runs {what}" if what else "")
            )
        final = f.final_stage
        user = f.effective_user(final) if final is not None else None
        if final is None:
            who = "-"
        elif user is None:
            who = "not set: the base image's user (root unless that image sets another)"
        else:
            who = ctx.link.span(user.span, code(f"USER {user.text}"))
        ports = []
        if final is not None:
            for st in f.lineage(final):
                for i in st.instructions:
                    if i.kind == "EXPOSE":
                        ports.extend(i.ports)  # type: ignore[union-attr]
        rows.append(
            [
                ctx.link.span(f.span, f.path),
                "<br>".join(stages) or "no stage",
                who,
                ", ".join(code(p) for p in ports) or "-",
                "<br>".join(built_by.get(f.path, [])) or "-",
            ]
        )
    return [
        (
            "Each Dockerfile's stages in the order Docker reads them (the image each starts from "
            "and the commands it runs), the user the final stage runs as (its last USER, or the "
            "last of the stages it builds on), the ports it exposes, and the workflow steps that build it."
        ),
        table(["Dockerfile", "stages", "final user", "exposes", "built by"], rows),
    ]


# --- files CI rewrites ---------------------------------------------------------------------


def _edits(ctx: ReviewContext, workflows: list[Workflow], domains: dict[str, Domains]) -> list[str]:
    rows = []
    for wf in workflows:
        for job in wf.jobs.values():
            pushed = [a for a in job_activities(job) if a.kind == "push"]
            for step in job.steps:
                for e in step.edits:
                    rows.append(
                        [
                            ctx.link.span(e.span, f"{wf.path.rsplit('/', 1)[-1]}: {plain(step.label)}"),
                            code(e.tool),
                            _template(e.path, domains[wf.path]),
                            ", ".join(code(i) for i in e.images) or "-",
                            ctx.link.span(pushed[0].span, "pushed") if pushed else "not pushed by this job",
                        ]
                    )
    if not rows:
        return []
    return [
        (
            "Files a workflow step rewrites in the repository (image tags in Kustomize overlays, "
            "the GitOps hand-off; the Argo CD section says which Application deploys them). A hole "
            "such as `${{ inputs.environment }}` is filled at run time: its possible values are listed "
            "where the callers and dispatch choices give them."
        ),
        table(["step", "tool", "file", "images", "then"], rows),
    ]
