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
