"""Subtle rule decisions, on hand-built environments."""

from __future__ import annotations

from tests.checks.kubernetes.test_facts import NETPOL, deployment, env_of
from urr_audit.catalog import load_rules
from urr_audit.engine import run
from urr_audit.model.kubernetes import KubernetesProject
from urr_audit.model.project import Project
from urr_audit.registry import load_checks


def findings(rule_id: str, *envs):
    project = Project(root="/x", kubernetes=KubernetesProject(environments=list(envs)))
    rules = [r for r in load_rules() if r.id == rule_id]
    return run(project, rules, load_checks()).findings


def test_egress_skips_own_service_and_browser_variables():
    kafka = deployment(
        "kafka",
        containers="""        - name: kafka
          image: apache/kafka:3.7.0
          env:
            - {name: KAFKA_ADVERTISED_LISTENERS, value: "PLAINTEXT://kafka:9092"}
            - {name: NEXT_PUBLIC_API_URL, value: "https://api.example.net"}""",
    )
    svc = """
apiVersion: v1
kind: Service
metadata: {name: kafka}
spec: {selector: {app: kafka}, ports: [{port: 9092}]}
---"""
    assert findings("URR-K8S-003", env_of(NETPOL + kafka + svc)) == []


def test_egress_one_finding_per_workload_at_the_allow_list():
    api = deployment(
        "api",
        containers="""        - name: api
          image: api:1
          env:
            - {name: DATABASE_URL, value: "postgresql://db.example.internal/app"}
            - {name: BROKERS, value: "b-1.msk:9094"}""",
    )
    got = findings("URR-K8S-003", env_of(NETPOL + api))
    assert len(got) == 1
    assert got[0].line == 101  # api-egress, the second object: the policy to extend
    assert "TCP 9094 (Kafka TLS) to b-1.msk:9094 (BROKERS)" in got[0].message
    assert "5432" not in got[0].message  # the ipBlock rule allows it


ROLLOUT = """
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: api%s}
---"""


def test_rollout_with_deployment_decision():
    running = findings("URR-K8S-009", env_of(deployment("api", replicas=2) + ROLLOUT % ""))
    assert len(running) == 1 and "keeps running 2 replica(s)" in running[0].message
    assert findings("URR-K8S-009", env_of(deployment("api", replicas=0) + ROLLOUT % "")) == []
    assert findings("URR-K8S-009", env_of(deployment("api", replicas=2) + ROLLOUT % ", scaleDown: onsuccess")) == []


def test_same_base_finding_in_two_environments_is_one_finding():
    prod, staging = env_of(deployment("api"), name="prod"), env_of(deployment("api"), name="staging")
    got = findings("URR-K8S-013", prod, staging)
    assert len(got) == 1 and got[0].environments == ["prod", "staging"]


PDB = """
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api}
spec:
  minAvailable: %s
  selector: {matchLabels: {app: api}}
---"""


def test_pdb_min_available_percent_rounds_up_to_every_replica():
    # Kubernetes rounds a minAvailable percentage up: 50% of 1 replica is 1, so no pod may go;
    # before, only 100% was seen as blocking
    assert len(findings("URR-K8S-006", env_of(deployment("api", replicas=1) + PDB % '"50%"'))) == 1
    assert len(findings("URR-K8S-006", env_of(deployment("api", replicas=3) + PDB % '"67%"'))) == 1
    assert findings("URR-K8S-006", env_of(deployment("api", replicas=3) + PDB % '"66%"')) == []
    assert findings("URR-K8S-006", env_of(deployment("api", replicas=2) + PDB % '"50%"')) == []


# --- found on fixtures/realworld (hand-written GitOps repositories) ---------------------------

BASELINE = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  egress:
    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}},
            podSelector: {matchLabels: {k8s-app: kube-dns}}}]
      ports: [{protocol: UDP, port: 53}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: worker-egress}
spec:
  podSelector: {matchLabels: {app: worker}}
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: queue}}
          podSelector: {matchLabels: {app.kubernetes.io/name: redis}}
      ports: [{port: 6379}]
---"""

WORKER = deployment(
    "worker",
    containers="""        - name: worker
          image: worker:1
          env:
            - {name: REDIS_URL, value: "redis://redis.queue.svc.cluster.local:6379/0"}
            - {name: S3_ENDPOINT, value: "https://s3.eu-west-1.amazonaws.com"}""",
)


def test_egress_to_another_namespace_through_namespace_and_pod_selector_is_not_claimed_blocked():
    # The queue namespace is deployed by another environment: its pods' labels are unknown here,
    # so a peer admitting that namespace (with any podSelector) may reach Redis.
    (got,) = findings("URR-K8S-003", env_of(BASELINE + WORKER))
    assert "6379" not in got.message and "TCP 443 (HTTPS)" in got.message


def test_egress_finding_anchored_at_the_workload_policy_not_the_namespace_baseline():
    (got,) = findings("URR-K8S-003", env_of(BASELINE + WORKER))
    assert got.line == 101  # worker-egress (second object), not default-deny's DNS rule at line 1


HOST_NETWORK_AGENT = """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-exporter, namespace: monitoring}
spec:
  selector: {matchLabels: {app: node-exporter}}
  template:
    metadata: {labels: {app: node-exporter}}
    spec:
      hostNetwork: true
      containers:
        - name: node-exporter
          image: quay.io/prometheus/node-exporter:v1.8.1
          env:
            - {name: PUSH_URL, value: "https://push.example.com"}
---"""


def test_host_network_pods_are_outside_network_policy():
    # NetworkPolicy does not govern host-network pods: no default-deny to ask for, no egress to judge.
    deny = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: monitoring}
spec: {podSelector: {}, policyTypes: [Egress]}
---"""
    assert findings("URR-K8S-010", env_of(HOST_NETWORK_AGENT)) == []
    assert findings("URR-K8S-003", env_of(HOST_NETWORK_AGENT + deny)) == []
    plain = HOST_NETWORK_AGENT.replace("hostNetwork: true", "hostNetwork: false")
    assert len(findings("URR-K8S-010", env_of(plain))) == 1


def test_selectors_in_a_namespace_the_environment_runs_no_pod_in_are_not_judged():
    # ingress-nginx's controller comes from its Helm chart; the repository adds only policies.
    helm_managed = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: controller, namespace: ingress-nginx}
spec:
  podSelector: {matchLabels: {app.kubernetes.io/name: ingress-nginx}}
  ingress: [{ports: [{port: 443}]}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: controller, namespace: ingress-nginx}
spec: {maxUnavailable: 1, selector: {matchLabels: {app.kubernetes.io/name: ingress-nginx}}}
---"""
    assert findings("URR-K8S-007", env_of(helm_managed)) == []
    # In a namespace where the environment does run pods, a selector matching none is reported.
    same_ns = helm_managed.replace("ingress-nginx}", "shop}").replace(", namespace: shop", "")
    assert len(findings("URR-K8S-007", env_of(same_ns + deployment("web")))) == 2


def test_statefulset_pod_hostname_resolves_to_its_headless_service():
    # kafka-0.kafka-headless.<ns>.svc.cluster.local is a cluster name, not an external host:
    # a podSelector egress rule to the brokers reaches it, and a missing Service is reported.
    brokers = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: kafka}
spec:
  serviceName: kafka-headless
  replicas: 3
  selector: {matchLabels: {app: kafka}}
  template:
    metadata: {labels: {app: kafka}}
    spec:
      containers: [{name: kafka, image: "kafka:3.7.0", ports: [{containerPort: 9092}]}]
---
apiVersion: v1
kind: Service
metadata: {name: kafka-headless}
spec: {clusterIP: None, selector: {app: kafka}, ports: [{port: 9092}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-egress}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Egress]
  egress: [{to: [{podSelector: {matchLabels: {app: kafka}}}], ports: [{port: 9092}]}]
---"""
    api = deployment(
        "api",
        containers="""        - name: api
          image: api:1
          env:
            - {name: KAFKA_BOOTSTRAP_SERVERS, value: "kafka-0.kafka-headless.shop.svc.cluster.local:9092"}
            - {name: AUDIT_BROKERS, value: "kafka-0.kafka-gone.shop.svc:9092"}""",
    )
    env = env_of(brokers + api)
    # The headless Service's pod is reachable; the missing Service is URR-K8S-004's alone (the
    # connection fails at name resolution, before any policy): not reported again as blocked.
    assert findings("URR-K8S-003", env) == []
    (unknown,) = findings("URR-K8S-004", env)
    assert "no Service kafka-gone exists in namespace shop" in unknown.message
