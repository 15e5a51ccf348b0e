"""Every block's and attribute's span starts on the line where its name is written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from urr_audit.loaders.terraform.parse import parse_hcl
from urr_audit.model.terraform import Block

REPO = Path(__file__).resolve().parents[3]
CASES = Path(__file__).parent / "cases"
CANDIDATES = [
    REPO / "fixtures/repos/urr/terraform/modules/eks/main.tf",
    REPO / "fixtures/repos/urr/terraform/modules/vpc/main.tf",
    REPO / "fixtures/repos/urr/terraform/environments/prod/main.tf",
    REPO / "fixtures/repos/urr/terraform/environments/staging/main.tf",
    CASES / "edge/env/prod/main.tf",
]
FILES = [p for p in CANDIDATES if p.exists()]


def _check(block: Block, lines: list[str], seen: list[int]) -> None:
    line = lines[block.span.line - 1]
    assert re.match(rf"\s*{re.escape(block.type)}\b", line), (block.span, line)
    for label in block.labels:
        assert f'"{label}"' in line or label in line, (block.span, line)
    assert block.span.end_line >= block.span.line
    assert lines[block.span.end_line - 1].rstrip().endswith("}"), (block.span, lines[block.span.end_line - 1])
    for name, attr in block.attributes.items():
        assert re.match(rf"\s*{re.escape(name)}\s*=", lines[attr.span.line - 1]), (attr.span, name)
        assert attr.expr.span.line == attr.span.line
        seen[0] += 1
    for child in block.blocks:
        _check(child, lines, seen)


@pytest.mark.parametrize("path", FILES, ids=[p.name + ":" + p.parent.name for p in FILES])
def test_spans_point_at_the_name(path: Path) -> None:
    text = path.read_text()
    parsed = parse_hcl(text, "x.tf")
    lines = text.splitlines()
    seen = [0]
    for b in parsed.blocks:
        _check(b, lines, seen)
    assert parsed.blocks and seen[0] > 0
