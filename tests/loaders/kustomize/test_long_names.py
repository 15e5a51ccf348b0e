"""Regression (found by tests/property): a kustomization entry longer than the OS allows for a
name made `Workspace.is_dir` raise OSError (ENAMETOOLONG) out of the loader. Such a name
cannot exist: it is a missing file, and the rest of the overlay renders."""

from __future__ import annotations

from urr_audit.loaders.kustomize import load_kubernetes
from urr_audit.workspace import Workspace


def test_overlong_entries_are_missing_files(tmp_path):
    (tmp_path / "kustomization.yaml").write_text(
        "resources:\n  - " + "a" * 5000 + "\n  - " + "b/" * 3000 + "c.yaml\n  - cm.yaml\n"
    )
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    project, errors = load_kubernetes(Workspace(tmp_path))
    assert [(e.kind, e.line) for e in errors] == [("kustomize.missing-file", 2), ("kustomize.missing-file", 3)]
    assert [o.name for e in project.environments for o in e.objects] == ["x"]


def test_workspace_queries_answer_false_for_names_the_os_refuses(tmp_path):
    ws = Workspace(tmp_path)
    long_name = "a" * 5000
    assert not ws.exists(long_name) and not ws.is_file(long_name) and not ws.is_dir(long_name)
