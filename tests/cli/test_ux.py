"""The command line as it reads: help, colours, quiet and verbose reports, the summary, rule
file mistakes, `checks list`, `graph` options, and `render` byte for byte as kustomize."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import typer
from typer.testing import CliRunner

from tests.conftest import FIXTURES, ROOT
from tests.loaders.kustomize.diffutil import kubectl_build
from urr_audit.cli import app

URR = FIXTURES / "repos" / "urr"
BROKEN = FIXTURES / "rules" / "URR-TF-000" / "bad"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


def _commands() -> dict:
    root = typer.main.get_command(app)
    out = {}

    def walk(cmd, name: str) -> None:
        out[name] = cmd
        for sub_name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{name} {sub_name}".strip())

    walk(root, "")
    return out


def test_help_has_no_type_names_and_every_option_is_described():
    for name, cmd in _commands().items():
        for p in cmd.params:
            if getattr(p, "param_type_name", "") == "option" and p.name not in ("help",):
                assert (p.help or "").strip(), f"{name} {p.opts}: no help"
        text = run(*name.split(), "--help").output
        assert not re.search(r"\b(TEXT|INTEGER|BOOLEAN|FLOAT|LIST)\b|<(path|list\[|str|int)", text), (name, text)
    scan_help = run("scan", "--help").output
    assert "Examples:" in scan_help and "urr-audit: ignore=URR-TF-013" in scan_help


def test_every_option_in_the_readme_exists():
    readme = (ROOT / "README.md").read_text()
    known = {opt for cmd in _commands().values() for p in cmd.params for opt in getattr(p, "opts", [])}
    mentioned = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", readme))
    # options of other tools the README shows in examples
    # benchmark scripts' options (bench_scale.py, bench_report.py, bench_rules.py); --help is click's own
    foreign = {"--copies", "--screenshot", "--profile", "--help"}
    foreign |= {"--offline"}  # zizmor's, in the differential oracle's description
    foreign |= {"--build-arg", "--checksum", "--from", "--mount"}  # Dockerfile and docker build syntax
    assert mentioned - known - foreign == set()


def test_colour_switches_and_no_trailing_spaces():
    plain = run("scan", str(BROKEN), "--root", str(BROKEN)).stdout
    assert not ANSI.search(plain)
    assert all(line == line.rstrip() for line in plain.splitlines())
    assert ANSI.search(run("scan", str(BROKEN), "--root", str(BROKEN), "--color", "always").stdout)
    assert ANSI.search(run("scan", str(BROKEN), "--root", str(BROKEN), env={"FORCE_COLOR": "1"}).stdout)
    forced_off = run("scan", str(BROKEN), "--root", str(BROKEN), "--color", "never", env={"FORCE_COLOR": "1"})
    assert not ANSI.search(forced_off.stdout)
    assert not ANSI.search(run("scan", str(BROKEN), "--root", str(BROKEN), env={"NO_COLOR": "1"}).stdout)


def test_text_report_layout_quiet_and_verbose():
    out = run("scan", str(URR)).stdout
    lines = out.splitlines()
    first = lines[0]
    assert re.match(r"^\S+:\d+ +(critical|high) +URR-", first), first  # path:line, most severe first
    assert "Findings by rule:" in out
    summary = [line for line in lines if " finding" in line and "input error" in line]
    assert summary and re.search(
        r"\d+ findings \(.*high.*\) · 0 input errors · \d+ undecided · \d+ suppressed", summary[0]
    )
    # notes collapsed: one line per rule unless --verbose
    assert "Notes (facts for the record, input not audited; --verbose lists each)" in out
    by_path = run("scan", str(URR), "--sort", "path").stdout.split("\n\n")[0].splitlines()
    locs = [line.split()[0].rsplit(":", 1) for line in by_path if re.match(r"^\S+:\d+ ", line)]
    assert len({p for p, _ in locs}) > 10 and locs == sorted(locs, key=lambda x: (x[0], int(x[1])))
    quiet = run("scan", str(URR), "-q").stdout
    assert "Findings by rule" not in quiet and quiet.splitlines()[0] == first
    verbose = run("scan", str(URR), "-v").stdout
    assert "Files read (" in verbose and "  terraform/environments/prod/main.tf" in verbose
    assert "terraform/modules/eks" in verbose and "Terraform module called by terraform/environments/prod" in verbose
    assert "kustomization used by" in verbose and "environment prod: kustomization no other" in verbose


def test_summary_plurals_and_nothing_found(tmp_path):
    one = run("scan", str(BROKEN), "--root", str(BROKEN), "--select", "URR-TF-000").stdout
    assert "1 finding (1 high) · 1 input error · 0 undecided · 0 suppressed · 0 notes" in one
    (tmp_path / "README.md").write_text("nothing to audit\n")
    r = run("scan", str(tmp_path))
    assert r.exit_code == 0 and "No infrastructure files found" in r.stdout
    data = json.loads(run("scan", str(tmp_path), "-f", "json").stdout)
    assert data["inputs"]["inventory"]["terraform"]["Terraform modules"] == 0


def test_summary_never_contradicts_itself_when_nothing_is_infrastructure(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "notes.yaml").write_text("title: not a manifest\n")
    out = run("scan", str(tmp_path), "-v").stdout
    assert "No infrastructure files found" in out
    assert re.search(r"read \d+ files, none of them an infrastructure file", out), out
    assert "Read:" not in out  # no empty heading under --verbose
    assert "Files read (" in out  # what was read is still listed


def test_a_repository_that_is_only_a_published_action_is_audited(tmp_path):
    """The project's own action.yml, alone: its tag-pinned `uses:` are reported, and the
    summary counts it instead of saying nothing was found."""
    shutil.copy(ROOT / "action.yml", tmp_path / "action.yml")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    r = run("scan", str(tmp_path), "-v")
    out = ANSI.sub("", r.stdout)
    assert "URR-GHA-010" in out and "actions/setup-python@v5" in out
    assert "No infrastructure files found" not in out
    assert "(1 local action)" in out and "Read:" in out


def test_json_inputs_section():
    data = json.loads(run("scan", str(URR), "-f", "json").stdout)
    inputs = data["inputs"]
    assert "terraform/environments/prod/main.tf" in inputs["files_read"]
    assert inputs["inventory"]["kubernetes"]["Kubernetes environments"] == 5
    dirs = {d["path"]: d for d in inputs["directories"]}
    assert dirs["terraform/environments/prod"]["environment"] == "prod"
    assert dirs["k8s/spring/base"]["environment"] is None and "used by" in dirs["k8s/spring/base"]["reason"]


def test_selection_is_case_insensitive_with_hints():
    r = run("scan", str(BROKEN), "--root", str(BROKEN), "--select", "urr-tf-000", "-f", "json")
    assert {f["rule_id"] for f in json.loads(r.stdout)["findings"]} == {"URR-TF-000"}
    r = run("scan", str(BROKEN), "--root", str(BROKEN), "--select", "URR-TF-*")
    assert r.exit_code == 2 and "not globs" in r.output and "'URR-TF'" in r.output
    r = run("scan", str(BROKEN), "--root", str(BROKEN), "--select", "URR-TF-0001")
    assert r.exit_code == 2 and "did you mean URR-TF-001" in r.output
    assert run("rules", "explain", "urr-tf-001").exit_code == 0


def test_rule_file_mistakes_one_line_each(tmp_path):
    (tmp_path / "ORG-TF-001.yaml").write_text(
        "id: ORG-TF-001\ntitle: t\nseverty: low\ncategory: c\ncheck: load-error\nrationale: r\nremediation: r\n"
    )
    (tmp_path / "ORG-TF-002.yaml").write_text(
        "id: ORG-TF-002\ntitle: t\nseverity: low\ncategory: c\ncheck: load-errors\n"
        "params: {kinds: ['terraform.'], level: [error]}\nrationale: r\nremediation: r\n"
    )
    r = run("scan", str(BROKEN), "--root", str(BROKEN), "--rules", str(tmp_path))
    assert r.exit_code == 2
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert any("ORG-TF-001.yaml: severty: unknown key (did you mean 'severity'?)" in line for line in lines)
    assert any("ORG-TF-001.yaml: severity: required key missing" in line for line in lines)
    (tmp_path / "ORG-TF-001.yaml").write_text(
        "id: ORG-TF-001\ntitle: t\nseverity: low\ncategory: c\ncheck: load-error\nrationale: r\nremediation: r\n"
    )
    r = run("scan", str(BROKEN), "--root", str(BROKEN), "--rules", str(tmp_path))
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert any("ORG-TF-001.yaml: check:" in line and "did you mean 'load-errors'?" in line for line in lines)
    assert any("ORG-TF-002.yaml: params.level:" in line and "did you mean 'levels'?" in line for line in lines)
    assert len(lines) == 2, lines


def test_checks_list_shows_templates_and_params():
    out = run("checks", "list").stdout
    assert "load-errors  (scope: project)" in out and "param kinds: list[str]" in out
    data = json.loads(run("checks", "list", "-f", "json").stdout)
    entry = next(e for e in data if e["name"] == "load-errors")
    assert "URR-TF-000" in entry["rules"] and {p["name"] for p in entry["params"]} >= {"kinds", "levels"}


def test_graph_only_env_labels_and_relative_paths():
    dot = run("graph", str(URR), "-f", "dot", "--only", "terraform", "--env", "prod").stdout
    assert "subgraph cluster_" in dot and 'label="Terraform environment prod"' in dot
    assert 'label="module eks"' in dot and "staging" not in dot and "k8s:" not in dot
    assert '[label="depends_on"]' in dot
    mermaid = run("graph", str(URR), "-f", "mermaid").stdout
    assert "-.->|calls|" in mermaid and '["Kubernetes environment prod"]' in mermaid
    data = json.loads(run("graph", str(URR), "-f", "json").stdout)
    assert data["graph"]["root"] == "urr"
    assert all(not str(n.get("path", "")).startswith("/") for n in data["nodes"])
    assert run("graph", str(URR), "--env", "nope").exit_code == 2


REALWORLD = sorted(p for p in (FIXTURES / "realworld").iterdir() if p.is_dir())
KUSTOMIZATIONS = sorted(
    p.parent for base in (FIXTURES / "kustomize", URR / "k8s", *REALWORLD) for p in base.rglob("kustomization.yaml")
)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed: no reference renderer")
def test_render_is_byte_identical_to_kubectl_kustomize():
    compared = 0
    for d in KUSTOMIZATIONS:
        returncode, expected, _ = kubectl_build(d)
        if returncode != 0:
            continue  # a deliberately broken case: kustomize refuses it
        root = next((p for p in (URR, *REALWORLD) if p in d.parents), d)
        if root is d and (FIXTURES / "kustomize") in d.parents:
            root = FIXTURES / "kustomize" / d.relative_to(FIXTURES / "kustomize").parts[0]
        ours = run("render", str(d), "--root", str(root))
        assert ours.stdout == expected, d
        compared += 1
    assert compared >= 160


def test_inventory_labels_are_singular_for_one():
    from urr_audit.report.text import counted

    assert counted(1, ".gitignore files") == "1 .gitignore file"
    assert counted(1, "local cluster configurations") == "1 local cluster configuration"
    assert counted(1, "policies") == "1 policy"
    assert counted(3, "build stages") == "3 build stages"


def test_every_output_counts_findings_and_notes_alike(tmp_path):
    """One definition everywhere: findings are above `info`, notes are the `info` ones."""
    repo = FIXTURES / "realworld" / "eks-gitops-platform"
    out = {f: tmp_path / f"out.{f}" for f in ("json", "markdown", "junit")}
    args = [a for f, p in out.items() for a in ("--output-file", f"{f}={p}")]
    text = run("scan", str(repo), "--root", str(repo), "--fail-on", "none", "--color", "never", *args).output
    s = json.loads(out["json"].read_text())["summary"]
    assert s["notes"] == s["by_severity"]["info"] and s["notes"] > 0
    assert s["findings"] == sum(n for sev, n in s["by_severity"].items() if sev != "info")
    assert f"{s['findings']} findings (" in text and f"{s['notes']} notes" in text
    assert f"**{s['findings']} findings**" in out["markdown"].read_text()
    assert f'failures="{s["findings"]}"' in out["junit"].read_text()


def test_per_path_ignores_naming_no_rule_is_a_configuration_error(tmp_path):
    (tmp_path / "main.tf").write_text('variable "a" {}\n')
    (tmp_path / ".urr-audit.toml").write_text('[per-path-ignores]\n"modules/**" = ["URR-FOO-001"]\n')
    r = run("scan", str(tmp_path))
    assert r.exit_code == 2 and ".urr-audit.toml:2: per-path-ignores 'modules/**': URR-FOO-001" in r.output


def test_graph_only_argocd_shows_what_applications_deploy():
    r = run("graph", str(URR), "--format", "json", "--only", "argocd")
    edges = {(e["source"].split(":")[0], e["target"].split(":")[0]) for e in json.loads(r.stdout)["links"]}
    assert ("argocd", "kustomize") in edges and ("kustomize", "k8s") in edges
    r = run("graph", str(URR), "--env", "nope")
    assert r.exit_code == 2 and "known: argo-rollouts, dev, kind, prod, staging" in r.output


def test_params_are_shown_as_people_write_them():
    """`rules explain` (and the SARIF help, the same markdown) and `checks list` show list
    params as their items, never as a Python repr."""
    out = run("rules", "explain", "URR-K8S-001").stdout
    assert "- `patterns`: `CHANGE_?ME`, `YOUR_[A-Z0-9_]+`," in out and "['" not in out
    listing = run("checks", "list").stdout
    assert "(default `prod: [production, prd, live]`, `staging: [stage, stg]`" in listing
    assert not re.search(r"default \[|default \{|default '|default True|default False", listing)
