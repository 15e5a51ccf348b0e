"""Section 10.2 of the seed review, Kubernetes items: reported on fixtures/repos/urr at the line
to edit, and gone from fixtures/repos/urr-fixed."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES
from urr_audit.catalog import load_rules
from urr_audit.engine import run
from urr_audit.registry import load_checks
from urr_audit.scan import scan

PROD = "k8s/spring/overlays/prod"
STAGING = "k8s/spring/overlays/staging"
POLICIES = "k8s/spring/base/network-policies.yaml"


@pytest.fixture(scope="module")
def urr():
    return scan(FIXTURES / "repos" / "urr", select=["URR-K8S"]).result.findings


@pytest.fixture(scope="module")
def fixed():
    return scan(FIXTURES / "repos" / "urr-fixed", select=["URR-K8S"]).result.findings


def _lines(path: str, needle: str) -> set[int]:
    text = (FIXTURES / "repos" / "urr" / path).read_text().splitlines()
    return {n for n, line in enumerate(text, 1) if needle in line}


def test_placeholder_registry_reported_at_each_images_entry(urr):
    for overlay in (PROD, STAGING):
        got = {(f.path, f.line) for f in urr if f.rule_id == "URR-K8S-001" and f.path.startswith(overlay)}
        # the `- name:` line of each images: entry that sets newName: CHANGE_ME...
        entries = {n - 1 for n in _lines(f"{overlay}/kustomization.yaml", "newName: CHANGE_ME")}
        assert got == {(f"{overlay}/kustomization.yaml", n) for n in entries}
        assert len(got) == 9


def test_catalog_service_without_pdb_in_prod(urr):
    hits = [f for f in urr if f.rule_id == "URR-K8S-002" and f.environment == "prod"]
    catalog = [f for f in hits if "catalog-service" in f.message]
    assert len(catalog) == 1
    f = catalog[0]
    assert f.path == f"{PROD}/patches/replicas.yaml"
    assert f.line == max(_lines(f"{PROD}/patches/replicas.yaml", "replicas:"))  # catalog's patch is last
    assert f.address == "prod/apps/v1/Deployment/urr-spring/catalog-service"
    # The review missed the frontend (2 replicas, no PDB); the covered services are silent.
    assert {m for f in hits for m in ("catalog-service", "frontend") if f"Deployment {m} " in f.message} == {
        "catalog-service",
        "frontend",
    }


def test_egress_allow_list_blocks_data_services_in_prod(urr):
    hits = [f for f in urr if f.rule_id == "URR-K8S-003" and f.environment == "prod"]
    backend = [
        f
        for f in hits
        if f.path == POLICIES and f.line in _lines(POLICIES, "egress:") and "allow-backend-egress" in f.message
    ]
    assert len(backend) == 8  # every backend service of section 5.2
    text = " ".join(f.message for f in backend)
    for port in ("TCP 5432", "TCP 6379", "TCP 9094", "TCP 443"):
        assert port in text
    # kafka-spring:9092 and dragonfly-spring are names no prod Service has: URR-K8S-004
    # reports them (the connection fails before any policy), so they are not repeated here.
    assert "kafka-spring" not in text and "dragonfly-spring" not in text
    ticket = next(f for f in backend if "Deployment ticket-service:" in f.message)
    assert "rds.amazonaws.com:5432" in ticket.message
    assert any(s.path == f"{PROD}/config.env" for s in ticket.related)


def test_kind_only_hosts_in_prod_env_patches(urr):
    hits = [f for f in urr if f.rule_id == "URR-K8S-004" and f.environment == "prod"]
    patch = f"{PROD}/patches/services-env.yaml"
    for host, var in (("dragonfly-spring", "REDIS_HOST"), ("kafka-spring", "KAFKA_BOOTSTRAP_SERVERS")):
        got = {f.line for f in hits if f"host {host}," in f.message}
        assert got and all(f.path == patch for f in hits if f"host {host}," in f.message)
        assert got <= _lines(patch, f"name: {var}")
        assert all("exists only in kind" in f.message for f in hits if f"host {host}," in f.message)
    assert len({f.line for f in hits if "host dragonfly-spring," in f.message}) == 4
    assert len({f.line for f in hits if "host kafka-spring," in f.message}) == 4


def test_hpa_scaling_the_deployment_a_rollout_replaced(urr):
    hits = [f for f in urr if f.rule_id == "URR-K8S-008"]
    assert {f.path for f in hits} == {f"{PROD}/hpa.yaml"}
    assert len(hits) == 4


def test_fixed_repo_has_none_of_the_section_10_2_weaknesses(fixed):
    def prod(rule):
        return [f for f in fixed if f.rule_id == rule and f.environment and "prod" in f.environments]

    assert [f for f in fixed if f.rule_id == "URR-K8S-001"] == []
    assert prod("URR-K8S-002") == []
    # (5) is about the backend allow-list; see the report for the frontend's shared ConfigMap.
    assert [f for f in prod("URR-K8S-003") if "allow-backend-egress" in f.message] == []
    assert prod("URR-K8S-004") == []
    assert [f for f in fixed if f.rule_id in ("URR-K8S-008", "URR-K8S-009")] == []


# --- issue 10: one case of each class the repository's shape allows, mended in urr-fixed ---


def _only(findings, rule_id):
    return [f for f in findings if f.rule_id == rule_id]


def test_pdb_left_in_a_removed_api_version(urr, fixed):
    (f,) = _only(urr, "URR-K8S-021")
    assert (f.path, f.line) == (f"{PROD}/pdb.yaml", min(_lines(f"{PROD}/pdb.yaml", "policy/v1beta1")))
    assert "community-service" in f.message and "1.25" in f.message and "policy/v1" in f.message
    assert _only(fixed, "URR-K8S-021") == []


def test_payment_sandbox_key_as_a_literal_env_value(urr, fixed):
    (f,) = _only(urr, "URR-K8S-022")
    patch = f"{STAGING}/patches/services-env.yaml"
    assert (f.path, f.line) == (patch, min(_lines(patch, "name: TOSS_PAYMENTS_SECRET_KEY")))
    assert "TOSS_PAYMENTS_SECRET_KEY" in f.message and "test_sk_" not in f.message  # never echoed
    assert _only(fixed, "URR-K8S-022") == []


def test_staging_patch_no_kustomization_lists(urr, fixed):
    (f,) = _only(urr, "URR-K8S-024")
    assert f.path == f"{STAGING}/patches/resources.yaml" and f.environments == ["staging"]
    assert _only(fixed, "URR-K8S-024") == []


def test_argo_rollouts_install_downloaded_at_build_time(urr, fixed):
    (f,) = _only(urr, "URR-K8S-025")
    assert (f.path, f.line) == ("k8s/argo-rollouts/kustomization.yaml", 9)
    assert "vendor it" in f.message
    assert _only(fixed, "URR-K8S-025") == []


def test_kind_stand_ins_without_passwords_are_a_plausible_intent():
    # The kind overlay runs Dragonfly without --requirepass and Kafka with PLAINTEXT listeners
    # only; the shipped rule skips local clusters, the same check without that skip reports them.
    root = FIXTURES / "repos" / "urr"
    assert _only(scan(root, select=["URR-K8S-023"]).result.findings, "URR-K8S-023") == []
    rule = next(r for r in load_rules() if r.id == "URR-K8S-023")
    project = scan(root, select=["URR-K8S-023"]).project
    result = run(project, [rule.model_copy(update={"skip_environments": []})], load_checks())
    got = {(f.path.rsplit("/", 1)[-1], f.environment) for f in result.findings}
    assert got == {("dragonfly.yaml", "kind"), ("kafka.yaml", "kind")}
