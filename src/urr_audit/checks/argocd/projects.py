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


@check("argocd-default-project", scope="project", params=NoParams)
def default_project(ctx: Context, project: Project, params: NoParams) -> Iterator[Hit]:
    """Applications in the `default` AppProject, which Argo CD creates allowing every source
    repository, every destination and every cluster-scoped resource. Silent when the
    repository itself redefines `default` with restrictions."""
    own = project.argocd.project(DEFAULT_PROJECT)
    if own and not all(_unrestricted(p) for p in own):
        return
    for app, names in by_template(a for a in project.argocd.applications if a.project_name == DEFAULT_PROJECT):
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


@check("argocd-permissive-project", scope="argocd.appproject", params=PermissiveProjectParams)
def permissive_project(ctx: Context, p: AppProject, params: PermissiveProjectParams) -> Iterator[Hit]:
    """AppProjects allowing every source repository, every destination (any cluster and any
    namespace), or every cluster-scoped resource kind. Each wildcard is reported where it is
    written."""
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
    if "cluster-resources" in params.report:
        for g in p.cluster_resource_whitelist:
            if g.group == "*" and g.kind == "*":
                yield ctx.finding(
                    at=g.span,
                    node=p,
                    message=f"AppProject {p.name} allows every cluster-scoped resource (ClusterRoles, CRDs, "
                    "webhooks, Namespaces...): needed by a platform project installing cluster add-ons, "
                    "not by an application team",
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


def _destination_allowed(p: AppProject, app: Application) -> bool | None:
    d = app.destination
    ns = d.namespace.value if d.namespace else ""
    server = d.server.value.rstrip("/") if d.server else None
    name = d.name.value if d.name else None
    if server is None and name is None:
        return None
    if any(x.startswith("!") for pd in p.destinations for x in (pd.server, pd.name, pd.namespace) if x):
        return None
    for pd in p.destinations:
        if not (_glob(pd.namespace, ns) if pd.namespace is not None else ns == ""):
            continue
        if server is not None and pd.server is not None and _glob(pd.server.rstrip("/"), server):
            return True
        if name is not None and pd.name is not None and _glob(pd.name, name):
            return True
        # in-cluster is known by both names
        if server == IN_CLUSTER_SERVER and pd.name is not None and _glob(pd.name, IN_CLUSTER_NAME):
            return True
        if name == IN_CLUSTER_NAME and pd.server is not None and _glob(pd.server.rstrip("/"), IN_CLUSTER_SERVER):
            return True
    return False


@check("argocd-project-permits", scope="project", params=NoParams)
def project_permits(ctx: Context, project: Project, params: NoParams) -> Iterator[Hit]:
    """Applications whose AppProject, defined in this repository, does not allow their source
    repository or their destination: Argo CD refuses to sync them."""
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
        if _destination_allowed(p, app) is False:
            allowed = ", ".join(f"{d.server or d.name}/{d.namespace}" for d in p.destinations) or "none"
            yield ctx.finding(
                at=app.destination.span or app.name_span,
                node=app,
                related=[p.span],
                message=f"{where(app)}: AppProject {p.name} does not allow destination {app.destination.label} "
                f"(destinations: {allowed}): Argo CD refuses to sync it",
            )
