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

from urr_audit.model.common import Span, Value
from urr_audit.model.kubernetes import K8sEnvironment, K8sObject

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Rollout")
SCALABLE_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "Rollout"})
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
    """A pod-producing object. For an Argo Rollout with `workloadRef`, the pod template (and
    so labels, containers, service account) comes from the referenced Deployment."""

    kind: str
    template_owner: K8sObject  # whose manifest holds the pod template
    template_path: str | None  # dotted path of the pod template in template_owner; None: none found
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
    value: str | None  # None: from a Secret, a fieldRef, or a ConfigMap key not in this environment
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


def _ns(obj: K8sObject) -> str:
    return obj.namespace or DEFAULT_NAMESPACE


def _template_path(kind: str) -> str:
    return "spec.jobTemplate.spec.template" if kind == "CronJob" else "spec.template"


def _security(container: dict[str, Any], pod: dict[str, Any]) -> SecurityContext:
    c, p = _dict(container.get("securityContext")), _dict(pod.get("securityContext"))
    source: dict[str, Literal["container", "pod"]] = {}
    values: dict[str, Any] = {}
    for field, attr, conv in (
        ("runAsNonRoot", "run_as_non_root", _bool),
        ("runAsUser", "run_as_user", _int),
    ):
        levels: tuple[tuple[Literal["container", "pod"], dict[str, Any]], ...] = (("container", c), ("pod", p))
        for level, ctx in levels:
            if field in ctx and conv(ctx[field]) is not None:
                values[attr], source[field] = conv(ctx[field]), level
                break
    for field, attr in (
        ("allowPrivilegeEscalation", "allow_privilege_escalation"),
        ("readOnlyRootFilesystem", "read_only_root_filesystem"),
        ("privileged", "privileged"),
    ):
        if field in c and _bool(c[field]) is not None:
            values[attr], source[field] = _bool(c[field]), "container"
    caps = _dict(c.get("capabilities"))
    if "capabilities" in c:
        source["capabilities"] = "container"
    return SecurityContext(
        **values,
        capabilities_drop=tuple(_s(x) for x in _list(caps.get("drop"))),
        capabilities_add=tuple(_s(x) for x in _list(caps.get("add"))),
        source=source,
    )


def _container(owner: K8sObject, pod_path: str, pod: dict[str, Any], raw: Any, init: bool) -> Container | None:
    if not isinstance(raw, dict) or not raw.get("name"):
        return None
    name = _s(raw["name"])
    field = "initContainers" if init else "containers"
    env = []
    for e in _list(raw.get("env")):
        if not isinstance(e, dict) or "name" not in e:
            continue
        vf = None
        raw_from = _dict(e.get("valueFrom"))
        for src, ref in raw_from.items():
            ref = _dict(ref)
            vf = EnvValueFrom(source=src, name=_s(ref.get("name")) or None, key=_s(ref.get("key")) or None)
            break
        env.append(EnvVar(name=_s(e["name"]), value=_s(e["value"]) if "value" in e else None, value_from=vf))
    env_from = []
    for ef in _list(raw.get("envFrom")):
        ef = _dict(ef)
        refs: tuple[tuple[str, Literal["ConfigMap", "Secret"]], ...] = (
            ("configMapRef", "ConfigMap"),
            ("secretRef", "Secret"),
        )
        for key, kind in refs:
            ref = _dict(ef.get(key))
            if ref.get("name"):
                env_from.append(
                    EnvFromRef(
                        kind=kind, name=_s(ref["name"]), prefix=_s(ef.get("prefix")), optional=bool(ref.get("optional"))
                    )
                )
    res = _dict(raw.get("resources"))
    image = raw.get("image")
    return Container(
        owner=owner,
        path=f"{pod_path}.{field}[name={name}]",
        pod_path=pod_path,
        name=name,
        init=init,
        image=ImageRef.parse(_s(image)) if image else None,
        ports=tuple(
            ContainerPort(
                name=_s(p.get("name")) or None,
                number=_int(p.get("containerPort")),
                protocol=_s(p.get("protocol")) or "TCP",
            )
            for p in _list(raw.get("ports"))
            if isinstance(p, dict)
        ),
        env=tuple(env),
        env_from=tuple(env_from),
        security=_security(raw, pod),
        resources=Resources(
            requests={str(k): _s(v) for k, v in _dict(res.get("requests")).items()},
            limits={str(k): _s(v) for k, v in _dict(res.get("limits")).items()},
        ),
        probes=frozenset(p for p in ("readinessProbe", "livenessProbe", "startupProbe") if raw.get(p)),
    )


def _workload(obj: K8sObject, by_key: dict[tuple[str, str, str], K8sObject]) -> Workload:
    spec = _dict(obj.body.get("spec"))
    ref = None
    owner = obj
    tpath: str | None = _template_path(obj.kind)
    if obj.kind == "Rollout" and isinstance(spec.get("workloadRef"), dict):
        r = spec["workloadRef"]
        ref = WorkloadRef(
            api_version=_s(r.get("apiVersion")),
            kind=_s(r.get("kind")) or "Deployment",
            name=_s(r.get("name")),
            scale_down=_s(r.get("scaleDown")) or "never",
        )
        target = by_key.get((ref.kind, _ns(obj), ref.name))
        if target is not None:
            owner, tpath = target, _template_path(target.kind)
        elif not isinstance(spec.get("template"), dict):
            tpath = None
    template = _get(owner.body, tpath) if tpath else None
    if not isinstance(template, dict):
        template, tpath = {}, None
    pod = _dict(template.get("spec"))
    pod_path = f"{tpath}.spec" if tpath else "spec"
    containers = [_container(owner, pod_path, pod, c, False) for c in _list(pod.get("containers"))]
    inits = [_container(owner, pod_path, pod, c, True) for c in _list(pod.get("initContainers"))]
    vol_cm, vol_secret = [], []
    for v in _list(pod.get("volumes")):
        v = _dict(v)
        if _dict(v.get("configMap")).get("name"):
            vol_cm.append(_s(v["configMap"]["name"]))
        if _dict(v.get("secret")).get("secretName"):
            vol_secret.append(_s(v["secret"]["secretName"]))
        for src in _list(_dict(v.get("projected")).get("sources")):
            src = _dict(src)
            if _dict(src.get("configMap")).get("name"):
                vol_cm.append(_s(src["configMap"]["name"]))
            if _dict(src.get("secret")).get("name"):
                vol_secret.append(_s(src["secret"]["name"]))
    if obj.kind in SCALABLE_KINDS:
        n = _int(spec.get("replicas"))
        replicas = (
            Value.known(n, span=obj.origin("spec.replicas"))
            if n is not None
            else Value.unknown("spec.replicas is not a number", span=obj.origin("spec.replicas"))
            if "replicas" in spec
            else Value.absent(span=obj.span)
        )
    else:
        replicas = Value.unknown(f"a {obj.kind} has no replica count")
    sa = pod.get("serviceAccountName") or pod.get("serviceAccount")
    selector_raw = spec.get("selector")
    if obj.kind == "CronJob":
        selector_raw = _get(spec, "jobTemplate.spec.selector")
    return Workload(
        obj=obj,
        kind=obj.kind,
        name=obj.name,
        namespace=_ns(obj),
        template_owner=owner,
        template_path=tpath,
        pod_labels={str(k): _s(v) for k, v in _dict(_get(template, "metadata.labels")).items()},
        selector=LabelSelector.parse(selector_raw),
        replicas=replicas,
        containers=tuple(c for c in containers if c is not None),
        init_containers=tuple(c for c in inits if c is not None),
        service_account_name=_s(sa) or None,
        automount_token=_bool(pod.get("automountServiceAccountToken")),
        volume_config_maps=tuple(vol_cm),
        volume_secrets=tuple(vol_secret),
        workload_ref=ref,
        host_network=_bool(pod.get("hostNetwork")) is True,
    )


def _service(obj: K8sObject) -> Service:
    spec = _dict(obj.body.get("spec"))
    sel = spec.get("selector")
    return Service(
        obj=obj,
        name=obj.name,
        namespace=_ns(obj),
        type=_s(spec.get("type")) or "ClusterIP",
        selector=LabelSelector.parse(sel) if isinstance(sel, dict) and sel else None,
        ports=tuple(
            ServicePort(
                name=_s(p.get("name")) or None,
                port=_int(p.get("port")),
                target_port=_port(p.get("targetPort")),
                protocol=_s(p.get("protocol")) or "TCP",
            )
            for p in _list(spec.get("ports"))
            if isinstance(p, dict)
        ),
        external_name=_s(spec.get("externalName")) or None,
    )


def _pdb(obj: K8sObject) -> PodDisruptionBudget:
    spec = _dict(obj.body.get("spec"))
    return PodDisruptionBudget(
        obj=obj,
        name=obj.name,
        namespace=_ns(obj),
        selector=LabelSelector.parse(spec.get("selector")),
        min_available=IntOrPercent.parse(spec.get("minAvailable")),
        max_unavailable=IntOrPercent.parse(spec.get("maxUnavailable")),
    )


def _hpa(obj: K8sObject) -> HorizontalPodAutoscaler:
    spec = _dict(obj.body.get("spec"))
    ref = _dict(spec.get("scaleTargetRef"))
    metrics = []
    for m in _list(spec.get("metrics")):
        m = _dict(m)
        mtype = _s(m.get("type"))
        inner = _dict(m.get(mtype[:1].lower() + mtype[1:])) if mtype else {}
        target = _dict(inner.get("target"))
        name = inner.get("name") or _get(inner, "metric.name")
        value = next((target[k] for k in ("averageUtilization", "averageValue", "value") if k in target), None)
        metrics.append(
            HPAMetric(
                type=mtype, name=_s(name) or None, target_type=_s(target.get("type")) or None, target=_s(value) or None
            )
        )
    if "targetCPUUtilizationPercentage" in spec:  # autoscaling/v1
        metrics.append(
            HPAMetric(
                type="Resource",
                name="cpu",
                target_type="Utilization",
                target=_s(spec["targetCPUUtilizationPercentage"]),
            )
        )
    return HorizontalPodAutoscaler(
        obj=obj,
        name=obj.name,
        namespace=_ns(obj),
        target_api_version=_s(ref.get("apiVersion")),
        target_kind=_s(ref.get("kind")),
        target_name=_s(ref.get("name")),
        min_replicas=_int(spec.get("minReplicas")) or 1,
        max_replicas=_int(spec.get("maxReplicas")),
        metrics=tuple(metrics),
    )


def _rules(raw: Any, direction: Literal["ingress", "egress"]) -> tuple[PolicyRule, ...]:
    peer_key = "to" if direction == "egress" else "from"
    out = []
    for i, r in enumerate(_list(raw)):
        r = _dict(r)
        peers = []
        for p in _list(r.get(peer_key)):
            p = _dict(p)
            block = _dict(p.get("ipBlock"))
            peers.append(
                PolicyPeer(
                    pod_selector=LabelSelector.parse(p.get("podSelector")),
                    namespace_selector=LabelSelector.parse(p.get("namespaceSelector")),
                    ip_block=IPBlock(
                        cidr=_s(block.get("cidr")), excepts=tuple(_s(x) for x in _list(block.get("except")))
                    )
                    if block.get("cidr")
                    else None,
                )
            )
        ports = tuple(
            PolicyPort(
                protocol=_s(p.get("protocol")) or "TCP", port=_port(p.get("port")), end_port=_int(p.get("endPort"))
            )
            for p in _list(r.get("ports"))
            if isinstance(p, dict)
        )
        out.append(PolicyRule(index=i, direction=direction, peers=tuple(peers), ports=ports))
    return tuple(out)


def _network_policy(obj: K8sObject) -> NetworkPolicy:
    spec = _dict(obj.body.get("spec"))
    types = [_s(t) for t in _list(spec.get("policyTypes"))]
    if not types:  # the API server's defaulting
        types = ["Ingress"] + (["Egress"] if "egress" in spec else [])
    return NetworkPolicy(
        obj=obj,
        name=obj.name,
        namespace=_ns(obj),
        pod_selector=LabelSelector.parse(spec.get("podSelector")) or LabelSelector(),
        policy_types=tuple(types),
        ingress=_rules(spec.get("ingress"), "ingress"),
        egress=_rules(spec.get("egress"), "egress"),
    )


def _config_map(obj: K8sObject) -> ConfigMap:
    data = {str(k): _s(v) for k, v in _dict(obj.body.get("data")).items()}
    return ConfigMap(obj=obj, name=obj.name, namespace=_ns(obj), data=data)


def _secret(obj: K8sObject) -> Secret:
    keys = set(_dict(obj.body.get("data"))) | set(_dict(obj.body.get("stringData")))
    return Secret(obj=obj, name=obj.name, namespace=_ns(obj), keys=tuple(sorted(str(k) for k in keys)))


# --- host / endpoint parsing -----------------------------------------------------------------

_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*(?::[A-Za-z][A-Za-z0-9+.\-]*)*)://(?P<authority>[^/\s?#\"']*)")
_HOSTPORT = re.compile(r"^(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?):(?P<port>\d{1,5})$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*$")
DEFAULT_HOST_KEYS = (
    r"(?i)(^|_)(HOST|HOSTNAME|SERVER|SERVERS|ADDR|ADDRESS|ADDRESSES|ENDPOINT|BROKERS?|BOOTSTRAP_SERVERS)$"
)


def _split_hostport(item: str) -> tuple[str, int | None] | None:
    item = item.strip()
    if not item:
        return None
    if item.startswith("["):  # [v6]:port
        host, _, rest = item[1:].partition("]")
        port = _int(rest[1:]) if rest.startswith(":") else None
        return host, port
    m = _HOSTPORT.match(item)
    if m:
        return m.group("host"), int(m.group("port"))
    if _HOSTNAME.match(item):
        return item, None
    return None


def parse_endpoints(
    variable: str,
    value: str,
    *,
    host_keys: str = DEFAULT_HOST_KEYS,
    scheme_ports: Mapping[str, int] | None = None,
) -> list[tuple[str, int | None, str | None]]:
    """(host, port, scheme) for each host a config value names.

    Recognised: URLs (`jdbc:postgresql://db:5432/x`, `redis://cache:6379`,
    `PLAINTEXT://a:9092,b:9092`), `host:port` lists (Kafka bootstrap servers), and a bare host
    when the variable name says it holds one (`host_keys`). Multi-line values (files) are not
    read. A URL without a port gets `scheme_ports[scheme]`, if given.
    """
    scheme_ports = scheme_ports or {}
    if "\n" in value:
        return []
    out: list[tuple[str, int | None, str | None]] = []
    urls = list(_URL.finditer(value))
    if urls:
        for m in urls:
            scheme = m.group("scheme").lower()
            authority = m.group("authority").rsplit("@", 1)[-1]
            for item in authority.split(","):
                hp = _split_hostport(item)
                if hp and hp[0]:
                    out.append((hp[0], hp[1] if hp[1] is not None else scheme_ports.get(scheme), scheme))
        return out
    items = [i for i in value.split(",") if i.strip()]
    if items and all(_HOSTPORT.match(i.strip()) for i in items):
        for i in items:
            hm = _HOSTPORT.match(i.strip())
            assert hm
            out.append((hm.group("host"), int(hm.group("port")), None))
        return out
    if re.search(host_keys, variable) and _HOSTNAME.match(value.strip()) and not value.strip().isdigit():
        out.append((value.strip(), None, None))
    return out


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

    def model_post_init(self, context: Any, /) -> None:
        self._workload_index = {w.key: w for w in self.workloads}

    # --- lookups ---------------------------------------------------------------------------
    def workload(self, kind: str, namespace: str, name: str) -> Workload | None:
        return self._workload_index.get(_key(kind, namespace, name))

    def object(self, kind: str, namespace: str, name: str) -> K8sObject | None:
        return self.objects.get(_key(kind, namespace, name))

    def service(self, namespace: str, name: str) -> Service | None:
        return next((s for s in self.services if s.namespace == namespace and s.name == name), None)

    def config_map(self, namespace: str, name: str) -> ConfigMap | None:
        return next((c for c in self.config_maps if c.namespace == namespace and c.name == name), None)

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
            for w in self.workloads
            if (namespace is None or w.namespace == namespace) and w.template_path and selector.matches(w.pod_labels)
        ]

    def service_workloads(self, svc: Service) -> list[Workload]:
        return self.pods_matching(svc.selector, svc.namespace)

    def pdb_workloads(self, pdb: PodDisruptionBudget) -> list[Workload]:
        return self.pods_matching(pdb.selector, pdb.namespace)

    def pdbs_for(self, w: Workload) -> list[PodDisruptionBudget]:
        return [
            p
            for p in self.pdbs
            if p.namespace == w.namespace and p.selector is not None and p.selector.matches(w.pod_labels)
        ]

    def services_for(self, w: Workload) -> list[Service]:
        return [
            s
            for s in self.services
            if s.namespace == w.namespace and s.selector is not None and s.selector.matches(w.pod_labels)
        ]

    def policies_for(self, w: Workload, direction: Literal["Ingress", "Egress"] | None = None) -> list[NetworkPolicy]:
        """Policies selecting `w`'s pods. None for host-network pods: NetworkPolicy leaves
        their traffic undefined and common CNIs do not filter it."""
        if w.host_network:
            return []
        return [
            p
            for p in self.network_policies
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
            w for w in self.workloads if w.namespace in namespaces and w.template_path and sel.matches(w.pod_labels)
        ]

    def _namespaces_matching(self, selector: LabelSelector | None, own: str, extra: set[str] = frozenset()) -> set[str]:  # type: ignore[assignment]
        known = set(self.namespaces) | {w.namespace for w in self.workloads} | set(extra)
        if selector is None:
            return {own}
        out = set()
        for ns in known:
            labels = {**self.namespaces.get(ns, {}), "kubernetes.io/metadata.name": ns}
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
                for h in self.hpas
                if h.namespace == w.namespace and h.target_kind == w.kind and h.target_name == w.name
            ),
            None,
        )

    def rollouts_referencing(self, w: Workload) -> list[Workload]:
        """Rollouts whose `workloadRef` names `w`."""
        return [
            r
            for r in self.workloads
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
                sec = next((s for s in self.secrets if s.namespace == w.namespace and s.name == ref.name), None)
                if sec is None:
                    continue
                for k in sec.keys:
                    seen[ref.prefix + k] = ResolvedEnv(
                        name=ref.prefix + k, value=None, source="secret", span=sec.obj.origin(f"data.{k}")
                    )
        for e in c.env:
            span = c.origin(f"env[name={e.name}].value" if e.value_from is None else f"env[name={e.name}].valueFrom")
            if e.value_from is None:
                seen[e.name] = ResolvedEnv(name=e.name, value=e.value or "", source="env", span=span)
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
        if name is None or ns is None:
            return HostTarget(kind="external", host=host)
        svc = self.service(ns, name)
        if svc is None:
            rendered = ns == namespace or ns in self._known_namespaces()
            return HostTarget(kind="unknown-service" if rendered else "foreign", host=host, name=name, namespace=ns)
        return HostTarget(kind="service", host=host, name=name, namespace=ns, service=svc)

    def _known_namespaces(self) -> set[str]:
        return set(self.namespaces) | {o.namespace for o in self.objects.values() if o.namespace}

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


def build_facts(env: K8sEnvironment) -> EnvironmentFacts:
    by_key = {_key(o.kind, _ns(o), o.name): o for o in env.objects}
    workloads = [_workload(o, by_key) for o in env.objects if o.kind in WORKLOAD_KINDS]
    namespaces = {
        o.name: {str(k): _s(v) for k, v in _dict(_get(o.body, "metadata.labels")).items()}
        for o in env.objects
        if o.kind == "Namespace"
    }
    return EnvironmentFacts(
        environment=env.name,
        path=env.path,
        workloads=workloads,
        services=[_service(o) for o in env.of_kind("Service")],
        pdbs=[_pdb(o) for o in env.of_kind("PodDisruptionBudget")],
        hpas=[_hpa(o) for o in env.of_kind("HorizontalPodAutoscaler")],
        network_policies=[_network_policy(o) for o in env.of_kind("NetworkPolicy")],
        config_maps=[_config_map(o) for o in env.of_kind("ConfigMap")],
        secrets=[_secret(o) for o in env.of_kind("Secret")],
        namespaces=namespaces,
        objects=by_key,
    )


def facts(env: K8sEnvironment) -> EnvironmentFacts:
    """The facts of `env`, built once and kept with it (every rule of a scan shares them)."""
    if env._facts is None:
        env._facts = build_facts(env)
    built: EnvironmentFacts = env._facts
    return built
