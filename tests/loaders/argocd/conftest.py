from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from urr_audit.loaders import load_project


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0
"""


def overlay(namespace: str | None = None, resources: str = "../../base") -> str:
    ns = f"namespace: {namespace}\n" if namespace else ""
    return f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n{ns}resources:\n  - {resources}\n"


BASE = {
    "apps/web/base/kustomization.yaml": overlay(resources="deployment.yaml"),
    "apps/web/base/deployment.yaml": DEPLOYMENT,
    "apps/web/overlays/dev/kustomization.yaml": overlay("web-dev"),
    "apps/web/overlays/prod/kustomization.yaml": overlay("web-prod"),
}


def app(
    name: str,
    path: str,
    *,
    repo: str = "https://github.com/acme/platform.git",
    rev: str = "main",
    namespace: str = "web",
    extra: str = "",
) -> str:
    return f"""
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {name}
  namespace: argocd
spec:
  project: web
  source:
    repoURL: {repo}
    targetRevision: {rev}
    path: {path}
  destination:
    server: https://kubernetes.default.svc
    namespace: {namespace}
{extra}"""


@pytest.fixture
def repo(tmp_path):
    def make(files: dict[str, str]):
        write(tmp_path, {**BASE, **files})
        return load_project(tmp_path)

    return make
