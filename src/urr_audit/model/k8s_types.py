"""The typed facts about Kubernetes objects that rules read (see `model/k8s_facts.py`):
label selectors, images, containers, workloads, Services, PDBs, HPAs, NetworkPolicies,
ConfigMaps and Secrets, and the values a container's environment resolves to."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.model.common import Span, Value
from urr_audit.model.kubernetes import K8sObject

WORKLOAD_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "Rollout",
    "Pod",
)
SCALABLE_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "Rollout"})
DEFAULT_NAMESPACE = "default"

# Argo Rollouts: with these, the controller scales the referenced Deployment down itself.
ROLLOUT_SCALES_DOWN_REF = frozenset({"onsuccess", "progressively"})


class _Fact(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)


class _ObjectFact(_Fact):
    """A fact about one rendered object: locates itself (address, environment, span) by it."""

    obj: K8sObject
    name: str
    namespace: str

    @property
    def address(self) -> str:
        return self.obj.address

    @property
    def environment(self) -> str | None:
        return self.obj.environment

    @property
    def span(self) -> Span:
        return self.obj.span


# --- label selectors -----------------------------------------------------------------------


class SelectorRequirement(_Fact):
    key: str
    operator: str  # In, NotIn, Exists, DoesNotExist
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op == "In":
            return self.key in labels and labels[self.key] in self.values
        if op == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values
        if op == "Exists":
            return self.key in labels
        if op == "DoesNotExist":
            return self.key not in labels
        return False  # unknown operator: the API server would reject it; match nothing


class LabelSelector(_Fact):
    """`matchLabels` + `matchExpressions` (a plain Service selector is `matchLabels` only)."""

    match_labels: dict[str, str] = Field(default_factory=dict)
    match_expressions: tuple[SelectorRequirement, ...] = ()

    @property
    def is_empty(self) -> bool:
        """`{}`: selects every pod (NetworkPolicy, PDB in policy/v1)."""
        return not self.match_labels and not self.match_expressions

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        if any(labels.get(k) != v for k, v in self.match_labels.items()):
            return False
        return all(r.matches(labels) for r in self.match_expressions)

    def __str__(self) -> str:
        parts = [f"{k}={v}" for k, v in sorted(self.match_labels.items())]
        parts += [f"{r.key} {r.operator} ({','.join(r.values)})" for r in self.match_expressions]
        return ", ".join(parts) or "{}"

    @classmethod
    def parse(cls, raw: Any) -> LabelSelector | None:
        """None for an absent selector; `{}` for an empty one."""
        if not isinstance(raw, dict):
            return None
        if "matchLabels" not in raw and "matchExpressions" not in raw:
            # A bare map (Service selector) or `{}`.
            return cls(match_labels={str(k): _s(v) for k, v in raw.items() if not isinstance(v, (dict, list))})
        exprs = []
        for e in _list(raw.get("matchExpressions")):
            if isinstance(e, dict) and "key" in e:
                exprs.append(
                    SelectorRequirement(
                        key=str(e["key"]),
                        operator=str(e.get("operator", "")),
                        values=tuple(_s(v) for v in _list(e.get("values"))),
                    )
                )
        labels = _dict(raw.get("matchLabels"))
        return cls(match_labels={str(k): _s(v) for k, v in labels.items()}, match_expressions=tuple(exprs))


# --- images ----------------------------------------------------------------------------------


class ImageRef(_Fact):
    """A container image reference split as the distribution spec does."""

    raw: str
    registry: str | None = None  # None: Docker Hub implied
    repository: str = ""
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, raw: str) -> ImageRef:
        rest, digest = raw, None
        if "@" in rest:
            rest, digest = rest.split("@", 1)
        registry = None
        first, sep, remainder = rest.partition("/")
        if sep and ("." in first or ":" in first or first == "localhost"):
            registry, rest = first, remainder
        tag = None
        last_slash = rest.rfind("/")
        colon = rest.rfind(":")
        if colon > last_slash:
            rest, tag = rest[:colon], rest[colon + 1 :]
        return cls(raw=raw, registry=registry, repository=rest, tag=tag or None, digest=digest or None)


# --- containers ------------------------------------------------------------------------------


class ContainerPort(_Fact):
    name: str | None = None
    number: int | None = None
    protocol: str = "TCP"


class EnvValueFrom(_Fact):
    source: str  # configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef
    name: str | None = None  # ConfigMap / Secret name
    key: str | None = None


class EnvVar(_Fact):
    name: str
    value: str | None = None
    value_from: EnvValueFrom | None = None


class EnvFromRef(_Fact):
    kind: Literal["ConfigMap", "Secret"]
    name: str
    prefix: str = ""
    optional: bool = False


class SecurityContext(_Fact):
    """Container securityContext merged over the pod's; `source` says which level set a field."""

    run_as_non_root: bool | None = None
    run_as_user: int | None = None
    allow_privilege_escalation: bool | None = None
    read_only_root_filesystem: bool | None = None
    privileged: bool | None = None
    capabilities_drop: tuple[str, ...] = ()
    capabilities_add: tuple[str, ...] = ()
    source: dict[str, Literal["container", "pod"]] = Field(default_factory=dict)


class Resources(_Fact):
    requests: dict[str, str] = Field(default_factory=dict)
    limits: dict[str, str] = Field(default_factory=dict)

    def has(self, dotted: str) -> bool:
        """`requests.cpu`, `limits.memory`, ..."""
        section, _, res = dotted.partition(".")
        return res in (self.requests if section == "requests" else self.limits)


class Container(_Fact):
    owner: K8sObject  # the object whose manifest holds this container (see Workload.template_owner)
    path: str  # dotted path in `owner`, e.g. spec.template.spec.containers[name=app]
    pod_path: str  # dotted path of the pod spec in `owner`
    name: str
    init: bool = False
    image: ImageRef | None = None
    command: tuple[str, ...] = ()  # as written: variable references are not expanded
    args: tuple[str, ...] = ()
    ports: tuple[ContainerPort, ...] = ()
    env: tuple[EnvVar, ...] = ()
    env_from: tuple[EnvFromRef, ...] = ()
    security: SecurityContext = Field(default_factory=SecurityContext)
    resources: Resources = Field(default_factory=Resources)
    probes: frozenset[str] = frozenset()  # readinessProbe, livenessProbe, startupProbe

    def origin(self, field: str = "") -> Span:
        """Where to edit `field` of this container (e.g. `image`, `securityContext.privileged`)."""
        return self.owner.origin(f"{self.path}.{field}" if field else self.path)

    def security_origin(self, field: str) -> Span:
        """Where `securityContext.<field>` is set (container or pod level), else the container."""
        level = self.security.source.get(field)
        if level == "container":
            return self.origin(f"securityContext.{field}")
        if level == "pod":
            return self.owner.origin(f"{self.pod_path}.securityContext.{field}")
        return self.origin()


# --- workloads -------------------------------------------------------------------------------


class WorkloadRef(_Fact):
    api_version: str = ""
    kind: str = "Deployment"
    name: str
    scale_down: str = "never"


class Workload(_ObjectFact):
    """A pod-producing object (a bare Pod is its own template). For an Argo Rollout with
    `workloadRef`, the pod template (and so labels, containers, service account) comes from the
    referenced Deployment."""

    kind: str
    template_owner: K8sObject  # whose manifest holds the pod template
    # dotted path of the pod template in template_owner ("" for a Pod: the object itself);
    # None: none found
    template_path: str | None
    pod_labels: dict[str, str] = Field(default_factory=dict)
    selector: LabelSelector | None = None
    replicas: Value = Field(default_factory=Value.absent)  # spec.replicas as written after patches
    containers: tuple[Container, ...] = ()
    init_containers: tuple[Container, ...] = ()
    service_account_name: str | None = None  # None: the namespace's `default`
    automount_token: bool | None = None  # pod-level automountServiceAccountToken
    volume_config_maps: tuple[str, ...] = ()
    volume_secrets: tuple[str, ...] = ()
    workload_ref: WorkloadRef | None = None
    host_network: bool = False  # pods share the node's network namespace
    node_selector: dict[str, str] = Field(default_factory=dict)
    # requiredDuringScheduling node affinity: a node must match one of these terms (each term:
    # all its requirements); empty when none is written
    node_affinity: tuple[tuple[SelectorRequirement, ...], ...] = ()

    def allows_node(self, labels: Mapping[str, str]) -> bool | None:
        """Whether a node with these labels can run the pods (nodeSelector and required node
        affinity); None when a key they constrain is not among the labels given (not known)."""
        for k, v in self.node_selector.items():
            if k not in labels:
                return None
            if labels[k] != v:
                return False
        if not self.node_affinity:
            return True
        unknown = False
        for term in self.node_affinity:
            if any(r.key not in labels and r.operator in ("In", "NotIn") for r in term):
                unknown = True
                continue
            if all(r.matches(labels) for r in term):
                return True
        return None if unknown else False

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)

    @property
    def owns_template(self) -> bool:
        """False for a Rollout borrowing its template: the Deployment reports its containers."""
        return self.template_owner is self.obj

    @property
    def scalable(self) -> bool:
        return self.kind in SCALABLE_KINDS

    @property
    def all_containers(self) -> tuple[Container, ...]:
        return self.init_containers + self.containers

    @property
    def has_pods(self) -> bool:
        """Whether the pod template is known (a Rollout's workloadRef may name nothing)."""
        return self.template_path is not None

    @property
    def pod_spec_path(self) -> str:
        return f"{self.template_path}.spec" if self.template_path else "spec"

    def origin(self, path: str) -> Span:
        return self.obj.origin(path)

    def config_maps_read(self) -> list[str]:
        return self._read("ConfigMap", "configMapKeyRef", self.volume_config_maps)

    def secrets_read(self) -> list[str]:
        return self._read("Secret", "secretKeyRef", self.volume_secrets)

    def _read(self, kind: str, key_ref: str, volumes: tuple[str, ...]) -> list[str]:
        """Names of the `kind` objects the pod mounts, imports whole (envFrom) or reads a key of."""
        names = list(volumes)
        for c in self.all_containers:
            names += [r.name for r in c.env_from if r.kind == kind]
            names += [
                e.value_from.name
                for e in c.env
                if e.value_from and e.value_from.source == key_ref and e.value_from.name
            ]
        return sorted(set(names))


# --- services, PDBs, HPAs --------------------------------------------------------------------


class ServicePort(_Fact):
    name: str | None = None
    port: int | None = None
    target_port: int | str | None = None
    protocol: str = "TCP"


class Service(_ObjectFact):
    type: str = "ClusterIP"
    selector: LabelSelector | None = None  # None: no selector (manual Endpoints / ExternalName)
    ports: tuple[ServicePort, ...] = ()
    external_name: str | None = None


class IntOrPercent(_Fact):
    value: int
    percent: bool = False

    def __str__(self) -> str:
        return f"{self.value}%" if self.percent else str(self.value)

    def scaled(self, total: int) -> int:
        """The count it means out of `total`; a percentage rounds up, as the disruption
        controller rounds minAvailable."""
        return -(-self.value * total // 100) if self.percent else self.value

    @classmethod
    def parse(cls, raw: Any) -> IntOrPercent | None:
        if isinstance(raw, bool) or raw is None:
            return None
        if isinstance(raw, int):
            return cls(value=raw)
        m = re.fullmatch(r"\s*(\d+)\s*(%?)\s*", str(raw))
        return cls(value=int(m.group(1)), percent=bool(m.group(2))) if m else None


class PodDisruptionBudget(_ObjectFact):
    selector: LabelSelector | None = None  # None selects nothing; `{}` selects every pod
    min_available: IntOrPercent | None = None
    max_unavailable: IntOrPercent | None = None


class HPAMetric(_Fact):
    type: str
    name: str | None = None  # resource / metric name
    target_type: str | None = None  # Utilization, AverageValue, Value
    target: str | None = None


class HorizontalPodAutoscaler(_ObjectFact):
    target_api_version: str = ""
    target_kind: str = ""
    target_name: str = ""
    min_replicas: int = 1
    max_replicas: int | None = None
    metrics: tuple[HPAMetric, ...] = ()


# --- network policies ------------------------------------------------------------------------


class IPBlock(_Fact):
    cidr: str
    excepts: tuple[str, ...] = ()

    def contains(self, ip: str) -> bool | None:
        try:
            addr = ipaddress.ip_address(ip)
            if addr not in ipaddress.ip_network(self.cidr, strict=False):
                return False
            return not any(addr in ipaddress.ip_network(e, strict=False) for e in self.excepts)
        except ValueError:
            return None

    @property
    def is_everything(self) -> bool:
        return self.cidr in ("0.0.0.0/0", "::/0") and not self.excepts


class PolicyPeer(_Fact):
    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None


class PolicyPort(_Fact):
    protocol: str = "TCP"
    port: int | str | None = None  # None: every port of the protocol
    end_port: int | None = None


class PolicyRule(_Fact):
    index: int
    direction: Literal["ingress", "egress"]
    peers: tuple[PolicyPeer, ...] = ()  # empty: every peer
    ports: tuple[PolicyPort, ...] = ()  # empty: every port

    @property
    def path(self) -> str:
        return f"spec.{self.direction}[{self.index}]"


class NetworkPolicy(_ObjectFact):
    pod_selector: LabelSelector = Field(default_factory=LabelSelector)
    policy_types: tuple[str, ...] = ()  # effective: defaults applied as the API server does
    ingress: tuple[PolicyRule, ...] = ()
    egress: tuple[PolicyRule, ...] = ()

    @property
    def isolates_egress(self) -> bool:
        return "Egress" in self.policy_types

    @property
    def isolates_ingress(self) -> bool:
        return "Ingress" in self.policy_types

    @property
    def is_default_deny_egress(self) -> bool:
        return self.pod_selector.is_empty and self.isolates_egress and not self.egress

    @property
    def is_default_deny_ingress(self) -> bool:
        return self.pod_selector.is_empty and self.isolates_ingress and not self.ingress

    def isolates_all_pods(self, direction: Literal["Ingress", "Egress"]) -> bool:
        """A namespace baseline: selects every pod, isolates `direction`, and no rule of it is
        open to every peer on every port (a deny-all, or a deny-all-but-DNS)."""
        rules = self.egress if direction == "Egress" else self.ingress
        return (
            self.pod_selector.is_empty
            and direction in self.policy_types
            and not any(not r.peers and not r.ports for r in rules)
        )


# --- config ----------------------------------------------------------------------------------


class ConfigMap(_ObjectFact):
    data: dict[str, str] = Field(default_factory=dict)

    def origin(self, key: str) -> Span:
        return self.obj.origin(f"data.{key}")


class Secret(_ObjectFact):
    keys: tuple[str, ...] = ()


class ResolvedEnv(_Fact):
    """One variable a container sees, after envFrom and env (env wins, later envFrom wins)."""

    name: str
    # None: from a Secret, a fieldRef, a ConfigMap key not in this environment, or an env value
    # that references one of those (`$(POD_IP)`)
    value: str | None
    source: Literal["env", "configmap", "secret", "other"]
    span: Span  # where it is written
    config_map: str | None = None


class Endpoint(_Fact):
    """A host (and port) a container's configuration names."""

    container: str
    variable: str
    value: str
    host: str
    port: int | None = None
    scheme: str | None = None
    span: Span
    source: Literal["env", "configmap", "secret", "other"] = "env"


class HostTarget(_Fact):
    """What a hostname means inside the environment's cluster."""

    # service: a Service of the environment; unknown-service: a cluster name in a rendered
    # namespace that no Service has; foreign: a cluster name in a namespace this environment
    # does not render (deployed elsewhere: cannot be judged); external: leaves the cluster.
    kind: Literal["service", "unknown-service", "foreign", "external", "ip", "local"]
    host: str
    name: str | None = None  # service name for service / unknown-service
    namespace: str | None = None
    service: Service | None = None


# --- parsing helpers -------------------------------------------------------------------------


def _s(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else str(v)


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _get(d: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(d, dict):
            return None
        d = d.get(part)
    return d


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.strip().isdigit():
        return int(v.strip())
    return None


def _bool(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    return None


def _port(v: Any) -> int | str | None:
    n = _int(v)
    if n is not None:
        return n
    return str(v) if isinstance(v, str) and v else None
