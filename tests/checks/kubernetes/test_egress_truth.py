"""URR-K8S-003 counts only what a pod dials: realistic Spring, Node and Go configuration whose
allow-lists, bind and advertised addresses and browser-side URLs name hosts the pod never
connects to."""

from __future__ import annotations

from tests.checks.kubernetes.test_facts import deployment, env_of
from tests.checks.kubernetes.test_rules import findings
from urr_audit.model.k8s_facts import facts, parse_endpoints

# Egress isolated to DNS only: anything the pod dials on a checked port is blocked.
DNS_ONLY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  egress:
    - ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
---"""


def blocked(containers: str, extra: str = "") -> str:
    (finding,) = findings("URR-K8S-003", env_of(DNS_ONLY + deployment("app", containers=containers) + extra))
    return finding.message


def test_spring_boot_service():
    message = blocked("""        - name: app
          image: registry.internal/orders:2.4.1
          env:
            - {name: SERVER_ADDRESS, value: "0.0.0.0"}
            - {name: SERVER_PORT, value: "8080"}
            - {name: SPRING_DATASOURCE_URL, value: "jdbc:postgresql://orders.c9xk2.eu-west-1.rds.amazonaws.com:5432/orders"}
            - {name: SPRING_KAFKA_BOOTSTRAP_SERVERS, value: "b-1.msk.eu-west-1.amazonaws.com:9094"}
            - {name: SPRING_WEB_CORS_ALLOWED_ORIGINS, value: "https://shop.example.com,https://admin.example.com"}
            - {name: MANAGEMENT_ENDPOINTS_WEB_CORS_ALLOWED_ORIGINS, value: "https://grafana.example.com"}
            - {name: SPRING_DATA_REDIS_HOST, value: "cache.internal.example"}
            - {name: SPRING_DATA_REDIS_PORT, value: "6379"}
            - {name: APP_PUBLIC_URL, value: "https://shop.example.com"}""")
    assert "orders.c9xk2.eu-west-1.rds.amazonaws.com:5432 (SPRING_DATASOURCE_URL)" in message
    assert "b-1.msk.eu-west-1.amazonaws.com:9094" in message
    assert "cache.internal.example:6379 (SPRING_DATA_REDIS_HOST)" in message
    for never_dialed in ("shop.example.com", "admin.example.com", "grafana.example.com", "0.0.0.0"):
        assert never_dialed not in message


def test_spring_settings_from_a_config_map_with_property_names():
    # `server.address` and `spring.web.cors.allowed-origins` are the same settings as
    # SERVER_ADDRESS and SPRING_WEB_CORS_ALLOWED_ORIGINS (relaxed binding).
    config = """
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data:
  server.address: "0.0.0.0"
  spring.web.cors.allowed-origins: "https://shop.example.com:443"
  spring.datasource.url: "jdbc:postgresql://db.internal.example:5432/app"
---"""
    message = blocked(
        """        - name: app
          image: registry.internal/app:1.0.0
          envFrom: [{configMapRef: {name: app-config}}]""",
        config,
    )
    assert "db.internal.example:5432" in message
    assert "shop.example.com" not in message


def test_kafka_broker_listeners_are_not_destinations():
    # The broker binds to 0.0.0.0 and advertises its own pod name; it dials neither.
    env = env_of(
        DNS_ONLY
        + deployment(
            "kafka",
            containers="""        - name: kafka
          image: apache/kafka:3.7.0
          env:
            - name: POD_NAME
              valueFrom: {fieldRef: {fieldPath: metadata.name}}
            - {name: KAFKA_LISTENERS, value: "PLAINTEXT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093"}
            - {name: KAFKA_ADVERTISED_LISTENERS, value: "PLAINTEXT://$(POD_NAME).kafka-headless.data.svc:9092"}
            - {name: KAFKA_CONTROLLER_QUORUM_VOTERS, value: "1@localhost:9093"}""",
        )
    )
    assert findings("URR-K8S-003", env) == []


def test_node_service():
    message = blocked("""        - name: app
          image: registry.internal/storefront:5.0.3
          env:
            - {name: HOST, value: "0.0.0.0"}
            - {name: PORT, value: "3000"}
            - {name: CORS_ORIGIN, value: "https://app.example.com"}
            - {name: ALLOWED_ORIGINS, value: "https://app.example.com,https://m.example.com"}
            - {name: OAUTH_REDIRECT_URI, value: "https://app.example.com/auth/callback"}
            - {name: NEXT_PUBLIC_API_URL, value: "https://api.example.com"}
            - {name: REDIS_URL, value: "redis://cache.example.internal:6379/0"}
            - {name: STRIPE_API_BASE, value: "https://api.stripe.com"}""")
    assert "cache.example.internal:6379 (REDIS_URL)" in message
    assert "api.stripe.com:443 (STRIPE_API_BASE)" in message
    for never_dialed in ("app.example.com", "m.example.com", "api.example.com"):
        assert never_dialed not in message


def test_go_service():
    message = blocked("""        - name: app
          image: registry.internal/ledger:0.9.0
          env:
            - {name: ADDR, value: ":8080"}
            - {name: METRICS_ADDR, value: "0.0.0.0:9092"}
            - {name: GRPC_LISTEN_ADDR, value: "[::]:9094"}
            - {name: DATABASE_URL, value: "postgres://ledger:$(DB_PASSWORD)@ledger-db.internal.example:5432/ledger"}""")
    assert "ledger-db.internal.example:5432 (DATABASE_URL)" in message
    assert "9092" not in message and "9094" not in message


def test_bind_addresses_name_no_host():
    assert parse_endpoints("KAFKA_CFG_LISTENERS", "PLAINTEXT://:9092,CONTROLLER://:9093") == []
    assert parse_endpoints("X", "0.0.0.0:9092") == []
    assert parse_endpoints("X", "PLAINTEXT://[::]:9092") == []
    assert parse_endpoints("BROKERS", "0.0.0.0:9092,b-1:9092") == [("b-1", 9092, None)]


def test_env_references_are_expanded_as_the_kubelet_does():
    env = env_of(
        deployment(
            "app",
            containers="""        - name: app
          image: app:1
          env:
            - {name: DB_HOST, value: "db.internal.example"}
            - {name: DATABASE_URL, value: "postgres://$(DB_HOST):5432/app"}
            - name: POD_IP
              valueFrom: {fieldRef: {fieldPath: status.podIP}}
            - {name: SELF, value: "http://$(POD_IP):8080"}
            - {name: LITERAL, value: "$$(DB_HOST) $(UNDEFINED)"}""",
        )
    )
    f = facts(env)
    (w,) = f.workloads
    resolved = {e.name: e.value for e in f.resolved_env(w, w.containers[0])}
    assert resolved["DATABASE_URL"] == "postgres://db.internal.example:5432/app"
    assert resolved["SELF"] is None  # the pod IP is not known before it runs
    assert resolved["LITERAL"] == "$(DB_HOST) $(UNDEFINED)"
