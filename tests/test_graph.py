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
    return {v.rsplit(".", 1)[-1] for _, v, d in g.out_edges(node, data=True) if d["kind"] == "depends_on"}


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
    assert mermaid.startswith("flowchart LR") and '"module lambda_worker"' in mermaid
    assert export(graph, "dot").startswith("digraph")


K8S = "k8s:prod/{}/urr-spring/{}"


def _edge_kinds(g, node):
    return {(v, d["kind"]) for _, v, d in g.out_edges(node, data=True)}


def test_kubernetes_links(graph):
    ticket = K8S.format("apps/v1/Deployment", "ticket-service")
    assert (ticket, "selects") in _edge_kinds(graph, K8S.format("v1/Service", "ticket-service"))
    assert (ticket, "scales") in _edge_kinds(
        graph, K8S.format("autoscaling/v2/HorizontalPodAutoscaler", "ticket-service")
    )
    assert (ticket, "applies_to") in _edge_kinds(
        graph, K8S.format("networking.k8s.io/v1/NetworkPolicy", "default-deny-all")
    )
    assert (ticket, "protects") in _edge_kinds(graph, K8S.format("policy/v1/PodDisruptionBudget", "ticket-service"))
    assert ("kustomize:k8s/spring/base", "builds_on") in _edge_kinds(graph, "kustomize:k8s/spring/overlays/prod")
    assert ("kustomize:k8s/spring/overlays/prod", "renders") in _edge_kinds(graph, "k8s:prod")


def test_workload_nodes_carry_the_review_facts(graph):
    catalog = graph.nodes[K8S.format("apps/v1/Deployment", "catalog-service")]
    assert catalog["replicas"] == 2 and catalog["pdb"] == [] and catalog["hpa"] == []
    ticket = graph.nodes[K8S.format("apps/v1/Deployment", "ticket-service")]
    assert ticket["hpa"] == [{"name": "ticket-service", "min": 3, "max": 10}]
    assert ticket["ports"] == [3002] and "ticket-service" in ticket["services"]
    assert any(cm.startswith("spring-prod-config") for cm in ticket["config_maps"])


def test_restrict_to_one_framework(graph):
    from urr_audit.graph import restrict

    tf = restrict(graph, "terraform")
    assert tf.nodes and all(n.startswith("tf:") for n in tf.nodes)
    k8s = restrict(graph, "kubernetes")
    assert k8s.nodes and not any(n.startswith("tf:") for n in k8s.nodes)


def test_an_expanded_module_call_is_one_node_listing_its_keys():
    g = build_graph(load_project(FIXTURES / "terraform" / "nested-modules"))
    (env,) = {n.split("/", 1)[0] for n in g.nodes if n.startswith("tf:")}
    node = f"{env}/module.services"
    assert g.nodes[node]["instance_keys"] == ['["payment"]', '["ticket"]']
    assert f"{node}.module.queue" in g.nodes  # nested calls of every key share one node too
    assert not any("[" in n for n in g.nodes if n.startswith("tf:"))


def test_for_each_over_another_modules_output_is_a_dependency(tmp_path):
    (tmp_path / "modules" / "a").mkdir(parents=True)
    (tmp_path / "modules" / "a" / "main.tf").write_text('output "names" {\n  value = ["x", "y"]\n}\n')
    (tmp_path / "modules" / "b").mkdir(parents=True)
    (tmp_path / "modules" / "b" / "main.tf").write_text('variable "name" {\n  type = string\n}\n')
    (tmp_path / "main.tf").write_text(
        'module "a" {\n  source = "./modules/a"\n}\n\n'
        'module "b" {\n  source   = "./modules/b"\n  for_each = toset(module.a.names)\n  name     = each.key\n}\n'
    )
    g = build_graph(load_project(tmp_path))
    env = tmp_path.name
    assert g.edges[f"tf:{env}/module.b", f"tf:{env}/module.a"]["via"] == "module.a.names"
