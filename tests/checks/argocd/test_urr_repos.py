"""Section 7 of the seed review (the Argo CD Applications) on the bundled repositories: what is
reported on fixtures/repos/urr, and that fixtures/repos/urr-fixed only states information."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES
from urr_audit.catalog import load_rules
from urr_audit.graph import build_graph, export
from urr_audit.scan import scan

APPS = "argocd/applications"


@pytest.fixture(scope="module")
def urr_report():
    return scan(FIXTURES / "repos" / "urr", select=["URR-ARGO"])


@pytest.fixture(scope="module")
def urr(urr_report):
    return urr_report.result.findings


@pytest.fixture(scope="module")
def fixed():
    return scan(FIXTURES / "repos" / "urr-fixed", select=["URR-ARGO"]).result.findings


def _line(path: str, needle: str, repo: str = "urr") -> int:
    lines = (FIXTURES / "repos" / repo / path).read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


def test_section_7_table_is_the_model(urr_report):
    p = urr_report.project
    rows = {
        a.name: (a.sources[0].path.value, a.destination.namespace.value, a.sync_policy.label, a.environment)
        for a in p.argocd.applications
        if a.name.startswith("urr-spring")
    }
    assert rows == {
        "urr-spring-dev": ("k8s/spring/overlays/dev", "urr-dev", "automated sync (prune, selfHeal)", "dev"),
        "urr-spring-staging": (
            "k8s/spring/overlays/staging",
            "urr-staging",
            "automated sync (prune, selfHeal)",
            "staging",
        ),
        "urr-spring-prod": ("k8s/spring/overlays/prod", "urr-spring", "manual sync", "prod"),
    }
    # no .git in the fixture: tied to the repository by the paths that exist here
    assert {s.repo_match for a in p.argocd.applications for s in a.sources} == {"path", "placeholder"}


def test_default_project_on_every_application(urr):
    got = {(f.path, f.line) for f in urr if f.rule_id == "URR-ARGO-003"}
    names = ("urr-spring-dev", "urr-spring-staging", "urr-spring-prod", "argo-rollouts")
    assert got == {(f"{APPS}/{n}.yaml", _line(f"{APPS}/{n}.yaml", "project: default")) for n in names}


def test_rollouts_application_placeholder_and_namespace(urr):
    path = f"{APPS}/argo-rollouts.yaml"
    (placeholder,) = [f for f in urr if f.rule_id == "URR-ARGO-001"]
    assert (placeholder.path, placeholder.line) == (path, _line(path, "repoURL:"))
    (ns,) = [f for f in urr if f.rule_id == "URR-ARGO-006"]
    assert (ns.path, ns.line) == (path, _line(path, "    namespace: argocd"))  # the destination's, not metadata's
    overlay = "k8s/argo-rollouts/kustomization.yaml"
    assert [(s.path, s.line) for s in ns.related] == [(overlay, _line(overlay, "namespace: argo-rollouts"))]


def test_prod_manual_sync_is_information_not_a_weakness(urr):
    """Seed weakness 7 ("prod has no automated sync") describes a choice the fixture documents
    (synced by hand after the Rollout preview): the default states it and takes no side."""
    (f,) = [f for f in urr if f.rule_id == "URR-ARGO-005"]
    assert f.severity.value == "info" and f.path == f"{APPS}/urr-spring-prod.yaml"
    assert "manual sync of branch `main`" in f.message
    assert "urr-spring-dev, urr-spring-staging also follow" in f.message


def test_a_team_policy_is_a_rule_over_the_same_check(tmp_path):
    (tmp_path / "require-auto.yaml").write_text(
        """
id: ACME-ARGO-001
title: Production must auto-sync
severity: medium
category: delivery
check: argocd-production-sync
params:
  production: [prod]
  non_production: [dev, staging]
  report: [manual]
rationale: Our promotion gate is the Rollout analysis, not a person.
remediation: Enable automated sync.
"""
    )
    urr = scan(FIXTURES / "repos" / "urr", select=["ACME-ARGO-001"], rule_dirs=(tmp_path,)).result.findings
    fixed = scan(FIXTURES / "repos" / "urr-fixed", select=["ACME-ARGO-001"], rule_dirs=(tmp_path,)).result.findings
    assert [(f.path, f.severity.value) for f in urr] == [(f"{APPS}/urr-spring-prod.yaml", "medium")]
    assert fixed == []


def test_nothing_else_and_nothing_undecided(urr_report):
    assert {f.rule_id for f in urr_report.result.findings} == {
        "URR-ARGO-001",
        "URR-ARGO-003",
        "URR-ARGO-005",
        "URR-ARGO-006",
    }
    assert urr_report.result.undecided == []


def test_mended_repository_only_states_information(fixed):
    assert [f for f in fixed if f.severity.value != "info"] == []
    assert [(f.rule_id, f.path) for f in fixed] == [("URR-ARGO-005", f"{APPS}/urr-spring-prod.yaml")]
    assert scan(FIXTURES / "repos" / "urr-fixed", select=["URR-ARGO"]).result.undecided == []


def test_every_builtin_argo_rule_ran():
    ids = {r.id for r in load_rules() if r.id.startswith("URR-ARGO")}
    assert ids == {f"URR-ARGO-{n:03d}" for n in range(12)}


def test_mermaid_shows_application_overlay_workloads(urr_report):
    g = build_graph(urr_report.project)
    prod = next(n for n in g if n.startswith("argocd:Application/") and g.nodes[n]["label"] == "urr-spring-prod")
    (overlay,) = [v for _, v, d in g.out_edges(prod, data=True) if d["kind"] == "deploys"]
    assert overlay == "kustomize:k8s/spring/overlays/prod"
    workloads = {g.nodes[v]["label"] for _, v, d in g.out_edges(overlay, data=True) if d["kind"] == "builds"}
    assert {"ticket-service", "gateway-service", "catalog-service"} <= workloads
    text = export(g, "mermaid")
    assert "urr_spring_prod -->|deploys|" in text and "-->|builds|" in text
