"""The workflow security rules on the seed's repository: what they report on
fixtures/repos/urr is true of those files (read them), and fixtures/repos/urr-fixed, where each
weakness is mended, is silent."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.conftest import FIXTURES
from urr_audit.catalog import load_rules
from urr_audit.scan import scan

WF = ".github/workflows"
SECURITY = [r.id for r in load_rules() if "URR-GHA-010" <= r.id <= "URR-GHA-039"]
SERVICES = ["auth", "catalog", "community", "gateway", "payment", "queue", "stats", "ticket"]


@pytest.fixture(scope="module")
def urr():
    return scan(FIXTURES / "repos" / "urr", select=SECURITY).result.findings


def _lines(path: str, needle: str, repo: str = "urr") -> list[int]:
    text = (FIXTURES / "repos" / repo / path).read_text().splitlines()
    return [n for n, line in enumerate(text, 1) if needle in line]


def test_what_is_reported(urr):
    assert Counter(f.rule_id for f in urr) == {
        "URR-GHA-010": 47,  # every remote `uses:` is on a tag or a branch
        "URR-GHA-011": 2,  # aquasecurity/trivy-action@master, twice
        "URR-GHA-014": 24,  # three workflow-level write scopes in each of the 8 service workflows
        "URR-GHA-016": 4,  # rollback's free-text tag (3) and the reusable workflow's environment input
        "URR-GHA-018": 15,  # every checkout persists the token
        "URR-GHA-019": 10,  # secrets: inherit, 8 callers and 2 nested calls
    }


def test_trivy_on_a_branch(urr):
    got = {(f.path, f.line) for f in urr if f.rule_id == "URR-GHA-011"}
    assert got == {
        (f"{WF}/frontend-ci-cd.yml", _lines(f"{WF}/frontend-ci-cd.yml", "trivy-action@master")[0]),
        (f"{WF}/reusable-spring-ci-cd.yml", _lines(f"{WF}/reusable-spring-ci-cd.yml", "trivy-action@master")[0]),
    }


def test_service_workflows_grant_writes_to_the_approval_job(urr):
    for svc in SERVICES:
        path = f"{WF}/{svc}-service-ci-cd.yml"
        got = sorted(f.line for f in urr if f.rule_id == "URR-GHA-014" and f.path == path)
        assert got == [_lines(path, f"  {s}: write")[0] for s in ("contents", "id-token", "security-events")]
        messages = {f.message for f in urr if f.rule_id == "URR-GHA-014" and f.path == path}
        # prod-approval only echoes; ci-cd's callee requests all three
        assert all("`prod-approval` uses none of it; only `ci-cd` may use it" in m for m in messages)


def test_injections_are_the_free_text_inputs_not_the_actor(urr):
    hits = {(f.path, f.line, f.severity.value) for f in urr if f.rule_id == "URR-GHA-016"}
    rollback = f"{WF}/rollback.yml"
    reusable = f"{WF}/reusable-spring-ci-cd.yml"
    # `inputs.tag` is free text typed at dispatch; service/environment are choices (never reported)
    assert {(p, n) for p, n, _ in hits if p == rollback} == {
        (rollback, n) for n in _lines(rollback, "${{ inputs.tag }}")
    }
    assert {s for p, _, s in hits if p == rollback} == {"medium"}
    # every caller passes staging or prod: low, and the message says so
    [(line, severity)] = [(n, s) for p, n, s in hits if p == reusable]
    assert line in _lines(reusable, "to ${{ inputs.environment }} [skip ci]") and severity == "low"
    assert not any("github.actor" in f.message for f in urr)


def test_checkouts_that_push_are_rated_low(urr):
    low = {(f.path, f.line) for f in urr if f.rule_id == "URR-GHA-018" and f.severity.value == "low"}
    assert {p for p, _ in low} == {f"{WF}/frontend-ci-cd.yml", f"{WF}/reusable-spring-ci-cd.yml", f"{WF}/rollback.yml"}


def test_secrets_inherit_names_what_the_callee_reads(urr):
    e2e = next(
        f
        for f in urr
        if f.rule_id == "URR-GHA-019" and f.line in _lines(f"{WF}/reusable-spring-ci-cd.yml", "secrets: inherit")[:1]
    )
    assert "it reads only `E2E_USER_PASSWORD`" in e2e.message


def test_urr_fixed_is_silent():
    report = scan(FIXTURES / "repos" / "urr-fixed", select=SECURITY)
    assert [(f.rule_id, f.path, f.line, f.message) for f in report.result.findings] == []
    assert report.result.undecided == []
