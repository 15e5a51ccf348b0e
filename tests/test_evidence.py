"""No false claims: every finding on the bundled repositories points at a real file and line,
and the whole scan is deterministic."""

from __future__ import annotations

import json

import pytest

from tests.conftest import FIXTURES
from urr_audit.report.json import render_json
from urr_audit.scan import scan

REPOS = sorted(p for p in (FIXTURES / "repos").iterdir() if p.is_dir())


@pytest.mark.parametrize("repo", REPOS, ids=lambda p: p.name)
def test_every_finding_points_at_an_existing_line(repo):
    report = scan(repo)
    assert report.result.findings or repo.name.endswith("fixed"), "the weak repository must yield findings"
    for f in report.result.findings + report.result.undecided:
        target = repo / f.path
        assert target.is_file(), f"{f.rule_id}: {f.path} does not exist"
        n_lines = len(target.read_text(encoding="utf-8").splitlines())
        assert 0 < f.line <= max(n_lines, 1), f"{f.rule_id}: {f.path}:{f.line} beyond {n_lines} lines"
        assert f.end_line >= f.line
    prints = [f.fingerprint for f in report.result.findings + report.result.undecided]
    assert len(prints) == len(set(prints)), "two findings share a fingerprint"


def test_one_expression_twice_on_a_line_is_two_fingerprints(tmp_path):
    wf = tmp_path / ".github" / "workflows" / "t.yml"
    wf.parent.mkdir(parents=True)
    wf.write_text(
        "on: pull_request_target\npermissions: {}\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
        '      - run: echo "${{ github.head_ref }}" > a; echo "${{ github.head_ref }}" > b\n'
    )
    found = [f for f in scan(tmp_path).result.findings if f.rule_id == "URR-GHA-016"]
    assert len(found) == 2 and found[0].fingerprint != found[1].fingerprint


@pytest.mark.parametrize("repo", REPOS, ids=lambda p: p.name)
def test_scan_is_deterministic(repo):
    a = json.loads(render_json(scan(repo)))
    b = json.loads(render_json(scan(repo)))
    for d in (a, b):
        d["summary"].pop("seconds")
    assert a == b


@pytest.mark.parametrize("repo", REPOS, ids=lambda p: p.name)
def test_no_check_crashes_on_real_repositories(repo):
    report = scan(repo)
    assert [e for e in report.result.errors if e.kind == "check.crash"] == []
