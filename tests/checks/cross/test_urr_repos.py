"""The cross-artifact weaknesses of the seed's repository (fixtures/repos/urr), each reported at
the line to edit with every file involved as a related location, per environment; and their
absence from the mended twin (fixtures/repos/urr-fixed)."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES
from urr_audit.scan import scan

URR = FIXTURES / "repos" / "urr"
PROD = "k8s/spring/overlays/prod"
STAGING = "k8s/spring/overlays/staging"
REUSABLE = ".github/workflows/reusable-spring-ci-cd.yml"


@pytest.fixture(scope="module")
def urr():
    return scan(URR, select=["URR-X"]).result


@pytest.fixture(scope="module")
def fixed():
    return scan(FIXTURES / "repos" / "urr-fixed", select=["URR-X"]).result


def _lines(path: str, needle: str) -> list[int]:
    return [n for n, line in enumerate((URR / path).read_text().splitlines(), 1) if needle in line]


def _of(result, rule: str):
    return [f for f in result.findings if f.rule_id == rule]


def _files(f) -> set[str]:
    return {f.path} | {s.path for s in f.related}


def test_arm64_builds_against_x86_nodes_per_environment(urr):
    # seed 6.2/6.4: Buildx builds linux/arm64 only; Terraform gives the clusters m6i/m6a (prod) and t3 (staging)
    hits = _of(urr, "URR-X-001")
    assert sorted((f.path, f.environment) for f in hits) == [
        (".github/workflows/frontend-ci-cd.yml", "prod"),
        (".github/workflows/frontend-ci-cd.yml", "staging"),
        (REUSABLE, "prod"),
        (REUSABLE, "staging"),
    ]
    reusable = [f for f in hits if f.path == REUSABLE]
    assert all(
        f.line == _lines(REUSABLE, "platforms: linux/arm64")[1] for f in reusable
    )  # the push, not the scan build
    prod = next(f for f in reusable if f.environment == "prod")
    assert "m6i.large, m6a.large" in prod.message and "amd64" in prod.message
    files = _files(prod)
    assert "terraform/environments/prod/main.tf" in files  # where the instance types are set
    assert f"{PROD}/kustomization.yaml" in files  # where the images are set
    assert ".github/workflows/ticket-service-ci-cd.yml" in files  # the callers choosing the service


def test_registry_rules(urr):
    by_repo = {f.message.split()[2].rstrip(","): f for f in _of(urr, "URR-X-002")}
    assert sorted(by_repo) == ["urr/db-migrate", "urr/frontend"]
    frontend, migrate = by_repo["urr/frontend"], by_repo["urr/db-migrate"]
    assert "urr/frontend" in frontend.message and "urr/db-migrate" in migrate.message
    assert frontend.path == "terraform/environments/prod/main.tf"
    assert frontend.line == _lines(frontend.path, "ecr_repositories = [")[0]  # where a repository is added
    assert {".github/workflows/frontend-ci-cd.yml", f"{PROD}/kustomization.yaml"} <= _files(frontend)
    placeholders = _of(urr, "URR-X-003")
    assert sorted(f.environment for f in placeholders) == ["prod", "staging"]
    assert all("CHANGE_ME" in f.message and "ecr_repository_urls" in f.message for f in placeholders)
    (tags,) = _of(urr, "URR-X-004")
    assert tags.path == REUSABLE and "latest" in tags.message and "IMMUTABLE" in tags.message
    assert "terraform/environments/prod/main.tf" in _files(tags)


def test_proxy_in_the_app_subnets_behind_a_rule_for_the_database_subnets(urr):
    (f,) = _of(urr, "URR-X-005")
    policy = f"{STAGING}/data-egress.yaml"
    assert (f.path, f.line, f.environment) == (policy, _lines(policy, "cidr: 10.0.20.0/23")[0], "staging")
    assert "aws_db_proxy" in f.message and "10.0.10.0/24, 10.0.11.0/24" in f.message
    assert {f"{STAGING}/config.env", "terraform/modules/rds/main.tf", "terraform/modules/vpc/main.tf"} <= _files(f)
    (cidr,) = _of(urr, "URR-X-006")
    assert cidr.line == _lines(policy, "172.31.0.0/16")[0] and "10.0.0.0/16" in cidr.message


def test_configuration_rules(urr):
    managed = _of(urr, "URR-X-007")
    patch = f"{PROD}/patches/services-env.yaml"
    assert {f.path for f in managed} == {patch}
    assert {f.line for f in managed} == set(_lines(patch, "name: REDIS_HOST")[:4]) | set(
        _lines(patch, "name: KAFKA_BOOTSTRAP_SERVERS")
    ), [f.line for f in managed]
    (placeholder,) = _of(urr, "URR-X-008")
    assert placeholder.line == _lines(patch, "name: NEXT_PUBLIC_ASSET_PREFIX")[0]
    (lam,) = _of(urr, "URR-X-009")
    assert lam.environments == ["prod", "staging"] and "svc.cluster.local" in lam.message
    assert "k8s/spring/base/ticket-service/service.yaml" in _files(lam)


def test_target_group_nothing_registers(urr):
    (f,) = _of(urr, "URR-X-010")
    assert f.path == "terraform/modules/alb/main.tf" and f.environments == ["prod", "staging"]


def test_delivery_rules(urr):
    (job,) = _of(urr, "URR-X-012")
    assert job.path == f"{PROD}/db-migrate.yaml" and "urr/db-migrate" in job.message
    (pdb,) = _of(urr, "URR-X-014")
    assert pdb.path == f"{PROD}/pdb.yaml" and "kind" in pdb.message
    assert _of(urr, "URR-X-011") == []  # every image CI pushes is run by a workload
    # the rollback's dispatch choices still list a service that was removed: rolling it back edits nothing
    edits = _of(urr, "URR-X-013")
    assert sorted(f.message.split(" of ")[1].split(" ")[0] for f in edits) == [
        "k8s/spring/overlays/prod/kustomization.yaml",
        "k8s/spring/overlays/staging/kustomization.yaml",
    ]
    assert {(f.path, f.line) for f in edits} == {
        (".github/workflows/rollback.yml", _lines(".github/workflows/rollback.yml", 'sed -i "/- name: urr')[0])
    }
    assert all("urr/notification-service" in f.message for f in edits)


def test_kind_maps_postgresql_to_every_interface(urr):
    got = sorted((f.path, f.line) for f in _of(urr, "URR-X-015"))
    assert got == [
        ("kind-config-single.yaml", _lines("kind-config-single.yaml", "hostPort: 15432")[0] - 1),
        ("kind-config.yaml", _lines("kind-config.yaml", "hostPort: 15432")[0] - 1),
    ]


def test_the_mended_repository_is_silent(fixed):
    assert fixed.findings == [] and fixed.undecided == []
