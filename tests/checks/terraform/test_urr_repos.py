"""The Terraform weaknesses of seed section 10.2 on the URR miniature, and their absence on
the mended twin (the false-positive guard)."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES
from urr_audit.scan import scan

# seed 10.2 weakness -> (rule, file, line of the evidence)
SEED_10_2 = {
    "staging has no remote backend": ("URR-TF-001", "terraform/environments/staging/main.tf", 3),
    "no variable files (prod)": ("URR-TF-003", "terraform/environments/prod/main.tf", 29),
    "no variable files (staging)": ("URR-TF-003", "terraform/environments/staging/main.tf", 22),
    "Lambda@Edge secret baked into config.json": ("URR-TF-005", "terraform/modules/cloudfront/main.tf", 13),
    "vpc-cni pinned": ("URR-TF-004", "terraform/modules/eks/main.tf", 269),
    "kube-proxy pinned": ("URR-TF-004", "terraform/modules/eks/main.tf", 279),
    "coredns pinned": ("URR-TF-004", "terraform/modules/eks/main.tf", 288),
    "ebs-csi pinned": ("URR-TF-004", "terraform/modules/eks/main.tf", 299),
    "db and cache share an isolated route table": ("URR-TF-023", "terraform/modules/vpc/main.tf", 221),
}
RULES_10_2 = sorted({rule for rule, _, _ in SEED_10_2.values()})


@pytest.fixture(scope="module")
def urr():
    return scan(FIXTURES / "repos" / "urr", select=["URR-TF"])


@pytest.fixture(scope="module")
def urr_fixed():
    return scan(FIXTURES / "repos" / "urr-fixed", select=["URR-TF"])


@pytest.mark.parametrize("weakness", sorted(SEED_10_2))
def test_seed_weakness_reported_with_evidence(urr, weakness):
    rule, path, line = SEED_10_2[weakness]
    got = {(f.path, f.line) for f in urr.result.findings if f.rule_id == rule}
    assert (path, line) in got, sorted(got)


def test_10_2_rules_fire_only_where_the_seed_says(urr):
    expected_files = {(rule, path) for rule, path, _ in SEED_10_2.values()}
    got = {(f.rule_id, f.path) for f in urr.result.findings if f.rule_id in RULES_10_2}
    assert got == expected_files


def test_staging_backend_finding_concerns_staging_only(urr):
    [f] = [f for f in urr.result.findings if f.rule_id == "URR-TF-001"]
    assert f.environments == ["staging"]


def test_pinned_addons_hold_in_both_environments(urr):
    pins = [f for f in urr.result.findings if f.rule_id == "URR-TF-004"]
    assert len(pins) == 4
    assert all(f.environments == ["prod", "staging"] for f in pins)
    assert all("variables.tf" in f.message for f in pins)  # where the pinned value is written


def test_shared_route_table_names_both_tiers(urr):
    [f] = [f for f in urr.result.findings if f.rule_id == "URR-TF-023"]
    assert "aws_subnet.db" in f.message and "aws_subnet.cache" in f.message


def test_isolation_itself_is_stated_as_information_on_the_mended_repo(urr_fixed):
    isolated = sorted(
        f.message.split(" has no route")[0] for f in urr_fixed.result.findings if f.rule_id == "URR-TF-008"
    )
    assert isolated == ["module.vpc.aws_route_table.cache", "module.vpc.aws_route_table.db"]
    assert all(f.severity.value == "info" for f in urr_fixed.result.findings if f.rule_id == "URR-TF-008")


def test_mended_repo_has_none_of_the_10_2_findings(urr_fixed):
    assert [f for f in urr_fixed.result.findings if f.rule_id in RULES_10_2] == []
    assert [f for f in urr_fixed.result.undecided if f.rule_id in RULES_10_2] == []


# Issue 10 §2 classes the seed's repository shows, each with its evidence, and mended twins.
DEPTH = {
    "nodes group attached to nothing (managed node group without launch template)": (
        "URR-TF-030",
        "terraform/modules/eks/main.tf",
        24,
    ),
    "ticket worker given the MSK IAM brokers, neither side admits 9098": (
        "URR-TF-033",
        "terraform/modules/lambda-worker/main.tf",
        74,
    ),
    "VPN ingress on the proxy under an input no environment sets": ("URR-TF-032", "terraform/modules/rds/main.tf", 75),
    ".gitignore ignores .terraform/ but not state": ("URR-TF-036", ".gitignore", 1),
    "RDS log exports to groups RDS creates (seed 9.2: retention '-')": (
        "URR-TF-039",
        "terraform/modules/rds/main.tf",
        117,
    ),
    "Lambda@Edge without a log group of its own": ("URR-TF-039", "terraform/modules/cloudfront/main.tf", 62),
    "API Gateway execution logs": ("URR-TF-039", "terraform/modules/api-gateway-vwr/main.tf", 73),
    "EKS control plane logs kept 7 days in prod": ("URR-TF-038", "terraform/modules/eks/main.tf", 108),
    "VWR proxy method without authorization": ("URR-TF-041", "terraform/modules/api-gateway-vwr/main.tf", 37),
    "VWR stage without X-Ray": ("URR-TF-043", "terraform/modules/api-gateway-vwr/main.tf", 73),
    "RDS without IAM authentication": ("URR-TF-052", "terraform/modules/rds/main.tf", 117),
}
DEPTH_RULES = sorted({f"URR-TF-{n:03d}" for n in range(30, 80)})


@pytest.mark.parametrize("case", sorted(DEPTH))
def test_depth_class_reported_with_evidence(urr, case):
    rule, path, line = DEPTH[case]
    assert (path, line) in {(f.path, f.line) for f in urr.result.findings if f.rule_id == rule}


def test_depth_rules_fire_only_where_expected(urr):
    expected = {(rule, path) for rule, path, _ in DEPTH.values()} | {
        ("URR-TF-038", "terraform/modules/elasticache/main.tf")
    }
    got = {(f.rule_id, f.path) for f in urr.result.findings if f.rule_id in DEPTH_RULES}
    assert got == expected


def test_worker_message_names_the_missing_rules(urr):
    [f] = [f for f in urr.result.findings if f.rule_id == "URR-TF-033"]
    assert "bootstrap_brokers_sasl_iam (tcp 9098)" in f.message
    assert "no egress rule of its groups (module.lambda_worker.aws_security_group.worker)" in f.message
    assert "no ingress rule of the store's groups (module.msk.aws_security_group.msk)" in f.message


def test_mended_repo_is_silent_on_depth_rules(urr_fixed):
    loud = [f for f in urr_fixed.result.findings if f.rule_id in DEPTH_RULES and not f.suppressed]
    assert loud == [], [f.message for f in loud]
    assert [f for f in urr_fixed.result.undecided if f.rule_id in DEPTH_RULES] == []
    # the public waiting room is kept, with its reason
    [kept] = [f for f in urr_fixed.result.findings if f.suppressed]
    assert kept.rule_id == "URR-TF-041"
