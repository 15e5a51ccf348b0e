"""Loaders: the only code that parses files. They build the model and never judge."""

from __future__ import annotations

from pathlib import Path

from urr_audit.model.common import LoadError
from urr_audit.model.project import Project
from urr_audit.workspace import Workspace


def load_project(root: Path | str, workspace: Workspace | None = None) -> Project:
    from urr_audit.loaders.argocd import load_argocd
    from urr_audit.loaders.docker import load_docker
    from urr_audit.loaders.gitignore import read_gitignore
    from urr_audit.loaders.gitmeta import read_git_meta
    from urr_audit.loaders.kustomize import load_kubernetes
    from urr_audit.loaders.localcluster import load_local_clusters
    from urr_audit.loaders.sites import place_environments
    from urr_audit.loaders.terraform import load_terraform
    from urr_audit.loaders.workflows import load_workflows

    ws = workspace or Workspace(root)
    errors: list[LoadError] = [
        LoadError(kind="fs.outside-root", path=p, message="symlink points outside the scanned root; not followed")
        for p in ws.escaping_symlinks
    ]
    terraform, tf_errors = load_terraform(ws)
    kubernetes, k8s_errors = load_kubernetes(ws)
    workflows, wf_errors = load_workflows(ws)
    git = read_git_meta(ws)
    argocd, argo_errors = load_argocd(ws, kubernetes, git, k8s_errors)
    place_environments(kubernetes, argocd)
    gitignore, ignore_errors = read_gitignore(ws)
    docker, docker_errors = load_docker(ws)
    errors += tf_errors + k8s_errors + wf_errors + argo_errors + ignore_errors + docker_errors
    errors.sort(key=lambda e: (e.path, e.line, e.kind, e.message))
    return Project(
        root=str(ws.root),
        git=git,
        terraform=terraform,
        kubernetes=kubernetes,
        local_clusters=load_local_clusters(ws),
        workflows=workflows,
        argocd=argocd,
        gitignore=gitignore,
        docker=docker,
        errors=errors,
        files=list(ws.files),
    )
