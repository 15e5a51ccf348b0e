"""The C parser (ruamel.yaml.clib), when installed, reads every fixture exactly as the
pure-Python one does: same data, same line of every key and item, same errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from urr_audit.loaders.kustomize import yamlsrc
from urr_audit.loaders.kustomize.yamlsrc import YamlError, load_docs

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"

try:
    import _ruamel_yaml  # noqa: F401

    HAS_CLIB = True
except ImportError:
    HAS_CLIB = False


def read(text: str, yaml: YAML):
    try:
        return [(d.data, d.lines, d.start, d.end) for d in load_docs(text, yaml)]
    except YamlError as exc:
        return ("error", exc.line)


@pytest.mark.skipif(not HAS_CLIB, reason="ruamel.yaml.clib is not installed")
def test_c_parser_reads_every_fixture_as_the_pure_one():
    files = sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    assert len(files) > 100
    c = YAML(typ="safe", pure=False)
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        assert read(text, c) == read(text, yamlsrc._PURE), f


@pytest.mark.skipif(not HAS_CLIB, reason="ruamel.yaml.clib is not installed")
def test_c_parser_scalars_and_errors():
    text = "a: 1\nb: '1'\nc: true\nd: 'true'\ne: 0x1f\nf: ~\ng: 1.5\nh: |\n  x\n"
    c = YAML(typ="safe", pure=False)
    assert read(text, c) == read(text, yamlsrc._PURE)
    assert read(text, c)[0][0] == {"a": 1, "b": "1", "c": True, "d": "true", "e": 31, "f": None, "g": 1.5, "h": "x\n"}
    for bad in ("a: 1\na: 2\n", "a: [1, 2\n", "a:\n  - x\n b: y\n"):
        assert read(bad, c) == read(bad, yamlsrc._PURE)


def test_every_parse_failure_is_a_yaml_error_with_the_documents_before_it():
    # a control character (a reader error, not a marked one: found before any document is
    # read), an alias inside itself, a duplicate key
    cases = (
        ("a: 1\n---\nb: \x00\n", 3, []),
        ("a: 1\n---\n&x [*x]\n", 3, [{"a": 1}]),
        ("a: 1\n---\nb: 1\nb: 2\n", 4, [{"a": 1}]),
    )
    for text, line, before in cases:
        with pytest.raises(YamlError) as info:
            load_docs(text)
        assert info.value.line == line, text
        assert [d.data for d in info.value.docs] == before, text
