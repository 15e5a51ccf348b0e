"""AppProjects: the boundary of what an Application may deploy, from where, to where."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, NoParams, check
from urr_audit.checks.argocd._common import by_template, verb, where
from urr_audit.loaders.gitmeta import normalize_repo_url
from urr_audit.model.argocd import IN_CLUSTER_NAME, IN_CLUSTER_SERVER, Application, AppProject
from urr_audit.model.kubernetes import CLUSTER_SCOPED
from urr_audit.model.project import Project

DEFAULT_PROJECT = "default"


def _unrestricted(p: AppProject) -> bool:
    """An AppProject written with every source, destination and cluster resource allowed
    (the `default` project as Argo CD creates it)."""
    return (
        any(s.value == "*" for s in p.source_repos)
        and any((d.server == "*" or d.name == "*") and d.namespace == "*" for d in p.destinations)
        and any(g.group == "*" and g.kind == "*" for g in p.cluster_resource_whitelist)
    )


def _creates_projects(app: Application) -> bool:
    """A bootstrap Application that deploys the AppProjects themselves: it cannot be in one of
    the projects it creates, so `default` is the only project it can use."""
    return any(o.kind == "AppProject" and o.group == "argoproj.io" for t in app.targets for o in t.objects)


@check("argocd-default-project", scope="project", params=NoParams, subjects=("Application",))
def default_project(ctx: Context, project: Project, params: NoParams) -> Iterator[Hit]:
    """Applications in the `default` AppProject, which Argo CD creates allowing every source
    repository, every destination and every cluster-scoped resource. Silent when the
    repository itself redefines `default` with restrictions, and for a bootstrap Application
    that deploys the AppProjects (it cannot be in a project it creates)."""
    own = project.argocd.project(DEFAULT_PROJECT)
    if own and not all(_unrestricted(p) for p in own):
        return
    candidates = (
        a for a in project.argocd.applications if a.project_name == DEFAULT_PROJECT and not _creates_projects(a)
    )
    for app, names in by_template(candidates):
        yield ctx.finding(
            at=app.project.span if app.project else app.name_span,
            node=app,
            related=[p.span for p in own],
            message=f"{where(app, names)} {verb(names)} in the `default` AppProject: "
            "it may deploy from any repository to any cluster and namespace, cluster-scoped resources included",
        )


class PermissiveProjectParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # which wildcards to report: sources (sourceRepos '*'), destinations (any cluster and any
    # namespace), cluster-resources (clusterResourceWhitelist '*'/'*')
    report: list[str] = ["sources", "destinations", "cluster-resources"]


def _needs(apps: list[Application]) -> tuple[set[str], list[str]]:
    """The cluster-scoped kinds the Applications deploy, and what they deploy unread (a chart,
    another repository, an ApplicationSet not expanded) that may need more."""
    kinds: set[str] = set()
    unread: list[str] = []
    for app in apps:
        for src in app.deploying_sources:
            t = src.target
            if t is None:
                what = src.chart.value if src.chart else src.repo_url.value if src.repo_url else "?"
                unread.append(f"{app.name} deploys {what}")
                continue
            if t.incomplete:
                unread.append(f"{app.name}: {t.incomplete[0]}")
            kinds |= {o.kind for o in t.objects if o.kind in CLUSTER_SCOPED}
    return kinds, unread


@check("argocd-permissive-project", scope="project", params=PermissiveProjectParams, subjects=("AppProject",))
def permissive_project(ctx: Context, project: Project, params: PermissiveProjectParams) -> Iterator[Hit]:
    """AppProjects allowing every source repository, every destination (any cluster and any
    namespace), or every cluster-scoped resource kind, each wildcard reported where it is
    written. A cluster-resource wildcard is left alone when the project's Applications deploy
    something not read here (a Helm chart, another repository): a platform project installing
    cluster add-ons plausibly needs it; otherwise the finding names the kinds they do deploy."""
    argo = project.argocd
    for p in argo.projects:
        if "sources" in params.report:
            for s in p.source_repos:
                if s.value == "*":
                    yield ctx.finding(
                        at=s.span,
                        node=p,
                        message=f"AppProject {p.name} allows every source repository (sourceRepos '*'): "
                        "whoever can create an Application in it deploys from any repository",
                    )
        if "destinations" in params.report:
            for d in p.destinations:
                if (d.server == "*" or d.name == "*") and d.namespace == "*":
                    yield ctx.finding(
                        at=d.span,
                        node=p,
                        message=f"AppProject {p.name} allows every destination (any cluster, any namespace)",
                    )
        if "cluster-resources" not in params.report:
            continue
        wildcards = [g for g in p.cluster_resource_whitelist if g.group == "*" and g.kind == "*"]
        if not wildcards:
            continue
        members = [a for a in argo.applications if a.project_name == p.name]
        templated = [
            s
            for s in argo.application_sets
            if s.expansion != "complete"
            and s.template_project is not None
            and (s.template_project.value == p.name or "{{" in s.template_project.value)
        ]
        kinds, unread = _needs(members)
        if unread or templated:
            continue
        used = (
            (
                f"its Application {members[0].name} deploys "
                if len(members) == 1
                else f"its Applications ({', '.join(sorted(a.name for a in members)[:4])}) deploy "
            )
            + (", ".join(sorted(kinds)) if kinds else "no cluster-scoped object")
            if members
            else "no Application in this repository uses it"
        )
        for g in wildcards:
            yield ctx.finding(
                at=g.span,
                node=p,
                message=f"AppProject {p.name} allows every cluster-scoped resource (ClusterRoles, CRDs, "
                f"webhooks...), while {used}",
            )


def _glob(pattern: str, value: str) -> bool:
    # fnmatch's `*` crosses `/`, Argo CD's does not for sourceRepos: a denial is only reported
    # when not even the wider reading allows the value
    return fnmatch.fnmatchcase(value, pattern)


_SCP = re.compile(r"^[\w.-]+@[\w.-]+:(?!//)")


def _norm_repo(url: str) -> str:
    """As Argo CD's NormalizeGitURL compares repository URLs: lower case, `.git` dropped, an
    scp-like SSH URL as `git@host/path`. SSH and HTTPS forms of one repository stay different."""
    u = url.strip().lower()
    if _SCP.match(u):
        u = u.replace(":", "/", 1)
    return u.removeprefix("ssh://").rstrip("/").removesuffix(".git")


def _repo_allowed(patterns: list[str], url: str) -> bool | None:
    """Argo CD's sourceRepos matching; None when a negation makes it too subtle to decide."""
    if any(p.startswith("!") for p in patterns):
        return None
    value = _norm_repo(url)
    return any(p == "*" or _glob(_norm_repo(p), value) for p in patterns)


def _destination_allowed(p: AppProject, app: Application, servers: dict[str, str]) -> bool | None:
    """Argo CD's destination matching (server or name glob, and namespace glob). A cluster known
    by one form only is completed from the clusters declared in the repository; None when a
    project entry names the cluster in a form the Application's cannot be compared with."""
    d = app.destination
    ns = d.namespace.value if d.namespace else ""
    server = d.server.value.rstrip("/") if d.server else None
    name = d.name.value if d.name else None
    if server is None and name is None:
        return None
    if any(x.startswith("!") for pd in p.destinations for x in (pd.server, pd.name, pd.namespace) if x):
        return None
    names = {v: k for k, v in servers.items()}
    server = server or servers.get(name or "")
    name = name or names.get(server or "")
    uncertain = False
    for pd in p.destinations:
        if not (_glob(pd.namespace, ns) if pd.namespace is not None else ns == ""):
            continue
        if pd.server is not None:
            if server is None:
                uncertain = True
            elif _glob(pd.server.rstrip("/"), server):
                return True
        if pd.name is not None:
            if name is None:
                uncertain = True
            elif _glob(pd.name, name):
                return True
    return None if uncertain else False


@check("argocd-project-permits", scope="project", params=NoParams, subjects=("Application",))
def project_permits(ctx: Context, project: Project, params: NoParams) -> Iterator[Hit]:
    """Applications whose AppProject, defined in this repository, does not allow their source
    repository or their destination: Argo CD refuses to sync them."""
    servers = {IN_CLUSTER_NAME: IN_CLUSTER_SERVER} | {c.name: c.server.rstrip("/") for c in project.argocd.clusters}
    for app in project.argocd.applications:
        defined = project.argocd.project(app.project_name)
        if len(defined) != 1:
            continue  # not defined here (or defined twice): nothing to compare with
        p = defined[0]
        repos = [s.value for s in p.source_repos]
        for src in app.sources:
            if src.repo_url is None or not src.repo_url.value:
                continue
            if _repo_allowed(repos, src.repo_url.value) is False:
                same = [r for r in repos if normalize_repo_url(r) == normalize_repo_url(src.repo_url.value)]
                hint = (
                    f"; it lists {same[0]}, but Argo CD compares URLs as written (SSH and HTTPS forms differ)"
                    if same
                    else ""
                )
                yield ctx.finding(
                    at=src.repo_url.span,
                    node=app,
                    related=[p.span],
                    message=f"{where(app)}: AppProject {p.name} does not allow repository {src.repo_url.value} "
                    f"(sourceRepos: {', '.join(repos) or 'none'}{hint}): Argo CD refuses to sync it",
                )
        if _destination_allowed(p, app, servers) is False:
            allowed = ", ".join(f"{d.server or d.name}/{d.namespace}" for d in p.destinations) or "none"
            yield ctx.finding(
                at=app.destination.span or app.name_span,
                node=app,
                related=[p.span],
                message=f"{where(app)}: AppProject {p.name} does not allow destination {app.destination.label} "
                f"(destinations: {allowed}): Argo CD refuses to sync it",
            )
