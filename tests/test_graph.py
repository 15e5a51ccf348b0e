"""The dependency graph of the bundled repository shows the module dependencies of the
seed's section 4.2 (which module feeds which), per environment."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from tests.conftest import FIXTURES
from urr_audit.graph import build_graph, export
from urr_audit.loaders import load_project

# consumer -> providers, read off section 4.2 of the review
SECTION_4_2 = {
    "vpc_endpoints": {"vpc"},
    "eks": {"vpc", "iam"},
    "alb": {"vpc", "eks"},
    "rds": {"vpc", "eks"},
    "elasticache": {"vpc", "eks"},
    "msk": {"vpc", "eks"},
    "cloudfront": {"alb", "s3", "lambda_vwr", "secrets"},
    "lambda_vwr": {"dynamodb_vwr"},
    "api_gateway_vwr": {"lambda_vwr"},
    "lambda_worker": {"sqs", "rds", "elasticache", "msk"},
}


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    return build_graph(load_project(FIXTURES / "repos" / "urr"))


def _deps(g: nx.DiGraph, env: str, module: str) -> set[str]:
    node = f"tf:{env}/module.{module}"
    return {
        v.rsplit(".", 1)[-1]
        for _, v, d in g.out_edges(node, data=True)
        if d["kind"] == "depends_on"
    }


@pytest.mark.parametrize("consumer", sorted(SECTION_4_2))
def test_prod_module_dependencies_match_the_review(graph, consumer):
    assert SECTION_4_2[consumer] <= _deps(graph, "prod", consumer)


def test_staging_has_no_cloudfront_but_the_same_core_edges(graph):
    assert "tf:staging/module.cloudfront" not in graph
    assert _deps(graph, "staging", "eks") == _deps(graph, "prod", "eks")


def test_environments_call_their_modules(graph):
    calls = [v for _, v, d in graph.out_edges("tf:prod", data=True) if d["kind"] == "calls"]
    assert len(calls) == 16
    node = graph.nodes["tf:prod/module.eks"]
    assert node["path"] == "terraform/environments/prod/main.tf" and node["line"] > 1


def test_dependency_edges_carry_the_reference(graph):
    d = graph.edges["tf:prod/module.api_gateway_vwr", "tf:prod/module.lambda_vwr"]
    assert d["via"].startswith("module.lambda_vwr.")


def test_exports_are_deterministic_and_parseable(graph):
    data = json.loads(export(graph, "json"))
    assert {n["id"] for n in data["nodes"]} == set(graph.nodes)
    assert export(graph, "mermaid") == export(build_graph(load_project(FIXTURES / "repos" / "urr")), "mermaid")
    mermaid = export(graph, "mermaid")
    assert mermaid.startswith("flowchart LR") and '"lambda_worker"' in mermaid
    assert export(graph, "dot").startswith("digraph")
