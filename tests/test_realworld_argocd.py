"""GitOps repositories written the way platform teams write them (fixtures/realworld): the
Argo CD model they give (app-of-apps, ApplicationSets, Helm add-ons, several clusters), and
findings that are exactly the `# expect:` comments (`# undecided:` for undecided ones).
`# false-positive:` pins findings of other rules known to be wrong there (see the README)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from urr_audit.graph import build_graph, export
from urr_audit.scan import scan

REALWORLD = FIXTURES / "realworld"
REPOS = ["argocd-multicluster", "gitops-monorepo"]
ID = re.compile(r"URR-[A-Z0-9]+-\d{3}")


def _marked(tree: Path, word: str) -> set[tuple[str, str, int]]:
    marker = re.compile(rf"#\s*{word}:\s*((?:URR-[A-Z0-9]+-\d{{3}}[,\s]*)+)")
    out = set()
    for f in sorted(p for p in tree.rglob("*") if p.is_file() and p.name != "README.md"):
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            m = marker.search(line)
            if m:
                out |= {(rid, f.relative_to(tree).as_posix(), n) for rid in ID.findall(m.group(1))}
    return out


@pytest.fixture(scope="module")
def multicluster():
    return scan(REALWORLD / "argocd-multicluster")


@pytest.fixture(scope="module", params=REPOS)
def report(request):
    return request.param, scan(REALWORLD / request.param)


def test_loads_cleanly(report):
    _, rep = report
    assert [e for e in rep.result.errors if e.level == "error"] == []
    assert [f for f in (*rep.result.findings, *rep.result.undecided) if "crash" in f.message.lower()] == []


def test_argo_findings_are_exactly_the_expect_comments(report):
    name, rep = report
    tree = REALWORLD / name
    got = {(f.rule_id, f.path, f.line) for f in rep.result.findings if f.rule_id.startswith("URR-ARGO")}
    assert got == {m for m in _marked(tree, "expect") if m[0].startswith("URR-ARGO")}
    undecided = {(f.rule_id, f.path, f.line) for f in rep.result.undecided if f.rule_id.startswith("URR-ARGO")}
    assert undecided == {m for m in _marked(tree, "undecided") if m[0].startswith("URR-ARGO")}


def test_every_finding_is_pinned(multicluster):
    tree = REALWORLD / "argocd-multicluster"
    got = {(f.rule_id, f.path, f.line) for f in multicluster.result.findings}
    assert got == _marked(tree, "expect") | _marked(tree, "false-positive")
    assert multicluster.result.undecided == []


def test_app_of_apps_and_application_sets(multicluster):
    argo = multicluster.project.argocd
    apps = {a.name: a for a in argo.applications}
    root = apps["root"]
    assert [t.path for t in root.targets] == ["management"]
    sets = {s.name: s for s in argo.application_sets}
    assert {n: (s.expansion, len(s.applications)) for n, s in sets.items()} == {
        "cluster-addons": ("partial", 15),
        "cluster-config": ("partial", 3),
        "team-apps": ("partial", 9),
    }
    assert all(s.parents == [root.address] for s in sets.values())
    # generated Applications hang under root through their ApplicationSet
    assert apps["web-prod-eu-west-1"].parents == [root.address]
    assert apps["search-prod-eu-west-1"].parents == [root.address]
    assert {p.name for p in argo.projects} == {"platform", "payments", "storefront"}
    assert sorted(c.name for c in argo.clusters) == ["dev-eu-west-1", "prod-eu-west-1", "staging-eu-west-1"]
    assert argo.inventory() == {
        "applications": 2,
        "application sets": 3,
        "generated applications": 27,
        "app projects": 3,
    }


def test_generated_applications_are_what_the_controller_makes(multicluster):
    apps = {a.name: a for a in multicluster.project.argocd.applications}
    web = apps["web-prod-eu-west-1"]
    assert web.project_name == "storefront" and web.destination.label == "prod-eu-west-1/storefront"
    assert web.sources[0].target.path == "teams/storefront/web/overlays/prod"
    assert web.environment and not web.sync_policy.automated  # templatePatch: prod syncs by hand
    dev = apps["web-dev-eu-west-1"]
    assert (dev.sync_policy.automated, dev.sync_policy.prune) == (True, True)
    addon = apps["kube-prometheus-stack-prod-eu-west-1"]
    chart, values = addon.sources
    assert (chart.chart.value, chart.revision, values.ref.value) == ("kube-prometheus-stack", "version", "values")
    assert [(v.path, v.exists) for v in chart.helm.value_files] == [
        ("addons/kube-prometheus-stack/values.yaml", True),
        ("addons/kube-prometheus-stack/values-prod.yaml", True),
    ]
    (hook,) = apps["ledger-prod-eu-west-1"].sources[0].target.hooks
    assert (hook.name, hook.hook) == ("ledger-migrate", "PreSync")


def test_graph_goes_from_root_to_workloads(multicluster):
    g = build_graph(multicluster.project)
    root = next(n for n in g if n.startswith("argocd:Application/") and g.nodes[n]["label"] == "root")
    sets = [v for _, v, d in g.out_edges(root, data=True) if d["kind"] == "creates"]
    team = next(s for s in sets if g.nodes[s]["label"] == "team-apps")
    web = next(v for _, v, d in g.out_edges(team, data=True) if g.nodes[v]["label"] == "web-prod-eu-west-1")
    (overlay,) = [v for _, v, d in g.out_edges(web, data=True) if d["kind"] == "deploys"]
    assert overlay == "kustomize:teams/storefront/web/overlays/prod"
    assert {g.nodes[v]["label"] for _, v, d in g.out_edges(overlay, data=True) if d["kind"] == "builds"} == {"web"}
    assert "-->|generates|" in export(g, "mermaid")


def test_gitops_monorepo_model():
    argo = scan(REALWORLD / "gitops-monorepo", select=["URR-ARGO-010"]).project.argocd
    (apps,) = argo.application_sets
    assert (apps.expansion, sorted(a.name for a in apps.applications)) == (
        "complete",
        ["orders-production", "queue-production", "web-production"],
    )
    assert {a.name: a.environment for a in apps.applications}["web-production"] == "apps-web-overlays-production"
