"""`urr-audit render DIR`: the overlay as a YAML stream, the same documents kubectl prints."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from urr_audit.cli import app

REPO = FIXTURES / "repos" / "urr"
PROD = REPO / "k8s" / "spring" / "overlays" / "prod"


def _docs(text: str) -> list:
    return [d for d in YAML(typ="safe", pure=True).load_all(text) if d is not None]


def test_render_prints_the_overlay():
    r = CliRunner().invoke(app, ["render", str(PROD), "--root", str(REPO)])
    assert r.exit_code == 0, r.output
    docs = _docs(r.stdout)
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Rollout"} <= kinds
    assert all(d["metadata"].get("namespace") == "urr-spring" for d in docs if d["kind"] == "Deployment")


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed: no reference renderer")
def test_render_matches_kubectl():
    r = CliRunner().invoke(app, ["render", str(PROD), "--root", str(REPO)])
    ref = subprocess.run(["kubectl", "kustomize", str(PROD)], capture_output=True, text=True, check=True).stdout
    assert _docs(r.stdout) == _docs(ref)


def test_render_refuses_a_base_outside_the_root():
    # With the overlay itself as root, its `../../base` lies outside: refused, reported, exit 1.
    r = CliRunner().invoke(app, ["render", str(PROD), "--root", str(PROD)])
    assert r.exit_code == 1
    assert "outside" in r.output


def test_render_prints_nothing_when_the_overlay_does_not_build(tmp_path):
    """As `kustomize build`: no half overlay on stdout for `render | kubectl apply -f -`."""
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - deploy.yaml\npatches:\n  - path: missing.yaml\n")
    (tmp_path / "deploy.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    r = CliRunner().invoke(app, ["render", str(tmp_path), "--root", str(tmp_path)])
    assert r.exit_code == 1 and r.stdout == "" and "missing.yaml" in r.stderr
