"""Every rendered field that an overlay changed points at the overlay line that changed it."""

from __future__ import annotations

from pathlib import Path

from urr_audit.loaders.kustomize import load_kubernetes, render
from urr_audit.model.common import Span
from urr_audit.workspace import Workspace

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
CORPUS = FIXTURES / "kustomize"


def one(case: str, kind: str, directory: str = "overlay"):
    objects, errors = render(Workspace(CORPUS / case), directory)
    assert errors == []
    (obj,) = [o for o in objects if o.kind == kind]
    return obj


def at(span: Span) -> tuple[str, int]:
    return span.path, span.line


def test_object_span_is_the_base_document():
    d = one("smp-path", "Deployment")
    assert d.span.path == "base/deployment.yaml"
    assert d.span.line == 1
    assert d.span.end_line == len((CORPUS / "smp-path/base/deployment.yaml").read_text().splitlines())


def test_strategic_merge_patch_field_points_at_patch_line():
    d = one("smp-path", "Deployment")
    assert d.body["spec"]["replicas"] == 3
    assert at(d.origin("spec.replicas")) == ("overlay/patch.yaml", 6)
    level = d.origin("spec.template.spec.containers[name=app].env[name=LEVEL].value")
    assert at(level) == ("overlay/patch.yaml", 16)
    # Untouched fields still point at the resource itself.
    assert d.origin("spec.selector.matchLabels.app") == d.span


def test_images_rewrite_points_at_images_entry():
    d = one("images-tag", "Deployment")
    assert d.body["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27.1"
    assert at(d.origin("spec.template.spec.containers[name=app].image")) == ("overlay/kustomization.yaml", 4)


def test_json6902_op_points_at_its_line_in_the_inline_patch():
    d = one("json6902-inline", "Deployment")
    assert at(d.origin("spec.replicas")) == ("overlay/kustomization.yaml", 10)
    assert at(d.origin("spec.template.spec.containers[name=app].env[name=APPENDED]")) == (
        "overlay/kustomization.yaml",
        13,
    )


def test_generated_name_in_a_workload_points_at_the_generator_entry():
    d = one("generator-refs", "Deployment")
    env_from = d.body["spec"]["template"]["spec"]["containers"][0]["envFrom"][0]["secretRef"]["name"]
    assert env_from.startswith("prod-app-secret-")
    origin = d.origin("spec.template.spec.containers[name=app].envFrom[0].secretRef.name")
    assert at(origin) == ("overlay/kustomization.yaml", 9)


def test_generated_data_points_at_env_file_line():
    cm = one("cm-envs", "ConfigMap", ".")
    assert cm.span.path == "kustomization.yaml"
    assert at(cm.origin("data.B")) == ("a.env", 4)
    assert at(cm.origin("data.FROM_LITERAL")) == ("kustomization.yaml", 7)


def test_namespace_and_prefix_point_at_their_kustomization_lines():
    d = one("overlay-chain", "Deployment")
    assert at(d.origin("metadata.namespace")) == ("overlay/kustomization.yaml", 4)
    assert at(d.origin("metadata.name")) == ("overlay/kustomization.yaml", 3)


def test_urr_prod_images_point_at_the_overlay_not_the_base():
    project, _ = load_kubernetes(Workspace(FIXTURES / "repos" / "urr"))
    prod = next(e for e in project.environments if e.name == "prod")
    d = next(o for o in prod.objects if o.kind == "Deployment" and o.name == "ticket-service")
    image = d.body["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.startswith("CHANGE_ME.")
    origin = d.origin("spec.template.spec.containers[name=ticket-service].image")
    assert origin.path == "k8s/spring/overlays/prod/kustomization.yaml"
    text = (FIXTURES / "repos/urr" / origin.path).read_text().splitlines()
    assert text[origin.line - 1].strip() == "- name: urr/ticket-service"
    assert d.span.path == "k8s/spring/base/ticket-service/deployment.yaml"
