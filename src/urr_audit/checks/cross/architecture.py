"""CPU architecture: the platforms the pipeline builds an image for against the architectures
of the nodes Terraform (and Karpenter) give the cluster that runs it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pydantic import Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.cross._common import PairingParams, pairings, spans, workload_names
from urr_audit.facts.nodes import ARCH_KEYS, ArchTable, NodePool, arch_of_platform, karpenter_pools, terraform_pools
from urr_audit.facts.pipeline import Push, platforms, pushes, same_repository
from urr_audit.model.common import Severity, Span
from urr_audit.model.k8s_facts import Container, Workload, facts
from urr_audit.model.project import Project
from urr_audit.wording import listed


class ArchitectureParams(PairingParams):
    # architecture -> EC2 instance families (the part of an instance type before the dot)
    instance_families: dict[str, list[str]]
    # regex (full match) of an EKS AMI type -> architecture
    ami_types: dict[str, str] = Field(default_factory=dict)
    # what an EKS managed node group runs when it names neither instance types nor a launch template
    default_instance_types: list[str] = Field(default_factory=lambda: ["t3.medium"])
    # regex (full match) of a `runs-on` label -> the platform a build without `platforms` gets
    runner_platforms: dict[str, str] = Field(default_factory=dict)


@dataclass
class _Image:
    """One pushed repository: the platforms every push of it builds, and how that is known."""

    repository: str
    archs: set[str] | None = field(default_factory=set)
    reasons: list[str] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)


def _anchor(p: Push) -> Span:
    s = p.step.with_.get("platforms") if p.build.tool == "docker/build-push-action" else None
    return s.span if s is not None else p.build.span


def _images(project: Project, runner_platforms: dict[str, str]) -> dict[str, _Image]:
    out: dict[str, _Image] = {}
    for p in pushes(project):
        if p.repository is None:
            continue
        img = out.setdefault(p.repository, _Image(p.repository))
        img.pushes.append(p)
        found, how = platforms(p, runner_platforms)
        if found is None:
            img.archs = None
            img.reasons.append(how)
        elif img.archs is not None:
            img.archs |= {arch_of_platform(x) for x in found}
    return out


def _reach(w: Workload, pools: list[NodePool]) -> list[tuple[NodePool, str | None]]:
    """(pool, architecture) of the nodes the pods may be scheduled on; architecture None for a
    pool whose architectures are not known."""
    out: list[tuple[NodePool, str | None]] = []
    for pool in pools:
        if pool.architectures is None:
            if w.allows_node(pool.labels) is not False:
                out.append((pool, None))
            continue
        for arch in sorted(pool.architectures):
            labels = {**pool.labels, **dict.fromkeys(ARCH_KEYS, arch)}
            if w.allows_node(labels) is not False:
                out.append((pool, arch))
    return out


@dataclass
class _Case:
    """Workloads of one environment running images of one push step whose nodes cannot run them."""

    anchor: Span
    image_archs: set[str]
    bad: dict[str, NodePool] = field(default_factory=dict)
    partial: bool = False
    workloads: list[tuple[Workload, Container, str]] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


@check(
    "cross-image-architecture",
    scope="project",
    params=ArchitectureParams,
    subjects=("github:build", "terraform:aws_eks_node_group|kubernetes:NodePool|kubernetes:Provisioner"),
)
def image_architecture(ctx: Context, project: Project, params: ArchitectureParams) -> Iterator[Hit]:
    """Images a workflow pushes for platforms that none (or only some) of the nodes of the
    cluster running them can execute: the architectures of the EKS managed node groups the
    paired Terraform environment creates (AMI type, instance types, launch template) and of the
    Karpenter NodePools deployed into the cluster, as far as the pods' nodeSelector and node
    affinity let them be scheduled. Instance families map to architectures through a param;
    an unknown family, instance type or platform leaves the case undecided."""
    pairs = pairings(project, params)
    if not pairs:
        return
    images = _images(project, params.runner_platforms)
    if not images:
        return
    table = ArchTable(params.instance_families, params.ami_types)
    for pair in pairs:
        f = facts(pair.kubernetes)
        scope_objects = [o for o in pair.kubernetes.objects] + [
            o for n in pair.kubernetes.neighbours for o in n.objects
        ]
        pools = terraform_pools(pair.terraform, table, params.default_instance_types) + karpenter_pools(
            scope_objects, table
        )
        if not pools:
            continue
        cases: dict[tuple[str, int], _Case] = {}
        for w in f.pod_workloads():
            for c in w.all_containers:
                if c.image is None:
                    continue
                img = next((i for r, i in images.items() if same_repository(r, c.image.repository)), None)
                if img is None:
                    continue
                reach = _reach(w, pools)
                if not reach:
                    continue
                first = img.pushes[0]
                key = (first.workflow.path, _anchor(first).line)
                if img.archs is None:
                    known = {a for _, a in reach if a is not None}
                    if len(known) == 1 and all(a is not None for _, a in reach):
                        case = cases.setdefault(key, _Case(_anchor(first), set()))
                        case.unknown.append(f"{img.repository}: {img.reasons[0]}")
                        case.workloads.append((w, c, img.repository))
                        case.pushes += img.pushes
                    continue
                good = [(p, a) for p, a in reach if a is not None and a in img.archs]
                bad = [(p, a) for p, a in reach if a is not None and a not in img.archs]
                unknown = [p for p, a in reach if a is None]
                if not bad and (good or not unknown):
                    continue  # every node the pods may land on runs it (or none is reachable)
                case = cases.setdefault(key, _Case(_anchor(first), set(img.archs)))
                if not good and unknown:
                    case.unknown.append(f"{img.repository}: {unknown[0].describe()}")
                elif not good and pair.terraform.incomplete:
                    case.unknown.append(f"{pair.terraform.incomplete[0]} (it may create node groups)")
                case.partial = case.partial or bool(good)
                case.bad.update({p.address: p for p, _ in bad})
                case.workloads.append((w, c, img.repository))
                case.pushes += img.pushes
        for case in cases.values():
            yield _hit(ctx, pair.label, pair.kubernetes.name, pair.terraform.name, case)


def _hit(ctx: Context, label: str, k8s: str, tf: str, case: _Case) -> Hit:
    names = sorted({r for _, _, r in case.workloads})
    images = f"image{'s' if len(names) > 1 else ''} {listed(names)} {'are' if len(names) > 1 else 'is'}"
    who = workload_names(w for w, _, _ in case.workloads)
    one = len({(w.kind, w.name) for w, _, _ in case.workloads}) == 1
    related = spans(
        [p.span for p in case.bad.values()]
        + [c.origin("image") for _, c, _ in case.workloads]
        + [p.span for p in case.pushes],
        exclude=case.anchor,
    )
    if not case.bad or (case.unknown and not case.partial):
        return ctx.undecided(
            at=case.anchor,
            environment=k8s,
            related=related,
            message=f"{who} in {label} run{'s' if one else ''} {images.rsplit(' ', 1)[0]}, "
            f"but whether the nodes can execute it is not known: {case.unknown[0]}",
        )
    built = "/".join(sorted(case.image_archs)) or "no known architecture"
    nodes = "; ".join(p.describe() for p in case.bad.values())
    if case.partial:
        return ctx.finding(
            at=case.anchor,
            environment=k8s,
            related=related,
            severity=Severity.MEDIUM,
            message=f"{images[0].upper()}{images[1:]} built for {built} only; the cluster of Kubernetes environment "
            f"{k8s} also has nodes of another architecture from Terraform {tf}, and nothing keeps the pods of {who} "
            f"off them: {nodes}. Pods scheduled there fail (no matching manifest / exec format error)",
        )
    return ctx.finding(
        at=case.anchor,
        environment=k8s,
        related=related,
        message=f"{images[0].upper()}{images[1:]} built for {built} only, but every node Terraform {tf} gives the "
        f"cluster of Kubernetes environment {k8s} is of another architecture: {nodes}. {who} never "
        f"start{'s' if one else ''} there "
        "(no matching manifest / exec format error)",
    )
