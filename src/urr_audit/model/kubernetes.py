"""Kubernetes model: Kustomize overlays and the objects each environment really deploys.

The renderer (loaders/kustomize) produces, per leaf overlay (an *environment*), the rendered
objects as `kustomize build` would, each remembering where it came from: the resource file
and line, and for individual fields the patch / kustomization entry that last changed them
(`field_origins`, keyed by dotted path such as `spec.replicas` or
`spec.template.spec.containers[name=app].image`).

Typed views for rules (workloads, containers, services, PDBs, HPAs, NetworkPolicies, ...)
are built from these objects in `model/k8s_facts.py`; rules use those, not `body`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from urr_audit.model.common import Span


class K8sObject(BaseModel):
    api_version: str
    kind: str
    name: str
    namespace: str | None = None
    body: dict[str, Any]  # the rendered document (plain dicts/lists/scalars)
    span: Span  # the resource document that produced it (file, first and last line)
    field_origins: dict[str, Span] = Field(default_factory=dict)
    environment: str | None = None

    @property
    def group(self) -> str:
        return self.api_version.split("/", 1)[0] if "/" in self.api_version else ""

    @property
    def address(self) -> str:
        """Stable id, e.g. `prod/apps/v1/Deployment/urr-spring/ticket-service`."""
        ns = self.namespace or "_"
        return f"{self.environment or '_'}/{self.api_version}/{self.kind}/{ns}/{self.name}"

    def origin(self, path: str) -> Span:
        """The span a user must edit to change `path`: the longest recorded prefix, else the resource."""
        best, best_len = self.span, -1
        for key, span in self.field_origins.items():
            if (path == key or path.startswith(key + ".") or path.startswith(key + "[")) and len(key) > best_len:
                best, best_len = span, len(key)
        return best


class Overlay(BaseModel):
    """A directory with a kustomization file."""

    path: str  # repo-relative directory
    span: Span  # the kustomization file
    resources: list[str] = Field(default_factory=list)  # repo-relative dirs/files it includes
    bases: list[str] = Field(default_factory=list)  # kustomization dirs it builds on
    is_leaf: bool = True  # not used as a base by another kustomization -> an environment


class K8sEnvironment(BaseModel):
    name: str  # directory name of the leaf overlay: dev, kind, staging, prod
    path: str
    objects: list[K8sObject] = Field(default_factory=list)

    def of_kind(self, *kinds: str) -> list[K8sObject]:
        return [o for o in self.objects if o.kind in kinds]


class KubernetesProject(BaseModel):
    overlays: list[Overlay] = Field(default_factory=list)
    environments: list[K8sEnvironment] = Field(default_factory=list)
