"""Argo CD part of the graph: Application -> overlay (or directory) -> workloads, the
Applications an app-of-apps or an ApplicationSet creates, and each Application's AppProject.

Node ids: `argocd:Application/<address>`, `argocd:ApplicationSet/<address>`,
`argocd:AppProject/<address>`; a deployed directory that is neither an overlay nor a Kubernetes
environment is `dir:<path>`. Edges: deploys (Application -> overlay / environment / directory),
builds (overlay -> the workloads its render runs), creates (parent Application -> child),
generates (ApplicationSet -> Application), in_project (Application -> AppProject)."""

from __future__ import annotations

import networkx as nx

from urr_audit.model.argocd import Application, Target
from urr_audit.model.k8s_facts import facts
from urr_audit.model.project import Project


def app_id(address: str) -> str:
    return f"argocd:Application/{address}"


def _target_node(g: nx.DiGraph, t: Target) -> str:
    if t.overlay is not None and f"kustomize:{t.overlay}" in g:
        return f"kustomize:{t.overlay}"
    if t.environment is not None and f"k8s:{t.environment}" in g:
        return f"k8s:{t.environment}"
    node = f"dir:{t.path}"
    if node not in g:
        g.add_node(node, kind=f"{t.kind}_directory", label=t.path, path=t.path, line=1)
    return node


def _app_attrs(app: Application) -> dict:
    src = next(iter(app.deploying_sources), None)
    return {
        "kind": "Application",
        "label": app.name,
        "path": app.span.path,
        "line": app.name_span.line,
        "project": app.project_name,
        "destination": app.destination.label,
        "sync": app.sync_policy.label,
        "revision": src.revision_label if src else None,
        "repo_match": src.repo_match if src else None,
        "environment": app.environment,
    }


def add_argocd(g: nx.DiGraph, project: Project) -> None:
    argo = project.argocd
    projects = {p.name: p for p in argo.projects}
    for p in argo.projects:
        g.add_node(
            f"argocd:AppProject/{p.address}", kind="AppProject", label=p.name, path=p.span.path, line=p.span.line
        )
    for appset in argo.application_sets:
        g.add_node(
            f"argocd:ApplicationSet/{appset.address}",
            kind="ApplicationSet",
            label=appset.name,
            path=appset.span.path,
            line=appset.span.line,
            expansion=appset.expansion,
        )
    for app in argo.applications:
        node = app_id(app.address)
        g.add_node(node, **_app_attrs(app))
        if app.generated_by:
            g.add_edge(f"argocd:ApplicationSet/{app.generated_by}", node, kind="generates")
        own = projects.get(app.project_name)
        if own is not None:
            g.add_edge(node, f"argocd:AppProject/{own.address}", kind="in_project")
        for src in app.sources:
            t = src.target
            if t is None or not t.exists:
                continue
            target = _target_node(g, t)
            g.add_edge(node, target, kind="deploys", repo_match=src.repo_match)
            if target.startswith("kustomize:"):
                env = next((e for e in project.kubernetes.environments if e.path == t.path), None)
                if env is None:
                    continue
                for w in facts(env).workloads:
                    if f"k8s:{w.address}" in g:
                        g.add_edge(target, f"k8s:{w.address}", kind="builds")
    for kind, objs in (("Application", argo.applications), ("ApplicationSet", argo.application_sets)):
        for o in objs:
            for parent in o.parents:
                if app_id(parent) in g:
                    g.add_edge(app_id(parent), f"argocd:{kind}/{o.address}", kind="creates")
