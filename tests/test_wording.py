"""Values in messages and docs as people write them."""

from __future__ import annotations

from urr_audit.wording import flow, listed, value_text


def test_listed_drops_duplicates_and_counts_the_rest():
    assert listed(["a", "b", "a"]) == "a, b"
    assert listed(["a", "b", "c", "d", "e"], 3) == "a, b, c and 2 more"


def test_values_read_as_yaml_not_python():
    assert flow(True) == "true" and flow(None) == "null" and flow("") == '""'
    assert flow({"prod": ["production", "prd"]}) == "{prod: [production, prd]}"
    assert value_text(["prod", "production"]) == "prod, production"
    assert value_text(["v*"], code=True) == "`v*`"
    assert value_text([]) == "none" and value_text({}) == "none"
    assert value_text({"a": 1, "b": False}) == "a: 1, b: false"
    assert value_text(3.5, code=True) == "`3.5`"
