"""Building typed facts from rendered objects: the only code that reads `K8sObject.body`."""

from __future__ import annotations

from typing import Any, Literal

from urr_audit.model.common import Value
from urr_audit.model.k8s_types import (
    DEFAULT_NAMESPACE,
    SCALABLE_KINDS,
    ConfigMap,
    Container,
    ContainerPort,
    EnvFromRef,
    EnvValueFrom,
    EnvVar,
    HorizontalPodAutoscaler,
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
    Resources,
    Secret,
    SecurityContext,
    SelectorRequirement,
    Service,
    ServicePort,
    Workload,
    WorkloadRef,
    _bool,
    _dict,
    _get,
    _int,
    _list,
    _port,
    _s,
)
from urr_audit.model.kubernetes import K8sObject


def _ns(obj: K8sObject, default: str = DEFAULT_NAMESPACE) -> str:
    """The object's namespace; `default` for one written without (where it is applied: the
    destination namespace of the Argo CD Applications deploying it, else `default`)."""
    return obj.namespace or default


def _template_path(kind: str) -> str:
    """Where the pod template sits: "" for a Pod (the object is the pod)."""
    if kind == "Pod":
        return ""
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
        command=tuple(_s(x) for x in _list(raw.get("command"))),
        args=tuple(_s(x) for x in _list(raw.get("args"))),
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


def _workload(obj: K8sObject, by_key: dict[tuple[str, str, str], K8sObject], ns: str = DEFAULT_NAMESPACE) -> Workload:
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
        target = by_key.get((ref.kind, _ns(obj, ns), ref.name))
        if target is not None:
            owner, tpath = target, _template_path(target.kind)
        elif not isinstance(spec.get("template"), dict):
            tpath = None
    template = (owner.body if tpath == "" else _get(owner.body, tpath)) if tpath is not None else None
    if not isinstance(template, dict):
        template, tpath = {}, None
    pod = _dict(template.get("spec"))
    pod_path = f"{tpath}.spec" if tpath else "spec"  # a Pod's spec, or none found
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
        namespace=_ns(obj, ns),
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
        node_selector={str(k): _s(v) for k, v in _dict(pod.get("nodeSelector")).items()},
        node_affinity=_node_affinity(pod),
    )


def _node_affinity(pod: dict[str, Any]) -> tuple[tuple[SelectorRequirement, ...], ...]:
    required = _get(pod, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution")
    terms = []
    for term in _list(_dict(required).get("nodeSelectorTerms")):
        reqs = tuple(
            SelectorRequirement(
                key=_s(r.get("key")),
                operator=_s(r.get("operator")),
                values=tuple(_s(v) for v in _list(r.get("values"))),
            )
            for r in _list(_dict(term).get("matchExpressions"))
            if isinstance(r, dict) and r.get("key")
        )
        if reqs:
            terms.append(reqs)
    return tuple(terms)


def _service(obj: K8sObject, ns: str = DEFAULT_NAMESPACE) -> Service:
    spec = _dict(obj.body.get("spec"))
    sel = spec.get("selector")
    return Service(
        obj=obj,
        name=obj.name,
        namespace=_ns(obj, ns),
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


def _pdb(obj: K8sObject, ns: str = DEFAULT_NAMESPACE) -> PodDisruptionBudget:
    spec = _dict(obj.body.get("spec"))
    selector = LabelSelector.parse(spec.get("selector"))
    if selector is not None and selector.is_empty and obj.api_version == "policy/v1beta1":
        selector = None  # policy/v1beta1: an empty selector selects no pod (policy/v1: every pod)
    return PodDisruptionBudget(
        obj=obj,
        name=obj.name,
        namespace=_ns(obj, ns),
        selector=selector,
        min_available=IntOrPercent.parse(spec.get("minAvailable")),
        max_unavailable=IntOrPercent.parse(spec.get("maxUnavailable")),
    )


def _hpa(obj: K8sObject, ns: str = DEFAULT_NAMESPACE) -> HorizontalPodAutoscaler:
    spec = _dict(obj.body.get("spec"))
    ref = _dict(spec.get("scaleTargetRef"))
    metrics = []
    for m in _list(spec.get("metrics")):
        m = _dict(m)
        mtype = _s(m.get("type"))
        inner = _dict(m.get(mtype[:1].lower() + mtype[1:])) if mtype else {}
        target = _dict(inner.get("target"))
        name = inner.get("name") or _get(inner, "metric.name") or inner.get("metricName")
        value = next((target[k] for k in ("averageUtilization", "averageValue", "value") if k in target), None)
        target_type = _s(target.get("type")) or None
        if not target:  # autoscaling/v2beta1: targetAverageUtilization / targetAverageValue / targetValue
            v1beta = {"targetAverageUtilization": "Utilization", "targetAverageValue": "AverageValue"}
            v1beta["targetValue"] = "Value"
            key = next((k for k in v1beta if k in inner), None)
            if key is not None:
                value, target_type = inner[key], v1beta[key]
        metrics.append(HPAMetric(type=mtype, name=_s(name) or None, target_type=target_type, target=_s(value) or None))
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
        namespace=_ns(obj, ns),
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


def _network_policy(obj: K8sObject, ns: str = DEFAULT_NAMESPACE) -> NetworkPolicy:
    spec = _dict(obj.body.get("spec"))
    types = [_s(t) for t in _list(spec.get("policyTypes"))]
    if not types:  # the API server's defaulting
        types = ["Ingress"] + (["Egress"] if "egress" in spec else [])
    return NetworkPolicy(
        obj=obj,
        name=obj.name,
        namespace=_ns(obj, ns),
        pod_selector=LabelSelector.parse(spec.get("podSelector")) or LabelSelector(),
        policy_types=tuple(types),
        ingress=_rules(spec.get("ingress"), "ingress"),
        egress=_rules(spec.get("egress"), "egress"),
    )


def _config_map(obj: K8sObject, ns: str = DEFAULT_NAMESPACE) -> ConfigMap:
    data = {str(k): _s(v) for k, v in _dict(obj.body.get("data")).items()}
    return ConfigMap(obj=obj, name=obj.name, namespace=_ns(obj, ns), data=data)


def _secret(obj: K8sObject, ns: str = DEFAULT_NAMESPACE) -> Secret:
    keys = set(_dict(obj.body.get("data"))) | set(_dict(obj.body.get("stringData")))
    return Secret(obj=obj, name=obj.name, namespace=_ns(obj, ns), keys=tuple(sorted(str(k) for k in keys)))
