"""Kustomize loader: a pure-Python renderer of kustomizations (kustomize v5 semantics).

Nothing here runs kustomize, fetches remote bases or reads outside the scanned root;
what kustomize would refuse becomes a LoadError and the rest still renders.
"""

from __future__ import annotations

from urr_audit.loaders.kustomize.build import Renderer
from urr_audit.loaders.kustomize.output import to_yaml_stream
from urr_audit.loaders.kustomize.project import load, to_objects
from urr_audit.model.common import LoadError
from urr_audit.model.kubernetes import K8sObject, KubernetesProject
from urr_audit.workspace import Workspace


def load_kubernetes(ws: Workspace) -> tuple[KubernetesProject, list[LoadError]]:
    return load(ws)


def render(ws: Workspace, dir_rel: str) -> tuple[list[K8sObject], list[LoadError]]:
    """The objects `kustomize build DIR` would print, in its order (DIR relative to the root)."""
    built = Renderer(ws).build(ws.join("", dir_rel) if dir_rel not in ("", ".") else ".")
    return to_objects(built.resources, None), built.errors


__all__ = ["load_kubernetes", "render", "to_yaml_stream"]
