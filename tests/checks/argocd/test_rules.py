"""Argo CD rules on small repositories built for one behaviour each: what is reported, what is
left alone on purpose, and what is undecided (with the reason)."""

from __future__ import annotations

from tests.loaders.argocd.conftest import BASE, app, write
from urr_audit.scan import scan

PROJECT = """
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: {name}
  namespace: argocd
spec:
  sourceRepos: ['*']
  destinations:
    - {{server: '*', namespace: '*'}}
  clusterResourceWhitelist:
    - {{group: '*', kind: '*'}}
"""


def _run(tmp_path, files, rule):
    write(tmp_path, {**BASE, **files})
    r = scan(tmp_path, select=[rule]).result
    return r.findings, r.undecided


def test_bootstrap_application_creating_the_projects_may_use_default(tmp_path):
    root = app("root", "argocd/config", namespace="argocd").replace("project: web", "project: default")
    found, _ = _run(
        tmp_path,
        {
            "bootstrap/root.yaml": root,
            "argocd/config/projects.yaml": PROJECT.format(name="web"),
            "argocd/config/web.yaml": app("web-dev", "apps/web/overlays/dev").replace(
                "project: web", "project: default"
            ),
        },
        "URR-ARGO-003",
    )
    assert [(f.path, f.message.split(" is ")[0]) for f in found] == [("argocd/config/web.yaml", "Application web-dev")]


def test_cluster_resource_wildcard_names_what_the_project_deploys(tmp_path):
    found, _ = _run(
        tmp_path,
        {
            "argocd/projects.yaml": PROJECT.format(name="web")
            .replace("sourceRepos: ['*']", "sourceRepos: [x]")
            .replace("{server: '*', namespace: '*'}", "{server: '*', namespace: web}"),
            "argocd/web.yaml": app("web-dev", "apps/web/overlays/dev"),
        },
        "URR-ARGO-004",
    )
    (f,) = found
    assert "its Application web-dev deploys no cluster-scoped object" in f.message


def test_production_followers_are_the_same_application_in_other_stages(tmp_path):
    found, _ = _run(
        tmp_path,
        {
            "apps/other/dev/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
            "argocd/apps.yaml": "---".join(
                [
                    app("web-dev", "apps/web/overlays/dev"),
                    app("other-dev", "apps/other/dev"),
                    app(
                        "web-prod", "apps/web/overlays/prod", extra="  syncPolicy:\n    automated:\n      prune: true\n"
                    ),
                ]
            ),
        },
        "URR-ARGO-005",
    )
    (f,) = found
    assert "which web-dev also follows: a merge there reaches production" in f.message  # one app: follows
    assert "other-dev" not in f.message


def test_undeployed_overlay_is_undecided_where_an_application_set_may_deploy_it(tmp_path):
    appset = """
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: previews
spec:
  generators:
    - pullRequest:
        github: {owner: acme, repo: web}
  template:
    metadata:
      name: 'web-{{number}}'
    spec:
      project: web
      source:
        repoURL: https://github.com/acme/platform.git
        targetRevision: '{{head_sha}}'
        path: 'apps/web/overlays/{{branch_slug}}'
      destination:
        server: https://kubernetes.default.svc
        namespace: 'web-{{number}}'
"""
    files = {
        "apps/web/overlays/staging/kustomization.yaml": BASE["apps/web/overlays/prod/kustomization.yaml"],
        "argocd/web.yaml": app("web-prod", "apps/web/overlays/prod"),
    }
    found, undecided = _run(tmp_path, files, "URR-ARGO-007")
    assert {f.path for f in found} == {
        "apps/web/overlays/dev/kustomization.yaml",
        "apps/web/overlays/staging/kustomization.yaml",
    }
    assert all("while web-prod deploys apps/web/overlays/prod" in f.message for f in found)  # one app: deploys
    assert undecided == []
    found, undecided = _run(tmp_path, {**files, "argocd/previews.yaml": appset}, "URR-ARGO-007")
    assert found == [] and len(undecided) == 2
    assert all("ApplicationSet previews may" in f.message and "pullRequest" in f.message for f in undecided)


def test_undeployed_overlays_are_not_judged_without_argo_cd(tmp_path):
    found, undecided = _run(tmp_path, {}, "URR-ARGO-007")
    assert (found, undecided) == ([], [])


def test_crd_rule_undecided_while_an_application_set_is_not_expanded(tmp_path):
    rollout = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: web\nspec: {}\n"
    addons = """
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: addons
spec:
  generators:
    - plugin:
        configMapRef: {name: addons}
  template:
    metadata:
      name: '{{addon}}'
    spec:
      project: platform
      source:
        repoURL: '{{repo}}'
        chart: '{{addon}}'
        targetRevision: '{{version}}'
      destination:
        server: https://kubernetes.default.svc
        namespace: '{{addon}}'
"""
    files = {"apps/rollout/web.yaml": rollout, "argocd/web.yaml": app("web", "apps/rollout")}
    found, undecided = _run(tmp_path, files, "URR-ARGO-009")
    assert [f.path for f in found] == ["apps/rollout/web.yaml"] and undecided == []
    found, undecided = _run(tmp_path, {**files, "argocd/addons.yaml": addons}, "URR-ARGO-009")
    assert found == [] and [f.path for f in undecided] == ["apps/rollout/web.yaml"]
    assert "ApplicationSet addons generates Applications not known" in undecided[0].message


def test_crd_installed_by_terraform_helm_release_or_a_crd_object(tmp_path):
    rollout = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: web\nspec: {}\n"
    files = {"apps/rollout/web.yaml": rollout, "argocd/web.yaml": app("web", "apps/rollout")}
    tf = 'resource "helm_release" "rollouts" {\n  name  = "argo-rollouts"\n  chart = "argo-rollouts"\n}\n'
    found, _ = _run(tmp_path, {**files, "terraform/addons/main.tf": tf}, "URR-ARGO-009")
    assert found == []
    (tmp_path / "terraform/addons/main.tf").unlink()
    crd = (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
        "  name: rollouts.argoproj.io\nspec:\n  group: argoproj.io\n  names: {kind: Rollout, plural: rollouts}\n"
        "  scope: Namespaced\n"
    )
    crds_app = app("rollouts-crds", "crds", namespace="argo-rollouts")
    found, _ = _run(tmp_path, {**files, "crds/rollouts.yaml": crd, "argocd/crds.yaml": crds_app}, "URR-ARGO-009")
    assert found == []


def test_path_of_an_unknown_repository_is_undecided(tmp_path):
    found, undecided = _run(
        tmp_path,
        {"argocd/x.yaml": app("x", "deploy/prod", repo="https://github.com/acme/elsewhere.git")},
        "URR-ARGO-002",
    )
    assert found == [] and len(undecided) == 1
    assert "not known to be this repository" in undecided[0].message


def test_duplicates_in_other_argo_cd_instances_are_not_compared(tmp_path):
    found, _ = _run(
        tmp_path,
        {
            "clusters/eu/web.yaml": app("web", "apps/web/overlays/prod"),
            "clusters/us/web.yaml": app("web", "apps/web/overlays/prod"),
            "clusters/eu/web-copy.yaml": app("web-copy", "apps/web/overlays/prod"),
        },
        "URR-ARGO-008",
    )
    # web and web-copy share a directory (one instance); the two `web` are each instance's own
    assert sorted(f.path for f in found) == ["clusters/eu/web-copy.yaml", "clusters/eu/web.yaml"]


def test_project_destination_by_name_matches_a_declared_cluster_server(tmp_path):
    project = """
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: web
spec:
  sourceRepos: ['https://github.com/acme/platform.git']
  destinations:
    - {name: 'prod-*', namespace: web}
"""
    secret = """
apiVersion: v1
kind: Secret
metadata:
  name: prod-eu
  labels: {argocd.argoproj.io/secret-type: cluster}
stringData:
  name: prod-eu
  server: https://prod-eu.example.internal
"""
    target = app("web", "apps/web/overlays/prod").replace(
        "server: https://kubernetes.default.svc", "server: https://prod-eu.example.internal"
    )
    # the cluster's name is not known: whether `prod-*` allows the server URL is not decided
    found, _ = _run(tmp_path, {"argocd/p.yaml": project, "argocd/web.yaml": target}, "URR-ARGO-011")
    assert found == []
    found, _ = _run(
        tmp_path,
        {"argocd/cluster.yaml": secret.replace("name: prod-eu\n  server", "name: stg-eu\n  server")},
        "URR-ARGO-011",
    )
    assert len(found) == 1 and "does not allow destination" in found[0].message
    found, _ = _run(tmp_path, {"argocd/cluster.yaml": secret}, "URR-ARGO-011")
    assert found == []


def test_repository_urls_given_as_a_param_decide(tmp_path):
    write(tmp_path, {**BASE, "argocd/x.yaml": app("x", "deploy/prod", repo="https://github.com/acme/mirror.git")})
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "ours.yaml").write_text(
        "id: ACME-ARGO-002\ntitle: t\nseverity: high\ncategory: delivery\ncheck: argocd-source-path\n"
        "params:\n  repo_urls: ['git@github.com:Acme/mirror.git']\nrationale: r\nremediation: m\n"
    )
    r = scan(tmp_path, select=["ACME-ARGO-002"], rule_dirs=(tmp_path / "rules",)).result
    assert [f.path for f in r.findings] == ["argocd/x.yaml"] and r.undecided == []


def test_crd_rule_undecided_when_a_remote_terraform_module_installs_add_ons(tmp_path):
    rollout = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: web\nspec: {}\n"
    tf = (
        'module "addons" {\n  source  = "aws-ia/eks-blueprints-addons/aws"\n  version = "~> 1.16"\n'
        "  enable_argo_rollouts = true\n}\n"
    )
    found, undecided = _run(
        tmp_path,
        {"apps/rollout/web.yaml": rollout, "argocd/web.yaml": app("web", "apps/rollout"), "terraform/main.tf": tf},
        "URR-ARGO-009",
    )
    assert found == [] and "eks-blueprints-addons" in undecided[0].message
