"""The scan never reads outside its root: `../`, absolute paths and escaping symlinks."""

from __future__ import annotations

import os

import pytest

from urr_audit.workspace import OutsideRoot, Workspace


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "repo"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "f.txt").write_text("inside")
    (tmp_path / "secret.txt").write_text("outside")
    os.symlink(tmp_path / "secret.txt", root / "a" / "leak.txt")
    os.symlink(root / "a" / "b" / "f.txt", root / "a" / "ok.txt")
    return root


def test_join_refuses_climbing_out(tree):
    ws = Workspace(tree)
    assert ws.join("a/b", "../c") == "a/c"
    assert ws.join("a", "..") == "."
    with pytest.raises(OutsideRoot):
        ws.join("a", "../../x")
    with pytest.raises(OutsideRoot):
        ws.join("a", "/etc/passwd")


def test_symlinks_out_are_neither_listed_nor_read(tree):
    ws = Workspace(tree)
    assert "a/leak.txt" not in ws.files
    assert "a/ok.txt" in ws.files  # a link that stays inside is fine
    assert ws.escaping_symlinks == ["a/leak.txt"]
    with pytest.raises(OutsideRoot):
        ws.read_text("a/leak.txt")
    assert not ws.exists("a/leak.txt")
    assert ws.read_text("a/ok.txt") == "inside"


def test_scan_records_escaping_symlink_as_error(tree):
    from urr_audit.scan import scan

    report = scan(tree)
    assert any(e.kind == "fs.outside-root" and e.path == "a/leak.txt" for e in report.result.errors)


def test_excluded_paths_are_neither_listed_nor_read(tmp_path):
    (tmp_path / "legacy" / "deep").mkdir(parents=True)
    (tmp_path / "legacy" / "deep" / "main.tf").write_text("x")
    (tmp_path / "keep.tf").write_text("y")
    (tmp_path / "gen.generated.yaml").write_text("z")
    ws = Workspace(tmp_path, exclude=["legacy/", "*.generated.yaml"])
    assert ws.files == ["keep.tf"]
    assert not ws.is_dir("legacy") and not ws.exists("legacy/deep/main.tf") and not ws.escapes("legacy")
    with pytest.raises(FileNotFoundError, match="excluded"):
        ws.read_text("legacy/deep/main.tf")
    assert ws.read_text("keep.tf") == "y" and ws.read_paths == {"keep.tf"}
