"""Workflow part of the graph on the seed repository: calls, images built and pushed (names
bound with each caller's inputs), the workloads running them, and the overlays CI edits."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES
from urr_audit.graph import build_graph, export
from urr_audit.loaders import load_project

URR = FIXTURES / "repos" / "urr"
TICKET = "gha:.github/workflows/ticket-service-ci-cd.yml"
REUSABLE = "gha:.github/workflows/reusable-spring-ci-cd.yml"


@pytest.fixture(scope="module")
def graph():
    return build_graph(load_project(URR))


def test_workflow_calls_reusable_workflow(graph):
    edge = graph.edges[TICKET, REUSABLE]
    assert edge["kind"] == "calls" and edge["secrets"] == "inherit"
    assert edge["with"]["service-name"] == "ticket-service"
    assert graph.edges[REUSABLE, "gha:.github/workflows/e2e-tests.yml"]["kind"] == "calls"


def test_images_pushed_per_caller_and_run_by_workloads(graph):
    images = sorted(n for n in graph if n.startswith("image:"))
    assert images == [
        f"image:urr/{s}"
        for s in (
            "auth-service",
            "catalog-service",
            "community-service",
            "frontend",
            "gateway-service",
            "payment-service",
            "queue-service",
            "stats-service",
            "ticket-service",
        )
    ]
    edge = graph.edges[TICKET, "image:urr/ticket-service"]
    assert edge["kind"] == "pushes" and edge["via"] == ".github/workflows/reusable-spring-ci-cd.yml"
    assert len(graph.edges[REUSABLE, "image:urr/ticket-service"]["callers"]) == 1
    node = graph.nodes["image:urr/ticket-service"]
    assert node["platforms"] == ["linux/arm64"] and "latest" in node["tags"] and "prod" in node["tags"]
    runs = [v for _, v, d in graph.out_edges("image:urr/ticket-service", data=True) if d["kind"] == "run_by"]
    assert "k8s:prod/apps/v1/Deployment/urr-spring/ticket-service" in runs
    assert all("ticket-service" in v for v in runs)


def test_ci_edits_the_overlays_it_deploys(graph):
    for wf in (TICKET, REUSABLE, "gha:.github/workflows/frontend-ci-cd.yml", "gha:.github/workflows/rollback.yml"):
        edited = sorted(v for _, v, d in graph.out_edges(wf, data=True) if d["kind"] == "edits")
        assert edited == ["kustomize:k8s/spring/overlays/prod", "kustomize:k8s/spring/overlays/staging"], wf


def test_mermaid_shows_the_pipeline_edges():
    text = export(build_graph(load_project(URR)), "mermaid")
    assert "|pushes|" in text and "|run_by|" in text and "|edits|" in text
    assert '"workflow Ticket Service CI/CD"' in text and '"image urr/ticket-service"' in text  # kind, then name
