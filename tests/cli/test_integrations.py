"""Where people run urr-audit, end to end through the command line: the root found by itself,
paths inside it, a configuration file, per-path ignores, `--since`, baselines, and every
output format."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from urr_audit.cli import app

URR = FIXTURES / "repos" / "urr"
GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return CliRunner().invoke(app, list(args), env=env)
    finally:
        os.chdir(old)


def findings(result) -> list[dict]:
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["findings"]


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    env.update({"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"})
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path) -> Path:
    """The bundled repository as a git repository of its own, without a configuration file."""
    dest = tmp_path / "repo"
    shutil.copytree(URR, dest)
    (dest / ".urr-audit.toml").unlink()
    if GIT:
        git(dest, "init", "-q", "-b", "main")
        git(dest, "add", "-A")
        git(dest, "commit", "-q", "-m", "initial")
    else:
        (dest / ".git").mkdir()
    return dest


def key(f: dict) -> tuple:
    return (f["rule_id"], f["path"], f["line"], f["message"])


# --- the root, and paths inside it ------------------------------------------------------------


def test_inside_an_environment_the_findings_are_those_about_it(repo):
    top = {key(f): f for f in findings(run("scan", "-f", "json", cwd=repo))}
    prod = repo / "terraform" / "environments" / "prod"
    r = run("scan", "-f", "json", cwd=prod)
    inside = {key(f): f for f in findings(r)}
    data = json.loads(r.stdout)
    assert data["root"] == "repo"
    assert not [e for e in data["errors"] if "outside" in e["message"]]
    assert set(inside) <= set(top)
    # everything written in prod, and the shared modules' findings that hold in prod
    assert {k for k, f in top.items() if f["path"].startswith("terraform/environments/prod/")} <= set(inside)
    modules = {k for k, f in inside.items() if f["path"].startswith("terraform/modules/")}
    assert modules and all("prod" in inside[k]["environments"] for k in modules)
    assert not [f for f in inside.values() if f["path"].startswith("k8s/")]
    # the same from the top with the path as an argument
    assert {key(f) for f in findings(run("scan", "terraform/environments/prod", "-f", "json", cwd=repo))} == set(inside)


def test_inside_an_overlay_the_base_findings_of_that_environment_are_kept(repo):
    overlay = repo / "k8s" / "spring" / "overlays" / "prod"
    got = findings(run("scan", "-f", "json", cwd=overlay))
    assert got and all(f["path"].startswith("k8s/") for f in got)
    base = [f for f in got if f["path"].startswith("k8s/spring/base/")]
    assert base and all("prod" in f["environments"] for f in base)
    r = run("render", ".", cwd=overlay)
    assert r.exit_code == 0, r.output
    assert "kind: Deployment" in r.stdout and "namespace: urr-spring" in r.stdout


def test_several_paths_and_root_override(repo):
    got = findings(run("scan", "terraform/modules/s3", "k8s/spring/overlays/kind", "-f", "json", cwd=repo))
    paths = {f["path"] for f in got}
    assert any(p.startswith("terraform/modules/s3/") for p in paths)
    assert any(p.startswith("k8s/") for p in paths)
    assert not any(p.startswith("terraform/modules/eks/") for p in paths)
    # --root makes prod the whole world: its modules lie outside and are reported as such
    prod = repo / "terraform" / "environments" / "prod"
    r = run("scan", str(prod), "--root", str(prod), "-f", "json")
    assert any("outside" in e["message"] for e in json.loads(r.stdout)["errors"])
    assert run("scan", str(repo.parent), "--root", str(repo)).exit_code == 2


def test_the_nearest_configuration_marks_the_root(repo):
    sub = repo / "terraform"
    (sub / ".urr-audit.toml").write_text('select = ["URR-TF"]\n')
    data = json.loads(run("scan", "-f", "json", cwd=sub / "environments" / "prod").stdout)
    assert data["root"] == "terraform"
    assert data["findings"] and all(f["rule_id"].startswith("URR-TF") for f in data["findings"])
    # code scanning resolves SARIF URIs against the checkout: they keep the sub-directory
    sarif = json.loads(run("scan", "-f", "sarif", cwd=sub).stdout)["runs"][0]["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif}
    assert uris and all(u.startswith("terraform/") for u in uris)


# --- configuration -------------------------------------------------------------------------------


def test_configuration_in_pyproject_and_flags_win(repo):
    (repo / "pyproject.toml").write_text(
        "[project]\nname = 'infra'\n\n[tool.urr-audit]\n"
        'select = ["urr-tf"]\nignore = ["URR-TF-003"]\nfail-on = "critical"\n'
        '[tool.urr-audit.severity]\n"URR-TF-001" = "critical"\n'
    )
    r = run("scan", "-f", "json", cwd=repo)
    got = findings(r)
    ids = {f["rule_id"] for f in got}
    assert ids and all(i.startswith("URR-TF") for i in ids) and "URR-TF-003" not in ids
    assert {f["severity"] for f in got if f["rule_id"] == "URR-TF-001"} == {"critical"}
    assert r.exit_code == 1  # URR-TF-001 is now critical
    # flags win over the file
    r = run("scan", "-f", "json", "--select", "URR-TF-003", "--fail-on", "none", cwd=repo)
    assert {f["rule_id"] for f in findings(r)} == {"URR-TF-003"} and r.exit_code == 0
    assert run("scan", "--no-config", "-f", "json", cwd=repo).exit_code == 1


def test_configuration_params_override_and_min_severity(repo):
    before = findings(run("scan", "-f", "json", "--select", "URR-K8S-005", cwd=repo))
    assert before
    (repo / ".urr-audit.toml").write_text('[params."urr-k8s-005"]\nmutable_tags = ["nightly"]\n')
    assert findings(run("scan", "-f", "json", "--select", "URR-K8S-005", cwd=repo)) == []
    (repo / ".urr-audit.toml").write_text('min-severity = "high"\n')
    got = findings(run("scan", "-f", "json", cwd=repo))
    assert got and {f["severity"] for f in got} <= {"high", "critical"}
    got = findings(run("scan", "-f", "json", "--min-severity", "CRITICAL", "--fail-on", "none", cwd=repo))
    assert got == []


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ('select = ["URR-TF"]\nselct = ["URR-K8S"]\n', 2, "did you mean 'select'"),
        ('fail-on = "hihg"\n', 1, "did you mean 'high'"),
        ('\n\nexclude = "legacy/"\nignore = [3]\n', 4, "ignore"),
        ('[severity]\n"URR-TF-001" = "urgent"\n', 2, "urgent"),
        ('[params."URR-TF-004"]\nmodule_pattern = 3\n', 1, "params"),
        ('select = ["URR-TF-99"]\n', 1, "matches no rule"),
        ("select = [\n", 2, "not valid TOML"),
    ],
)
def test_configuration_mistakes_name_file_and_line(repo, text, line, needle):
    cfg = repo / ".urr-audit.toml"
    cfg.write_text(text)
    r = run("scan", cwd=repo)
    assert r.exit_code == 2, r.output
    assert f"{cfg}:{line}:" in r.output and needle in r.output, r.output


def test_exclude_is_never_read_and_covers_input_errors(repo):
    (repo / "legacy").mkdir()
    (repo / "legacy" / "broken.tf").write_text('resource "x" "y" {\n')
    r = run("scan", "-f", "json", "--fail-on", "none", cwd=repo)
    assert any(f["path"] == "legacy/broken.tf" for f in findings(r))
    (repo / ".urr-audit.toml").write_text('exclude = ["legacy/", "k8s/"]\n')
    data = json.loads(run("scan", "-f", "json", cwd=repo).stdout)
    read = data["inputs"]["files_read"]
    assert read and not [p for p in read if p.startswith(("legacy/", "k8s/"))]
    assert not [f for f in data["findings"] if f["path"].startswith(("legacy/", "k8s/"))]
    assert data["summary"]["kubernetes_environments"] == []


def test_per_path_ignores_apply_to_findings_and_input_errors(repo):
    (repo / "legacy").mkdir()
    (repo / "legacy" / "broken.tf").write_text('resource "x" "y" {\n')
    (repo / ".urr-audit.toml").write_text(
        '[per-path-ignores]\n"legacy/**" = ["urr-tf-000"]\n"terraform/modules/**" = ["ALL"]\n'
    )
    data = json.loads(run("scan", "-f", "json", cwd=repo).stdout)
    assert not [f for f in data["findings"] if f["path"].startswith(("legacy/", "terraform/modules/"))]
    assert not [e for e in data["errors"] if e["path"].startswith("legacy/")]
    assert [f for f in data["findings"] if f["path"].startswith("terraform/environments/")]


# --- --since -------------------------------------------------------------------------------------


@needs_git
def test_since_reports_the_changed_module_in_its_environments(repo):
    assert findings(run("scan", "--since", "HEAD", "-f", "json", cwd=repo)) == []
    (repo / "README.md").write_text("docs only\n")
    r = run("scan", "--since", "HEAD", "-f", "json", cwd=repo)
    assert r.exit_code == 0 and findings(r) == []
    s3 = repo / "terraform" / "modules" / "s3" / "main.tf"
    s3.write_text(s3.read_text() + "\n# touched\n")
    got = findings(run("scan", "--since", "HEAD", "-f", "json", cwd=repo))
    assert got and {f["path"].split("/")[0] for f in got} == {"terraform"}
    assert any(f["path"].startswith("terraform/modules/s3/") for f in got)
    # widened to the environments using the module: their own files' findings too
    assert any(f["path"].startswith("terraform/environments/") for f in got)
    assert not any(f["path"].startswith("terraform/modules/eks/") and "prod" not in f["environments"] for f in got)


@needs_git
def test_since_errors_are_usage_errors_and_git_config_runs_nothing(repo, tmp_path):
    r = run("scan", "--since", "no-such-ref", cwd=repo)
    assert r.exit_code == 2 and "no-such-ref" in r.output
    marker = tmp_path / "ran"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    for k in ("core.fsmonitor", "diff.external", "core.pager", "core.hooksPath"):
        git(repo, "config", k, str(hook) if k != "core.hooksPath" else str(tmp_path))
    # a clean filter (and its long-running form) git diff would run on a modified .tf file
    git(repo, "config", "filter.evil.clean", f"{hook}; cat")
    git(repo, "config", "filter.evil.process", str(hook))
    (repo / ".gitattributes").write_text("*.tf filter=evil diff=evil\n")
    git(repo, "config", "diff.evil.textconv", str(hook))
    main_tf = repo / "terraform" / "environments" / "prod" / "main.tf"
    main_tf.write_text(main_tf.read_text() + "\n")
    (repo / "x.tf").write_text('variable "a" {}\n')
    r = run("scan", "--since", "HEAD", "-f", "json", cwd=repo)
    assert r.exit_code in (0, 1) and not marker.exists()
    r = run("scan", "--since", "HEAD", cwd=repo, env={"PATH": str(tmp_path / "nothing")})
    assert r.exit_code == 2 and "git" in r.output


# --- baseline ----------------------------------------------------------------------------------


def test_baseline_then_scan_lists_new_and_fixed(repo, tmp_path):
    base = tmp_path / "base.json"
    r = run("baseline", "-o", str(base), cwd=repo)
    assert r.exit_code == 0, r.output
    recorded = json.loads(base.read_text())["findings"]
    assert recorded
    r = run("scan", "--baseline", str(base), "-f", "json", cwd=repo)
    data = json.loads(r.stdout)
    assert r.exit_code == 0 and data["fixed"] == []
    assert all(f["suppressed_by"] == "baseline" for f in data["findings"])
    # fix one finding (the public EKS endpoint), add another (a parse error)
    eks = repo / "terraform" / "modules" / "eks" / "variables.tf"
    text = eks.read_text()
    assert "default     = true" in text
    eks.write_text(text.replace("default     = true", "default     = false", 1))
    (repo / "terraform" / "modules" / "eks" / "extra.tf").write_text('resource "x" "y" {\n')
    r = run("scan", "--baseline", str(base), "-f", "json", cwd=repo)
    data = json.loads(r.stdout)
    assert [f["rule_id"] for f in data["fixed"]] == ["URR-TF-017"]
    new = [f for f in data["findings"] if not f["suppressed"]]
    assert [f["path"] for f in new] == ["terraform/modules/eks/extra.tf"] and r.exit_code == 1
    text_report = run("scan", "--baseline", str(base), cwd=repo).stdout
    assert "Fixed since the baseline" in text_report and "1 fixed since the baseline" in text_report


# --- output formats --------------------------------------------------------------------------


def test_several_outputs_in_one_run_and_missing_folder(repo, tmp_path):
    sarif, junit = tmp_path / "out.sarif", tmp_path / "out.xml"
    r = run("scan", "--output-file", f"sarif={sarif}", "--output-file", f"junit={junit}", cwd=repo)
    assert r.exit_code == 1 and "findings" in r.stdout
    assert json.loads(sarif.read_text())["version"] == "2.1.0"
    import xml.etree.ElementTree as ET

    root = ET.fromstring(junit.read_text())
    assert int(root.get("failures")) > 0 and root.find("testsuite/testcase/failure") is not None
    missing = tmp_path / "no" / "such" / "dir" / "r.sarif"
    r = run("scan", "-f", "sarif", "-o", str(missing), cwd=repo)
    assert r.exit_code == 2 and "does not exist" in r.output
    r = run("scan", "--output-file", f"sarif={missing}", cwd=repo)
    assert r.exit_code == 2 and not missing.parent.exists()


def test_github_and_markdown_formats(repo):
    r = run("scan", "-f", "github", cwd=repo / "terraform")
    lines = r.stdout.splitlines()
    assert lines and all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    # paths relative to the working directory, as Actions wants them for the checkout
    assert any("file=environments/prod/main.tf," in line for line in lines)
    md = run("scan", "-f", "markdown", cwd=repo).stdout
    assert md.startswith("## urr-audit") and "<details open><summary><b>high</b>" in md
    assert "| `URR-TF-001` | `terraform/environments/staging/main.tf:" in md


def _sarif(repo: Path) -> dict:
    return json.loads(run("scan", "-f", "sarif", cwd=repo).stdout)


def test_sarif_fingerprints_survive_moved_lines(repo):
    before = _sarif(repo)["runs"][0]["results"]
    for rel in ("terraform/modules/eks/main.tf", "k8s/spring/base/network-policies.yaml"):
        p = repo / rel
        p.write_text("# a comment pushed everything down\n\n\n" + p.read_text())
    after = _sarif(repo)["runs"][0]["results"]

    def prints(results):
        return sorted(r["partialFingerprints"]["urrAudit/v1"] for r in results)

    def lines(results):
        return sorted(r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results)

    assert prints(before) == prints(after)
    assert lines(before) != lines(after)


def test_sarif_meets_github_ingestion_rules(repo):
    data = _sarif(repo)
    run0 = data["runs"][0]
    rules = {r["id"]: r for r in run0["tool"]["driver"]["rules"]}
    for r in rules.values():
        assert r["help"]["markdown"] and r["helpUri"].endswith(f"/{r['id']}.md")
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"]
        assert 0 < float(r["properties"]["security-severity"]) <= 10 and r["properties"]["tags"]
    for res in run0["results"]:
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not loc["artifactLocation"]["uri"].startswith("/") and loc["region"]["startLine"] >= 1
        assert res["ruleId"] in rules and res["partialFingerprints"]
    assert len(run0["results"]) <= 25000
    assert any("relatedLocations" in r for r in run0["results"])


@pytest.mark.slow
def test_sarif_validates_with_the_multitool(tmp_path):
    from tests.oracles import tool

    multitool = tool("sarif-multitool")
    if multitool is None:
        pytest.skip("sarif-multitool not installed (.ci/oracles.sh installs it from npm)")
    sarif = tmp_path / "urr.sarif"
    run("scan", str(URR), "-f", "sarif", "-o", str(sarif))
    out = tmp_path / "validation.sarif"
    # The npm wrapper runs the tool through a shell: quote the `;`-separated lists.
    proc = subprocess.run(
        [multitool, "validate", str(sarif), "-o", str(out), "--level", '"Error;Warning;Note"'],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.exists(), proc.stdout + proc.stderr
    results = json.loads(out.read_text())["runs"][0]["results"]
    bad = [(r["ruleId"], r.get("message")) for r in results if r.get("level", "warning") in ("error", "warning")]
    assert bad == []
    # The notes left are ones that do not apply: message templates (SARIF2002), reaching URLs
    # from a machine without network (SARIF2006), ids shaped like `CS2001` (SARIF2009), snippets
    # of regions too long to quote (SARIF2010/2011), provenance of a directory that is no clone
    # (SARIF2003).
    assert {r["ruleId"] for r in results} <= {
        "SARIF2002",
        "SARIF2003",
        "SARIF2006",
        "SARIF2009",
        "SARIF2010",
        "SARIF2011",
    }


def test_suppression_comments_are_judged(repo):
    main = repo / "terraform" / "environments" / "staging" / "main.tf"
    lines = main.read_text().splitlines()
    # the staging backend finding sits on line 3: a suppression above it, one with a typo, one stale
    at = lines.index("terraform {")
    lines[at:at] = [
        "# urr-audit: ignore=URR-TF-9999 -- typo",
        "# urr-audit: ignore=urr-tf-001 -- local state on purpose",
    ]
    main.write_text("\n".join(lines) + "\n")
    (repo / "terraform" / "environments" / "staging" / "extra.tf").write_text(
        '# urr-audit: ignore=URR-TF-017 -- nothing here any more\nvariable "x" {\n  default = 1\n}\n'
    )
    data = json.loads(run("scan", "-f", "json", cwd=repo).stdout)
    by_rule = {}
    for f in data["findings"]:
        by_rule.setdefault(f["rule_id"], []).append(f)
    [tf001] = by_rule["URR-TF-001"]
    assert tf001["suppressed"] and tf001["justification"] == "local state on purpose"
    assert [(f["path"], f["line"]) for f in by_rule["URR-SUP-001"]] == [
        ("terraform/environments/staging/main.tf", at + 1)
    ]
    assert "URR-TF-9999" in by_rule["URR-SUP-001"][0]["message"]
    assert [(f["path"], f["line"]) for f in by_rule["URR-SUP-002"]] == [("terraform/environments/staging/extra.tf", 1)]
    sarif = _sarif(repo)["runs"][0]["results"]
    assert any(r["ruleId"] == "URR-TF-001" and r["suppressions"][0]["kind"] == "inSource" for r in sarif)


def test_configuration_rules_dirs_and_baseline(repo, tmp_path):
    policies = repo / "policies"
    policies.mkdir()
    (policies / "ORG-TF-001.yaml").write_text(
        "id: ORG-TF-001\ntitle: Team view of broken HCL\nseverity: low\ncategory: input\n"
        "check: load-errors\nparams: {kinds: ['terraform.']}\nrationale: r\nremediation: r\n"
    )
    (repo / "broken.tf").write_text('resource "x" "y" {\n')
    assert run("baseline", "-o", str(repo / "base.json"), cwd=repo).exit_code == 0
    (repo / ".urr-audit.toml").write_text('rules = ["policies"]\nbaseline = "base.json"\n')
    r = run("scan", "-f", "json", cwd=repo)
    data = json.loads(r.stdout)
    team = [f for f in data["findings"] if f["rule_id"] == "ORG-TF-001"]
    assert [f["path"] for f in team] == ["broken.tf"]
    assert all(f["suppressed_by"] == "baseline" for f in data["findings"] if f["rule_id"] != "ORG-TF-001")
    assert r.exit_code == 0  # the team rule is low, the rest is in the baseline


def test_github_action_is_a_composite_that_uploads_sarif():
    from ruamel.yaml import YAML

    from tests.conftest import ROOT

    action = YAML(typ="safe", pure=True).load((ROOT / "action.yml").read_text())
    steps = action["runs"]["steps"]
    assert action["runs"]["using"] == "composite"
    assert any(str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@") for s in steps)
    scan = next(s for s in steps if s.get("id") == "scan")
    assert "urr-audit scan" in scan["run"] and '--output-file "sarif=$SARIF_FILE"' in scan["run"]
    # inputs reach shell steps through env, never through ${{ }} inside a script
    for s in steps:
        assert "${{" not in s.get("run", ""), s
    used = {m for s in steps for v in (s.get("env") or {}).values() for m in re.findall(r"inputs\.([\w-]+)", v)}
    used |= {m for s in steps for v in (s.get("with") or {}).values() for m in re.findall(r"inputs\.([\w-]+)", str(v))}
    assert used <= set(action["inputs"])
