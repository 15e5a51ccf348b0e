"""An open-source project's repository as its maintainers write it (fixtures/realworld/inkwell: a
Python library and CLI with a small npm package and a container image): only workflows, a local
composite action and Dockerfiles, no Terraform and no Kubernetes.

Pinned: what the summary says was read, the exact (rule, file, line) of every finding (each read
and judged true against the file; the reasons are beside them), and zizmor's agreement on the
audits both tools have, with each difference named (tests/checks/github/zizmor_diff.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.oracles import tool
from urr_audit.report.inputs import inventories
from urr_audit.report.text import render_text
from urr_audit.scan import scan

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "realworld" / "inkwell"

# file -> rule -> lines
EXPECTED: dict[str, dict[str, list[int]]] = {
    # `inputs.extras` pasted into `pip install -e ".[...]"`; callers pass literals today (low)
    ".github/actions/setup-inkwell/action.yml": {"URR-GHA-010": [13], "URR-GHA-016": [20]},
    # the GHCR image is pushed (on push, and on release) and nothing scans it (low: GHCR does not scan on push)
    ".github/workflows/ci.yml": {"URR-GHA-010": [35, 43, 56, 57], "URR-GHA-018": [35, 56], "URR-GHA-053": [70]},
    ".github/workflows/codeql.yml": {"URR-GHA-010": [34, 37, 43], "URR-GHA-018": [33]},
    # `if: github.actor == 'dependabot[bot]'`, GitHub's own older example
    ".github/workflows/dependabot-auto-merge.yml": {"URR-GHA-010": [16], "URR-GHA-026": [12]},
    ".github/workflows/docker.yml": {"URR-GHA-010": [22, 24, 25, 29, 37, 47], "URR-GHA-018": [22]},
    # the Pages starter's workflow-level `pages: write` / `id-token: write`, used by `deploy` only
    ".github/workflows/docs.yml": {"URR-GHA-010": [27, 28, 34, 35, 48], "URR-GHA-014": [15, 16], "URR-GHA-018": [27]},
    ".github/workflows/labeler.yml": {"URR-GHA-010": [14]},
    # no `permissions:` anywhere: the workflow and each of its two jobs
    ".github/workflows/lint.yml": {"URR-GHA-010": [12, 13, 16, 21], "URR-GHA-012": [1, 9, 18], "URR-GHA-018": [12, 21]},
    # `title="${{ github.event.pull_request.title }}"` under pull_request_target
    ".github/workflows/pr-title.yml": {"URR-GHA-016": [16]},
    # the free-text `version` input in three script lines; the checkout's token is used by `git push` (low);
    # the release commit is pushed straight to main
    ".github/workflows/prepare-release.yml": {
        "URR-GHA-010": [22, 26],
        "URR-GHA-016": [31, 37, 38],
        "URR-GHA-018": [22],
        "URR-GHA-045": [39],
    },
    # `pypa/gh-action-pypi-publish@release/v1` is a branch; `cache: pip` in the tag-triggered build
    ".github/workflows/release.yml": {
        "URR-GHA-010": [15, 18, 25, 40, 44, 56, 57, 83],
        "URR-GHA-011": [44],
        "URR-GHA-018": [15, 56],
        "URR-GHA-020": [18],
        "URR-GHA-053": [72],
    },
    ".github/workflows/stale.yml": {"URR-GHA-010": [16]},
    ".github/workflows/welcome.yml": {"URR-GHA-010": [16]},
}


@pytest.fixture(scope="module")
def report():
    return scan(ROOT)


def test_reads_the_workflows_and_dockerfiles_without_error(report):
    assert report.result.errors == []
    inv = inventories(report.project)
    assert inv["workflows"] == {
        "workflows": 12,
        "local actions": 1,
        "jobs": 20,
        "deployment environments": 2,  # pypi, github-pages
        "image builds": 1,  # docker.yml, called by ci.yml and release.yml
    }
    # the dev container's Dockerfile is read (rules skip dev containers)
    assert inv["docker"] == {"Dockerfiles": 2, "build stages": 3}
    assert not any(inv["terraform"].values()) and not any(inv["kubernetes"].values())
    assert not any(inv["argocd"].values())


def test_summary_names_what_was_read_and_nothing_else(report):
    text = render_text(report, color=False)
    summary = text.rstrip("\n").splitlines()[-1]
    assert (
        "read 20 files (12 workflows, 1 local action, 20 jobs, 2 deployment environments, 1 image build, "
        "2 Dockerfiles, 3 build stages)" in summary
    )
    assert "Terraform" not in text and "Kubernetes" not in text and "kustomization" not in text


def test_verbose_report_lists_only_the_kinds_present(report):
    text = render_text(report, color=False, verbose=True)
    read = text.split("\nRead:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert read == [
        "  workflows: 12 workflows, 1 local action, 20 jobs, 2 deployment environments, 1 image build",
        "  docker: 2 Dockerfiles, 3 build stages",
    ]
    assert "Directories:" not in text


def test_findings_are_the_expected_ones(report):
    got = {(f.rule_id, f.path, f.line) for f in report.result.findings}
    want = {(rule, path, line) for path, rules in EXPECTED.items() for rule, lines in rules.items() for line in lines}
    assert got == want
    assert report.result.undecided == []


def test_severity_is_lowered_where_intent_is_plausible(report):
    by_place = {(f.rule_id, f.path, f.line): f.severity.value for f in report.result.findings}
    assert by_place[("URR-GHA-018", ".github/workflows/prepare-release.yml", 22)] == "low"  # git push follows
    assert by_place[("URR-GHA-018", ".github/workflows/ci.yml", 35)] == "medium"
    assert by_place[("URR-GHA-016", ".github/actions/setup-inkwell/action.yml", 20)] == "low"
    assert by_place[("URR-GHA-016", ".github/workflows/prepare-release.yml", 31)] == "medium"  # dispatcher's text
    assert by_place[("URR-GHA-016", ".github/workflows/pr-title.yml", 16)] == "high"


def test_findings_by_rule_show_the_most_severe_finding(report):
    text = render_text(report, color=False)
    table = text.split("Findings by rule:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    rows = {line.split()[1]: line.split()[2] for line in table}
    assert rows["URR-GHA-016"] == "high" and rows["URR-GHA-018"] == "medium" and rows["URR-GHA-010"] == "high"


@pytest.mark.skipif(tool("zizmor") is None, reason="zizmor not installed (`pip install zizmor`, in the test extra)")
def test_zizmor_agrees_but_for_named_differences():
    from tests.checks.github.zizmor_diff import classify, diff

    d = diff(ROOT)
    total = {z.key for z in d.zs} | {u.key for u in d.us}
    assert (len(d.agree), len(total)) == (58, 62)
    named = sorted(
        ("zizmor" if f in d.z_only else "urr", f.path, f.line, *classify(d, f)) for f in [*d.z_only, *d.u_only]
    )
    assert named == [
        ("urr", ".github/workflows/prepare-release.yml", 38, "repeated expansion located at its first occurrence"),
        ("zizmor", ".github/workflows/pr-title.yml", 4, "privileged trigger that runs no pull request code"),
        ("zizmor", ".github/workflows/release.yml", 57, "setup-node without a cache input"),
        ("zizmor", ".github/workflows/welcome.yml", 6, "privileged trigger that runs no pull request code"),
    ]
