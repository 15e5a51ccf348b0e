"""Facts joining a rendered Kubernetes environment to the rest of the model: what each
workload's configuration points at (an in-cluster Service, a cloud endpoint created by
Terraform, another host), rollout strategies, and in-cluster stand-ins one environment runs for
what another reaches outside the cluster (a local cluster's PostgreSQL for a managed database)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from urr_audit.facts import aws_catalog
from urr_audit.facts.tf import existing
from urr_audit.model.common import Span
from urr_audit.model.k8s_facts import EnvironmentFacts, Workload
from urr_audit.model.localcluster import LocalCluster, PortMapping
from urr_audit.model.terraform import Environment


@dataclass(frozen=True)
class Dependency:
    """A host (and port) a workload's configuration names, and what it is."""

    workload: str
    variable: str
    host: str
    port: int | None
    scheme: str | None
    kind: str  # service | unknown-service | foreign | external | ip | local
    span: Span
    service: str | None = None  # the in-cluster Service name
    backends: tuple[str, ...] = ()  # workloads behind that Service
    resource: str | None = None  # Terraform resource whose endpoint name the host carries

    @property
    def what(self) -> str:
        """PostgreSQL, Redis, Kafka TLS ... by scheme, else by port; "" when neither says."""
        if self.scheme:
            name = aws_catalog.SCHEME_NAMES.get(self.scheme.lower())
            if name:
                return name
        return aws_catalog.PORT_NAMES.get(self.port, "") if self.port else ""


def endpoint_names(env: Environment) -> dict[str, str]:
    """Known endpoint names of the environment's resources (`aws_catalog.ENDPOINT_NAMES`)."""
    out: dict[str, str] = {}
    for ri in existing(env, *aws_catalog.ENDPOINT_NAMES):
        v = ri.get(aws_catalog.ENDPOINT_NAMES[ri.type])
        if v.is_known and isinstance(v.value, str) and v.value:
            out[v.value.lower()] = ri.address
    return out


def match_host(host: str, names: dict[str, str]) -> str | None:
    """The resource whose endpoint name is one whole DNS label of `host` (the first label,
    or the second after a node prefix such as `b-1.` or `master.`); None otherwise."""
    labels = host.lower().split(".")
    for label in labels[:2]:
        if label in names:
            return names[label]
    return None


def dependencies(f: EnvironmentFacts, w: Workload, names: dict[str, str] | None = None) -> list[Dependency]:
    out = []
    seen: set[tuple[str, str, int | None]] = set()
    for e in f.endpoints(w):
        key = (e.variable, e.host, e.port)
        if key in seen:
            continue
        seen.add(key)
        target = f.resolve_host(e.host, w.namespace)
        backends: tuple[str, ...] = ()
        if target.service is not None:
            backends = tuple(sorted({b.name for b in f.service_workloads(target.service)}))
        resource = match_host(e.host, names) if names and target.kind == "external" else None
        out.append(
            Dependency(
                w.name, e.variable, e.host, e.port, e.scheme, target.kind, e.span, target.name, backends, resource
            )
        )
    return out


@dataclass(frozen=True)
class RolloutStrategy:
    name: str
    kind: str  # blueGreen | canary | unknown
    span: Span
    active: str | None = None
    preview: str | None = None
    auto_promotion: bool | None = None
    analysis: tuple[str, ...] = ()
    steps: int | None = None


def rollout_strategy(w: Workload) -> RolloutStrategy:
    spec = w.obj.body.get("spec")
    strategy = spec.get("strategy") if isinstance(spec, dict) else None
    if not isinstance(strategy, dict) or not strategy:
        return RolloutStrategy(w.name, "unknown", w.obj.span)
    kind = next(iter(strategy))
    raw = strategy.get(kind)
    body: dict[str, Any] = raw if isinstance(raw, dict) else {}
    span = w.obj.origin(f"spec.strategy.{kind}")
    templates: list[str] = []
    for key in ("prePromotionAnalysis", "postPromotionAnalysis", "analysis"):
        a = body.get(key)
        if isinstance(a, dict):
            templates += [str(t.get("templateName")) for t in a.get("templates", []) or [] if isinstance(t, dict)]
    steps = body.get("steps")
    auto = body.get("autoPromotionEnabled")
    return RolloutStrategy(
        w.name,
        str(kind),
        span,
        _str(body.get("activeService")),
        _str(body.get("previewService")),
        auto if isinstance(auto, bool) else (True if kind == "blueGreen" else None),
        tuple(templates),
        len(steps) if isinstance(steps, list) else None,
    )


def _str(v: object) -> str | None:
    return str(v) if v is not None else None


@dataclass(frozen=True)
class StandIn:
    """`variable` of `workload` names an in-cluster Service in `local_env` (backed by a
    workload there) and a host outside the cluster in `other_envs`."""

    workload: str
    variable: str
    local_env: str
    service: str
    backends: tuple[str, ...]
    images: tuple[str, ...]
    span: Span
    elsewhere: tuple[tuple[str, str, Span], ...]  # (environment, host, span)


_NOISE = re.compile(r"(?i)(URL|URI)$")


def stand_ins(per_env: dict[str, tuple[EnvironmentFacts, list[Dependency]]]) -> list[StandIn]:
    by_key: dict[tuple[str, str], dict[str, Dependency]] = {}
    for env, (_, deps) in per_env.items():
        for d in deps:
            by_key.setdefault((d.workload, d.variable), {}).setdefault(env, d)
    out = []
    for (workload, variable), envs in sorted(by_key.items()):
        external = {e: d for e, d in envs.items() if d.kind == "external"}
        for env, d in sorted(envs.items()):
            if d.kind != "service" or not d.backends or not external:
                continue
            f = per_env[env][0]
            images = tuple(
                sorted(
                    {
                        c.image.raw
                        for w in f.workloads
                        if w.name in d.backends
                        for c in w.containers
                        if c.image is not None
                    }
                )
            )
            out.append(
                StandIn(
                    workload,
                    variable,
                    env,
                    d.service or d.host,
                    d.backends,
                    images,
                    d.span,
                    tuple((e, x.host, x.span) for e, x in sorted(external.items())),
                )
            )
    return out


@dataclass(frozen=True)
class NodePortTarget:
    environment: str
    service: str
    workloads: tuple[str, ...]
    span: Span  # where the nodePort is set


@dataclass(frozen=True)
class HostPort:
    """A port a local cluster maps from the host into a node, and the NodePort Services of the
    repository's environments that listen on that node port."""

    cluster: LocalCluster
    role: str
    mapping: PortMapping
    targets: tuple[NodePortTarget, ...]


def node_ports(f: EnvironmentFacts) -> dict[int, list[NodePortTarget]]:
    """nodePort -> the Services of the environment that claim it (type NodePort or LoadBalancer)."""
    out: dict[int, list[NodePortTarget]] = {}
    for svc in f.services:
        if svc.type not in ("NodePort", "LoadBalancer"):
            continue
        raw = svc.obj.body.get("spec", {}).get("ports") if isinstance(svc.obj.body.get("spec"), dict) else None
        for i, port in enumerate(raw if isinstance(raw, list) else []):
            n = port.get("nodePort") if isinstance(port, dict) else None
            if isinstance(n, int) and not isinstance(n, bool):
                # the strategic-merge key of a Service port is its `port`: patches are recorded so
                where = f"spec.ports[port={port['port']}]" if "port" in port else f"spec.ports[{i}]"
                workloads = tuple(sorted({w.name for w in f.service_workloads(svc)}))
                out.setdefault(n, []).append(
                    NodePortTarget(f.environment, svc.name, workloads, svc.obj.origin(f"{where}.nodePort"))
                )
    return out


def host_ports(clusters: list[LocalCluster], envs: list[EnvironmentFacts]) -> list[HostPort]:
    by_port: dict[int, list[NodePortTarget]] = {}
    for f in envs:
        for n, found in node_ports(f).items():
            by_port.setdefault(n, []).extend(found)
    out = []
    for cluster in clusters:
        for node in cluster.nodes:
            for m in node.port_mappings:
                found = by_port.get(m.container_port, []) if m.container_port is not None else []
                out.append(HostPort(cluster, node.role, m, tuple(found)))
    return out
