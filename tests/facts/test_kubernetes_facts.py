"""Kubernetes facts joined to the rest of the model: endpoint hosts matched to Terraform
resources by the name AWS puts in them, in-cluster stand-ins, rollout strategies."""

from __future__ import annotations

import textwrap

from urr_audit.facts.kubernetes import dependencies, endpoint_names, match_host, rollout_strategy, stand_ins
from urr_audit.loaders import load_project
from urr_audit.model.k8s_facts import facts


def test_match_host_takes_whole_labels_only():
    names = {"shop-db": "module.db.aws_db_instance.this", "shop-msk": "module.msk.aws_msk_cluster.this"}
    assert match_host("shop-db.c9xk2m.eu-west-1.rds.amazonaws.com", names) == "module.db.aws_db_instance.this"
    assert match_host("b-2.shop-msk.x1.c2.kafka.eu-west-1.amazonaws.com", names) == "module.msk.aws_msk_cluster.this"
    assert match_host("shop-db-replica.c9xk2m.eu-west-1.rds.amazonaws.com", names) is None
    assert match_host("a.b.shop-db.example.com", names) is None  # beyond the node prefix


def test_dependencies_stand_ins_and_terraform_matches(tmp_path):
    files = {
        "terraform/envs/prod/main.tf": """
        resource "aws_db_instance" "main" {
          identifier = "shop-prod"
        }
        """,
        "k8s/base/app.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: app
        spec:
          selector:
            matchLabels: {app: app}
          template:
            metadata:
              labels: {app: app}
            spec:
              containers:
                - name: app
                  image: shop/app:1.0
                  env:
                    - name: DB_HOST
                      value: db-placeholder
                    - name: DB_PORT
                      value: "5432"
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: app
        spec:
          selector: {app: app}
          ports: [{port: 80}]
        """,
        "k8s/base/kustomization.yaml": "resources: [app.yaml]\n",
        "k8s/overlays/local/kustomization.yaml": """
        resources: [../../base, postgres.yaml]
        patches:
          - target: {kind: Deployment, name: app}
            patch: |-
              - op: replace
                path: /spec/template/spec/containers/0/env/0/value
                value: postgres
        """,
        "k8s/overlays/local/postgres.yaml": """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: postgres
        spec:
          selector:
            matchLabels: {app: postgres}
          template:
            metadata:
              labels: {app: postgres}
            spec:
              containers:
                - name: postgres
                  image: postgres:16
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: postgres
        spec:
          selector: {app: postgres}
          ports: [{port: 5432}]
        """,
        "k8s/overlays/prod/kustomization.yaml": """
        resources: [../../base]
        patches:
          - target: {kind: Deployment, name: app}
            patch: |-
              - op: replace
                path: /spec/template/spec/containers/0/env/0/value
                value: shop-prod.c9xk2m.eu-west-1.rds.amazonaws.com
        """,
    }
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    project = load_project(tmp_path)
    tf = {e.name: e for e in project.terraform.environments}
    k8s = {e.name: e for e in project.kubernetes.environments}
    per = {}
    for name, env in k8s.items():
        f = facts(env)
        names = endpoint_names(tf[name]) if name in tf else {}
        per[name] = (f, [d for w in f.pod_workloads() for d in dependencies(f, w, names)])
    (prod,) = [d for d in per["prod"][1] if d.variable == "DB_HOST"]
    assert (prod.kind, prod.port, prod.what, prod.resource) == ("external", 5432, "PostgreSQL", "aws_db_instance.main")
    (local,) = [d for d in per["local"][1] if d.variable == "DB_HOST"]
    assert (local.kind, local.service, local.backends) == ("service", "postgres", ("postgres",))
    (standin,) = stand_ins(per)
    assert (standin.local_env, standin.service, standin.images) == ("local", "postgres", ("postgres:16",))
    assert [(e, h) for e, h, _ in standin.elsewhere] == [("prod", "shop-prod.c9xk2m.eu-west-1.rds.amazonaws.com")]


def test_rollout_strategies_of_the_bundled_repository(fixtures_dir):
    project = load_project(fixtures_dir / "repos" / "urr")
    prod = next(e for e in project.kubernetes.environments if e.name == "prod")
    strategies = {r.name: r for r in (rollout_strategy(w) for w in facts(prod).workloads if w.kind == "Rollout")}
    assert set(strategies) == {"gateway-service", "ticket-service", "payment-service", "queue-service"}
    ticket = strategies["ticket-service"]
    assert (ticket.kind, ticket.active, ticket.preview, ticket.auto_promotion, ticket.analysis) == (
        "blueGreen",
        "ticket-service",
        "ticket-service-preview",
        False,
        ("health-check",),
    )
    assert ticket.span.path == "k8s/spring/overlays/prod/rollouts/ticket-service.yaml"


def test_host_ports_reach_the_node_port_services_that_listen_there(fixtures_dir):
    from urr_audit.facts.kubernetes import host_ports

    project = load_project(fixtures_dir / "repos" / "urr")
    envs = [facts(e) for e in project.kubernetes.environments]
    ports = host_ports(project.local_clusters.clusters, envs)
    single = {
        (hp.mapping.host_port, hp.mapping.container_port): [(t.environment, t.service, t.span.path) for t in hp.targets]
        for hp in ports
        if hp.cluster.path == "kind-config-single.yaml"
    }
    assert single[(3001, 30000)] == [
        ("kind", "gateway-service", "k8s/spring/overlays/kind/patches/gateway-service-nodeport.yaml")
    ]
    assert single[(15432, 30432)] == [("kind", "postgres-spring", "k8s/spring/overlays/kind/postgres.yaml")]
    assert set(single) == {(3001, 30000), (3000, 30005), (3006, 30006), (15432, 30432)}
