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
    # Untouched fields point at their own line in the base manifest.
    assert at(d.origin("spec.selector.matchLabels.app")) == ("base/deployment.yaml", 11)


def test_base_fields_point_at_their_own_line():
    d = one("smp-path", "Deployment")
    app = "spec.template.spec.containers[name=app]"
    assert at(d.origin(f"{app}.image")) == ("base/deployment.yaml", 19)  # the patch left it alone
    assert at(d.origin(app)) == ("base/deployment.yaml", 18)  # the `- name: app` line
    assert at(d.origin(f"{app}.env[name=MODE].value")) == ("base/deployment.yaml", 25)
    assert at(d.origin(f"{app}.ports[containerPort=8080].name")) == ("base/deployment.yaml", 22)
    assert at(d.origin(f"{app}.ports[0]")) == ("base/deployment.yaml", 21)
    # Absent: the nearest ancestor written in the base.
    assert at(d.origin(f"{app}.securityContext.readOnlyRootFilesystem")) == ("base/deployment.yaml", 18)
    assert at(d.origin("metadata.labels.app")) == ("base/deployment.yaml", 6)
    # Added by the patch: the patch line, whatever the base says about ancestors.
    assert at(d.origin("spec.template.spec.containers[name=sidecar].image")) == ("overlay/patch.yaml", 10)
    assert d.origin("") == d.span
    assert d.origin("nothere.at.all") == d.span


def test_base_lines_of_list_items_and_dotted_keys():
    objects, errors = render(Workspace(CORPUS / "list-kind"), ".")
    assert errors == []
    two = next(o for o in objects if o.name == "two")
    assert at(two.origin("metadata.name")) == ("list.yaml", 11)
    assert at(two.origin("metadata")) == ("list.yaml", 10)


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


def test_generated_objects_are_addressed_by_their_name_before_the_hash():
    objects, errors = render(Workspace(CORPUS / "generator-refs"), "overlay")
    assert errors == []
    cm = next(o for o in objects if o.kind == "ConfigMap")
    assert cm.name.startswith("prod-app-config-") and cm.name != "prod-app-config"
    assert cm.generated_name == "prod-app-config"
    assert cm.address.endswith("/ConfigMap/_/prod-app-config")
    d = next(o for o in objects if o.kind == "Deployment")
    assert d.generated_name is None and d.address.endswith("/" + d.name)


def test_dotted_keys_resolve_to_their_line():
    from urr_audit.model.kubernetes import SourceDoc

    data = {"metadata": {"labels": {"app.kubernetes.io/name": "x", "app": "y"}}, "data": {"a.b.c": "1"}}
    lines = {
        ("metadata",): 3,
        ("metadata", "labels"): 4,
        ("metadata", "labels", "app.kubernetes.io/name"): 5,
        ("metadata", "labels", "app"): 6,
        ("data",): 7,
        ("data", "a.b.c"): 8,
    }
    src = SourceDoc(data, lines)
    assert src.line("metadata.labels.app.kubernetes.io/name") == 5
    assert src.line("metadata.labels.app") == 6
    assert src.line("data.a.b.c") == 8
    assert src.line("data.a.b") == 7
    assert src.line("spec.replicas") is None


def test_replicas_entry_points_at_its_count():
    # The line to edit is `count: 5`, not the entry's `- name: web`.
    d = next(o for o in render(Workspace(CORPUS / "replicas"), "overlay")[0] if o.kind == "Deployment")
    assert d.body["spec"]["replicas"] == 5
    assert at(d.origin("spec.replicas")) == ("overlay/kustomization.yaml", 6)


def test_last_of_several_patches_wins_and_is_the_origin():
    d = one("patches-last-wins", "Deployment")
    # patchesStrategicMerge (9) runs before `patches`: the SMP (2), then the JSON op (3).
    assert d.body["spec"]["replicas"] == 3
    assert at(d.origin("spec.replicas")) == ("overlay/kustomization.yaml", 24)
    app = "spec.template.spec.containers[name=app]"
    assert d.body["spec"]["template"]["spec"]["containers"][0]["image"] == "example/app:2"
    assert at(d.origin(f"{app}.image")) == ("overlay/last.yaml", 10)
    assert at(d.origin(f"{app}.env[name=MODE].value")) == ("overlay/last.yaml", 13)


def test_allowed_name_and_kind_change_point_at_the_patch():
    objects, errors = render(Workspace(CORPUS / "patch-name-kind-change"), "overlay")
    assert errors == []
    cm = next(o for o in objects if o.kind == "ConfigMap")
    assert cm.name == "web-config"
    assert at(cm.origin("metadata.name")) == ("overlay/kustomization.yaml", 13)
    sts = next(o for o in objects if o.kind == "StatefulSet")
    assert sts.name == "web-sts"
    assert at(sts.origin("kind")) == ("overlay/kustomization.yaml", 24)
    assert at(sts.origin("metadata.name")) == ("overlay/kustomization.yaml", 26)
    # The reference to the renamed ConfigMap follows it; its origin is what renamed it.
    ref = "spec.template.spec.containers[name=web].envFrom[0].configMapRef.name"
    assert at(sts.origin(ref)) == ("overlay/kustomization.yaml", 13)
    # Without the option, a patch's name only selects: the Service keeps its name.
    assert next(o for o in objects if o.kind == "Service").name == "web"


def test_replicas_by_original_and_prefixed_name_point_at_the_entry():
    objects, errors = render(Workspace(CORPUS / "replicas-renamed"), "overlay")
    assert errors == []
    by_kind = {o.kind: o for o in objects}
    assert by_kind["Deployment"].body["spec"]["replicas"] == 4
    assert at(by_kind["Deployment"].origin("spec.replicas")) == ("overlay/kustomization.yaml", 6)
    assert by_kind["StatefulSet"].body["spec"]["replicas"] == 3
    assert at(by_kind["StatefulSet"].origin("spec.replicas")) == ("overlay/kustomization.yaml", 8)
