"""Typed Kubernetes facts built from hand-made objects (no renderer involved)."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from urr_audit.model.common import Span
from urr_audit.model.k8s_facts import (
    ImageRef,
    IntOrPercent,
    LabelSelector,
    build_facts,
    facts,
    parse_endpoints,
)
from urr_audit.model.kubernetes import K8sEnvironment, K8sObject


def env_of(
    text: str, origins: dict[tuple[str, str], dict[str, Span]] | None = None, name: str = "prod"
) -> K8sEnvironment:
    objects = []
    for i, doc in enumerate(d for d in YAML(typ="safe", pure=True).load_all(text) if d):
        meta = doc.get("metadata", {})
        objects.append(
            K8sObject(
                api_version=doc["apiVersion"],
                kind=doc["kind"],
                name=meta["name"],
                namespace=meta.get("namespace", "shop"),
                body=doc,
                span=Span(path="objects.yaml", line=100 * i + 1, end_line=100 * i + 99),
                field_origins=(origins or {}).get((doc["kind"], meta["name"]), {}),
                environment=name,
            )
        )
    return K8sEnvironment(name=name, path=f"overlays/{name}", objects=objects)


def deployment(name: str, labels: str = "", replicas: int | None = None, containers: str = "") -> str:
    labels = labels or f"app: {name}"
    lab = "\n".join(f"        {x.strip()}" for x in labels.split(","))
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  {f"replicas: {replicas}" if replicas is not None else ""}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata:
      labels:
{lab}
    spec:
      containers:
{containers or f"        - {{name: {name}, image: registry.internal/{name}:1.0.0}}"}
---"""


# --- selectors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, labels, expected",
    [
        ({"matchLabels": {"app": "a"}}, {"app": "a", "tier": "x"}, True),
        ({"matchLabels": {"app": "a"}}, {"app": "b"}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["x", "y"]}]}, {"tier": "y"}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["x"]}]}, {}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["x"]}]}, {"tier": "x"}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {"tier": ""}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {"tier": "x"}, False),
        (
            {"matchLabels": {"app": "a"}, "matchExpressions": [{"key": "tier", "operator": "Exists"}]},
            {"app": "a"},
            False,
        ),
        ({}, {"anything": "at-all"}, True),
        ({"app": "a"}, {"app": "a"}, True),  # a Service's plain map
    ],
)
def test_label_selector(raw, labels, expected):
    sel = LabelSelector.parse(raw)
    assert sel is not None and sel.matches(labels) is expected


def test_absent_selector_is_none_and_empty_selects_all():
    assert LabelSelector.parse(None) is None
    assert LabelSelector.parse({}).is_empty


# --- images ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, registry, repository, tag, digest",
    [
        ("nginx", None, "nginx", None, None),
        ("nginx:1.25", None, "nginx", "1.25", None),
        ("urr/ticket-service:latest", None, "urr/ticket-service", "latest", None),
        ("localhost:5000/app", "localhost:5000", "app", None, None),
        ("registry.internal:5000/team/app:v1", "registry.internal:5000", "team/app", "v1", None),
        (
            "CHANGE_ME.dkr.ecr.ap-northeast-2.amazonaws.com/urr/auth:8b1d7a4",
            "CHANGE_ME.dkr.ecr.ap-northeast-2.amazonaws.com",
            "urr/auth",
            "8b1d7a4",
            None,
        ),
        ("ghcr.io/o/app:1@sha256:abc", "ghcr.io", "o/app", "1", "sha256:abc"),
        ("ghcr.io/o/app@sha256:abc", "ghcr.io", "o/app", None, "sha256:abc"),
    ],
)
def test_image_parsing(raw, registry, repository, tag, digest):
    img = ImageRef.parse(raw)
    assert (img.registry, img.repository, img.tag, img.digest) == (registry, repository, tag, digest)


def test_int_or_percent():
    assert IntOrPercent.parse("50%") == IntOrPercent(value=50, percent=True)
    assert IntOrPercent.parse(2) == IntOrPercent(value=2)
    assert IntOrPercent.parse(True) is None


# --- replicas, HPA, Rollouts -------------------------------------------------------------------

HPA = """
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 4
  maxReplicas: 9
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
---"""


def test_replicas_after_patch_and_hpa():
    patch = Span(path="overlays/prod/replicas.yaml", line=6, end_line=6)
    env = env_of(
        deployment("api", replicas=2) + deployment("web", replicas=3) + deployment("solo") + HPA,
        origins={("Deployment", "web"): {"spec.replicas": patch}},
    )
    f = facts(env)
    api, web, solo = (f.workload("Deployment", "shop", n) for n in ("api", "web", "solo"))
    assert f.effective_replicas(api).value == 4  # the HPA's floor wins over spec.replicas
    assert f.effective_replicas(api).span == f.hpas[0].span
    assert f.effective_replicas(web).value == 3 and f.effective_replicas(web).span == patch
    assert f.effective_replicas(solo).value == 1  # absent: Kubernetes' default
    assert f.hpa_target(f.hpas[0]) is api
    hpa = f.hpas[0]
    assert (hpa.min_replicas, hpa.max_replicas, hpa.metrics[0].name, hpa.metrics[0].target) == (4, 9, "cpu", "70")


ROLLOUT = """
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: api}
spec:
  replicas: 3
  selector: {matchLabels: {app: api}}
  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: api, scaleDown: onsuccess}
---"""


def test_rollout_borrows_the_deployment_template_and_scales_it_down():
    f = facts(env_of(deployment("api", labels="app: api, tier: backend", replicas=2) + ROLLOUT + HPA))
    dep, ro = f.workload("Deployment", "shop", "api"), f.workload("Rollout", "shop", "api")
    assert ro.pod_labels == {"app": "api", "tier": "backend"}
    assert ro.template_owner is dep.obj and not ro.owns_template
    assert [c.name for c in ro.containers] == ["api"]
    assert f.replaced_by_rollout(dep) is ro
    assert f.effective_replicas(dep).value == 0  # the Rollout controller scales it down, HPA or not
    assert f.effective_replicas(ro).value == 3
    assert [w.kind for w in f.pod_workloads()] == ["Deployment"]


def test_relations_service_pdb_policy():
    env = env_of(
        deployment("api", labels="app: api, tier: backend")
        + deployment("web", labels="app: web, tier: frontend")
        + """
apiVersion: v1
kind: Service
metadata: {name: api}
spec: {selector: {app: api}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: backend}
spec:
  maxUnavailable: 25%
  selector: {matchExpressions: [{key: tier, operator: In, values: [backend]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny}
spec: {podSelector: {}}
"""
    )
    f = facts(env)
    api = f.workload("Deployment", "shop", "api")
    assert [w.name for w in f.service_workloads(f.services[0])] == ["api"]
    assert [p.name for p in f.pdbs_for(api)] == ["backend"]
    assert f.pdbs[0].max_unavailable == IntOrPercent(value=25, percent=True)
    pol = f.network_policies[0]
    assert pol.policy_types == ("Ingress",)  # defaulted: no egress section
    assert pol.is_default_deny_ingress and not pol.isolates_egress
    assert sorted(w.name for w in f.policy_workloads(pol)) == ["api", "web"]


def test_facts_are_built_once_per_environment():
    env = env_of(deployment("api"))
    assert facts(env) is facts(env)
    assert build_facts(env) is not facts(env)


# --- security context -------------------------------------------------------------------------


def test_security_context_merges_pod_and_container_levels():
    env = env_of(
        deployment(
            "api",
            containers="""        - name: api
          image: a:1
          securityContext: {runAsUser: 0, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
        - name: side
          image: b:1""",
        ).replace(
            "    spec:\n      containers:",
            "    spec:\n      securityContext: {runAsNonRoot: true, runAsUser: 1000}\n      containers:",
        )
    )
    api, side = facts(env).workloads[0].containers
    assert api.security.run_as_user == 0 and api.security.source["runAsUser"] == "container"
    assert api.security.run_as_non_root is True and api.security.source["runAsNonRoot"] == "pod"
    assert api.security.capabilities_drop == ("ALL",)
    assert side.security.run_as_user == 1000 and side.security.allow_privilege_escalation is None


# --- endpoints and egress --------------------------------------------------------------------


@pytest.mark.parametrize(
    "var, value, expected",
    [
        (
            "SPRING_DATASOURCE_URL",
            "jdbc:postgresql://db.x.rds.amazonaws.com:5432/app",
            [("db.x.rds.amazonaws.com", 5432)],
        ),
        ("KAFKA_BOOTSTRAP_SERVERS", "kafka-spring:9092", [("kafka-spring", 9092)]),
        ("BROKERS", "b-1.msk:9094,b-2.msk:9094", [("b-1.msk", 9094), ("b-2.msk", 9094)]),
        ("LISTENERS", "PLAINTEXT://a:9092,b:9092", [("a", 9092), ("b", 9092)]),
        ("REDIS_URL", "rediss://:pass@cache:6380/0", [("cache", 6380)]),
        ("QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/1/q", [("sqs.eu-west-1.amazonaws.com", 443)]),
        ("REDIS_HOST", "dragonfly-spring", [("dragonfly-spring", None)]),
        ("SPRING_PROFILES_ACTIVE", "prod", []),
        ("JAVA_TOOL_OPTIONS", "-XX:MaxRAMPercentage=75.0", []),
        ("SERVER_PORT", "3009", []),
        ("DASHBOARD", "line1\nhttp://x:1", []),
    ],
)
def test_parse_endpoints(var, value, expected):
    got = [(h, p) for h, p, _ in parse_endpoints(var, value, scheme_ports={"https": 443})]
    assert got == expected


NETPOL = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-egress}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Egress]
  egress:
    - to: [{podSelector: {matchLabels: {app: cache}}}]
      ports: [{port: redis}]
    - to: [{ipBlock: {cidr: 10.0.0.0/16}}]
      ports: [{port: 5432}]
---
apiVersion: v1
kind: Service
metadata: {name: cache}
spec: {selector: {app: cache}, ports: [{port: 6379, targetPort: redis}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: api-config}
data: {DB_HOST: db.internal.example, DB_PORT: "5432", REDIS_HOST: cache, REDIS_PORT: "6379"}
---"""

CACHE = """        - name: redis
          image: redis:7
          ports: [{name: redis, containerPort: 6379}]"""

API = """        - name: api
          image: api:1
          envFrom: [{configMapRef: {name: api-config}}]
          env:
            - {name: REDIS_PORT, value: "6380"}
            - {name: KAFKA_BOOTSTRAP_SERVERS, value: "kafka:9092"}"""


def test_resolved_env_and_endpoints_follow_envfrom_then_env():
    f = facts(env_of(NETPOL + deployment("api", containers=API) + deployment("cache", containers=CACHE)))
    api = f.workload("Deployment", "shop", "api")
    env = {e.name: e for e in f.resolved_env(api, api.containers[0])}
    assert env["REDIS_PORT"].value == "6380" and env["REDIS_PORT"].source == "env"  # env wins over envFrom
    assert env["DB_HOST"].source == "configmap" and env["DB_HOST"].config_map == "api-config"
    eps = {(e.host, e.port) for e in f.endpoints(api)}
    assert eps == {("db.internal.example", 5432), ("cache", 6380), ("kafka", 9092)}
    assert api.config_maps_read() == ["api-config"]


def test_egress_evaluation():
    f = facts(env_of(NETPOL + deployment("api", containers=API) + deployment("cache", containers=CACHE)))
    api, cache = f.workload("Deployment", "shop", "api"), f.workload("Deployment", "shop", "cache")
    db = f.resolve_host("db.internal.example", "shop")
    redis = f.resolve_host("cache", "shop")
    kafka = f.resolve_host("kafka", "shop")
    assert (db.kind, redis.kind, kafka.kind) == ("external", "service", "unknown-service")
    assert f.egress_allows(api, db, 5432)  # ipBlock covers an external host
    assert not f.egress_allows(api, db, 6379)
    assert f.egress_allows(api, redis, 6379)  # named port `redis` resolves on the cache pods
    assert not f.egress_allows(api, kafka, 9092)  # no Service, no open rule
    assert not f.egress_allows(cache, db, 5432)  # only the default deny selects it
    assert f.resolve_host("cache.shop.svc.cluster.local", "other").kind == "service"
    assert f.resolve_host("search.elsewhere.svc.cluster.local", "shop").kind == "foreign"
    assert f.resolve_host("10.0.3.4", "shop").kind == "ip"
