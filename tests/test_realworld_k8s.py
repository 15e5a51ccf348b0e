"""Hand-written repositories shaped like real GitOps and `kubectl apply -f` repositories
(fixtures/realworld), not like urr-audit's rules: they load cleanly, every check runs, and
the findings are exactly the `# expect:` comments, at lines that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import EXPECT, FIXTURES
from tests.loaders.kustomize.diffutil import KUBECTL, kubectl_build, parse_stream
from urr_audit.loaders.kustomize import render, to_yaml_stream
from urr_audit.loaders.kustomize.project import load
from urr_audit.scan import scan
from urr_audit.workspace import Workspace

REALWORLD = FIXTURES / "realworld"
REPOS = ["gitops-monorepo", "plain-manifests"]

# Findings a careful team would keep, with a justification comment on the line above.
SUPPRESSED = {
    "gitops-monorepo": {("URR-K8S-011", "infrastructure/node-agents/fluent-bit.yaml", 76)},
    "plain-manifests": set(),
}


def expected(tree: Path) -> set[tuple[str, str, int]]:
    out = set()
    for f in sorted(tree.rglob("*")):
        if not f.is_file() or f.name == "README.md":
            continue
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            m = EXPECT.search(line)
            if m:
                out |= {(rid, f.relative_to(tree).as_posix(), n) for rid in re.findall(r"URR-[A-Z0-9]+-\d{3}", m[1])}
    return out


@pytest.fixture(scope="module", params=REPOS)
def report(request):
    return request.param, scan(REALWORLD / request.param)


def test_loads_without_errors_and_no_check_crashes(report):
    _, rep = report
    assert [e for e in rep.result.errors if e.level == "error"] == []
    assert [e for e in rep.result.errors if e.kind == "check.crash"] == []
    assert rep.result.undecided == []


def test_findings_are_exactly_the_expect_comments(report):
    name, rep = report
    got = {(f.rule_id, f.path, f.line) for f in rep.result.findings if not f.suppressed}
    assert got == expected(REALWORLD / name)
    assert {(f.rule_id, f.path, f.line) for f in rep.result.findings if f.suppressed} == SUPPRESSED[name]


def test_every_finding_points_at_an_existing_line(report):
    name, rep = report
    for f in [*rep.result.findings, *rep.result.undecided]:
        lines = (REALWORLD / name / f.path).read_text(encoding="utf-8").splitlines()
        assert 0 < f.line <= len(lines), (f.rule_id, f.path, f.line)


def test_argo_cd_applications_are_not_an_environment():
    project, _ = load(Workspace(REALWORLD / "gitops-monorepo"))
    paths = {e.path for e in project.environments}
    assert not any(p.startswith("clusters/") for p in paths)
    assert "infrastructure" in paths and len(paths) == 7


def kustomize_leaves() -> list[str]:
    project, _ = load(Workspace(REALWORLD / "gitops-monorepo"))
    return sorted(e.path for e in project.environments if e.source == "kustomize")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl (the reference kustomize) is not installed")
@pytest.mark.slow
@pytest.mark.parametrize("leaf", kustomize_leaves())
def test_monorepo_renders_as_kubectl_does(leaf: str):
    root = REALWORLD / "gitops-monorepo"
    rc, out, err = kubectl_build(root / leaf)
    assert rc == 0, err
    objects, errors = render(Workspace(root), leaf)
    assert errors == []
    assert parse_stream(to_yaml_stream(objects)) == parse_stream(out)
    assert [o.body for o in objects] == parse_stream(out)
