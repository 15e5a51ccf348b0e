"""Availability during voluntary disruptions and scaling: PDB coverage, PDBs that block
drains, HPAs aimed at the wrong object, Deployments running beside their Rollout."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, NoParams, check
from urr_audit.model.k8s_facts import ROLLOUT_SCALES_DOWN_REF, SCALABLE_KINDS, EnvironmentFacts, Workload, facts
from urr_audit.model.kubernetes import K8sEnvironment


class PdbCoverageParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_replicas: int = 2  # workloads running at least this many replicas need a PDB
    kinds: list[str] = ["Deployment", "StatefulSet", "Rollout"]


def _replica_phrase(f: EnvironmentFacts, w: Workload, n: int) -> str:
    hpa = f.hpa_for(w)
    return f"{n} replicas (HPA {hpa.name} minReplicas)" if hpa else f"{n} replicas"


@check(
    "k8s-pdb-coverage",
    scope="kubernetes.environment",
    params=PdbCoverageParams,
    closed_world="kubernetes",
    subjects=tuple(sorted(SCALABLE_KINDS)),
)
def pdb_coverage(ctx: Context, env: K8sEnvironment, params: PdbCoverageParams) -> Iterator[Hit]:
    """Workloads running several replicas (after patches and HPA minReplicas) that no
    PodDisruptionBudget selects. Reported where the replica count is set."""
    f = facts(env)
    for w in f.workloads:
        if w.kind not in params.kinds or not w.has_pods:
            continue
        n = f.effective_replicas(w)
        if not n.is_known or n.value < params.min_replicas or f.pdbs_for(w):
            continue
        yield ctx.finding(
            at=n.span or w.span,
            node=w,
            related=[w.span],
            message=f"{w.kind} {w.name} runs {_replica_phrase(f, w, n.value)} but no PodDisruptionBudget "
            f"selects its pods ({', '.join(f'{k}={v}' for k, v in sorted(w.pod_labels.items()))}): "
            "a node drain may evict them all at once",
        )


@check("k8s-pdb-blocks-eviction", scope="kubernetes.environment", params=NoParams, subjects=("PodDisruptionBudget",))
def pdb_blocks_eviction(ctx: Context, env: K8sEnvironment, params: NoParams) -> Iterator[Hit]:
    """PodDisruptionBudgets that allow no voluntary eviction: maxUnavailable 0, or
    minAvailable at or above the replicas of the pods they select (HPA minReplicas counted)."""
    f = facts(env)
    for pdb in f.pdbs:
        pods = f.pdb_workloads(pdb)
        if pdb.max_unavailable is not None and pdb.max_unavailable.value == 0:
            yield ctx.finding(
                at=pdb.obj.origin("spec.maxUnavailable"),
                node=pdb,
                message=f"PodDisruptionBudget {pdb.name}: maxUnavailable {pdb.max_unavailable} "
                "allows no eviction; node drains will hang",
            )
            continue
        ma = pdb.min_available
        if ma is None or not pods:
            continue
        counts = [f.effective_replicas(w) for w in pods]
        if not all(c.is_known for c in counts):
            continue  # a DaemonSet / Job has no replica count to compare with
        total = sum(c.value for c in counts)
        if total == 0:
            continue
        if ma.scaled(total) >= total:
            names = ", ".join(sorted(f"{w.kind} {w.name}" for w in pods))
            yield ctx.finding(
                at=pdb.obj.origin("spec.minAvailable"),
                node=pdb,
                related=[c.span for c in counts if c.span],
                message=f"PodDisruptionBudget {pdb.name}: minAvailable {ma} with {total} "
                f"replica(s) of {names} allows no eviction; node drains will hang",
            )


@check(
    "k8s-hpa-target",
    scope="kubernetes.environment",
    params=NoParams,
    closed_world="kubernetes",
    subjects=("HorizontalPodAutoscaler",),
)
def hpa_target(ctx: Context, env: K8sEnvironment, params: NoParams) -> Iterator[Hit]:
    """HPAs whose scaleTargetRef names no object of the environment, or a Deployment that an
    Argo Rollout (workloadRef) takes over: the HPA then scales an object the Rollout
    controller keeps at zero, and the Rollout is never autoscaled."""
    f = facts(env)
    for hpa in f.hpas:
        target = f.workload(hpa.target_kind, hpa.namespace, hpa.target_name) or f.object(
            hpa.target_kind, hpa.namespace, hpa.target_name
        )
        if target is None:
            yield ctx.finding(
                at=hpa.obj.origin("spec.scaleTargetRef.name"),
                node=hpa,
                message=f"HorizontalPodAutoscaler {hpa.name} targets {hpa.target_kind} {hpa.target_name}, "
                "which this environment does not deploy",
            )
            continue
        if isinstance(target, Workload):
            rollouts = f.rollouts_referencing(target)
            if rollouts:
                r = rollouts[0]
                yield ctx.finding(
                    at=hpa.obj.origin("spec.scaleTargetRef.kind"),
                    node=hpa,
                    related=[r.origin("spec.workloadRef")],
                    message=f"HorizontalPodAutoscaler {hpa.name} scales {target.kind} {target.name}, but "
                    f"Rollout {r.name} runs its pods (workloadRef): target the Rollout "
                    "(apiVersion argoproj.io/v1alpha1, kind Rollout)",
                )


@check(
    "k8s-rollout-duplicates-deployment",
    scope="kubernetes.environment",
    params=NoParams,
    closed_world="kubernetes",
    subjects=("Rollout",),
)
def rollout_duplicates_deployment(ctx: Context, env: K8sEnvironment, params: NoParams) -> Iterator[Hit]:
    """A Deployment still running pods beside the Argo Rollout that replaces it.

    Fine when the Rollout's workloadRef names the Deployment and either the Deployment is
    scaled to 0 or the Rollout scales it down itself (`scaleDown: onsuccess|progressively`).
    A Rollout with its own template and a running Deployment of the same name serve the same
    Service twice; a workloadRef to a missing Deployment leaves the Rollout without pods."""
    f = facts(env)
    for r in f.workloads:
        if r.kind != "Rollout":
            continue
        ref = r.workload_ref
        if ref is not None:
            d = f.workload(ref.kind, r.namespace, ref.name)
            if d is None:
                yield ctx.finding(
                    at=r.origin("spec.workloadRef.name"),
                    node=r,
                    message=f"Rollout {r.name}: workloadRef names {ref.kind} {ref.name}, "
                    "which this environment does not deploy: the Rollout has no pod template",
                )
                continue
            if ref.scale_down in ROLLOUT_SCALES_DOWN_REF:
                continue
        else:
            d = f.workload("Deployment", r.namespace, r.name)
            if d is None:
                continue
        n = f.effective_replicas(d)
        if n.is_known and n.value == 0:
            continue
        how = (
            f"its workloadRef keeps scaleDown: {ref.scale_down}"
            if ref is not None
            else "the Rollout has its own pod template"
        )
        # At the Rollout, where the pair is decided (its workloadRef takes scaleDown; without
        # one, the overlay entry or file that adds it beside the Deployment); never at a
        # replica count an HPA or patch merely sets.
        yield ctx.finding(
            at=r.origin("spec.workloadRef") if ref is not None else r.span,
            node=d,
            related=[s for s in (n.span, d.span) if s is not None],
            message=f"Deployment {d.name} keeps running {n.value if n.is_known else 'its'} replica(s) beside "
            f"Rollout {r.name} ({how}): scale the Deployment to 0 or set workloadRef.scaleDown",
        )


@check(
    "k8s-hpa-beside-rollout",
    scope="kubernetes.environment",
    params=NoParams,
    closed_world="kubernetes",
    subjects=("Rollout",),
)
def hpa_beside_rollout(ctx: Context, env: K8sEnvironment, params: NoParams) -> Iterator[Hit]:
    """HPAs scaling a Deployment that the environment also runs as a same-named Argo Rollout
    with its own pod template (a migration left half-done): the Rollout, which serves the
    traffic once promoted, is never autoscaled, and the HPA grows pods beside it."""
    f = facts(env)
    for hpa in f.hpas:
        if hpa.target_kind != "Deployment":
            continue
        d = f.workload("Deployment", hpa.namespace, hpa.target_name)
        r = f.workload("Rollout", hpa.namespace, hpa.target_name)
        if d is None or r is None or r.workload_ref is not None:
            continue  # a workloadRef Rollout is URR-K8S-008's case
        if f.hpas_for(r):
            continue  # the Rollout has its own HPA: this one is about the Deployment alone
        yield ctx.finding(
            at=hpa.obj.origin("spec.scaleTargetRef.kind"),
            node=hpa,
            related=[r.span, d.span],
            message=f"HorizontalPodAutoscaler {hpa.name} scales Deployment {d.name}, but the environment also "
            f"runs Rollout {r.name} with its own pod template: the Rollout is never autoscaled; target the "
            "Rollout (apiVersion argoproj.io/v1alpha1, kind Rollout) and remove the Deployment",
        )
