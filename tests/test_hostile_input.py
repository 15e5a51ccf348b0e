"""A scan finishes on hostile input and says what it could not read (the exit code says so too)."""

from __future__ import annotations

from urr_audit.loaders.terraform import load_terraform
from urr_audit.scan import scan
from urr_audit.workspace import Workspace


def _errors(report, kind_prefix):
    return [e for e in report.result.errors if e.kind.startswith(kind_prefix)]


def test_yaml_alias_bomb_is_refused(tmp_path):
    levels = ["a: &a [" + ",".join(['"lol"'] * 9) + "]"]
    for prev, name in zip("abcdefg", "bcdefgh"):
        levels.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - cm.yaml\n")
    (tmp_path / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\n" + "\n".join(levels) + "\n"
    )
    [err] = _errors(scan(tmp_path), "kustomize.")
    assert err.path == "cm.yaml" and "aliasing" in err.message


def test_deeply_nested_hcl_is_skipped_with_an_error(tmp_path):
    (tmp_path / "deep.tf").write_text("locals {\n  x = " + "[" * 5000 + "]" * 5000 + "\n}\n")
    (tmp_path / "ok.tf").write_text('resource "aws_sqs_queue" "q" {\n  name = "q"\n}\n')
    report = scan(tmp_path)
    [err] = _errors(report, "terraform.")
    assert err.path == "deep.tf" and "nested too deeply" in err.message
    assert [r.address for r in report.project.terraform.resources()] == ["aws_sqs_queue.q"]


def test_backtracking_regex_and_huge_format_width_stay_unknown(tmp_path):
    (tmp_path / "main.tf").write_text(
        "locals {\n"
        '  r = regex("(a+)+$", "' + "a" * 60 + 'b")\n'
        '  f = format("%0999999999d", 1)\n'
        '  ok = regex("^([a-z]+)-([0-9]+)$", "web-42")\n'
        "}\n"
    )
    project, _ = load_terraform(Workspace(tmp_path))
    root = project.environments[0].root
    r = root.eval(root.module.locals["r"].expr)
    assert r.is_unknown and "backtracking" in r.reason
    assert root.eval(root.module.locals["f"].expr).is_unknown
    assert root.eval(root.module.locals["ok"].expr).value == ["web", "42"]


def test_binary_and_random_bytes_are_parse_errors(tmp_path):
    (tmp_path / "bin.tf").write_bytes(b'resource "a" "b" {\n  x = "\x00\xff"\n}\n')
    (tmp_path / "rand.tf").write_bytes(bytes(range(256)) * 8)
    report = scan(tmp_path)
    errors = {e.path: e for e in _errors(report, "terraform.parse")}
    assert set(errors) == {"bin.tf", "rand.tf"}
    assert errors["bin.tf"].line == 2 and "\\x00" in errors["bin.tf"].message


def test_oversized_files_are_reported_not_read(tmp_path, monkeypatch):
    from urr_audit import workspace

    monkeypatch.setattr(workspace, "MAX_FILE_BYTES", 200)
    (tmp_path / "big.tf").write_text('locals {\n  x = "' + "a" * 300 + '"\n}\n')
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - big.yaml\n")
    (tmp_path / "big.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: '" + "b" * 300 + "'\n"
    )
    report = scan(tmp_path)
    msgs = {e.path: e.message for e in report.result.errors}
    assert "over the 200 byte limit" in msgs["big.tf"]
    assert "over the 200 byte limit" in msgs["big.yaml"]
