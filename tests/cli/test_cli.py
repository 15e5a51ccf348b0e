"""The command line as a user meets it: exit codes, formats, selection, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from urr_audit.cli import app

runner = CliRunner()
BROKEN = FIXTURES / "rules" / "URR-TF-000" / "bad"
CLEAN = FIXTURES / "rules" / "URR-TF-000" / "good"


def invoke(*args: str):
    # The rule fixtures lie inside this checkout's git work tree, which root discovery would
    # take as the root: scan them as repositories of their own.
    argv = list(args)
    if len(argv) > 1 and argv[0] in ("scan", "baseline", "graph") and str(FIXTURES / "rules") in argv[1]:
        argv[2:2] = ["--root", argv[1]]
    return runner.invoke(app, argv)


def test_help_lists_commands():
    r = invoke("--help")
    assert r.exit_code == 0
    for cmd in ("scan", "rules", "graph", "render"):
        assert cmd in r.output


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys; sys.argv=['urr-audit','--help'];\n"
        "from urr_audit import cli\n"
        "try: cli.main()\n"
        "except SystemExit: pass\n"
        "heavy = [m for m in ('networkx','ruamel.yaml','tree_sitter','pydantic') if m in sys.modules]\n"
        "print('HEAVY:' + ','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "HEAVY:", out


def test_json_schema_is_stable():
    r = invoke("scan", str(BROKEN), "--format", "json", "--select", "URR-TF-000")
    data = json.loads(r.stdout)
    assert data["schema_version"] == 1
    assert data["tool"]["name"] == "urr-audit"
    assert set(data) >= {"schema_version", "tool", "root", "findings", "errors", "summary"}
    assert data["findings"], "the broken fixture must yield a finding"
    keys = {
        "rule_id",
        "title",
        "severity",
        "category",
        "path",
        "line",
        "end_line",
        "address",
        "environment",
        "message",
        "fingerprint",
        "suppressed",
    }
    for f in data["findings"]:
        assert keys <= set(f)
        assert "\\" not in f["path"] and not f["path"].startswith("/")
    assert data["findings"] == sorted(
        data["findings"], key=lambda f: (f["path"], f["line"], f["rule_id"], f["address"] or "", f["message"])
    )


def test_exit_codes():
    assert invoke("scan", str(BROKEN), "--select", "URR-TF-000").exit_code == 1
    assert invoke("scan", str(CLEAN), "--select", "URR-TF-000").exit_code == 0
    # unreadable input is a finding like any other: `--fail-on none` exits 0 whatever was found
    assert invoke("scan", str(BROKEN), "--select", "URR-TF-000", "--fail-on", "none").exit_code == 0
    assert invoke("scan", str(BROKEN), "--select", "URR-TF-000", "--fail-on", "HIGH").exit_code == 1
    assert invoke("scan", "/nonexistent/dir").exit_code == 2
    assert invoke("scan", str(CLEAN), "--select", "NOPE-999").exit_code == 2
    assert invoke("scan", str(CLEAN), "--fail-on", "bogus").exit_code == 2
    assert invoke("rules", "explain", "URR-XX-999").exit_code == 2


def test_ignore_and_output_file(tmp_path):
    out = tmp_path / "r.json"
    r = invoke("scan", str(BROKEN), "-f", "json", "-o", str(out), "--ignore", "URR-K8S")
    assert r.exit_code == 1
    data = json.loads(out.read_text())
    assert all(not f["rule_id"].startswith("URR-K8S") for f in data["findings"])


def test_text_output_has_location_and_counts():
    r = invoke("scan", str(BROKEN), "--select", "URR-TF-000")
    assert "main.tf" in r.stdout and "URR-TF-000" in r.stdout
    assert "1 finding (1 high)" in r.stdout and "1 input error" in r.stdout


def test_extra_rules_dir_configures_a_check_without_code(tmp_path):
    (tmp_path / "ORG-TF-001.yaml").write_text(
        "id: ORG-TF-001\ntitle: Broken HCL (team policy)\nseverity: low\ncategory: input\n"
        "check: load-errors\nparams: {kinds: ['terraform.']}\nrationale: r\nremediation: r\n"
        "references: [https://example.org]\n"
    )
    r = invoke("scan", str(BROKEN), "--rules", str(tmp_path), "--select", "ORG-TF-001", "-f", "json")
    data = json.loads(r.stdout)
    assert [f["rule_id"] for f in data["findings"]] == ["ORG-TF-001"]


def test_bad_params_in_rule_file_is_usage_error(tmp_path):
    (tmp_path / "ORG-TF-002.yaml").write_text(
        "id: ORG-TF-002\ntitle: t\nseverity: low\ncategory: c\ncheck: load-errors\n"
        "params: {wrong: 1}\nrationale: r\nremediation: r\n"
    )
    r = invoke("scan", str(CLEAN), "--rules", str(tmp_path))
    assert r.exit_code == 2
    assert "ORG-TF-002" in r.output


@pytest.mark.parametrize("fmt", ["json", "dot", "mermaid"])
def test_graph_formats(fmt):
    r = invoke("graph", str(CLEAN), "--format", fmt)
    assert r.exit_code == 0 and r.stdout.strip()


def test_skip_path_drops_findings_there():
    r = invoke("scan", str(BROKEN), "--select", "URR-TF-000", "--skip-path", r"^main\.tf$", "-f", "json")
    assert json.loads(r.stdout)["findings"] == []
    assert invoke("scan", str(BROKEN), "--skip-path", "(").exit_code == 2


def test_unknown_selection_is_a_usage_error():
    r = invoke("scan", str(CLEAN), "--select", "URR-TF-000,URR-TF-9999")
    assert r.exit_code == 2 and "URR-TF-9999" in r.output
    assert invoke("scan", str(CLEAN), "--ignore", "NOPE").exit_code == 2


def test_rules_commands_see_team_rules(tmp_path):
    (tmp_path / "ORG-TF-003.yaml").write_text(
        "id: ORG-TF-003\ntitle: Team rule\nseverity: low\ncategory: c\ncheck: load-errors\n"
        "params: {kinds: ['terraform.']}\nrationale: r\nremediation: r\nreferences: [https://example.org]\n"
    )
    assert "ORG-TF-003" in invoke("rules", "list", "--rules", str(tmp_path)).stdout
    assert invoke("rules", "explain", "ORG-TF-003", "--rules", str(tmp_path)).exit_code == 0


def test_baseline_suppresses_known_findings_and_keeps_new_ones(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.tf").write_text('resource "x" "y" {\n')  # a parse error: a high finding
    base = tmp_path / "baseline.json"
    assert invoke("scan", str(repo), "--select", "URR-TF-000", "-f", "json", "-o", str(base)).exit_code == 1
    r = invoke("scan", str(repo), "--select", "URR-TF-000", "-f", "json", "--baseline", str(base))
    [f] = json.loads(r.stdout)["findings"]
    assert f["suppressed"] is True and f["suppressed_by"] == "baseline"
    (repo / "other.tf").write_text('resource "x" "z" {\n')  # a new finding is not in the baseline
    r = invoke("scan", str(repo), "--select", "URR-TF-000", "-f", "json", "--baseline", str(base))
    assert [(x["path"], x["suppressed"]) for x in json.loads(r.stdout)["findings"]] == [
        ("main.tf", True),
        ("other.tf", False),
    ]
    (tmp_path / "junk.json").write_text("[]")
    assert invoke("scan", str(repo), "--baseline", str(tmp_path / "junk.json")).exit_code == 2
