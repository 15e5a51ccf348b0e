"""Directories of plain manifests (no kustomization) are environments too; the other YAML a
repository holds (Compose, mkdocs, Helm templates, Argo CD Applications...) is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from urr_audit.loaders.kustomize import load_kubernetes
from urr_audit.loaders.kustomize.manifests import candidate_files, load_manifests
from urr_audit.model.common import Span
from urr_audit.scan import scan
from urr_audit.workspace import Workspace

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
PLAIN = FIXTURES / "manifests" / "plain"


@pytest.fixture(scope="module")
def plain():
    return load_kubernetes(Workspace(PLAIN))


def test_plain_directories_are_environments_beside_kustomize_leaves(plain):
    project, _ = plain
    got = [(e.name, e.path, e.source, e.overlay is not None) for e in project.environments]
    # `prod` twice (an overlay and a plain directory): both take their whole path
    assert got == [
        ("k8s-overlays-prod", "k8s/overlays/prod", "kustomize", True),
        ("deploy", "deploy", "manifests", False),
        ("jobs", "jobs", "manifests", False),
        ("legacy-prod", "legacy/prod", "manifests", False),
    ]


def test_objects_keep_their_spans_namespace_and_environment(plain):
    project, _ = plain
    deploy = next(e for e in project.environments if e.name == "deploy")
    got = [(o.kind, o.name, o.namespace, o.span, o.environment) for o in deploy.objects]
    assert got == [
        ("Deployment", "web", "shop", Span(path="deploy/app.yaml", line=2, end_line=23), "deploy"),
        ("Service", "web", "shop", Span(path="deploy/app.yaml", line=25, end_line=35), "deploy"),
        (
            "NetworkPolicy",
            "web-ingress",
            "shop",
            Span(path="deploy/network-policy.yml", line=1, end_line=13),
            "deploy",
        ),
    ]
    web = deploy.objects[0]
    assert web.address == "deploy/apps/v1/Deployment/shop/web"
    assert web.body["spec"]["replicas"] == 2
    # per-field lines, as for rendered Kustomize objects
    assert web.origin("spec.replicas") == Span(path="deploy/app.yaml", line=8, end_line=8)
    assert web.origin("spec.template.spec.containers[name=web].image").line == 19
    assert deploy.span == Span(path="deploy/app.yaml", line=1, end_line=1)


def test_namespace_is_as_written_and_lists_expand(plain):
    project, _ = plain
    jobs = next(e for e in project.environments if e.name == "jobs")
    assert [(o.kind, o.name, o.namespace, o.span.line) for o in jobs.objects] == [
        ("CronJob", "report", None, 4),
        ("ConfigMap", "report", None, 18),
    ]
    assert jobs.objects[0].origin("spec.schedule").line == 9


def test_files_owned_by_kustomize_helm_or_hidden_are_not_candidates():
    ws = Workspace(PLAIN)
    files = candidate_files(ws, {"shared/config.yaml"})
    assert not any(f.startswith(("k8s/", "chart/", ".hidden/", "shared/")) for f in files)
    assert {"deploy/app.yaml", "docker-compose.yml", "mkdocs.yml", "argocd/app.yaml"} <= set(files)


def test_base_files_and_referenced_files_are_counted_once(plain):
    project, _ = plain
    by_path: dict[str, list[str]] = {}
    for env in project.environments:
        for o in env.objects:
            by_path.setdefault(o.span.path, []).append(env.name)
    assert by_path["k8s/base/deployment.yaml"] == ["k8s-overlays-prod"]
    # read by the overlay from outside its tree: not a plain environment of its own
    assert by_path["shared/config.yaml"] == ["k8s-overlays-prod"]


def test_only_kubernetes_that_fails_to_parse_is_an_error(plain):
    _, errors = plain
    # Compose, mkdocs, the invalid docs/notes.yaml, Helm templates: not a word; the chart
    # itself is named once, as a note that it was not audited
    assert [(e.kind, e.path, e.line, e.level) for e in errors] == [
        ("helm.unsupported", "chart/Chart.yaml", 1, "note"),
        ("kubernetes.invalid", "broken/deployment.yaml", 10, "error"),
    ]
    assert "duplicate key 'name'" in errors[1].message


def test_directories_without_built_in_objects_are_not_environments():
    dirs, _ = load_manifests(Workspace(PLAIN), set())
    by_path = {d.path: d for d in dirs}
    assert [o.kind for o in by_path["argocd"].objects] == ["Application"]
    assert not by_path["argocd"].is_environment
    assert "." not in by_path  # kind-config.yaml: a kind Cluster without metadata.name is no object
    assert by_path["deploy"].is_environment


@pytest.mark.parametrize(
    "text,reported",
    [
        ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\nb: [\n", True),
        ("apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata: {}\n", True),  # the first document itself
        ("# head\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, name: b}\n", True),
        ("kind: thing\napiVersion: maybe\nmetadata: [\n", True),
        ("services:\n  kind: x\n  apiVersion: y\n  z: [\n", False),  # keys not at the top level
        ("name: x\n---\napiVersion: v1\nkind: ConfigMap\nb: [\n", False),  # first document is not Kubernetes
        ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \x00\n", True),
    ],
)
def test_parse_failures_are_reported_only_for_kubernetes_files(tmp_path, text, reported):
    (tmp_path / "f.yaml").write_text(text)
    dirs, errors = load_manifests(Workspace(tmp_path), set())
    assert dirs == []
    assert [e.kind for e in errors] == (["kubernetes.invalid"] if reported else [])


def test_documents_that_are_not_objects_are_skipped(tmp_path):
    (tmp_path / "f.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n---\n- a list\n---\njust a string\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n1: x\n"
    )
    dirs, errors = load_manifests(Workspace(tmp_path), set())
    assert errors == []
    assert [(d.path, [o.name for o in d.objects]) for d in dirs] == [(".", ["a"])]


def test_a_kustomization_at_the_root_owns_every_file(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources: []\n")
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n")
    project, _ = load_kubernetes(Workspace(tmp_path))
    assert [e.source for e in project.environments] == ["kustomize"]


def test_rules_fire_on_plain_manifests():
    report = scan(PLAIN, select=["URR-K8S-013", "URR-K8S-010"])
    got = [(f.rule_id, f.path, f.line, f.address) for f in report.result.findings if f.environment == "deploy"]
    assert got == [
        # the environment-wide finding anchors at the directory's first manifest
        ("URR-K8S-010", "deploy/app.yaml", 1, "deploy/networking.k8s.io/v1/NetworkPolicy/shop/*"),
        ("URR-K8S-013", "deploy/app.yaml", 18, "deploy/apps/v1/Deployment/shop/web"),
    ]


@pytest.mark.parametrize("repo", ["urr", "urr-fixed"])
def test_urr_repositories_keep_their_environments(repo):
    # argocd/applications (Applications only) and kind-config*.yaml (a kind Cluster) at the
    # root deploy nothing: the environments are the leaf overlays, as before.
    project, _ = load_kubernetes(Workspace(FIXTURES / "repos" / repo))
    assert [(e.name, e.source) for e in project.environments] == [
        ("argo-rollouts", "kustomize"),
        ("dev", "kustomize"),
        ("kind", "kustomize"),
        ("prod", "kustomize"),
        ("staging", "kustomize"),
    ]


def test_yaml_inside_terraform_modules_is_template_not_manifest(tmp_path):
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n"
    for d in ("modules/eks/templates", "modules/eks", "."):
        (tmp_path / d).mkdir(parents=True, exist_ok=True)
        (tmp_path / d / "cm.yaml").write_text(manifest)
    (tmp_path / "modules/eks/main.tf").write_text('locals {\n  x = templatefile("templates/cm.yaml", {})\n}\n')
    (tmp_path / "main.tf").write_text('module "eks" {\n  source = "./modules/eks"\n}\n')
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "cm.yaml").write_text(manifest.replace("${name}", "app"))
    from urr_audit.loaders.kustomize.manifests import candidate_files
    from urr_audit.workspace import Workspace

    assert candidate_files(Workspace(tmp_path), set()) == ["deploy/cm.yaml"]


def _write(root: Path, files: dict[str, str]) -> Workspace:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return Workspace(root)


def _obj(kind: str, name: str, ns: str = "media", api: str = "v1") -> str:
    return f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {ns}\n"


def test_component_subdirectories_applied_together_are_one_environment(tmp_path):
    ws = _write(
        tmp_path,
        {
            # one application split by component, applied with `kubectl apply -R -f manifests`
            "manifests/api/service.yaml": _obj("Service", "api"),
            "manifests/data/redis.yaml": _obj("Service", "redis"),
            "manifests/namespace.yaml": _obj("Namespace", "media", ns=""),
            # clusters named like environments stay apart, even below a common parent
            "clusters/prod/app.yaml": _obj("Service", "web"),
            "clusters/prod/extra/cm.yaml": _obj("ConfigMap", "settings"),
            "clusters/staging/app.yaml": _obj("Service", "web"),
            # the same objects in two siblings: alternatives, not parts of one whole
            "variants/blue/app.yaml": _obj("Service", "web"),
            "variants/green/app.yaml": _obj("Service", "web"),
        },
    )
    project, _ = load_kubernetes(ws)
    got = {e.path: sorted(o.name for o in e.objects) for e in project.environments}
    assert got == {
        "manifests": ["api", "media", "redis"],
        "clusters/prod": ["settings", "web"],
        "clusters/staging": ["web"],
        "variants/blue": ["web"],
        "variants/green": ["web"],
    }


def test_json_manifests_are_read_and_lock_files_are_not(tmp_path):
    ws = _write(
        tmp_path,
        {
            "deploy/app.json": '{\n  "apiVersion": "v1",\n  "kind": "Service",\n  "metadata": {"name": "api"}\n}\n',
            "deploy/package.json": '{"name": "x", "apiVersion": "v1", "kind": "Service", "metadata": {"name": "y"}}',
            "infra/main.tf.json": '{"resource": {}}',
        },
    )
    project, errors = load_kubernetes(ws)
    (env,) = project.environments
    assert [(o.name, o.span.path, o.span.line) for o in env.objects] == [("api", "deploy/app.json", 1)]
    assert errors == []
