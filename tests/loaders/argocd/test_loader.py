"""The Argo CD loader: where Applications are found, how their sources are tied to the
repository, what they deploy, and app-of-apps trees."""

from __future__ import annotations

import textwrap

from tests.loaders.argocd.conftest import app, overlay, write
from urr_audit.loaders import load_project


def _apps(project):
    return {a.name: a for a in project.argocd.applications}


def test_plain_file_application_links_to_the_overlay_it_deploys(repo):
    p = repo({"argocd/web-prod.yaml": app("web-prod", "apps/web/overlays/prod", namespace="web-prod")})
    a = _apps(p)["web-prod"]
    src = a.sources[0]
    assert (src.repo_match, src.revision) == ("path", "branch")
    assert src.target.kind == "kustomize" and src.target.overlay == "apps/web/overlays/prod"
    assert src.target.namespace.value == "web-prod"
    assert [o.kind for o in src.target.objects] == ["Deployment"]
    assert a.environment == "prod"
    assert a.address == "argocd/web-prod.yaml/Application/web-prod"
    assert (a.span.path, a.name_span.line, src.path.span.line) == ("argocd/web-prod.yaml", 4, 11)
    assert p.argocd.inventory() == {
        "applications": 1,
        "application sets": 0,
        "generated applications": 0,
        "app projects": 0,
    }


def test_remote_url_from_git_config_decides(tmp_path):
    write(
        tmp_path,
        {
            ".git/config": '[remote "origin"]\n\turl = git@github.com:acme/platform.git\n',
            ".git/HEAD": "ref: refs/heads/main\n",
            "apps/web/base/kustomization.yaml": overlay(resources="deployment.yaml"),
            "apps/web/base/deployment.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
            "apps/web/overlays/prod/kustomization.yaml": overlay("web"),
            "argocd/apps.yaml": app("mine", "apps/web/overlays/prod")
            + "---"
            + app("theirs", "apps/web/overlays/prod", repo="https://github.com/acme/other.git")
            + "---"
            + app("typo", "apps/web/overlay/prod", repo="https://github.com/Acme/platform")
            + "---"
            + app("template", "apps/web/overlays/prod", repo="https://github.com/YOUR_ORG/platform.git"),
        },
    )
    apps = _apps(load_project(tmp_path))
    assert apps["mine"].sources[0].repo_match == "remote"
    assert apps["theirs"].sources[0].repo_match == "other" and apps["theirs"].sources[0].target is None
    typo = apps["typo"].sources[0]
    assert typo.repo_match == "remote" and typo.target.kind == "missing"
    assert typo.target.near == "apps/web/overlays/prod"
    assert apps["template"].sources[0].repo_match == "placeholder"
    assert apps["template"].sources[0].target.kind == "kustomize"


def test_without_remote_path_then_same_url_then_unknown(repo):
    p = repo(
        {
            "argocd/a.yaml": app("a", "apps/web/overlays/dev")
            + "---"
            + app("b", "apps/web/overlays/qa")
            + "---"
            + app("c", "manifests/x", repo="https://github.com/acme/elsewhere.git"),
        }
    )
    apps = _apps(p)
    assert apps["a"].sources[0].repo_match == "path"
    assert apps["b"].sources[0].repo_match == "same-url" and apps["b"].sources[0].target.kind == "missing"
    assert apps["c"].sources[0].repo_match == "unknown" and apps["c"].sources[0].target is None
    notes = [e for e in p.errors if e.kind == "argocd.remote"]
    assert len(notes) == 1 and "not known to be this repository" in notes[0].message


def test_app_of_apps_through_a_directory(repo):
    p = repo(
        {
            "bootstrap/root.yaml": app("root", "argocd/apps", namespace="argocd"),
            "argocd/apps/web-dev.yaml": app("web-dev", "apps/web/overlays/dev", namespace="web-dev"),
            "argocd/apps/web-prod.yaml": app("web-prod", "apps/web/overlays/prod", namespace="web-prod"),
            "argocd/apps/README.md": "not yaml",
        }
    )
    apps = _apps(p)
    root = apps["root"]
    assert root.sources[0].target.kind == "directory"
    assert root.sources[0].target.files == ["argocd/apps/web-dev.yaml", "argocd/apps/web-prod.yaml"]
    assert apps["web-dev"].parents == [root.address] and apps["web-prod"].parents == [root.address]
    assert root.parents == []


def test_app_of_apps_through_a_patched_overlay(repo):
    """Applications that only exist in a render (patched per cluster) are found there, with the
    patch's line for the field it changed."""
    p = repo(
        {
            "bootstrap/root.yaml": app("root", "argocd/overlays/prod", namespace="argocd"),
            "argocd/base/kustomization.yaml": overlay(resources="web.yaml"),
            "argocd/base/web.yaml": app("web", "apps/web/overlays/dev"),
            "argocd/overlays/prod/kustomization.yaml": textwrap.dedent(
                """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources:
                  - ../../base
                patches:
                  - target: {kind: Application, name: web}
                    patch: |-
                      - op: replace
                        path: /spec/source/path
                        value: apps/web/overlays/prod
                """
            ).lstrip(),
        }
    )
    webs = [a for a in p.argocd.applications if a.name == "web"]
    assert len(webs) == 1  # the base file is rendered, not read twice
    web = webs[0]
    env = next(e for e in p.kubernetes.environments if e.path == "argocd/overlays/prod")
    assert web.origin == "rendered" and web.rendered_in == env.name
    assert web.sources[0].target.path == "apps/web/overlays/prod"
    assert web.sources[0].path.span.path == "argocd/overlays/prod/kustomization.yaml"
    assert web.parents == [_apps(p)["root"].address]


def test_app_of_apps_through_an_overlay_other_overlays_build_on(repo):
    p = repo(
        {
            "bootstrap/root.yaml": app("root", "argocd/base", namespace="argocd"),
            "argocd/base/kustomization.yaml": overlay(resources="web.yaml"),
            "argocd/base/web.yaml": app("web", "apps/web/overlays/dev"),
            "argocd/overlays/prod/kustomization.yaml": overlay(),
        }
    )
    webs = {a.rendered_in: a.parents for a in p.argocd.applications if a.name == "web"}
    root = _apps(p)["root"].address
    env = next(e for e in p.kubernetes.environments if e.path == "argocd/overlays/prod")
    assert webs == {"argocd/base": [root], env.name: []}


def test_applications_in_helm_charts_and_terraform_are_templates_not_objects(repo):
    p = repo(
        {
            "charts/apps/Chart.yaml": "apiVersion: v2\nname: apps\nversion: 0.1.0\n",
            "charts/apps/templates/web.yaml": app("{{ .Values.name }}", "apps/web/overlays/dev"),
            "terraform/argocd/main.tf": "",
            "terraform/argocd/app.yaml": app("${name}", "apps/web/overlays/dev"),
            "bootstrap/root.yaml": app("root", "charts/apps", namespace="argocd"),
        }
    )
    assert sorted(_apps(p)) == ["root"]
    t = _apps(p)["root"].sources[0].target
    assert t.kind == "helm" and t.chart_name == "apps" and t.incomplete


def test_revision_kinds_from_git_refs_and_names(tmp_path):
    write(
        tmp_path,
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            ".git/refs/heads/main": "0" * 40 + "\n",
            ".git/refs/tags/release-2024.06": "1" * 40 + "\n",
            "apps/web/overlays/prod/kustomization.yaml": overlay("web", "cm.yaml"),
            "apps/web/overlays/prod/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
            "argocd/a.yaml": "---".join(
                app(f"a{i}", "apps/web/overlays/prod", rev=rev)
                for i, rev in enumerate(
                    ["main", "release-2024.06", "v1.2.3", "HEAD", "4f3c9a1", "feature/x", "'>=1.0.0'"]
                )
            ),
        },
    )
    kinds = [a.sources[0].revision for a in sorted(load_project(tmp_path).argocd.applications, key=lambda a: a.name)]
    assert kinds == ["branch", "tag", "tag", "head", "commit", "branch", "version-range"]


def test_multi_source_ref_resolves_value_files(repo):
    p = repo(
        {
            "environments/prod/values.yaml": "replicaCount: 3\n",
            "argocd/redis.yaml": """
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: redis
spec:
  project: data
  sources:
    - repoURL: https://charts.bitnami.com/bitnami
      chart: redis
      targetRevision: 19.x
      helm:
        valueFiles:
          - $values/environments/prod/values.yaml
          - $values/environments/prod/missing.yaml
    - repoURL: https://github.com/acme/platform.git
      targetRevision: main
      path: apps/web/overlays/dev
    - repoURL: https://github.com/acme/platform.git
      targetRevision: main
      ref: values
  destination:
    server: https://kubernetes.default.svc
    namespace: redis
""",
        }
    )
    redis = _apps(p)["redis"]
    assert redis.multi_source and [s.repo_match for s in redis.sources] == ["other", "path", "same-url"]
    assert redis.sources[0].revision == "version-range"
    assert [(v.path, v.exists) for v in redis.sources[0].helm.value_files] == [
        ("environments/prod/values.yaml", True),
        ("environments/prod/missing.yaml", False),
    ]
    assert [s.deploys for s in redis.sources] == [True, True, False]


def test_sync_policy_and_annotations(repo):
    extra = """  syncPolicy:
    automated:
      prune: true
      selfHeal: false
    syncOptions:
      - CreateNamespace=true
  ignoreDifferences:
    - group: apps
      kind: Deployment
      jsonPointers: [/spec/replicas]
"""
    text = app("web", "apps/web/overlays/dev", extra=extra).replace(
        "  namespace: argocd\n", "  namespace: argocd\n  annotations:\n    argocd.argoproj.io/sync-wave: '-2'\n", 1
    )
    a = _apps(repo({"argocd/web.yaml": text}))["web"]
    sp = a.sync_policy
    assert (sp.automated, sp.prune, sp.self_heal) == (True, True, False)
    assert sp.option("CreateNamespace").value == "CreateNamespace=true"
    assert sp.label == "automated sync (prune)"
    assert a.sync_wave.value == "-2"
    assert a.ignore_differences[0].json_pointers == ["/spec/replicas"]


def test_invalid_argo_documents_are_load_errors(repo):
    p = repo(
        {"argocd/bad.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: x\nspec: 3\n"}
    )
    assert [(e.kind, e.path, e.line) for e in p.errors if e.kind.startswith("argocd")] == [
        ("argocd.invalid", "argocd/bad.yaml", 1)
    ]


def test_sync_hooks_and_waves_of_what_is_deployed(repo):
    job = """
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    argocd.argoproj.io/hook: PreSync
    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation
    argocd.argoproj.io/sync-wave: "-1"
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: m
          image: ghcr.io/acme/migrate:1.0.0
"""
    p = repo(
        {
            "apps/db/job.yaml": job,
            "argocd/db.yaml": app("db", "apps/db"),
        }
    )
    (hook,) = _apps(p)["db"].sources[0].target.hooks
    assert (hook.kind, hook.name, hook.hook, hook.delete_policy, hook.wave) == (
        "Job",
        "migrate",
        "PreSync",
        "BeforeHookCreation",
        -1,
    )


def test_argo_file_that_does_not_parse_is_an_argo_error(repo):
    p = repo({"argocd/broken.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: [x\n"})
    assert [(e.kind, e.path) for e in p.errors if e.kind.startswith("argocd")] == [
        ("argocd.invalid", "argocd/broken.yaml")
    ]


def test_application_set_in_an_overlay_only_its_parent_renders(repo):
    appset = """
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: webs
spec:
  generators:
    - list:
        elements:
          - {stage: dev}
  template:
    metadata:
      name: 'web-{{stage}}'
    spec:
      project: web
      source:
        repoURL: https://github.com/acme/platform.git
        targetRevision: main
        path: 'apps/web/overlays/{{stage}}'
      destination:
        server: https://kubernetes.default.svc
        namespace: 'web-{{stage}}'
"""
    p = repo(
        {
            "bootstrap/root.yaml": app("root", "argocd/base", namespace="argocd"),
            "argocd/base/kustomization.yaml": overlay(resources="webs.yaml"),
            "argocd/base/webs.yaml": appset,
            "argocd/overlays/prod/kustomization.yaml": overlay(),
        }
    )
    root = _apps(p)["root"].address
    in_base = [s for s in p.argocd.application_sets if s.rendered_in == "argocd/base"]
    assert [s.parents for s in in_base] == [[root]]
    assert [a.parents for a in in_base[0].applications] == [[root]]
