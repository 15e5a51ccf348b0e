"""Decisions of the issue-10 Kubernetes rules (URR-K8S-020..025) and of the workload kinds
and manifest formats every rule now sees."""

from __future__ import annotations

import json
from pathlib import Path

from tests.checks.kubernetes.test_facts import deployment, env_of
from tests.checks.kubernetes.test_rules import findings
from urr_audit.catalog import load_rules
from urr_audit.engine import run
from urr_audit.model.k8s_facts import facts
from urr_audit.model.kubernetes import KubernetesProject
from urr_audit.model.project import Project
from urr_audit.registry import load_checks
from urr_audit.scan import scan


def results(rule_id: str, *envs, **params):
    rule = next(r for r in load_rules() if r.id == rule_id)
    if params:
        rule = rule.model_copy(update={"params": {**rule.params, **params}})
    project = Project(root="/x", kubernetes=KubernetesProject(environments=list(envs)))
    return run(project, [rule], load_checks())


# --- URR-K8S-023: data stores -----------------------------------------------------------------


def redis(extra: str = "", image: str = "redis:7.2.5", volumes: str = "") -> str:
    return f"""
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: cache}}
spec:
  selector: {{matchLabels: {{app: cache}}}}
  template:
    metadata: {{labels: {{app: cache}}}}
    spec:
      containers:
        - name: redis
          image: {image}
{extra}
{volumes}
---"""


def test_redis_password_from_a_config_file_counts():
    config = """
apiVersion: v1
kind: ConfigMap
metadata: {name: redis-conf}
data:
  redis.conf: |
    appendonly yes
    requirepass from-the-config-file
---"""
    mounted = redis(
        '          args: ["/etc/redis/redis.conf"]',
        volumes="      volumes: [{name: conf, configMap: {name: redis-conf}}]",
    )
    assert findings("URR-K8S-023", env_of(config + mounted)) == []
    # the same pod without the ConfigMap in the environment: the setting may be there
    r = results("URR-K8S-023", env_of(mounted))
    assert r.findings == [] and len(r.undecided) == 1
    assert "ConfigMap redis-conf" in r.undecided[0].message


def test_redis_with_settings_from_a_secret_not_rendered_is_undecided():
    pod = redis("          envFrom: [{secretRef: {name: redis-auth}}]")
    r = results("URR-K8S-023", env_of(pod))
    assert r.findings == []
    (u,) = r.undecided
    assert "Secret redis-auth (envFrom)" in u.message


def test_bitnami_redis_asks_for_a_password_unless_told_not_to():
    assert findings("URR-K8S-023", env_of(redis(image="bitnami/redis:7.2.5"))) == []
    opened = redis(
        '          env:\n            - {name: ALLOW_EMPTY_PASSWORD, value: "yes"}', image="bitnami/redis:7.2.5"
    )
    (f,) = findings("URR-K8S-023", env_of(opened))
    assert "ALLOW_EMPTY_PASSWORD=yes" in f.message


def test_local_cluster_environments_are_skipped():
    assert findings("URR-K8S-023", env_of(redis(), name="kind")) == []
    assert findings("URR-K8S-023", env_of(redis(), name="shop-local")) == []
    assert len(findings("URR-K8S-023", env_of(redis(), name="dev"))) == 1


def test_redis_exporter_is_not_redis():
    exporter = deployment("exporter", containers="        - {name: exporter, image: oliver006/redis_exporter:v1.62.0}")
    assert findings("URR-K8S-023", env_of(exporter)) == []


# --- URR-K8S-021: removed API versions ----------------------------------------------------------

LEGACY = """
apiVersion: extensions/v1beta1
kind: Deployment
metadata: {name: api}
spec:
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: "api:1"}]
---
apiVersion: flowcontrol.apiserver.k8s.io/v1beta3
kind: FlowSchema
metadata: {name: batch}
spec: {}
---
apiVersion: policy/v1beta1
kind: PodDisruptionBudget
metadata: {name: everything}
spec:
  minAvailable: 1
  selector: {}
---"""


def test_removed_versions_up_to_the_cluster_version():
    assert len(findings("URR-K8S-021", env_of(LEGACY))) == 3
    older = results("URR-K8S-021", env_of(LEGACY), cluster_version="1.28").findings
    assert {f.message.split(" uses ")[1].split(",")[0] for f in older} == {"extensions/v1beta1", "policy/v1beta1"}


def test_legacy_objects_are_still_judged_with_their_version_semantics():
    f = facts(env_of(LEGACY))
    assert [w.name for w in f.workloads] == ["api"]  # an extensions/v1beta1 Deployment is a workload
    (pdb,) = f.pdbs
    assert pdb.selector is None and f.pdb_workloads(pdb) == []  # v1beta1: `{}` selects no pod


# --- URR-K8S-020: HPA beside a same-named Rollout ------------------------------------------------

ROLLOUT_OWN = """
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: api}
spec:
  replicas: 3
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: "api:2"}]
---"""


def hpa(kind: str, api_version: str = "apps/v1", name: str = "api") -> str:
    return f"""
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: {name}-{kind.lower()}}}
spec:
  scaleTargetRef: {{apiVersion: {api_version}, kind: {kind}, name: api}}
  minReplicas: 2
  maxReplicas: 5
---"""


def test_hpa_on_the_deployment_a_rollout_copies():
    env = env_of(deployment("api", replicas=2) + ROLLOUT_OWN + hpa("Deployment"))
    (f,) = findings("URR-K8S-020", env)
    assert "Rollout api with its own pod template" in f.message
    # the Rollout has its own HPA: this HPA is then only about the Deployment (URR-K8S-009's case)
    both = deployment("api", replicas=2) + ROLLOUT_OWN + hpa("Deployment") + hpa("Rollout", "argoproj.io/v1alpha1")
    assert findings("URR-K8S-020", env_of(both)) == []
    assert findings("URR-K8S-020", env_of(deployment("api", replicas=2) + hpa("Deployment"))) == []


# --- URR-K8S-022: credentials in env ---------------------------------------------------------------


def env_values(*pairs: tuple[str, str]) -> str:
    lines = "\n".join(f"            - {{name: {n}, value: {json.dumps(v)}}}" for n, v in pairs)
    return deployment("api", containers=f"        - name: api\n          image: api:1\n          env:\n{lines}")


def test_credential_names_and_shapes():
    got = findings(
        "URR-K8S-022",
        env_of(
            env_values(
                ("DB_PASSWORD", "s3cr3t-Passw0rd"),
                ("SLACK_WEBHOOK", "xoxb-123456789012-abcdefghijkl"),
                ("SENTRY_ENVIRONMENT", "production"),
                ("CACHE_KEY_PREFIX", "api:v2"),
                ("TOKEN_ENDPOINT", "https://auth.example.org/oauth/token"),
                ("JWT_SECRET", "$(JWT_SECRET_FROM_SECRET)"),
                ("ADMIN_PASSWORD", "changeme"),
                ("DB_PASSWORD_FILE", "/run/secrets/db-password"),
                ("DATABASE_URL", "postgres://api@db.internal/api"),
                ("API_SECRET", "vault:secret/data/api#key"),
            )
        ),
    )
    messages = " ".join(f.message for f in got)
    assert len(got) == 2 and "DB_PASSWORD " in messages and "SLACK_WEBHOOK is shaped like" in messages
    assert "s3cr3t" not in messages and "xoxb" not in messages


# --- URR-K8S-024 / 025: what kustomizations read ---------------------------------------------------


def web_file(replicas: int = 1) -> str:
    """A Deployment as a file (the image quoted: `a:b` inside a flow mapping is no plain scalar)."""
    return deployment(
        "web", replicas=replicas, containers='        - {name: web, image: "registry.internal/web:1.0.0"}'
    )


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def test_stray_files_that_are_patches(tmp_path):
    root = write(
        tmp_path,
        {
            "app/kustomization.yaml": "resources: [deploy.yaml]\n",
            "app/deploy.yaml": web_file(),
            "app/patches/replicas.json": json.dumps([{"op": "replace", "path": "/spec/replicas", "value": 3}]),
            "app/patches/old-name.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: webapp}\n",
            "app/patches/delete.yaml": "$patch: delete\napiVersion: v1\nkind: Service\nmetadata: {name: legacy}\n",
            "app/values.yaml": "replicaCount: 2\n",
            "app/chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
            "app/chart/templates/patch.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
            "app/sub/kustomization.yaml": "resources: []\n",
            "app/sub/extra.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
        },
    )
    report = scan(root, select=["URR-K8S-024"])
    assert [o.name for e in report.project.kubernetes.environments for o in e.objects] == ["web"]
    got = sorted((f.path, f.line) for f in report.result.findings)
    # not: a Helm values file, a file in a chart, a file of another kustomization (sub/ is
    # its own, unrendered: it is a leaf with no objects), a Deployment named like no rendered one
    assert got == [("app/patches/delete.yaml", 1), ("app/patches/replicas.json", 1)]


def test_remote_refs_pinned_to_a_commit_are_accepted(tmp_path):
    sha = "0123456789abcdef0123456789abcdef01234567"
    root = write(
        tmp_path,
        {
            "k/kustomization.yaml": (
                "resources:\n"
                f"  - github.com/acme/platform//base?ref={sha}\n"
                "  - github.com/acme/platform//base?version=v1.2.0\n"
                "  - github.com/acme/platform//base?ref=0123abc\n"
            )
        },
    )
    got = scan(root, select=["URR-K8S-025"]).result.findings
    assert [f.line for f in got] == [3, 4]


# --- every workload kind, every manifest format ------------------------------------------------------


def test_bare_pods_and_json_manifests_are_judged(tmp_path):
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "debug", "labels": {"app": "debug"}},
        "spec": {
            "containers": [
                {"name": "shell", "image": "busybox:1.36", "env": [{"name": "API_TOKEN", "value": "tok-7f3a9c2e11"}]}
            ]
        },
    }
    root = write(tmp_path, {"ops/debug-pod.json": json.dumps(pod, indent=2) + "\n"})
    report = scan(root, select=["URR-K8S-011", "URR-K8S-022", "URR-K8S-015"])
    assert [e.name for e in report.project.kubernetes.environments] == ["ops"]
    got = {(f.rule_id, f.path, f.line) for f in report.result.findings}
    assert ("URR-K8S-011", "ops/debug-pod.json", 12) in got  # the container, in the JSON file
    assert ("URR-K8S-022", "ops/debug-pod.json", 18) in got
    assert ("URR-K8S-015", "ops/debug-pod.json", 12) in got


def test_a_store_image_running_its_client_tools_is_not_a_server():
    flush = redis('          command: ["redis-cli", "-h", "cache", "-a", "$(REDIS_PASSWORD)", "FLUSHDB"]')
    assert findings("URR-K8S-023", env_of(flush)) == []
    backup = """
apiVersion: batch/v1
kind: CronJob
metadata: {name: pg-backup}
spec:
  schedule: "0 1 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: dump
              image: postgres:16.3
              env: [{name: POSTGRES_HOST_AUTH_METHOD, value: trust}]
---"""
    assert findings("URR-K8S-023", env_of(backup)) == []


def test_a_complete_copy_of_a_rendered_object_is_not_a_patch(tmp_path):
    web = web_file(replicas=2)
    root = write(
        tmp_path,
        {
            "app/kustomization.yaml": "resources: [deploy.yaml]\n",
            "app/deploy.yaml": web,
            # the render kept for review (complete), and a partial patch nobody lists
            "app/rendered/all.yaml": web,
            "app/replicas.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 4}\n",
        },
    )
    report = scan(root, select=["URR-K8S-024"])
    assert [o.name for e in report.project.kubernetes.environments for o in e.objects] == ["web"]
    assert [f.path for f in report.result.findings] == ["app/replicas.yaml"]


def test_deployment_beside_rollout_is_reported_at_the_rollout_never_at_the_hpa():
    rollout = """
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: api}
---"""
    # objects: Deployment (line 1), HPA on the Deployment (101), Rollout (201)
    env = env_of(deployment("api", replicas=2) + hpa("Deployment") + rollout)
    (f,) = findings("URR-K8S-009", env)
    assert f.line == 201
