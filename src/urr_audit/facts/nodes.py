"""The nodes a cluster runs, by CPU architecture: EKS managed node groups Terraform creates
(AMI type, instance types, the launch template's instance type) and Karpenter NodePools /
Provisioners deployed into the cluster (their `kubernetes.io/arch`, instance-family and
instance-type requirements). Which instance family is which architecture is data the caller
gives (a rule param), never guessed: a family not in the table leaves the pool unknown."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from urr_audit.facts.tf import existing, setting, targets
from urr_audit.model.common import Span
from urr_audit.model.kubernetes import K8sObject
from urr_audit.model.terraform import Environment

ARCH_KEYS = ("kubernetes.io/arch", "beta.kubernetes.io/arch")
ARCHITECTURES = ("amd64", "arm64")
_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "arm64/v8": "arm64"}


def arch_of_platform(platform: str) -> str:
    """`linux/arm64` -> arm64, `linux/amd64` -> amd64, `linux/arm/v7` -> arm."""
    parts = platform.strip().lower().split("/")
    arch = parts[1] if len(parts) > 1 else parts[0]
    return _ALIASES.get(arch, arch)


@dataclass(frozen=True)
class NodePool:
    address: str  # Terraform resource or Kubernetes object address
    kind: str  # "EKS managed node group", "Karpenter NodePool"
    span: Span  # where its architecture is decided
    architectures: frozenset[str] | None  # None: not known (`reason` says why)
    reason: str  # how they are known ("instance types m6i.large, m6a.large"), or why not
    labels: dict[str, str] = field(default_factory=dict)  # node labels the pool sets
    related: tuple[Span, ...] = ()

    def describe(self) -> str:
        archs = "/".join(sorted(self.architectures)) if self.architectures else "unknown"
        return f"{self.kind} {self.address} ({archs}: {self.reason})"


class ArchTable:
    """Instance families and AMI types to architectures (from a rule's params)."""

    def __init__(self, families: Mapping[str, Iterable[str]], ami_types: Mapping[str, str]):
        self.family = {f.lower(): arch for arch, fams in families.items() for f in fams}
        self.ami = [(re.compile(p), arch) for p, arch in ami_types.items()]

    def instance_type(self, name: str) -> str | None:
        return self.family.get(name.lower().split(".", 1)[0])

    def ami_type(self, name: str) -> str | None:
        return next((arch for p, arch in self.ami if p.fullmatch(name)), None)

    def instance_types(self, names: list[str]) -> tuple[frozenset[str] | None, str]:
        archs = set()
        for n in names:
            a = self.instance_type(n)
            if a is None:
                return None, f"instance family of {n} is not in the architecture table"
            archs.add(a)
        return frozenset(archs), f"instance types {', '.join(names)}"


def terraform_pools(env: Environment, table: ArchTable, default_instance_types: list[str]) -> list[NodePool]:
    """EKS managed node groups of a Terraform environment."""
    out = []
    for ri in existing(env, "aws_eks_node_group"):
        if ri.resource.mode != "managed":
            continue
        labels_v = ri.get("labels")
        labels = {str(k): str(v) for k, v in labels_v.value.items()} if labels_v.is_known and labels_v.value else {}
        name = ri.get("node_group_name")
        if name.is_known and isinstance(name.value, str):
            labels["eks.amazonaws.com/nodegroup"] = name.value
        ami = setting(ri, "ami_type")
        if ami is not None:
            if ami.known and isinstance(ami.value.value, str):
                arch = table.ami_type(ami.value.value)
                archs = frozenset({arch}) if arch else None
                why = f"AMI type {ami.value.value}" + ("" if arch else " (not in the architecture table)")
                out.append(NodePool(ri.address, "EKS managed node group", ami.span, archs, why, labels))
                continue
            out.append(
                NodePool(ri.address, "EKS managed node group", ami.span, None, f"AMI type: {ami.value.reason}", labels)
            )
            continue
        types = setting(ri, "instance_types")
        if types is None:
            lt = targets(env, ri, "launch_template.id") + targets(env, ri, "launch_template.name")
            templates = [t for t in existing(env, "aws_launch_template") if t.address in lt or t.resource_address in lt]
            if ri.has_block("launch_template"):
                found = [setting(t, "instance_type") for t in templates]
                if found and all(s is not None and s.known for s in found):
                    names = [str(s.value.value) for s in found if s is not None]
                    archs, why = table.instance_types(names)
                    span = found[0].span if found[0] is not None else ri.span
                    out.append(NodePool(ri.address, "EKS managed node group", span, archs, why, labels))
                else:
                    out.append(
                        NodePool(
                            ri.address,
                            "EKS managed node group",
                            ri.span,
                            None,
                            "the launch template's instance type (or AMI) is not known",
                            labels,
                        )
                    )
                continue
            archs, why = table.instance_types(default_instance_types)
            out.append(
                NodePool(ri.address, "EKS managed node group", ri.span, archs, f"{why} (default: none written)", labels)
            )
            continue
        if not types.known or not isinstance(types.value.value, list):
            out.append(
                NodePool(
                    ri.address,
                    "EKS managed node group",
                    types.span,
                    None,
                    f"instance types: {types.value.reason}",
                    labels,
                )
            )
            continue
        names = [str(x) for x in types.value.value]
        archs, why = table.instance_types(names)
        out.append(NodePool(ri.address, "EKS managed node group", types.span, archs, why, labels))
    return out


def _requirements(obj: K8sObject) -> tuple[list[dict[str, Any]], str]:
    body = obj.body.get("spec")
    spec: dict[str, Any] = body if isinstance(body, dict) else {}
    if obj.kind == "Provisioner":
        raw, path = spec.get("requirements"), "spec.requirements"
    else:
        tmpl = spec.get("template")
        inner = tmpl.get("spec") if isinstance(tmpl, dict) else None
        raw, path = (inner.get("requirements") if isinstance(inner, dict) else None), "spec.template.spec.requirements"
    return [r for r in raw if isinstance(r, dict)] if isinstance(raw, list) else [], path


def _allowed(reqs: list[dict[str, Any]], table: ArchTable) -> tuple[frozenset[str] | None, str]:
    """The architectures requirements allow, and why; None when a family is not in the table."""
    archs: set[str] | None = None
    why: list[str] = []
    for r in reqs:
        key, op = str(r.get("key", "")), str(r.get("operator", ""))
        values = [str(v) for v in r.get("values") or []] if isinstance(r.get("values"), list) else []
        if key in ARCH_KEYS and op in ("In", "NotIn"):
            named = {arch_of_platform(v) for v in values}
            got = named if op == "In" else set(ARCHITECTURES) - named
        elif key in ("karpenter.k8s.aws/instance-family", "node.kubernetes.io/instance-type") and op == "In":
            found = [table.instance_type(v) for v in values]
            if any(a is None for a in found):
                return None, f"{key} In {', '.join(values)}: a family is not in the architecture table"
            got = {a for a in found if a}
        else:
            continue
        why.append(f"{key} {op} {', '.join(values)}")
        archs = got if archs is None else archs & got
    if archs is None:
        return frozenset(ARCHITECTURES), "no architecture requirement: Karpenter may launch either"
    return frozenset(archs), "; ".join(why)


def karpenter_pools(objects: Iterable[K8sObject], table: ArchTable) -> list[NodePool]:
    """Karpenter NodePools (karpenter.sh/v1, v1beta1) and Provisioners (v1alpha5): the
    architectures their requirements allow. Without any architecture, family or instance-type
    requirement Karpenter may launch either architecture."""
    out = []
    for o in objects:
        if o.group != "karpenter.sh" or o.kind not in ("NodePool", "Provisioner"):
            continue
        reqs, path = _requirements(o)
        archs, why = _allowed(reqs, table)
        labels = {"karpenter.sh/nodepool": o.name}
        out.append(NodePool(o.address, f"Karpenter {o.kind}", o.origin(path), archs, why, labels))
    return out
