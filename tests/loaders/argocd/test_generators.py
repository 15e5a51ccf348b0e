"""ApplicationSets expanded statically: the Applications the controller would generate, where
its inputs are in the repository; said unknown (with the reason) where they are not."""

from __future__ import annotations

import pytest

from tests.loaders.argocd.conftest import write
from urr_audit.loaders import load_project

TEMPLATE_GO = """
  template:
    metadata:
      name: '{name}'
    spec:
      project: apps
      source:
        repoURL: https://github.com/acme/platform.git
        targetRevision: main
        path: '{path}'
      destination:
        name: '{cluster}'
        namespace: '{namespace}'
"""


def appset(
    generators: str,
    name: str,
    path: str,
    cluster: str = "in-cluster",
    namespace: str = "apps",
    go: bool = True,
    extra: str = "",
) -> str:
    head = (
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: set\n  namespace: argocd\nspec:\n"
    )
    if go:
        head += "  goTemplate: true\n  goTemplateOptions: [missingkey=error]\n"
    return (
        head
        + extra
        + "  generators:\n"
        + generators
        + TEMPLATE_GO.format(name=name, path=path, cluster=cluster, namespace=namespace)
    )


TREE = {
    "apps/web/kustomization.yaml": "resources: []\n",
    "apps/api/kustomization.yaml": "resources: []\n",
    "apps/legacy/kustomization.yaml": "resources: []\n",
    "apps/.hidden/kustomization.yaml": "resources: []\n",
    "apps/api/nested/deep/x.yaml": "a: 1\n",
    "clusters/prod-eu/config.json": '{"cluster": {"name": "prod-eu", "address": "https://1.2.3.4"}, "tier": "prod"}',
    "clusters/dev/config.json": '{"cluster": {"name": "dev", "address": "https://5.6.7.8"}, "tier": "dev"}',
    "clusters/all.yaml": "- {cluster: {name: a}, tier: x}\n- {cluster: {name: b}, tier: y}\n",
}


@pytest.fixture
def expand(tmp_path):
    def run(text: str, files: dict[str, str] | None = None):
        write(tmp_path, {**TREE, **(files or {}), "argocd/set.yaml": text})
        p = load_project(tmp_path)
        (s,) = p.argocd.application_sets
        return s, p

    return run


def names(s):
    return sorted(a.name for a in s.applications)


def test_git_directories_go_template_with_exclude(expand):
    text = appset(
        "    - git:\n        repoURL: https://github.com/acme/platform.git\n        revision: HEAD\n"
        "        directories:\n          - path: apps/*\n          - path: apps/legacy\n            exclude: true\n",
        "{{.path.basename}}",
        "{{.path.path}}",
    )
    s, p = expand(text)
    assert (s.expansion, names(s)) == ("complete", ["api", "web"])
    web = next(a for a in s.applications if a.name == "web")
    assert web.sources[0].target.path == "apps/web" and web.generated_by == s.address
    template_line = text.splitlines().index("        path: '{{.path.path}}'") + 1
    assert web.sources[0].path.span.line == template_line
    assert web.address == f"{s.address}/web"
    assert sorted(a.name for a in p.argocd.applications) == ["api", "web"]


def test_git_directories_fasttemplate_segments(expand):
    s, _ = expand(
        appset(
            "    - git:\n        repoURL: https://github.com/acme/platform.git\n        revision: HEAD\n"
            "        directories:\n          - path: 'apps/*'\n",
            "{{path[0]}}-{{path.basename}}",
            "{{path}}",
            go=False,
        )
    )
    assert names(s) == ["apps-api", "apps-legacy", "apps-web"]


def test_git_files_json_and_yaml_lists(expand):
    s, _ = expand(
        appset(
            "    - git:\n        repoURL: https://github.com/acme/platform.git\n        revision: HEAD\n"
            "        files:\n          - path: clusters/**/config.json\n",
            "web-{{.cluster.name}}",
            "apps/web",
            cluster="{{.cluster.name}}",
            namespace="web-{{.tier}}",
        )
    )
    assert names(s) == ["web-dev", "web-prod-eu"]
    assert {a.destination.namespace.value for a in s.applications} == {"web-dev", "web-prod"}
    s2, _ = expand(
        appset(
            "    - git:\n        repoURL: https://github.com/acme/platform.git\n        revision: HEAD\n"
            "        files:\n          - path: clusters/all.yaml\n",
            "web-{{cluster.name}}-{{path.filename}}",
            "apps/web",
            go=False,
        )
    )
    assert names(s2) == ["web-a-all.yaml", "web-b-all.yaml"]


def test_list_then_matrix_with_git_reading_the_first_generator(expand):
    s, _ = expand(
        appset(
            "    - matrix:\n        generators:\n"
            "          - list:\n              elements:\n                - {dir: apps}\n"
            "          - git:\n              repoURL: https://github.com/acme/platform.git\n"
            "              revision: HEAD\n              directories:\n                - path: '{{.dir}}/w*'\n",
            "{{.dir}}-{{.path.basename}}",
            "{{.path.path}}",
        )
    )
    assert names(s) == ["apps-web"] and s.generators[0].kind == "matrix"
    assert [g.kind for g in s.generators[0].children] == ["list", "git-directories"]


def test_merge_by_key(expand):
    s, _ = expand(
        appset(
            "    - merge:\n        mergeKeys: [app]\n        generators:\n"
            "          - list:\n              elements:\n                - {app: web, rev: main}\n"
            "                - {app: api, rev: main}\n"
            "          - list:\n              elements:\n                - {app: api, rev: v2}\n"
            "                - {app: other, rev: v9}\n",
            "{{.app}}-{{.rev}}",
            "apps/{{.app}}",
        )
    )
    assert names(s) == ["api-v2", "web-main"]


def test_clusters_from_secrets_are_partial(expand):
    secret = """
apiVersion: v1
kind: Secret
metadata:
  name: prod-eu
  namespace: argocd
  labels:
    argocd.argoproj.io/secret-type: cluster
    env: prod
stringData:
  name: prod-eu
  server: https://prod-eu.example.internal
"""
    s, p = expand(
        appset(
            "    - clusters:\n        selector:\n          matchLabels:\n            env: prod\n",
            "web-{{.name}}",
            "apps/web",
            cluster="{{.name}}",
        ),
        {"clusters/secrets/prod-eu.yaml": secret},
    )
    assert names(s) == ["web-prod-eu"] and s.expansion == "partial"
    assert [c.name for c in p.argocd.clusters] == ["prod-eu"]
    s2, _ = expand(appset("    - clusters: {}\n", "web-{{.name}}", "apps/web", cluster="{{.name}}"))
    assert names(s2) == ["web-in-cluster", "web-prod-eu"]  # no selector: the local cluster too
    notes = [e for e in p.errors if e.kind == "argocd.unexpanded"]
    assert notes and "only partly known" in notes[0].message


def test_outside_inputs_are_unknown_with_the_reason(expand):
    s, _ = expand(appset("    - scmProvider:\n        github:\n          organization: acme\n", "{{.repository}}", "x"))
    assert (s.expansion, s.applications) == ("unknown", [])
    assert "scmProvider" in s.reason
    assert s.could_deploy("x") and not s.could_deploy("y")
    s2, _ = expand(
        appset(
            "    - list:\n        elements:\n          - {app: web}\n",
            "{{ .app | sha256sum }}",
            "apps/{{.app}}",
        )
    )
    assert s2.expansion == "unknown" and "sha256sum" in s2.reason
    assert s2.could_deploy("apps/anything")


def test_controller_errors_are_load_errors(expand):
    s, p = expand(appset("    - list:\n        elements:\n          - {app: web}\n", "{{.nope}}", "apps/web"))
    assert s.expansion == "unknown"
    errors = [e for e in p.errors if e.kind == "argocd.applicationset"]
    assert errors and "nope" in errors[0].message and errors[0].level == "error"


def test_git_generator_on_another_repository_is_unknown(tmp_path):
    write(
        tmp_path,
        {
            **TREE,
            ".git/config": '[remote "origin"]\n\turl = https://github.com/acme/platform\n',
            "argocd/set.yaml": appset(
                "    - git:\n        repoURL: https://github.com/acme/other.git\n        revision: HEAD\n"
                "        directories:\n          - path: apps/*\n",
                "{{.path.basename}}",
                "{{.path.path}}",
            ),
        },
    )
    (s,) = load_project(tmp_path).argocd.application_sets
    assert s.expansion == "unknown" and "another repository" in s.reason


def test_a_matrix_too_large_is_not_expanded(expand):
    many = "".join(f"                - {{a: x{i}}}\n" for i in range(60))
    others = "".join(f"                - {{b: y{i}}}\n" for i in range(60))
    s, _ = expand(
        appset(
            "    - matrix:\n        generators:\n          - list:\n              elements:\n"
            + many
            + "          - list:\n              elements:\n"
            + others,
            "{{.a}}-{{.b}}",
            "apps/web",
        )
    )
    assert s.expansion == "unknown" and "more than 2000" in s.reason and s.applications == []
