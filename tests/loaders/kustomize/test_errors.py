"""What kustomize refuses: urr-audit reports it at the right file and line and renders the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from urr_audit.loaders.kustomize import render
from urr_audit.workspace import Workspace

from .diffutil import KUBECTL, kubectl_build

ERRORS = Path(__file__).resolve().parents[3] / "fixtures" / "kustomize" / "errors"
CASES = sorted(p for p in ERRORS.iterdir() if (p / "expected.json").is_file())


def expected(case: Path) -> dict:
    return json.loads((case / "expected.json").read_text())


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_error_is_reported_and_the_rest_renders(case: Path):
    exp = expected(case)
    objects, errors = render(Workspace(case), exp["build"])
    got = {(e.kind, e.path, e.line) for e in errors}
    for want in exp["errors"]:
        assert (want["kind"], want["path"], want["line"]) in got, errors
        if want.get("mentions"):
            assert any(want["mentions"] in e.message for e in errors if e.kind == want["kind"])
    names = {
        o.name.rsplit("-", 1)[0] if o.kind in ("ConfigMap", "Secret") and o.name.count("-") else o.name for o in objects
    }
    for name in exp["renders"]:
        assert name in names or any(o.name == name for o in objects), (name, [o.name for o in objects])


@pytest.mark.skipif(KUBECTL is None, reason="kubectl (the reference kustomize) is not installed")
@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in CASES if c.name != "remote"], ids=lambda p: p.name)
def test_kubectl_refuses_it_too(case: Path):
    # The remote case is left out: kubectl would try to fetch it.
    rc, _, err = kubectl_build(case / expected(case)["build"])
    assert rc != 0, "kubectl accepted a case urr-audit reports as an error"
    assert err


def test_outside_root_is_never_read(monkeypatch):
    case = ERRORS / "outside-root"
    ws = Workspace(case)
    reads: list[str] = []
    real = ws.read_text
    monkeypatch.setattr(ws, "read_text", lambda rel: reads.append(rel) or real(rel))
    from urr_audit.loaders.kustomize.build import Renderer

    Renderer(ws).build(".")
    assert all(not r.startswith("..") for r in reads)
    assert "present.yaml" in reads


def test_remote_and_unsupported_input_are_notes_not_errors(tmp_path):
    # Valid input deliberately not rendered: reported as notes (URR-K8S-019), not as failures.
    _, errors = render(Workspace(ERRORS / "remote"), ".")
    assert {e.level for e in errors if e.kind == "kustomize.remote"} == {"note"}
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - cm.yaml\nhelmCharts:\n  - name: x\n")
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
    objects, errors = render(Workspace(tmp_path), ".")
    assert [(e.kind, e.line, e.level) for e in errors] == [("kustomize.unsupported", 3, "note")]
    assert [o.name for o in objects] == ["c"]
    missing = ERRORS / "missing-resource"
    _, errors = render(Workspace(missing), expected(missing)["build"])
    assert errors and all(e.level == "error" for e in errors)


def test_a_field_named_by_a_number_is_an_error_not_a_crash(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - cm.yaml\n  - ok.yaml\n")
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n1: x\n")
    (tmp_path / "ok.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n")
    objects, errors = render(Workspace(tmp_path), ".")
    assert [o.name for o in objects] == ["ok"]
    assert [(e.kind, e.path, e.line) for e in errors] == [("kustomize.invalid", "cm.yaml", 5)]
