"""One runner for every rule: fixtures/rules/<ID>/bad must yield exactly the findings its
`expect: <ID>` comments announce (by file and line); fixtures/rules/<ID>/good must yield none.
"""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES, expectations
from urr_audit.catalog import load_rules
from urr_audit.scan import scan

RULES = load_rules()
IDS = [r.id for r in RULES]


@pytest.mark.parametrize("rule_id", IDS)
def test_every_rule_has_bad_and_good_fixtures(rule_id):
    for kind in ("bad", "good"):
        d = FIXTURES / "rules" / rule_id / kind
        assert d.is_dir() and any(p.is_file() for p in d.rglob("*")), f"missing {d}"


@pytest.mark.parametrize("rule_id", IDS)
def test_bad_fixture_yields_expected_findings(rule_id):
    tree = FIXTURES / "rules" / rule_id / "bad"
    expected = expectations(tree, rule_id)
    assert expected, f"{tree}: no `expect: {rule_id}` comment marks where the finding belongs"
    report = scan(tree, select=[rule_id])
    got = {(f.path, f.line) for f in report.result.findings if f.rule_id == rule_id}
    assert got == expected, [f.message for f in report.result.findings]


@pytest.mark.parametrize("rule_id", IDS)
def test_good_fixture_is_silent(rule_id):
    tree = FIXTURES / "rules" / rule_id / "good"
    report = scan(tree, select=[rule_id])
    assert [f for f in report.result.findings if f.rule_id == rule_id] == []
    assert expectations(tree, rule_id) == set(), "a good fixture must not carry expect comments"
