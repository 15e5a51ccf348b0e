"""Cross-Application truth: where Argo CD Applications of the repository deploy several
overlays into one cluster, the Kubernetes rules judge each with what the others put there
(loaders/sites.py, `EnvironmentFacts.scope`), and stay undecided where some of it is not read."""

from __future__ import annotations

import textwrap
from pathlib import Path

from urr_audit.model.k8s_facts import facts
from urr_audit.scan import scan


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


def _app(name: str, path: str, namespace: str | None, cluster: str = "server: https://kubernetes.default.svc") -> str:
    lines = [
        "apiVersion: argoproj.io/v1alpha1",
        "kind: Application",
        "metadata:",
        f"  name: {name}",
        "  namespace: argocd",
        "spec:",
        "  project: default",
        "  source:",
        "    repoURL: https://example.com/REPLACE_ME/gitops.git",
        f"    path: {path}",
        "  destination:",
        f"    {cluster}",
    ]
    if namespace:
        lines.append(f"    namespace: {namespace}")
    return "\n".join(lines) + "\n"


KUSTOMIZATION = """
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [app.yaml]
"""

API = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: registry.example.com/api:1.0.0
          env:
            - {name: LEDGER_URL, value: "http://ledger:8080"}
"""

LEDGER = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ledger
spec:
  replicas: 1
  selector: {matchLabels: {app: ledger}}
  template:
    metadata: {labels: {app: ledger}}
    spec:
      containers:
        - {name: ledger, image: "registry.example.com/ledger:1.0.0"}
---
apiVersion: v1
kind: Service
metadata:
  name: ledger
spec:
  selector: {app: ledger}
  ports: [{port: 8080}]
"""

BASELINE = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: payments
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""


def _repo(tmp_path: Path, extra: dict[str, str] | None = None) -> Path:
    files = {
        "apps/api/kustomization.yaml": KUSTOMIZATION,
        "apps/api/app.yaml": API,
        "apps/ledger/kustomization.yaml": KUSTOMIZATION,
        "apps/ledger/app.yaml": LEDGER,
        "cluster/kustomization.yaml": KUSTOMIZATION,
        "cluster/app.yaml": BASELINE,
        "argocd/api.yaml": _app("api", "apps/api", "payments"),
        "argocd/ledger.yaml": _app("ledger", "apps/ledger", "payments"),
        "argocd/cluster.yaml": _app("cluster-config", "cluster", None),
    }
    return _write(tmp_path, {**files, **(extra or {})})


RULES = ["URR-K8S-004", "URR-K8S-010"]


def test_overlays_alone_show_what_the_cluster_has(tmp_path):
    # without Argo CD, each overlay is judged alone: ledger is unknown, no default-deny
    root = _repo(tmp_path)
    for f in ("argocd/api.yaml", "argocd/ledger.yaml", "argocd/cluster.yaml"):
        (root / f).unlink()
    got = {(f.rule_id, f.environment) for f in scan(root, select=RULES).result.findings}
    assert ("URR-K8S-004", "api") in got and ("URR-K8S-010", "api") in got


def test_what_other_applications_deploy_to_the_cluster_counts(tmp_path):
    report = scan(_repo(tmp_path), select=RULES)
    assert report.result.findings == [] and report.result.undecided == []
    env = next(e for e in report.project.kubernetes.environments if e.name == "api")
    assert [(p.name, p.cluster, p.namespace) for p in env.placements] == [("api", "in-cluster", "payments")]
    assert sorted(n.application for n in env.neighbours) == ["cluster-config", "ledger"]
    f = facts(env)
    # the overlay names no namespace: Argo CD puts it in the destination namespace
    assert [w.namespace for w in f.workloads] == ["payments"]
    assert f.resolve_host("ledger", "payments").kind == "service"
    assert [w.name for w in f.workloads] == ["api"]  # what rules report on stays the overlay's own


def test_another_cluster_does_not_count(tmp_path):
    other = "name: prod-eu"
    root = _repo(tmp_path, {"argocd/ledger.yaml": _app("ledger", "apps/ledger", "payments", other)})
    got = {(f.rule_id, f.environment) for f in scan(root, select=RULES).result.findings}
    assert ("URR-K8S-004", "api") in got


def test_cluster_names_resolve_through_cluster_secrets(tmp_path):
    secret = """
    apiVersion: v1
    kind: Secret
    metadata:
      name: prod-eu
      namespace: argocd
      labels: {argocd.argoproj.io/secret-type: cluster}
    stringData:
      name: prod-eu
      server: https://ABC.gr7.eu-west-1.eks.amazonaws.com
    """
    root = _repo(
        tmp_path,
        {
            "argocd/clusters/prod-eu.yaml": secret,
            "argocd/api.yaml": _app("api", "apps/api", "payments", "name: prod-eu"),
            "argocd/ledger.yaml": _app(
                "ledger", "apps/ledger", "payments", "server: https://ABC.gr7.eu-west-1.eks.amazonaws.com/"
            ),
            "argocd/cluster.yaml": _app("cluster-config", "cluster", None, "name: prod-eu"),
        },
    )
    report = scan(root, select=RULES)
    assert report.result.findings == []


def test_unread_content_in_the_namespace_makes_absence_undecided(tmp_path):
    chart = """
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    metadata:
      name: payments-extras
      namespace: argocd
    spec:
      project: default
      source:
        repoURL: https://charts.example.com
        chart: payments-extras
        targetRevision: 1.2.3
      destination:
        server: https://kubernetes.default.svc
        namespace: payments
    """
    root = _repo(tmp_path, {"argocd/ledger.yaml": chart, "argocd/cluster.yaml": chart.replace("payments-extras", "x")})
    report = scan(root, select=RULES)
    assert [f for f in report.result.findings if f.environment == "api"] == []
    undecided = {(f.rule_id, f.environment) for f in report.result.undecided}
    assert ("URR-K8S-004", "api") in undecided and ("URR-K8S-010", "api") in undecided
    assert all("deploys" in f.message and "(not read)" in f.message for f in report.result.undecided)


def test_unread_content_elsewhere_changes_nothing(tmp_path):
    chart = """
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    metadata:
      name: monitoring
      namespace: argocd
    spec:
      project: default
      source:
        repoURL: https://prometheus-community.github.io/helm-charts
        chart: kube-prometheus-stack
        targetRevision: 58.0.0
      destination:
        server: https://kubernetes.default.svc
        namespace: monitoring
    """
    root = _repo(tmp_path, {"argocd/ledger.yaml": chart})
    report = scan(root, select=RULES)
    got = {(f.rule_id, f.environment) for f in report.result.findings if f.environment == "api"}
    assert got == {("URR-K8S-004", "api")}  # ledger is not deployed: its name is still unknown
    assert report.result.undecided == []


def test_several_clusters_count_only_what_all_of_them_hold(tmp_path):
    # api goes to two clusters; the baseline only to one of them
    api_b = _app("api-b", "apps/api", "payments", "name: prod-b")
    report = scan(_repo(tmp_path, {"argocd/api-b.yaml": api_b.replace("apps/api", "apps/api")}), select=RULES)
    got = {(f.rule_id, f.environment) for f in report.result.findings}
    assert ("URR-K8S-010", "api") in got and ("URR-K8S-004", "api") in got
