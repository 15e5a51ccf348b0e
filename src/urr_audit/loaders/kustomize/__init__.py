"""Kustomize loader (placeholder until the renderer lands)."""

from __future__ import annotations

from urr_audit.model.common import LoadError
from urr_audit.model.kubernetes import KubernetesProject
from urr_audit.workspace import Workspace


def load_kubernetes(ws: Workspace) -> tuple[KubernetesProject, list[LoadError]]:
    return KubernetesProject(), []
