"""Typed facts about one rendered Kubernetes environment.

Rules, the review report and the graph read these instead of `K8sObject.body`: workloads
with their pod template (labels, replicas after patches and HPA, containers with parsed
images, env, security context, resources, probes), Services, PodDisruptionBudgets, HPAs,
NetworkPolicies, ConfigMaps and Secrets, and the relations between them (Service -> pods,
HPA -> target, PDB -> pods, NetworkPolicy -> pods, workload -> ConfigMaps it reads, the
hosts and ports its configuration names).

Everything here is a pure function of a `K8sEnvironment`; `facts(env)` builds the view once
per environment. Each fact keeps its `K8sObject` so a rule can anchor a finding at
`obj.origin(path)` (the patch or kustomization entry that set the field) and address it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from urr_audit.model.common import Value, private
from urr_audit.model.k8s_endpoints import DEFAULT_HOST_KEYS, parse_endpoints
from urr_audit.model.k8s_parse import _config_map, _hpa, _network_policy, _ns, _pdb, _secret, _service, _workload
from urr_audit.model.k8s_types import (
    DEFAULT_NAMESPACE,
    ROLLOUT_SCALES_DOWN_REF,
    SCALABLE_KINDS,
    WORKLOAD_KINDS,
    ConfigMap,
    Container,
    ContainerPort,
    Endpoint,
    EnvFromRef,
    EnvValueFrom,
    EnvVar,
    HorizontalPodAutoscaler,
    HostTarget,
    HPAMetric,
    ImageRef,
    IntOrPercent,
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    PodDisruptionBudget,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    ResolvedEnv,
    Resources,
    Secret,
    SecurityContext,
    SelectorRequirement,
    Service,
    ServicePort,
    Workload,
    WorkloadRef,
    _dict,
    _get,
    _int,
    _s,
)
from urr_audit.model.kubernetes import K8sEnvironment, K8sObject

# The fact types live in k8s_types (parsing in k8s_parse, endpoints in k8s_endpoints); they
# are re-exported here so rules import everything Kubernetes from one place.
__all__ = [
    "DEFAULT_HOST_KEYS",
    "DEFAULT_NAMESPACE",
    "ROLLOUT_SCALES_DOWN_REF",
    "SCALABLE_KINDS",
    "WORKLOAD_KINDS",
    "ConfigMap",
    "Container",
    "ContainerPort",
    "Endpoint",
    "EnvFromRef",
    "EnvValueFrom",
    "EnvVar",
    "EnvironmentFacts",
    "HPAMetric",
    "HorizontalPodAutoscaler",
    "HostTarget",
    "IPBlock",
    "ImageRef",
    "IntOrPercent",
    "LabelSelector",
    "NetworkPolicy",
    "PodDisruptionBudget",
    "PolicyPeer",
    "PolicyPort",
    "PolicyRule",
    "ResolvedEnv",
    "Resources",
    "Secret",
    "SecurityContext",
    "SelectorRequirement",
    "Service",
    "ServicePort",
    "Workload",
    "WorkloadRef",
    "build_facts",
    "expand_env_refs",
    "facts",
    "parse_endpoints",
]

# --- the environment view ----------------------------------------------------------------------


def _key(kind: str, namespace: str, name: str) -> tuple[str, str, str]:
    return (kind, namespace, name)


class EnvironmentFacts(BaseModel):
    """The typed view of one environment, with relations between its objects."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    environment: str
    path: str
    workloads: list[Workload] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)
    pdbs: list[PodDisruptionBudget] = Field(default_factory=list)
    hpas: list[HorizontalPodAutoscaler] = Field(default_factory=list)
    network_policies: list[NetworkPolicy] = Field(default_factory=list)
    config_maps: list[ConfigMap] = Field(default_factory=list)
    secrets: list[Secret] = Field(default_factory=list)
    namespaces: dict[str, dict[str, str]] = Field(default_factory=dict)  # name -> labels
    objects: dict[tuple[str, str, str], K8sObject] = Field(default_factory=dict)

    _workload_index: dict[tuple[str, str, str], Workload] = PrivateAttr(default_factory=dict)
    # What shares the environment's cluster(s) through other Argo CD Applications, with the
    # environment's own facts: relations (what a name, selector or namespace baseline finds)
    # are resolved there; the lists above stay the environment's own (what rules report on).
    _scope: EnvironmentFacts | None = PrivateAttr(default=None)
    # Namespaces where another Application deploys something not read (a Helm chart, another
    # repository); "" when one deploys to a namespace not known
    _unread: frozenset[str] = PrivateAttr(default=frozenset())
    # what `resolved_env` / `endpoints` found, by the identity of their arguments (kept beside
    # the result, so an id is never reused): several rules ask the same of every workload
    _memo: dict[tuple[Any, ...], tuple[Any, ...]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._workload_index = {w.key: w for w in self.workloads}

    @property
    def scope(self) -> EnvironmentFacts:
        """What is deployed where this environment is: itself and what other Applications of
        the repository deploy to the same cluster (itself alone when no Application deploys it)."""
        scope: EnvironmentFacts | None = private(self)["_scope"]
        return scope or self

    @property
    def shared(self) -> bool:
        """Whether other Applications deploy to the same cluster (the scope is wider)."""
        return self._scope is not None

    # --- lookups ---------------------------------------------------------------------------
    def workload(self, kind: str, namespace: str, name: str) -> Workload | None:
        own = self._workload_index.get(_key(kind, namespace, name))
        if own is None and self._scope is not None:
            return self._scope._workload_index.get(_key(kind, namespace, name))
        return own

    def object(self, kind: str, namespace: str, name: str) -> K8sObject | None:
        return self.objects.get(_key(kind, namespace, name)) or self.scope.objects.get(_key(kind, namespace, name))

    def service(self, namespace: str, name: str) -> Service | None:
        return next((s for s in self.scope.services if s.namespace == namespace and s.name == name), None)

    def config_map(self, namespace: str, name: str) -> ConfigMap | None:
        return next((c for c in self.scope.config_maps if c.namespace == namespace and c.name == name), None)

    def secret(self, namespace: str, name: str) -> Secret | None:
        return next((s for s in self.scope.secrets if s.namespace == namespace and s.name == name), None)

    def policies_in(self, namespace: str) -> list[NetworkPolicy]:
        """NetworkPolicies of a namespace, whichever Application deploys them."""
        return [p for p in self.scope.network_policies if p.namespace == namespace]

    def service_account_automount(self, namespace: str, name: str) -> bool | None:
        """automountServiceAccountToken of that ServiceAccount; None when the environment has
        no such object or it leaves the field unset (the token is then mounted)."""
        sa = self.object("ServiceAccount", namespace, name)
        v = sa.body.get("automountServiceAccountToken") if sa is not None else None
        return v if isinstance(v, bool) else None

    # --- pods and selectors ----------------------------------------------------------------
    def pod_workloads(self) -> list[Workload]:
        """Workloads that define pods once: a Rollout borrowing a Deployment's template is
        left out in favour of that Deployment (same pods, same manifest)."""
        return [w for w in self.workloads if w.owns_template]

    def pods_matching(self, selector: LabelSelector | None, namespace: str | None) -> list[Workload]:
        """Workloads whose pods `selector` selects (in `namespace`; None: any namespace)."""
        if selector is None:
            return []
        return [
            w
            for w in self.scope.workloads
            if (namespace is None or w.namespace == namespace) and w.has_pods and selector.matches(w.pod_labels)
        ]

    def service_workloads(self, svc: Service) -> list[Workload]:
        return self.pods_matching(svc.selector, svc.namespace)

    def pdb_workloads(self, pdb: PodDisruptionBudget) -> list[Workload]:
        return self.pods_matching(pdb.selector, pdb.namespace)

    def pdbs_for(self, w: Workload) -> list[PodDisruptionBudget]:
        return [
            p
            for p in self.scope.pdbs
            if p.namespace == w.namespace and p.selector is not None and p.selector.matches(w.pod_labels)
        ]

    def services_for(self, w: Workload) -> list[Service]:
        return [
            s
            for s in self.scope.services
            if s.namespace == w.namespace and s.selector is not None and s.selector.matches(w.pod_labels)
        ]

    def policies_for(self, w: Workload, direction: Literal["Ingress", "Egress"] | None = None) -> list[NetworkPolicy]:
        """Policies selecting `w`'s pods. None for host-network pods: NetworkPolicy leaves
        their traffic undefined and common CNIs do not filter it."""
        if w.host_network:
            return []
        return [
            p
            for p in self.scope.network_policies
            if p.namespace == w.namespace
            and p.pod_selector.matches(w.pod_labels)
            and (direction is None or direction in p.policy_types)
        ]

    def policy_workloads(self, policy: NetworkPolicy) -> list[Workload]:
        return self.pods_matching(policy.pod_selector, policy.namespace)

    def peer_workloads(self, policy: NetworkPolicy, peer: PolicyPeer) -> list[Workload] | None:
        """Pods a peer selects; None for an ipBlock peer (not about pods)."""
        if peer.ip_block is not None:
            return None
        namespaces = self._namespaces_matching(peer.namespace_selector, policy.namespace)
        sel = peer.pod_selector or LabelSelector()
        return [
            w for w in self.scope.workloads if w.namespace in namespaces and w.has_pods and sel.matches(w.pod_labels)
        ]

    def _namespaces_matching(self, selector: LabelSelector | None, own: str, extra: set[str] = frozenset()) -> set[str]:  # type: ignore[assignment]
        scope = self.scope
        known = set(scope.namespaces) | {w.namespace for w in scope.workloads} | set(extra)
        if selector is None:
            return {own}
        out = set()
        for ns in known:
            labels = {**scope.namespaces.get(ns, {}), "kubernetes.io/metadata.name": ns}
            if selector.matches(labels):
                out.add(ns)
        return out

    # --- HPA / Rollout relations -------------------------------------------------------------
    def hpa_target(self, hpa: HorizontalPodAutoscaler) -> Workload | None:
        return self.workload(hpa.target_kind, hpa.namespace, hpa.target_name)

    def hpa_for(self, w: Workload) -> HorizontalPodAutoscaler | None:
        return next(
            (
                h
                for h in self.scope.hpas
                if h.namespace == w.namespace and h.target_kind == w.kind and h.target_name == w.name
            ),
            None,
        )

    def hpas_for(self, w: Workload) -> list[HorizontalPodAutoscaler]:
        return [
            h
            for h in self.scope.hpas
            if h.namespace == w.namespace and h.target_kind == w.kind and h.target_name == w.name
        ]

    def rollouts_referencing(self, w: Workload) -> list[Workload]:
        """Rollouts whose `workloadRef` names `w`."""
        return [
            r
            for r in self.scope.workloads
            if r.kind == "Rollout"
            and r.workload_ref is not None
            and r.namespace == w.namespace
            and r.workload_ref.kind == w.kind
            and r.workload_ref.name == w.name
        ]

    def replaced_by_rollout(self, w: Workload) -> Workload | None:
        """The Rollout that takes over `w`'s pods and scales `w` down itself, if any."""
        return next(
            (
                r
                for r in self.rollouts_referencing(w)
                if r.workload_ref and r.workload_ref.scale_down in ROLLOUT_SCALES_DOWN_REF
            ),
            None,
        )

    def effective_replicas(self, w: Workload) -> Value:
        """Replicas that run in steady state: 0 for a Deployment a Rollout scales down, else the
        HPA's minReplicas when one targets `w`, else spec.replicas after patches (absent: 1).
        Unknown for kinds without a replica count."""
        if self.replaced_by_rollout(w) is not None:
            return Value.known(0, span=w.replicas.span)
        hpa = self.hpa_for(w)
        if hpa is not None:
            return Value.known(hpa.min_replicas, span=hpa.obj.origin("spec.minReplicas"))
        if w.replicas.is_absent and w.scalable:
            return Value.known(1, span=w.obj.span)
        return w.replicas

    # --- configuration -----------------------------------------------------------------------
    def resolved_env(self, w: Workload, c: Container) -> list[ResolvedEnv]:
        """What `c` sees in its environment: envFrom sources in order, then env entries."""
        key = ("env", id(w), id(c))
        hit = private(self)["_memo"].get(key)
        if hit is None:
            hit = private(self)["_memo"][key] = (w, c, self._resolved_env(w, c))
        return list(hit[2])

    def _resolved_env(self, w: Workload, c: Container) -> list[ResolvedEnv]:
        seen: dict[str, ResolvedEnv] = {}
        for ref in c.env_from:
            if ref.kind == "ConfigMap":
                cm = self.config_map(w.namespace, ref.name)
                if cm is None:
                    continue
                for k, data in cm.data.items():
                    seen[ref.prefix + k] = ResolvedEnv(
                        name=ref.prefix + k, value=data, source="configmap", span=cm.origin(k), config_map=cm.name
                    )
            else:
                sec = self.secret(w.namespace, ref.name)
                if sec is None:
                    continue
                for k in sec.keys:
                    seen[ref.prefix + k] = ResolvedEnv(
                        name=ref.prefix + k, value=None, source="secret", span=sec.obj.origin(f"data.{k}")
                    )
        for e in c.env:
            span = c.origin(f"env[name={e.name}].value" if e.value_from is None else f"env[name={e.name}].valueFrom")
            if e.value_from is None:
                seen[e.name] = ResolvedEnv(
                    name=e.name, value=expand_env_refs(e.value or "", seen), source="env", span=span
                )
            elif e.value_from.source == "configMapKeyRef" and e.value_from.name:
                cm = self.config_map(w.namespace, e.value_from.name)
                v = cm.data.get(e.value_from.key or "") if cm else None
                seen[e.name] = ResolvedEnv(
                    name=e.name,
                    value=v,
                    source="configmap",
                    span=cm.origin(e.value_from.key or "") if cm and v is not None else span,
                    config_map=e.value_from.name,
                )
            else:
                seen[e.name] = ResolvedEnv(
                    name=e.name,
                    value=None,
                    source="secret" if e.value_from.source == "secretKeyRef" else "other",
                    span=span,
                )
        return list(seen.values())

    def endpoints(
        self,
        w: Workload,
        *,
        host_keys: str = DEFAULT_HOST_KEYS,
        scheme_ports: Mapping[str, int] | None = None,
    ) -> list[Endpoint]:
        """Hosts (and ports) the configuration of `w`'s containers names.

        A bare host variable `X_HOST` takes its port from a sibling `X_PORT`."""
        key = ("endpoints", id(w), host_keys, tuple(sorted(scheme_ports.items())) if scheme_ports is not None else None)
        hit = private(self)["_memo"].get(key)
        if hit is None:
            hit = private(self)["_memo"][key] = (w, self._endpoints(w, host_keys, scheme_ports))
        return list(hit[1])

    def _endpoints(self, w: Workload, host_keys: str, scheme_ports: Mapping[str, int] | None) -> list[Endpoint]:
        out: list[Endpoint] = []
        for c in w.containers:
            env = self.resolved_env(w, c)
            by_name = {e.name: e for e in env}
            for e in env:
                if e.value is None:
                    continue
                for host, port, scheme in parse_endpoints(
                    e.name, e.value, host_keys=host_keys, scheme_ports=scheme_ports
                ):
                    if port is None and scheme is None:
                        sibling = _port_sibling(e.name, by_name)
                        port = _int(sibling.value) if sibling else None
                    out.append(
                        Endpoint(
                            container=c.name,
                            variable=e.name,
                            value=e.value,
                            host=host,
                            port=port,
                            scheme=scheme,
                            span=e.span,
                            source=e.source,
                        )
                    )
        return out

    def resolve_host(self, host: str, namespace: str, cluster_domain: str = "cluster.local") -> HostTarget:
        """Which Service a hostname reaches from `namespace`, or that it leaves the cluster."""
        h = host.rstrip(".").lower()
        try:
            ipaddress.ip_address(h)
            return HostTarget(kind="ip", host=host)
        except ValueError:
            pass
        if h == "localhost" or h.endswith(".localhost"):
            return HostTarget(kind="local", host=host)
        parts = h.split(".")
        name, ns = None, None
        if len(parts) == 1:
            name, ns = parts[0], namespace
        elif h.endswith((".svc", f".svc.{cluster_domain}")):
            core = h.removesuffix(f".{cluster_domain}").removesuffix(".svc")
            core_parts = core.split(".")
            if len(core_parts) == 3:  # a pod under a headless Service: redis-0.redis-headless.queue
                name, ns = core_parts[1:]
            elif len(core_parts) == 2:
                name, ns = core_parts
            elif len(core_parts) == 1:
                name, ns = core_parts[0], namespace
        elif len(parts) == 2 and parts[1] in self._known_namespaces():
            name, ns = parts
        elif len(parts) == 2 and self.service(namespace, parts[1]) is not None:
            # `pod.service`: the search path makes it `pod.service.<ns>.svc.<domain>`, one pod
            # behind a headless Service of the namespace (StatefulSet members: kafka-0.kafka)
            name, ns = parts[1], namespace
        if name is None or ns is None:
            return HostTarget(kind="external", host=host)
        svc = self.service(ns, name)
        if svc is None:
            rendered = ns == namespace or ns in self._known_namespaces()
            return HostTarget(kind="unknown-service" if rendered else "foreign", host=host, name=name, namespace=ns)
        return HostTarget(kind="service", host=host, name=name, namespace=ns, service=svc)

    def _known_namespaces(self) -> set[str]:
        scope = self.scope
        known = set(scope.namespaces) | {ns for (_, ns, _) in scope.objects}
        # where another Application deploys what is not read, a missing name proves nothing
        own = {w.namespace for w in self.workloads}
        if "" in self._unread:
            return known & own
        return known - (self._unread - own)

    # --- NetworkPolicy evaluation ------------------------------------------------------------
    def egress_allows(self, w: Workload, target: HostTarget, port: int, protocol: str = "TCP") -> bool:
        """Whether `w`'s pods may open `protocol/port` to `target` under the policies selecting
        them. Pods no Egress policy selects are not isolated: everything is allowed.

        External hosts have no known address, so an ipBlock peer is taken to cover them; a
        name no Service provides is reachable only through a rule open to every peer."""
        policies = self.policies_for(w, "Egress")
        if not policies:
            return True
        dest_pods, pod_ports = self._destination(target, port)
        for pol in policies:
            for rule in pol.egress:
                if not _rule_port_matches(rule.ports, pod_ports, protocol, dest_pods):
                    continue
                if not rule.peers:
                    return True
                for peer in rule.peers:
                    if self._peer_reaches(pol, peer, target, dest_pods):
                        return True
        return False

    def _destination(self, target: HostTarget, port: int) -> tuple[list[Workload] | None, set[int]]:
        """(pods behind the target or None when it is not pods, candidate pod ports)."""
        svc = target.service
        if target.kind != "service" or svc is None or svc.selector is None or svc.type == "ExternalName":
            return None, {port}
        pods = self.service_workloads(svc)
        ports = {port}
        for sp in svc.ports:
            if sp.port != port:
                continue
            if isinstance(sp.target_port, int):
                ports.add(sp.target_port)
            elif isinstance(sp.target_port, str):
                ports |= {
                    p.number
                    for w in pods
                    for c in w.containers
                    for p in c.ports
                    if p.name == sp.target_port and p.number
                }
        return pods, ports

    def _peer_reaches(
        self, pol: NetworkPolicy, peer: PolicyPeer, target: HostTarget, dest_pods: list[Workload] | None
    ) -> bool:
        if peer.ip_block is not None:
            if peer.ip_block.is_everything:
                return True
            if target.kind == "ip":
                return bool(peer.ip_block.contains(target.host))
            # Outside the cluster (or behind a selector-less Service): the address is unknown here.
            return dest_pods is None and target.kind in ("external", "service")
        if target.kind == "foreign":
            # Its pods are deployed elsewhere, so their labels are unknown: a peer admitting that
            # namespace may well select them, and "blocked" would be a claim without evidence.
            return peer.namespace_selector is not None and target.namespace in self._namespaces_matching(
                peer.namespace_selector, pol.namespace, extra={target.namespace or ""}
            )
        if dest_pods is None:
            return False
        selected = self.peer_workloads(pol, peer) or []
        keys = {w.key for w in selected}
        return any(d.key in keys for d in dest_pods)


_ENV_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.\-]*)\)")


def expand_env_refs(value: str, defined: Mapping[str, ResolvedEnv]) -> str | None:
    """`$(NAME)` in an env value, as the kubelet expands it: the value of a variable defined
    before it in the container, `$$` a literal `$`, an undefined name left as written. None
    when a referenced value is not known here (from a Secret, a fieldRef such as the pod IP)."""
    unknown = False

    def sub(m: re.Match[str]) -> str:
        nonlocal unknown
        if m.group(0) == "$$":
            return "$"
        ref = defined.get(m.group(1))
        if ref is None:
            return m.group(0)
        if ref.value is None:
            unknown = True
            return ""
        return ref.value

    out = _ENV_REF.sub(sub, value)
    return None if unknown else out


def _port_sibling(variable: str, env: Mapping[str, ResolvedEnv]) -> ResolvedEnv | None:
    m = re.match(r"^(.*?)(HOST|HOSTNAME|ADDR|ADDRESS|SERVER)$", variable, re.IGNORECASE)
    if not m:
        return None
    return env.get(m.group(1) + "PORT") or env.get(m.group(1) + "port")


def _rule_port_matches(
    ports: Iterable[PolicyPort], pod_ports: set[int], protocol: str, dest_pods: list[Workload] | None
) -> bool:
    ports = list(ports)
    if not ports:
        return True
    for p in ports:
        if p.protocol.upper() != protocol.upper():
            continue
        if p.port is None:
            return True
        if isinstance(p.port, int):
            hi = p.end_port or p.port
            if any(p.port <= n <= hi for n in pod_ports):
                return True
        elif dest_pods:  # a named port refers to the destination pods' container ports
            named = {cp.number for w in dest_pods for c in w.containers for cp in c.ports if cp.name == p.port}
            if named & pod_ports:
                return True
    return False


# --- building ----------------------------------------------------------------------------------


def _build(name: str, path: str, objects: list[K8sObject], ns: str) -> EnvironmentFacts:
    by_key = {_key(o.kind, _ns(o, ns), o.name): o for o in objects}
    namespaces = {
        o.name: {str(k): _s(v) for k, v in _dict(_get(o.body, "metadata.labels")).items()}
        for o in objects
        if o.kind == "Namespace"
    }

    def of(kind: str) -> list[K8sObject]:
        return [o for o in objects if o.kind == kind]

    return EnvironmentFacts(
        environment=name,
        path=path,
        workloads=[_workload(o, by_key, ns) for o in objects if o.kind in WORKLOAD_KINDS],
        services=[_service(o, ns) for o in of("Service")],
        pdbs=[_pdb(o, ns) for o in of("PodDisruptionBudget")],
        hpas=[_hpa(o, ns) for o in of("HorizontalPodAutoscaler")],
        network_policies=[_network_policy(o, ns) for o in of("NetworkPolicy")],
        config_maps=[_config_map(o, ns) for o in of("ConfigMap")],
        secrets=[_secret(o, ns) for o in of("Secret")],
        namespaces=namespaces,
        objects=by_key,
    )


def build_facts(env: K8sEnvironment) -> EnvironmentFacts:
    """The environment's facts; where Argo CD Applications deploy it beside others, relations
    are resolved against everything deployed to the same cluster (`EnvironmentFacts.scope`)."""
    own = _build(env.name, env.path, env.objects, env.default_namespace)
    if not env.neighbours:
        return own
    parts = [own] + [_build(env.name, env.path, n.objects, n.namespace) for n in env.neighbours]
    objects: dict[tuple[str, str, str], K8sObject] = {}
    namespaces: dict[str, dict[str, str]] = {}
    for p in reversed(parts):  # the environment's own objects win over a neighbour's of the same key
        objects.update(p.objects)
        namespaces.update(p.namespaces)
    own._scope = EnvironmentFacts(
        environment=env.name,
        path=env.path,
        workloads=[w for p in parts for w in p.workloads],
        services=[s for p in parts for s in p.services],
        pdbs=[x for p in parts for x in p.pdbs],
        hpas=[x for p in parts for x in p.hpas],
        network_policies=[x for p in parts for x in p.network_policies],
        config_maps=[x for p in parts for x in p.config_maps],
        secrets=[x for p in parts for x in p.secrets],
        namespaces=namespaces,
        objects=objects,
    )
    own._unread = frozenset(env.neighbours_unread)
    return own


def facts(env: K8sEnvironment) -> EnvironmentFacts:
    """The facts of `env`, built once and kept with it (every rule of a scan shares them)."""
    mine = private(env)
    if mine["_facts"] is None:
        mine["_facts"] = build_facts(env)
    built: EnvironmentFacts = mine["_facts"]
    return built
