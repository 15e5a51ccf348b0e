"""7. Argo CD: the Applications (what each deploys from this repository and how that link was
established, the revision it tracks, where it deploys, how it syncs, its project), the
ApplicationSets with the Applications they generate (or why those are unknown), the
AppProjects and declared clusters, and the GitOps hand-off: the manifests CI rewrites and the
Applications that deploy them."""

from __future__ import annotations

import posixpath
from fnmatch import fnmatchcase

from urr_audit.facts.activities import expand, input_values, job_activities
from urr_audit.model.argocd import (
    Application,
    ApplicationSet,
    AppProject,
    ArgoCDProject,
    Generator,
    Source,
    Target,
)
from urr_audit.report.review.doc import Mermaid, ReviewContext, Section, bullets, code, plain, prose, shorten, table

TITLE = "Argo CD"

# how a source's repoURL was tied to this repository (model.argocd.RepoMatch), for a reader
LINKED = {
    "remote": "repoURL is this repository's git remote",
    "path": "no git remote known: tied by its path, which exists here",
    "same-url": "no git remote known: same repoURL as an Application whose path exists here",
    "placeholder": "repoURL is a placeholder: tied by its path, which exists here",
    "other": "another repository: not read",
    "unknown": "nothing ties its repoURL to this repository: not read",
}
_REVISION = {
    "head": "HEAD",
    "branch": "branch",
    "tag": "tag",
    "commit": "commit",
    "version": "chart version",
    "version-range": "chart version range",
}


def build(ctx: ReviewContext) -> Section | None:
    argo: ArgoCDProject = ctx.project.argocd
    if not (argo.applications or argo.application_sets or argo.projects):
        return None
    apps = [a for a in argo.applications if _chosen(ctx, a)]
    s = Section(TITLE)
    own = [a for a in apps if a.generated_by is None]
    if own:
        s.sub(
            "Applications",
            (
                "Applications written in the repository (plain files, or rendered from an overlay "
                "that an app-of-apps deploys): what each source deploys from this repository and "
                "how urr-audit tied it to this repository, the revision it tracks, the cluster and "
                "namespace it deploys to, how it syncs and its AppProject."
            ),
            _app_table(ctx, argo, own),
        )
    tree = _tree(argo)
    if tree:
        s.sub(
            "App of apps",
            "Which Application deploys the directory that defines which Argo CD object.",
            tree,
        )
    for app_set in argo.application_sets:
        s.subsections.append(_application_set(ctx, argo, app_set, apps))
    projects = _projects(ctx, argo)
    if projects:
        s.sub("AppProjects", *projects)
    if argo.clusters:
        s.sub(
            "Clusters",
            "Clusters registered declaratively (Secrets labelled `argocd.argoproj.io/secret-type: cluster`).",
            table(
                ["cluster", "server", "project", "evidence"],
                (
                    [code(c.name), code(c.server), code(c.project) if c.project else "-", ctx.link.span(c.span)]
                    for c in argo.clusters
                ),
            ),
        )
    handoff = _handoff(ctx, argo)
    if handoff:
        s.sub("GitOps hand-off", *handoff)
    return s


def _chosen(ctx: ReviewContext, app: Application) -> bool:
    """An Application deploying an environment left out by `--env` is left out too."""
    chosen = {e.name for e in ctx.k8s_envs}
    every = {e.name for e in ctx.project.kubernetes.environments}
    return chosen == every or app.environment is None or app.environment in chosen


# --- applications --------------------------------------------------------------------------


def _app_table(ctx: ReviewContext, argo: ArgoCDProject, apps: list[Application]) -> str:
    rows = []
    for app in apps:
        sources = [s for s in app.sources if s.deploys] or app.sources
        rows.append(
            [
                ctx.link.span(app.name_span, code(app.name)),
                _project(ctx, app),
                "<br>".join(_source(ctx, s) for s in app.sources) or "no source",
                "<br>".join(_revision(ctx, s) for s in sources) or "-",
                _destination(ctx, argo, app),
                _sync(ctx, app),
                ctx.link.span(app.span),
            ]
        )
    return table(
        ["application", "project", "source → what it deploys", "revision", "destination", "sync", "evidence"], rows
    )


def _project(ctx: ReviewContext, app: Application) -> str:
    if app.project is None or not app.project.value:
        return f"{code('default')} (not written)"
    return ctx.link.span(app.project.span, code(app.project.value))


def _source(ctx: ReviewContext, s: Source) -> str:
    if not s.deploys:
        ref = s.ref.value if s.ref is not None else "?"
        return f"value files only (ref {code(ref)} of {code(_repo(s))})"
    if s.chart is not None:
        version = f" {s.target_revision.value}" if s.target_revision is not None else ""
        text = f"chart {code(s.chart.value + version)} from {code(_repo(s))}: not read"
        return ctx.link.span(s.chart.span, text) if s.chart.span else text
    path = s.path.value if s.path is not None else "."
    head = ctx.link.span(s.path.span, code(path)) if s.path is not None else code(path)
    if s.target is None:
        return f"{head} of {code(_repo(s))}: {LINKED.get(s.repo_match, s.repo_match)}"
    return f"{head} → {_target(ctx, s.target)} ({LINKED.get(s.repo_match, s.repo_match)})"


def _repo(s: Source) -> str:
    return shorten(s.repo_url.value, 60) if s.repo_url is not None and s.repo_url.value else "(no repoURL)"


def _target(ctx: ReviewContext, t: Target) -> str:
    env = next((e for e in ctx.project.kubernetes.environments if e.name == t.environment), None)
    if t.kind == "kustomize":
        what = "Kustomize overlay"
    elif t.kind == "helm":
        what = f"Helm chart {code(t.chart_name)}" if t.chart_name else "Helm chart"
    elif t.kind == "directory":
        what = f"{len(t.files)} manifest file{'s' if len(t.files) != 1 else ''}"
    elif t.kind == "plugin":
        what = "config management plugin"
    elif t.kind == "missing":
        return "**no such directory**" + (f" (closest: {code(t.near)})" if t.near else "")
    else:
        return "**outside the repository**"
    if env is not None:
        what += f", environment {ctx.link.span(env.span, code(env.name))} ({_objects(len(t.objects))})"
    elif t.objects:
        what += f" ({_objects(len(t.objects))})"
    notes = []
    if t.errors:
        notes.append(f"{len(t.errors)} render error{'s' if len(t.errors) != 1 else ''}")
    if t.incomplete:
        notes.append("not all read: " + prose(shorten(t.incomplete[0], 90)))
    return what + (f" [{'; '.join(notes)}]" if notes else "")


def _objects(n: int) -> str:
    return f"{n} object{'s' if n != 1 else ''}"


def _revision(ctx: ReviewContext, s: Source) -> str:
    if s.target_revision is None or not s.target_revision.value:
        return "HEAD (not written)"
    text = f"{code(s.target_revision.value)} ({_REVISION.get(s.revision, s.revision)})"
    return ctx.link.span(s.target_revision.span, text)


def _destination(ctx: ReviewContext, argo: ArgoCDProject, app: Application) -> str:
    d = app.destination
    cluster = d.cluster
    if cluster is not None and d.server is not None:
        named = next((c.name for c in argo.clusters if c.server.rstrip("/") == cluster), None)
        cluster = f"{cluster} ({named})" if named else cluster
    ns = d.namespace.value if d.namespace is not None and d.namespace.value else None
    text = f"{code(cluster or '?')} / " + (code(ns) if ns else "no namespace (objects keep their own)")
    return ctx.link.span(d.span, text) if d.span is not None else text


def _sync(ctx: ReviewContext, app: Application) -> str:
    p = app.sync_policy
    label = p.label if p.span is not None or p.automated else "manual sync (no syncPolicy)"
    options = ", ".join(code(o.value) for o in p.sync_options)
    text = label + (f"; {options}" if options else "")
    if app.sync_wave is not None:
        text += f"; wave {code(app.sync_wave.value)}"
    span = p.automated_span or p.span
    return ctx.link.span(span, text) if span is not None else text


# --- app of apps ---------------------------------------------------------------------------


def _tree(argo: ArgoCDProject) -> str:
    """Parents to children, ApplicationSets with their generated Applications folded into one
    node; empty when nothing deploys Argo CD objects."""
    objects: list[Application | ApplicationSet | AppProject] = [
        *(a for a in argo.applications if a.generated_by is None),
        *argo.application_sets,
        *argo.projects,
    ]
    if not any(o.parents for o in objects):
        return ""
    chart = Mermaid("LR")
    for o in objects:
        shape = "round" if o.kind == "Application" else ("queue" if o.kind == "ApplicationSet" else "box")
        chart.node(o.address, f"{o.kind} {o.name}", shape)
    for o in objects:
        for parent in o.parents:
            if parent in chart.ids:
                chart.edge(parent, o.address)
        if isinstance(o, ApplicationSet) and o.applications:
            key = o.address + "#generated"
            more = " and maybe more" if o.expansion != "complete" else ""
            chart.node(key, f"{len(o.applications)} generated Applications{more}", "round")
            chart.edge(o.address, key, dotted=True)
    return chart.render()


# --- application sets ----------------------------------------------------------------------


def _generator(g: Generator) -> str:
    children = f"({', '.join(_generator(c) for c in g.children)})" if g.children else ""
    return f"{g.name}{children}"


def _application_set(
    ctx: ReviewContext, argo: ArgoCDProject, app_set: ApplicationSet, chosen: list[Application]
) -> Section:
    s = Section(f"ApplicationSet {app_set.name}")
    facts = [
        f"Defined at {ctx.link.span(app_set.span)}; generators: "
        + ", ".join(ctx.link.span(g.span, code(_generator(g))) for g in app_set.generators)
        + "."
    ]
    paths = ", ".join(ctx.link.span(t.span, code(t.value)) for t in app_set.template_paths)
    charts = ", ".join(ctx.link.span(t.span, code(t.value)) for t in app_set.template_charts)
    if paths or charts:
        facts.append("Template source: " + ", ".join(x for x in (paths, charts) if x) + ".")
    if app_set.template_project is not None:
        facts.append(
            f"Template project: {ctx.link.span(app_set.template_project.span, code(app_set.template_project.value))}."
        )
    s.add(bullets(facts))
    ids = {id(a) for a in chosen}
    generated = sorted((a for a in app_set.applications if id(a) in ids), key=lambda a: a.name)
    if app_set.expansion == "unknown" or not app_set.applications:
        s.add(
            f"The Applications it generates are unknown, because {prose(app_set.reason or 'its generators are not read')}."
        )
        return s
    if app_set.expansion == "partial":
        s.add(
            f"It generates these {len(app_set.applications)} Applications, and maybe others: {prose(app_set.reason)}."
        )
    else:
        s.add(
            f"It generates these {len(app_set.applications)} Applications (every parameter set is in the repository)."
        )
    if generated:
        s.add(_app_table(ctx, argo, generated))
    return s


# --- projects ------------------------------------------------------------------------------


def _kinds(items: list) -> str:  # type: ignore[type-arg]
    return ", ".join(code(f"{g.group or 'core'}/{g.kind}") for g in items) or "-"


def _projects(ctx: ReviewContext, argo: ArgoCDProject) -> list[str]:
    using: dict[str, int] = {}
    for a in argo.applications:
        using[a.project_name] = using.get(a.project_name, 0) + 1
    rows = []
    for p in argo.projects:
        rows.append(
            [
                ctx.link.span(p.span, code(p.name)),
                ", ".join(code(shorten(r.value, 80)) for r in p.source_repos) or "none",
                ", ".join(code(f"{d.server or d.name or '?'} / {d.namespace or '?'}") for d in p.destinations)
                or "none",
                "allowed: "
                + _kinds(p.cluster_resource_whitelist)
                + ("; denied: " + _kinds(p.cluster_resource_blacklist) if p.cluster_resource_blacklist else ""),
                ("allowed: " + _kinds(p.namespace_resource_whitelist) + "; " if p.namespace_resource_whitelist else "")
                + "denied: "
                + _kinds(p.namespace_resource_blacklist),
                str(using.get(p.name, 0)),
            ]
        )
    defined = {p.name for p in argo.projects}
    for name in sorted(set(using) - defined):
        if name == "default":
            # what Argo CD creates; an installation may have narrowed it, which the repository does not show
            rows.append(
                [
                    f"{code(name)} (Argo CD's built-in project, not defined here)",
                    "any",
                    "any",
                    "any",
                    "any",
                    str(using[name]),
                ]
            )
        else:
            rows.append([f"{code(name)} (not defined in this repository)", "?", "?", "?", "?", str(using[name])])
    if not rows:
        return []
    return [
        "AppProjects defined in the repository, and the projects Applications name without defining them.",
        table(
            [
                "project",
                "source repositories",
                "destinations (cluster / namespace)",
                "cluster-scoped kinds",
                "namespaced kinds",
                "applications",
            ],
            rows,
        ),
    ]


# --- the GitOps hand-off -------------------------------------------------------------------


def _handoff(ctx: ReviewContext, argo: ArgoCDProject) -> list[str]:
    """Files a workflow step rewrites that an Application deploys: where CI hands a change over
    to Argo CD, and whether it then reaches the cluster by itself (automated sync) or waits."""
    wp = ctx.project.workflows
    deployed: dict[str, list[Application]] = {}
    for app in argo.applications:
        if not _chosen(ctx, app):
            continue
        for t in app.targets:
            deployed.setdefault(t.overlay or t.path, []).append(app)
    rows = []
    for wf in wp.workflows:
        domains = input_values(wp, wf)
        for job in wf.jobs.values():
            pushes = [a for a in job_activities(job) if a.kind == "push"]
            for step in job.steps:
                for edit in step.edits:
                    paths = expand(edit.path, domains)
                    if paths is not None:
                        dirs = {posixpath.dirname(p) for p in paths}
                        hit = {d: deployed[d] for d in sorted(dirs) if d in deployed}
                        how = "" if len(paths) == 1 else "one per run, by its inputs"
                    else:
                        pattern = posixpath.dirname(edit.path.pattern())
                        hit = {d: a for d, a in sorted(deployed.items()) if fnmatchcase(d, pattern)}
                        how = "a run-time value picks one"
                    if not hit:
                        continue
                    files = "<br>".join(f"{code(d)}" for d in hit)
                    apps = "<br>".join(
                        f"{ctx.link.span(a.name_span, code(a.name))}: "
                        + (
                            "deployed when pushed (automated sync)"
                            if a.sync_policy.automated
                            else "waits for a manual sync"
                        )
                        for d in hit
                        for a in hit[d]
                    )
                    rows.append(
                        [
                            ctx.link.span(edit.span, f"{wf.path.rsplit('/', 1)[-1]}: {plain(step.label)}"),
                            code(edit.tool),
                            files + (f" ({how})" if how else ""),
                            ctx.link.span(pushes[0].span, "yes") if pushes else "not in this job",
                            apps,
                        ]
                    )
    if not rows:
        return []
    return [
        (
            "Where CI hands a change to Argo CD: a workflow step rewrites a manifest (an image tag "
            "in an overlay) that an Application deploys. Run-time holes such as "
            "`${{ inputs.environment }}` are filled with the values the workflow's callers and "
            "dispatch choices can give."
        ),
        table(["step", "tool", "overlay rewritten", "pushed", "Application → what happens next"], rows),
    ]
