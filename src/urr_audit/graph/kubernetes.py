"""Kubernetes part of the graph: per environment, the workloads with the facts a review needs
(image, replicas, HPA, PDB, ports, ConfigMaps/Secrets read), and the links between objects:
Service -> workload (selects), HPA -> target (scales), PDB -> workload (protects),
NetworkPolicy -> workload (applies_to), environment -> overlay -> base (builds_on)."""

from __future__ import annotations

import networkx as nx

from urr_audit.model.k8s_facts import EnvironmentFacts, Workload, facts
from urr_audit.model.project import Project


def _id(address: str) -> str:
    return f"k8s:{address}"


def _evidence(span) -> dict:
    return {"path": span.path, "line": span.line}


def workload_summary(f: EnvironmentFacts, w: Workload) -> dict:
    """The row of a review's workload table, as plain data."""
    hpas = [h for h in f.hpas if h.target_kind == w.kind and h.target_name == w.name and h.namespace == w.namespace]
    return {
        "kind": w.kind,
        "name": w.name,
        "namespace": w.namespace,
        "images": [c.image.raw for c in w.all_containers if c.image],
        "replicas": w.replicas.value if w.replicas.is_known else None,
        "hpa": [{"name": h.name, "min": h.min_replicas, "max": h.max_replicas} for h in hpas],
        "pdb": [p.name for p in f.pdbs_for(w)],
        "ports": sorted({p.number for c in w.containers for p in c.ports if p.number is not None}),
        "config_maps": w.config_maps_read(),
        "secrets": w.secrets_read(),
        "services": [s.name for s in f.services_for(w)],
        "network_policies": [p.name for p in f.policies_for(w)],
    }


def add_kubernetes(g: nx.DiGraph, project: Project) -> None:
    overlays = {o.path: o for o in project.kubernetes.overlays}
    for o in overlays.values():
        g.add_node(f"kustomize:{o.path}", kind="overlay", label=o.path, **_evidence(o.span))
    for o in overlays.values():
        for base in o.bases:
            if base in overlays:
                g.add_edge(f"kustomize:{o.path}", f"kustomize:{base}", kind="builds_on")

    for env in sorted(project.kubernetes.environments, key=lambda e: e.name):
        env_id = f"k8s:{env.name}"
        g.add_node(env_id, kind="kubernetes_environment", label=env.name, path=env.path, line=1)
        if env.path in overlays:
            g.add_edge(env_id, f"kustomize:{env.path}", kind="renders")
        f = facts(env)
        for w in f.workloads:
            g.add_node(_id(w.address), label=w.name, **_evidence(w.span), **workload_summary(f, w))
            g.add_edge(env_id, _id(w.address), kind="runs")
        for svc in f.services:
            g.add_node(_id(svc.address), kind="Service", label=svc.name, **_evidence(svc.span))
            for w in f.service_workloads(svc):
                g.add_edge(_id(svc.address), _id(w.address), kind="selects")
        for pdb in f.pdbs:
            g.add_node(_id(pdb.address), kind="PodDisruptionBudget", label=pdb.name, **_evidence(pdb.span))
            for w in f.pdb_workloads(pdb):
                g.add_edge(_id(pdb.address), _id(w.address), kind="protects")
        for hpa in f.hpas:
            g.add_node(_id(hpa.address), kind="HorizontalPodAutoscaler", label=hpa.name, **_evidence(hpa.span))
            target = f.workload(hpa.target_kind, hpa.namespace, hpa.target_name)
            if target is not None:
                g.add_edge(_id(hpa.address), _id(target.address), kind="scales")
        for pol in f.network_policies:
            g.add_node(_id(pol.address), kind="NetworkPolicy", label=pol.name, **_evidence(pol.span))
            for w in f.policy_workloads(pol):
                g.add_edge(_id(pol.address), _id(w.address), kind="applies_to")
