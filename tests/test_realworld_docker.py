"""Dockerfiles written the way public projects write them (fixtures/realworld/polyglot-services):
every finding is announced by an `# expect-next: ID` comment on the line before, every
undecided result by `# undecided-next: ID`, and nothing else is reported. No load error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from urr_audit.scan import scan

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "realworld" / "polyglot-services"
ID = re.compile(r"URR-[A-Z0-9]+-\d{3}")


def _marked(word: str) -> set[tuple[str, str, int]]:
    marker = re.compile(rf"#\s*{word}-next:\s*((?:URR-[A-Z0-9]+-\d{{3}}[,\s]*)+)")
    out = set()
    for f in sorted(p for p in ROOT.rglob("*") if p.is_file()):
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            m = marker.search(line)
            if m:
                out |= {(rid, f.relative_to(ROOT).as_posix(), n + 1) for rid in ID.findall(m.group(1))}
    return out


@pytest.fixture(scope="module")
def result():
    return scan(ROOT, select=["URR-DOCKER"]).result


def test_every_dockerfile_is_read(result):
    assert result.errors == []
    project = scan(ROOT, select=["URR-DOCKER-000"]).project
    assert project.docker.inventory() == {"Dockerfiles": 9, "build stages": 17}


def test_findings_are_the_expected_ones(result):
    assert {(f.rule_id, f.path, f.line) for f in result.findings} == _marked("expect")


def test_undecided_are_the_expected_ones(result):
    assert {(f.rule_id, f.path, f.line) for f in result.undecided} == _marked("undecided")
