"""The facts the cross-artifact rules stand on: environment pairing, node architectures,
subnet candidates, and the undecided cases (values known only at apply, tables without an entry)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from tests.conftest import FIXTURES
from urr_audit.facts.pairing import pair_environments
from urr_audit.scan import scan

RULES = FIXTURES / "rules"


def _copy(tmp_path: Path, rule: str, kind: str = "bad") -> Path:
    root = tmp_path / "repo"
    shutil.copytree(RULES / rule / kind, root)
    return root


def _write(root: Path, rel: str, text: str) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    p = root / rel
    body = p.read_text()
    assert old in body, (rel, old)
    p.write_text(body.replace(old, new))


def test_pairing_by_name_alias_and_param(tmp_path):
    root = _copy(tmp_path, "URR-X-001")
    project = scan(root, select=["URR-X-001"]).project
    assert {(p.kubernetes.name, p.terraform.name, p.how) for p in pair_environments(project)} == {
        ("prod", "prod", "name"),
        ("staging", "staging", "name"),
    }
    # a stage alias pairs; two Terraform environments of the same stage leave it unpaired
    shutil.move(root / "deploy/prod", root / "deploy/production")
    project = scan(root, select=["URR-X-001"]).project
    assert ("production", "prod") in {(p.kubernetes.name, p.terraform.name) for p in pair_environments(project)}
    shutil.copytree(root / "infra/prod", root / "infra/eu/prod")
    project = scan(root, select=["URR-X-001"]).project
    assert "production" not in {p.kubernetes.name for p in pair_environments(project)}
    # ... unless a param says which
    pairs = pair_environments(project, {"production": "infra-prod"})
    assert ("production", "infra-prod", "param") in {(p.kubernetes.name, p.terraform.name, p.how) for p in pairs}


def test_an_instance_family_not_in_the_table_is_undecided(tmp_path):
    root = _copy(tmp_path, "URR-X-001")
    _edit(root, "infra/prod/main.tf", '"m6i.large", "m6a.large"', '"z9q.large"')
    result = scan(root, select=["URR-X-001"]).result
    (u,) = [f for f in result.undecided if f.environment == "prod"]
    assert "z9q.large" in u.message and "not in the architecture table" in u.message
    assert [f.environment for f in result.findings] == ["staging"]


def test_pods_pinned_to_matching_nodes_are_fine(tmp_path):
    root = _copy(tmp_path, "URR-X-001")
    # staging: arm64 image, an arm64 group and an x86 group; pinned to arm64 nothing is left to say
    _write(
        root,
        "deploy/staging/kustomization.yaml",
        """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        namespace: shop
        resources:
          - ../base
        patches:
          - target:
              kind: Deployment
              name: api
            patch: |-
              - op: add
                path: /spec/template/spec/nodeSelector
                value: {kubernetes.io/arch: arm64}
        images:
          - name: shop/api
            newName: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api
            newTag: 4f2a9c1
        """,
    )
    result = scan(root, select=["URR-X-001"]).result
    assert [f.environment for f in result.findings] == ["prod"]


def test_karpenter_node_pools_count(tmp_path):
    root = _copy(tmp_path, "URR-X-001")
    _write(
        root,
        "deploy/prod/nodepool.yaml",
        """
        apiVersion: karpenter.sh/v1
        kind: NodePool
        metadata:
          name: graviton
        spec:
          template:
            spec:
              requirements:
                - key: karpenter.k8s.aws/instance-family
                  operator: In
                  values: [m7g, c7g]
        """,
    )
    _edit(root, "deploy/prod/kustomization.yaml", "  - ../base\n", "  - ../base\n  - nodepool.yaml\n")
    result = scan(root, select=["URR-X-001"]).result
    prod = [f for f in result.findings if f.environment == "prod"]
    # the managed x86 group remains, and nothing keeps the pods off it: a partial mismatch now
    assert [f.severity.value for f in prod] == ["medium"]


def test_subnets_with_a_count_known_only_at_apply(tmp_path):
    root = _copy(tmp_path, "URR-X-005")
    main = root / "infra/prod/main.tf"
    body = main.read_text()
    # the app subnets as one resource per zone, their number from the region's zones
    start, end = body.index('resource "aws_subnet" "app_a"'), body.index('resource "aws_subnet" "db_a"')
    body = (
        body[:start]
        + textwrap.dedent(
            """
            data "aws_availability_zones" "available" {}

            resource "aws_subnet" "app" {
              count             = length(data.aws_availability_zones.available.names)
              vpc_id            = aws_vpc.main.id
              cidr_block        = ["10.20.0.0/24", "10.20.1.0/24", "10.20.2.0/24"][count.index]
              availability_zone = data.aws_availability_zones.available.names[count.index]
            }

            """
        ).lstrip()
        + body[end:]
    )
    body = body.replace("[aws_subnet.app_a.id, aws_subnet.app_b.id]", "aws_subnet.app[*].id")
    main.write_text(body)
    # no candidate covered: whatever the count, every connection is dropped
    result = scan(root, select=["URR-X-005"]).result
    assert len(result.findings) == 1 and "10.20.0.0/24, 10.20.1.0/24, 10.20.2.0/24" in result.findings[0].message
    # two of three covered: whether the third exists depends on the count
    _edit(root, "deploy/prod/egress.yaml", "10.20.10.0/23 # expect: URR-X-005", "10.20.0.0/23")
    result = scan(root, select=["URR-X-005"]).result
    assert result.findings == [] and len(result.undecided) == 1
    assert "10.20.2.0/24" in result.undecided[0].message and "count" in result.undecided[0].message


REMOTE = """

module "transit" {
  source  = "terraform-aws-modules/transit-gateway/aws"
  version = "2.12.2"
  name    = "shop"
}
"""


def test_a_terraform_module_not_read_leaves_absence_undecided(tmp_path):
    # the range may be a network the remote module creates; a registrar may sit in it
    for rule in ("URR-X-006", "URR-X-010"):
        root = _copy(tmp_path / rule, rule)
        main = root / "infra/prod/main.tf"
        main.write_text(main.read_text() + REMOTE)
        result = scan(root, select=[rule]).result
        assert result.findings == [], rule
        assert [f.rule_id for f in result.undecided] == [rule]
        assert "terraform-aws-modules/transit-gateway/aws" in result.undecided[0].message


def test_placeholder_patterns_leave_words_alone(tmp_path):
    root = _copy(tmp_path, "URR-X-008", "good")
    _write(
        root,
        "deploy/prod/config.yaml",
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: api-config
        data:
          TOPIC: "exchangemessages"
          TODO_SERVICE_URL: "http://todo-service:8080"
          LOG_LEVEL: info
        """,
    )
    assert scan(root, select=["URR-X-008"]).result.findings == []
