"""Cross-check against python-hcl2 (8.x): block types/labels and every literal attribute value.

python-hcl2 8.x keeps the quotes of strings (`'"abc"'`), returns expressions as `${...}`
strings, marks blocks with `__is_block__` and quotes block labels: `_norm` undoes that.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hcl2
import pytest

from urr_audit.loaders.terraform.parse import parse_hcl
from urr_audit.model.terraform import Block

REPO = Path(__file__).resolve().parents[3]
CASES = Path(__file__).parent / "cases"
FILES = sorted(p for base in (REPO / "fixtures", CASES) for p in base.rglob("*.tf"))


class _NotComparable(Exception):
    pass


def _norm(v: Any) -> Any:
    """python-hcl2 value -> plain Python value, or _NotComparable for expressions."""
    if isinstance(v, str):
        if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
            inner = v[1:-1]
            if "${" in inner.replace("$${", "") or "%{" in inner.replace("%%{", ""):
                raise _NotComparable
            return json.loads(v).replace("$${", "${").replace("%%{", "%{")
        raise _NotComparable  # a bare expression or heredoc
    if isinstance(v, list):
        return [_norm(x) for x in v]
    if isinstance(v, dict):
        if v.get("__is_block__"):
            raise _NotComparable
        return {_key(k): _norm(x) for k, x in v.items()}
    return v


def _key(k: str) -> str:
    return json.loads(k) if len(k) >= 2 and k[0] == '"' and k[-1] == '"' else k


def _hcl2_blocks(body: dict[str, Any]) -> list[tuple[str, list[str], dict[str, Any]]]:
    out = []
    for key, val in body.items():
        if isinstance(val, list) and val and all(isinstance(x, dict) and _is_block_tree(x) for x in val):
            for item in val:
                for labels, inner in _unlabel(item):
                    out.append((key, labels, inner))
    return out


def _is_block_tree(d: dict[str, Any]) -> bool:
    if d.get("__is_block__"):
        return True
    return len(d) >= 1 and all(isinstance(x, dict) and _is_block_tree(x) for x in d.values())


def _unlabel(d: dict[str, Any]) -> list[tuple[list[str], dict[str, Any]]]:
    if d.get("__is_block__"):
        return [([], d)]
    return [([_key(k)] + labels, inner) for k, x in d.items() for labels, inner in _unlabel(x)]


def _attributes(body: dict[str, Any]) -> dict[str, Any]:
    blocks = {k for k, *_ in _hcl2_blocks(body)}
    return {k: v for k, v in body.items() if k != "__is_block__" and k not in blocks}


def _compare(ours: list[Block], theirs: dict[str, Any], where: str, counts: list[int]) -> None:
    # python-hcl2 groups blocks by type; within a type both keep the file order
    expected = _hcl2_blocks(theirs)
    order = list(dict.fromkeys(t for t, _, _ in expected))
    ours = sorted(ours, key=lambda b: order.index(b.type) if b.type in order else len(order))
    got = [(b.type, b.labels) for b in ours]
    assert got == [(t, labels) for t, labels, _ in expected], where
    for block, (_, _, body) in zip(ours, expected):
        here = f"{where} > {block.type} {block.labels}"
        attrs = _attributes(body)
        assert set(block.attributes) == {a for a in attrs if not a.startswith("__")}, here
        for name, attr in block.attributes.items():
            if not attr.expr.literal.is_known:
                continue
            try:
                value = _norm(attrs[name])
            except _NotComparable:
                pytest.fail(f"{here}.{name}: urr-audit sees a literal, python-hcl2 an expression: {attrs[name]!r}")
            assert attr.expr.literal.value == value, f"{here}.{name}"
            counts[0] += 1
        _compare(block.blocks, body, here, counts)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(REPO)) for p in FILES])
def test_literals_and_blocks_match_python_hcl2(path: Path) -> None:
    text = path.read_text()
    try:
        with path.open() as f:
            theirs = hcl2.load(f)
    except Exception:  # noqa: BLE001 - python-hcl2 raises lark errors of many types
        pytest.skip("python-hcl2 cannot parse this file (the deliberately broken fixture)")
    parsed = parse_hcl(text, path.name)
    assert parsed.errors == [], parsed.errors
    counts = [0]
    top_attrs = {k: v for k, v in theirs.items() if not (isinstance(v, list) and v and isinstance(v[0], dict))}
    for name, attr in parsed.attributes.items():
        if attr.expr.literal.is_known:
            assert attr.expr.literal.value == _norm(top_attrs[name]), name
            counts[0] += 1
    _compare(parsed.blocks, {k: v for k, v in theirs.items() if k not in top_attrs}, path.name, counts)
    assert parsed.blocks or parsed.attributes, "nothing was compared"
