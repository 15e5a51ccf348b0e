from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
RULES_DIR = ROOT / "rules"

EXPECT = re.compile(r"expect:\s*((?:URR-[A-Z0-9]+-\d{3}[,\s]*)+)")
# For formats whose comments cannot share a line with what they mark (a Dockerfile comment is a
# whole line): `# expect-next: ID` marks the line after it.
EXPECT_NEXT = re.compile(r"expect-next:\s*((?:URR-[A-Z0-9]+-\d{3}[,\s]*)+)")


def expectations(tree: Path, rule_id: str) -> set[tuple[str, int]]:
    """(path, line) of every `expect: ID` comment for `rule_id` under `tree`."""
    out = set()
    for f in sorted(tree.rglob("*")):
        if not f.is_file():
            continue
        try:
            text = f.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            m = EXPECT.search(line)
            if m and rule_id in re.findall(r"URR-[A-Z0-9]+-\d{3}", m.group(1)):
                out.add((f.relative_to(tree).as_posix(), n))
            m = EXPECT_NEXT.search(line)
            if m and rule_id in re.findall(r"URR-[A-Z0-9]+-\d{3}", m.group(1)):
                out.add((f.relative_to(tree).as_posix(), n + 1))
    return out


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES
