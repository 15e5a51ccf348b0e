"""Overlays, leaves and environments found in a repository."""

from __future__ import annotations

from pathlib import Path

from urr_audit.loaders.kustomize import load_kubernetes
from urr_audit.workspace import Workspace

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"


def test_environments_are_leaf_overlays_named_by_directory():
    project, _ = load_kubernetes(Workspace(FIXTURES / "kustomize" / "shared-base"))
    assert [e.name for e in project.environments] == ["overlay"]
    by_path = {o.path: o for o in project.overlays}
    assert by_path["overlay"].bases == ["blue", "green"]
    assert not by_path["base"].is_leaf and not by_path["blue"].is_leaf
    env = project.environments[0]
    assert {o.environment for o in env.objects} == {"overlay"}
    assert all(o.address.startswith("overlay/") for o in env.objects)


def test_components_are_not_environments():
    project, _ = load_kubernetes(Workspace(FIXTURES / "kustomize" / "components"))
    assert [e.name for e in project.environments] == ["overlay"]


def test_errors_are_reported_once_per_file_line():
    project, errors = load_kubernetes(Workspace(FIXTURES / "kustomize" / "errors" / "missing-resource"))
    assert [(e.kind, e.path, e.line) for e in errors] == [("kustomize.missing-file", "kustomization.yaml", 3)]
    assert [o.name for o in project.environments[0].objects] == ["present"]
