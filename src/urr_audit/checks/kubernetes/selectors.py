"""Selectors that select nothing: a PDB, Service or NetworkPolicy aimed at pods that the
environment does not run protects, serves or opens nothing."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.model.k8s_facts import facts
from urr_audit.model.kubernetes import K8sEnvironment


class SelectorParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kinds: list[str] = ["PodDisruptionBudget", "Service", "NetworkPolicy"]
    policy_peers: bool = True  # also NetworkPolicy from/to podSelectors within the namespace


@check(
    "k8s-selector-matches-nothing",
    scope="kubernetes.environment",
    params=SelectorParams,
    closed_world="kubernetes",
    subjects=lambda p: p.kinds,
)
def selector_matches_nothing(ctx: Context, env: K8sEnvironment, params: SelectorParams) -> Iterator[Hit]:
    """Label selectors that match no pod of the environment (same namespace).

    Namespaces where the environment runs no pod at all are left alone: their pods come from
    elsewhere (a Helm release, an operator), so "matches nothing" would be unfounded."""
    f = facts(env)
    deployed = {w.namespace for w in f.workloads if w.has_pods}
    if "PodDisruptionBudget" in params.kinds:
        for pdb in f.pdbs:
            if pdb.namespace not in deployed:
                continue
            if pdb.selector is not None and not pdb.selector.is_empty and not f.pdb_workloads(pdb):
                yield ctx.finding(
                    at=pdb.obj.origin("spec.selector"),
                    node=pdb,
                    message=f"PodDisruptionBudget {pdb.name}: selector {pdb.selector} matches no pod "
                    f"in namespace {pdb.namespace}",
                )
    if "Service" in params.kinds:
        for svc in f.services:
            if svc.namespace not in deployed:
                continue
            if svc.selector is not None and svc.type != "ExternalName" and not f.service_workloads(svc):
                yield ctx.finding(
                    at=svc.obj.origin("spec.selector"),
                    node=svc,
                    message=f"Service {svc.name}: selector {svc.selector} matches no pod in namespace "
                    f"{svc.namespace}; it has no endpoints",
                )
    if "NetworkPolicy" not in params.kinds:
        return
    for pol in f.network_policies:
        if pol.namespace not in deployed:
            continue
        if not pol.pod_selector.is_empty and not f.policy_workloads(pol):
            yield ctx.finding(
                at=pol.obj.origin("spec.podSelector"),
                node=pol,
                message=f"NetworkPolicy {pol.name}: podSelector {pol.pod_selector} matches no pod in "
                f"namespace {pol.namespace}",
            )
        if not params.policy_peers:
            continue
        for rule in (*pol.ingress, *pol.egress):
            side = "from" if rule.direction == "ingress" else "to"
            for i, peer in enumerate(rule.peers):
                # Only peers confined to the policy's own namespace: other namespaces are not rendered here.
                if peer.ip_block or peer.namespace_selector is not None or peer.pod_selector is None:
                    continue
                if peer.pod_selector.is_empty or f.peer_workloads(pol, peer):
                    continue
                yield ctx.finding(
                    at=pol.obj.origin(f"{rule.path}.{side}[{i}].podSelector"),
                    node=pol,
                    message=f"NetworkPolicy {pol.name}: {rule.direction} rule {rule.index + 1} allows "
                    f"{'traffic from' if side == 'from' else 'traffic to'} pods {peer.pod_selector}, "
                    f"which no workload in namespace {pol.namespace} has",
                )
