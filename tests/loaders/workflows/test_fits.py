"""The compiled validity predicate says what `jsonschema` says, on every workflow and action file
of the fixtures and on documents mutated from them (the fast path must never hide a violation
nor invent one), and falls back to `jsonschema` for what it does not implement."""

from __future__ import annotations

import contextlib
import copy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from urr_audit.loaders.kustomize.yamlsrc import YamlError
from urr_audit.loaders.workflows import fits, schema
from urr_audit.loaders.workflows.yamlpos import load

pytestmark = pytest.mark.skipif(not schema.available(), reason="check-jsonschema's schema files are not installed")

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"


def _documents() -> list[tuple[str, object]]:
    out = []
    for f in sorted(FIXTURES.rglob("*.y*ml")):
        rel = f.relative_to(FIXTURES).as_posix()
        if (
            "/.github/workflows/" in f"/{rel}"
            or f.name in ("action.yml", "action.yaml")
            or rel.startswith("workflows/")
        ):
            with contextlib.suppress(YamlError):  # a deliberately broken fixture: the YAML loader's concern
                out.append((rel, load(f.read_text(encoding="utf-8")).data))
    return out


DOCS = _documents()
SCHEMAS = (schema.WORKFLOW_SCHEMA, schema.ACTION_SCHEMA)


def agree(name: str, data: object) -> bool:
    return fits.fits(schema._predicate(name), data) is schema._validator(name).is_valid(data)


def test_both_schemas_compile():
    assert all(schema._predicate(name) is not None for name in SCHEMAS)


def test_agrees_with_jsonschema_on_every_fixture():
    assert len(DOCS) > 150
    valid = [rel for rel, data in DOCS if schema._validator(schema.WORKFLOW_SCHEMA).is_valid(data)]
    assert 0 < len(valid) < len(DOCS)  # both answers occur
    assert [(rel, name) for rel, data in DOCS for name in SCHEMAS if not agree(name, data)] == []


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "ubuntu-latest", "${{ matrix.os }}", "push", "write", "read", "bash", "1", "x"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def _paths(data: object, here: tuple = ()) -> list[tuple]:
    out = [here]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*here, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, (*here, i))
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_agrees_with_jsonschema_on_mutated_workflows(data):
    rel, doc = data.draw(st.sampled_from(DOCS))
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(doc)))
        if not path:
            continue
        parent = doc
        for p in path[:-1]:
            parent = parent[p]
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = data.draw(VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(st.sampled_from(["if", "uses", "run", "with", "x-extra", "permissions", "on"]))] = (
                data.draw(VALUES)
            )
        if not _paths(doc):
            break
    for name in SCHEMAS:
        assert agree(name, doc), (rel, name, doc)


def test_equality_keeps_booleans_apart_from_numbers():
    assert fits.equal(1, 1.0) and not fits.equal(True, 1) and not fits.equal([0], [False])
    assert fits.equal({"a": [True]}, {"a": [True]}) and not fits.equal("1", 1)


@pytest.mark.parametrize(
    "unsupported",
    [
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"},
        {"$schema": "http://json-schema.org/draft-07/schema#", "$ref": "https://example.com/s.json"},
        {"$schema": "http://json-schema.org/draft-07/schema#", "unevaluatedProperties": False},
        {"$schema": "http://json-schema.org/draft-07/schema#", "items": [{"type": "string"}]},
    ],
)
def test_what_is_not_implemented_goes_to_jsonschema(unsupported):
    assert fits.compile_schema(unsupported) is None


def test_a_predicate_that_raises_is_no_answer():
    predicate = fits.compile_schema(
        {"$schema": "http://json-schema.org/draft-07/schema#", "patternProperties": {"^a": {"type": "string"}}}
    )
    assert predicate is not None
    assert fits.fits(predicate, {"ab": "x"}) is True and fits.fits(predicate, {"ab": 1}) is False
    assert fits.fits(predicate, {1: "x"}) is None  # re.search on a non-string key
