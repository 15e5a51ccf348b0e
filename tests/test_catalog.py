"""The catalog is data; these tests keep it complete, unique and documented."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from urr_audit.catalog import CatalogError, load_rule_file, load_rules, matches
from urr_audit.engine import bind
from urr_audit.registry import load_checks
from urr_audit.report.docs import index_markdown, rule_markdown

RULES = load_rules()


def test_ids_unique_and_well_formed():
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert all(r.id.startswith("URR-") for r in RULES)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_metadata_complete_and_bound(rule):
    assert rule.title and rule.rationale.strip() and rule.remediation.strip()
    assert rule.references, f"{rule.id} needs at least one reference"
    assert rule.source.endswith(f"{rule.id}.yaml"), "one file per rule, named after its id"
    spec, _params = bind(rule, load_checks())  # the check exists and the params fit it
    assert spec.doc, f"check {spec.name} needs a docstring"


def test_every_check_is_used_by_a_rule():
    used = {r.check for r in RULES}
    assert set(load_checks()) <= used, set(load_checks()) - used


def test_docs_are_fresh():
    docs = ROOT / "docs" / "rules"
    for r in RULES:
        page = docs / f"{r.id}.md"
        assert page.is_file() and page.read_text() == rule_markdown(r), (
            f"{page} is stale: run `python -m urr_audit.report.docs docs/rules`"
        )
    assert (docs / "README.md").read_text() == index_markdown(RULES)


def test_prefix_selection():
    tf = [r for r in RULES if matches(r, ["URR-TF"])]
    assert tf and all(r.id.startswith("URR-TF-") for r in tf)
    assert not [r for r in RULES if matches(r, ["URR-T"])], "a prefix matches whole dash-separated parts"


def test_bad_rule_file_is_a_clear_error(tmp_path):
    p = tmp_path / "URR-TF-999.yaml"
    p.write_text("id: URR-TF-999\ntitle: x\nseverity: urgent\n")
    with pytest.raises(CatalogError, match="URR-TF-999.yaml"):
        load_rule_file(p)


def test_duplicate_id_in_extra_dir_is_rejected(tmp_path):
    first = RULES[0]
    (tmp_path / "dup.yaml").write_text((ROOT / "rules" / f"{first.id}.yaml").read_text())
    with pytest.raises(CatalogError, match="already used"):
        load_rules((tmp_path,))


def test_builtin_rule_files_take_the_fast_yaml_path():
    """The catalog is read at every start: every built-in rule file must parse with libyaml
    (the C loader) to the same data as the YAML 1.2 loader, so none falls back to the slow one."""
    from ruamel.yaml import YAML

    from urr_audit.catalog import builtin_rules_dir

    fast, pure = YAML(typ="safe", pure=False), YAML(typ="safe", pure=True)
    for path in sorted(builtin_rules_dir().glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert fast.load(text) == pure.load(text), path.name


def test_yaml_1_2_rule_file_still_loads(tmp_path):
    from urr_audit.catalog import load_yaml_text

    assert load_yaml_text("cidrs: [0.0.0.0/0, ::/0]\nrefs: [https://a.example/x, https://b.example/y]\n") == {
        "cidrs": ["0.0.0.0/0", "::/0"],
        "refs": ["https://a.example/x", "https://b.example/y"],
    }


def test_selection_by_leading_digits_as_ruff_does():
    rules = RULES
    picked = {r.id for r in rules if matches(r, ["urr-gha-05"])}
    assert picked and all(i.startswith("URR-GHA-05") for i in picked)
    assert "URR-GHA-050" in picked and "URR-GHA-005" not in picked
    assert not any(matches(r, ["URR-T"]) for r in rules)  # letters select whole parts only
    assert {r.id for r in rules if matches(r, ["URR-TF"])} == {r.id for r in rules if r.id.startswith("URR-TF-")}
