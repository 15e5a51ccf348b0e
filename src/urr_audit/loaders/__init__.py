"""Loaders: the only code that parses files. They build the model and never judge."""

from __future__ import annotations

import time
from pathlib import Path

from urr_audit.model.common import LoadError
from urr_audit.model.project import Project
from urr_audit.workspace import Workspace


def load_project(
    root: Path | str, workspace: Workspace | None = None, timings: dict[str, float] | None = None
) -> Project:
    """`timings`: filled with each loader's CPU seconds (benchmarks/bench_rules.py prints them)."""
    from urr_audit.loaders.argocd import load_argocd
    from urr_audit.loaders.docker import load_docker
    from urr_audit.loaders.gitignore import read_gitignore
    from urr_audit.loaders.gitmeta import read_git_meta
    from urr_audit.loaders.kustomize import load_kubernetes
    from urr_audit.loaders.localcluster import load_local_clusters
    from urr_audit.loaders.sites import place_environments
    from urr_audit.loaders.terraform import load_terraform
    from urr_audit.loaders.workflows import load_workflows

    clock = [time.process_time()]

    def lap(name: str) -> None:
        if timings is not None:
            now = time.process_time()
            timings[name] = timings.get(name, 0.0) + now - clock[0]
            clock[0] = now

    ws = workspace or Workspace(root)
    lap("walk")
    errors: list[LoadError] = [
        LoadError(kind="fs.outside-root", path=p, message="symlink points outside the scanned root; not followed")
        for p in ws.escaping_symlinks
    ]
    terraform, tf_errors = load_terraform(ws)
    lap("terraform")
    kubernetes, k8s_errors = load_kubernetes(ws)
    lap("kubernetes")
    workflows, wf_errors = load_workflows(ws)
    lap("workflows")
    git = read_git_meta(ws)
    argocd, argo_errors = load_argocd(ws, kubernetes, git, k8s_errors)
    place_environments(kubernetes, argocd)
    lap("argocd")
    gitignore, ignore_errors = read_gitignore(ws)
    docker, docker_errors = load_docker(ws)
    lap("docker+gitignore")
    errors += tf_errors + k8s_errors + wf_errors + argo_errors + ignore_errors + docker_errors
    errors.sort(key=lambda e: (e.path, e.line, e.kind, e.message))
    project = Project(
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
    lap("local clusters+project")
    return project
