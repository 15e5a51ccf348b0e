"""Subtle logic of the Terraform checks: unknowns, per-environment resolution, conditionals."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from urr_audit.scan import scan


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return root


def run(root: Path, rule: str):
    r = scan(root, select=[rule]).result
    return (
        [(f.path, f.line, f.environment) for f in r.findings if f.rule_id == rule],
        [(f.path, f.line) for f in r.undecided if f.rule_id == rule],
        r,
    )


def test_addon_version_without_value_is_undecided_and_data_source_is_floating(tmp_path):
    write(
        tmp_path,
        {
            "main.tf": """
        variable "v" {
          type = string
        }
        data "aws_eks_addon_version" "c" {
          addon_name         = "coredns"
          kubernetes_version = "1.29"
          most_recent        = true
        }
        resource "aws_eks_addon" "a" {
          cluster_name  = "c"
          addon_name    = "vpc-cni"
          addon_version = var.v
        }
        resource "aws_eks_addon" "b" {
          cluster_name  = "c"
          addon_name    = "coredns"
          addon_version = data.aws_eks_addon_version.c.version
        }
    """
        },
    )
    found, undecided, _ = run(tmp_path, "URR-TF-004")
    assert found == []
    assert undecided == [("main.tf", 13)]


def test_pinned_version_from_tfvars_names_its_source(tmp_path):
    write(
        tmp_path,
        {
            "main.tf": """
            variable "v" {
              type = string
            }
            resource "aws_eks_addon" "a" {
              cluster_name  = "c"
              addon_name    = "vpc-cni"
              addon_version = var.v
            }
        """,
            "terraform.tfvars": 'v = "v1.2.3"\n',
        },
    )
    _, _, r = run(tmp_path, "URR-TF-004")
    [f] = r.findings
    assert '"v1.2.3"' in f.message and "terraform.tfvars:1" in f.message


@pytest.mark.parametrize(
    "condition",
    [
        'contains(["prod"], var.env)',
        'var.env == "prod"',
    ],
)
def test_deletion_protection_conditional_per_environment(tmp_path, condition):
    module = """
        variable "env" {
          type = string
        }
        resource "aws_db_instance" "db" {
          identifier          = "db"
          instance_class      = "db.t4g.micro"
          deletion_protection = CONDITION ? true : false
        }
    """.replace("CONDITION", condition)
    write(
        tmp_path,
        {
            "modules/db/main.tf": module,
            "envs/prod/main.tf": 'module "db" {\n  source = "../../modules/db"\n  env = "prod"\n}\n',
            "envs/production-eu/main.tf": 'module "db" {\n  source = "../../modules/db"\n  env = "production-eu"\n}\n',
        },
    )
    found, undecided, _ = run(tmp_path, "URR-TF-009")
    # the conditional is true in prod; production-eu matches the prod-like pattern and gets false
    assert found == [("modules/db/main.tf", 8, "production-eu")]
    assert undecided == []


@pytest.mark.parametrize(
    ("cidr", "undecided_lines"),
    [
        ("data.aws_ssm_parameter.office.value", [("main.tf", 8)]),  # could be anything
        ("aws_vpc.v.cidr_block", []),  # a VPC's own range is never the internet
        ("cidrsubnet(aws_vpc.v.cidr_block, 8, 1)", []),
        ('aws_vpc.v.cidr_block == "" ? "0.0.0.0/0" : aws_vpc.v.cidr_block', [("main.tf", 8)]),
    ],
)
def test_world_ingress_with_unknown_cidrs_is_undecided_unless_a_private_range(tmp_path, cidr, undecided_lines):
    write(
        tmp_path,
        {
            "main.tf": f"""
        resource "aws_vpc" "v" {{
          cidr_block = "10.0.0.0/16"
        }}
        data "aws_ssm_parameter" "office" {{
          name = "/net/office-cidr"
        }}
        resource "aws_security_group_rule" "r" {{
          type              = "ingress"
          security_group_id = "sg-1"
          protocol          = "tcp"
          from_port         = 22
          to_port           = 22
          cidr_blocks       = [{cidr}]
        }}
    """
        },
    )
    found, undecided, _ = run(tmp_path, "URR-TF-006")
    assert found == [] and undecided == undecided_lines


def test_module_with_count_zero_is_not_checked(tmp_path):
    write(
        tmp_path,
        {
            "modules/logs/main.tf": 'resource "aws_cloudwatch_log_group" "g" {\n  name = "g"\n}\n',
            "main.tf": 'module "logs" {\n  source = "./modules/logs"\n  count  = 0\n}\n',
        },
    )
    found, _, _ = run(tmp_path, "URR-TF-013")
    assert found == []


def test_heredoc_policy_anchors_at_the_statement(tmp_path):
    write(
        tmp_path,
        {
            "main.tf": """
        resource "aws_iam_policy" "admin" {
          name   = "admin"
          policy = <<-JSON
            {
              "Version": "2012-10-17",
              "Statement": [
                { "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*" },
                { "Effect": "Allow", "Action": "s3:*", "Resource": "*" }
              ]
            }
          JSON
        }
    """
        },
    )
    found, _, _ = run(tmp_path, "URR-TF-016")
    assert [(p, line) for p, line, _ in found] == [("main.tf", 9)]


def test_route_to_unresolvable_table_makes_isolation_undecided(tmp_path):
    write(
        tmp_path,
        {
            "main.tf": """
        variable "table_id" {
          type = string
        }
        resource "aws_subnet" "db" {
          vpc_id     = "vpc-1"
          cidr_block = "10.0.1.0/24"
        }
        resource "aws_subnet" "cache" {
          vpc_id     = "vpc-1"
          cidr_block = "10.0.2.0/24"
        }
        resource "aws_route_table" "data" {
          vpc_id = "vpc-1"
        }
        resource "aws_route_table_association" "db" {
          subnet_id      = aws_subnet.db.id
          route_table_id = aws_route_table.data.id
        }
        resource "aws_route_table_association" "cache" {
          subnet_id      = aws_subnet.cache.id
          route_table_id = aws_route_table.data.id
        }
        resource "aws_route" "maybe" {
          route_table_id         = var.table_id
          destination_cidr_block = "0.0.0.0/0"
          nat_gateway_id         = "nat-1"
        }
    """
        },
    )
    found, undecided, _ = run(tmp_path, "URR-TF-023")
    assert found == [] and undecided == [("main.tf", 13)]


def test_required_input_mentions_example_file(tmp_path):
    write(
        tmp_path,
        {
            "main.tf": 'variable "domain" {\n  type = string\n}\n',
            "terraform.tfvars.example": 'domain = "example.com"\n',
        },
    )
    _, _, r = run(tmp_path, "URR-TF-003")
    [f] = r.findings
    assert "terraform.tfvars.example:1" in f.message


def test_secret_arn_is_not_a_secret(tmp_path):
    write(
        tmp_path,
        {
            "main.tf": """
        resource "random_password" "p" {
          length = 32
        }
        resource "aws_secretsmanager_secret" "s" {
          name = "s"
        }
        locals {
          secret_arn = aws_secretsmanager_secret.s.arn
        }
        resource "local_file" "cfg" {
          filename = "cfg.json"
          content  = jsonencode({ arn = local.secret_arn })
        }
        resource "local_file" "leak" {
          filename = "leak.txt"
          content  = random_password.p.result
        }
    """
        },
    )
    found, _, _ = run(tmp_path, "URR-TF-005")
    assert [(p, line) for p, line, _ in found] == [("main.tf", 17)]


@pytest.mark.parametrize(
    ("count", "tfvars", "expected"),
    [
        ("0", "", []),
        ("var.enabled ? 1 : 0", "enabled = false\n", []),
        ("var.enabled ? 1 : 0", "enabled = true\n", [("main.tf", 9, "urr")]),  # at vpc_config
    ],
)
def test_resource_with_count_zero_does_not_exist(tmp_path, count, tfvars, expected):
    root = tmp_path / "urr"
    write(
        root,
        {
            "main.tf": f"""
            variable "enabled" {{
              type = bool
            }}
            resource "aws_eks_cluster" "c" {{
              count    = {count}
              name     = "c"
              role_arn = "arn:aws:iam::1:role/eks"
              vpc_config {{
                subnet_ids = ["subnet-1"]
              }}
            }}
        """,
            "terraform.tfvars": tfvars,
        },
    )
    found, undecided, _ = run(root, "URR-TF-017")
    assert found == expected
    assert undecided == []


def test_policy_passed_as_a_module_argument_is_read_before_encoding(tmp_path):
    write(
        tmp_path,
        {
            "env/main.tf": """
            module "iam" {
              source = "../iam"
              policy = jsonencode({
                Statement = [
                  { Effect = "Allow", Action = "sqs:SendMessage", Resource = aws_sqs_queue.q.arn },
                  { Effect = "Allow", Action = "sqs:PurgeQueue", Resource = "*" },
                ]
              })
            }
        """,
            "iam/main.tf": 'variable "policy" {}\nresource "aws_iam_policy" "p" {\n  policy = var.policy\n}\n',
        },
    )
    found, undecided, _ = run(tmp_path, "URR-TF-016")
    assert [(p, line) for p, line, _ in found] == [("env/main.tf", 7)]
    assert undecided == []


def test_heredoc_policy_with_interpolated_arn_is_read(tmp_path):
    write(
        tmp_path,
        {
            "main.tf": """
        resource "aws_iam_policy" "p" {
          policy = <<-JSON
            {
              "Statement": [
                {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "${aws_s3_bucket.b.arn}/*"},
                {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "*"}
              ]
            }
          JSON
        }
    """
        },
    )
    found, _, _ = run(tmp_path, "URR-TF-016")
    assert [(p, line) for p, line, _ in found] == [("main.tf", 7)]


def test_for_each_security_group_rule_over_known_ports_is_decided_per_instance(tmp_path):
    write(
        tmp_path,
        {
            "main.tf": """
        variable "ingress_ports" {
          type    = set(string)
          default = ["22", "443"]
        }
        resource "aws_vpc_security_group_ingress_rule" "web" {
          for_each          = var.ingress_ports
          security_group_id = "sg-1"
          cidr_ipv4         = "0.0.0.0/0"
          ip_protocol       = "tcp"
          from_port         = each.value
          to_port           = each.value
        }
    """
        },
    )
    found, undecided, r = run(tmp_path, "URR-TF-006")
    assert [x[:2] for x in found] == [("main.tf", 6)] and undecided == []  # 22 only, silence on 443
    [f] = r.findings
    assert f.address == 'aws_vpc_security_group_ingress_rule.web["22"]'
    assert f.message.startswith('aws_vpc_security_group_ingress_rule.web["22"]: ingress from the internet on tcp 22')


def test_for_each_instances_with_the_same_problem_give_one_finding(tmp_path):
    write(
        tmp_path,
        {
            "main.tf": """
        resource "aws_vpc_security_group_ingress_rule" "ssh" {
          for_each          = toset(["sg-1", "sg-2"])
          security_group_id = each.value
          cidr_ipv4         = "0.0.0.0/0"
          ip_protocol       = "tcp"
          from_port         = 22
          to_port           = 22
        }
    """
        },
    )
    found, _, r = run(tmp_path, "URR-TF-006")
    assert [x[:2] for x in found] == [("main.tf", 2)]
    assert r.findings[0].address == "aws_vpc_security_group_ingress_rule.ssh"  # the ports do not read each


def test_dynamic_ingress_over_an_unknown_collection_is_undecided(tmp_path):
    write(
        tmp_path,
        {
            "main.tf": """
        resource "aws_security_group" "sg" {
          name = "sg"
          dynamic "ingress" {
            for_each = aws_vpc.v.ports
            content {
              from_port   = ingress.value
              to_port     = ingress.value
              protocol    = "tcp"
              cidr_blocks = ["0.0.0.0/0"]
            }
          }
        }
    """
        },
    )
    found, undecided, _ = run(tmp_path, "URR-TF-006")
    assert found == [] and undecided == [("main.tf", 6)]  # before: dynamic ingress was not read at all


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("aws_security_group.a.id", []),  # the group itself
        ('"sg-1"', []),  # both known and equal
        ("aws_security_group.b.id", [("main.tf", 8)]),
    ],
)
def test_all_ports_between_members_of_one_group_is_left_out(tmp_path, source, expected):
    sg_id = '"sg-1"' if source.startswith('"') else "aws_security_group.a.id"
    write(
        tmp_path,
        {
            "main.tf": f"""
        resource "aws_security_group" "a" {{
          name = "a"
        }}
        resource "aws_security_group" "b" {{
          name = "b"
        }}
        resource "aws_security_group_rule" "r" {{
          type                     = "ingress"
          security_group_id        = {sg_id}
          source_security_group_id = {source}
          protocol                 = "-1"
          from_port                = 0
          to_port                  = 0
        }}
    """
        },
    )
    found, undecided, _ = run(tmp_path, "URR-TF-007")
    assert [x[:2] for x in found] == expected and undecided == []


def test_secret_read_through_an_instance_key_is_found_and_its_arn_is_not(tmp_path):
    write(
        tmp_path,
        {
            "main.tf": """
        resource "aws_secretsmanager_secret_version" "v" {
          count         = 1
          secret_id     = "s"
          secret_string = "x"
        }
        resource "local_file" "arn" {
          filename = "arn.txt"
          content  = aws_secretsmanager_secret_version.v[0].arn
        }
        resource "local_file" "leak" {
          filename = "leak.txt"
          content  = aws_secretsmanager_secret_version.v[0].secret_string
        }
    """
        },
    )
    found, _, _ = run(tmp_path, "URR-TF-005")
    assert [(p, line) for p, line, _ in found] == [("main.tf", 13)]


BUCKET_MODULE = {
    "modules/bucket/main.tf": """
        variable "name" {}
        variable "block_public" { default = true }
        resource "aws_s3_bucket" "this" {
          bucket = var.name
        }
        resource "aws_s3_bucket_public_access_block" "this" {
          count                   = var.block_public ? 1 : 0
          bucket                  = aws_s3_bucket.this.id
          block_public_acls       = true
          block_public_policy     = true
          ignore_public_acls      = true
          restrict_public_buckets = true
        }
    """,
}


@pytest.mark.parametrize("logs_blocked, expected", [("false", 1), ("true", 0)])
def test_for_each_module_instance_without_public_access_block_is_named(tmp_path, logs_blocked, expected):
    write(
        tmp_path,
        {
            **BUCKET_MODULE,
            "env/main.tf": """
            variable "buckets" {}
            module "bucket" {
              source       = "../modules/bucket"
              for_each     = var.buckets
              name         = "urr-${each.key}"
              block_public = each.value.block_public
            }
        """,
            "env/terraform.tfvars": f"buckets = {{ data = {{ block_public = true }}, logs = {{ block_public = {logs_blocked} }} }}\n",
        },
    )
    found, undecided, r = run(tmp_path, "URR-TF-011")
    assert undecided == []
    assert found == [("modules/bucket/main.tf", 4, "env")] * expected
    if expected:
        (f,) = [f for f in r.findings if f.rule_id == "URR-TF-011"]
        assert f.address.endswith('module.bucket["logs"].aws_s3_bucket.this')
        assert 'module.bucket["logs"].aws_s3_bucket.this has no' in f.message


@pytest.mark.parametrize("covered, expected", [('["a"]', ['aws_s3_bucket.b["b"]']), ('["a", "b"]', [])])
def test_public_access_block_indexing_a_for_each_bucket_covers_its_key_only(tmp_path, covered, expected):
    write(
        tmp_path,
        {
            "main.tf": f"""
        resource "aws_s3_bucket" "b" {{
          for_each = toset(["a", "b"])
          bucket   = "urr-${{each.key}}"
        }}
        resource "aws_s3_bucket_public_access_block" "b" {{
          for_each                = toset({covered})
          bucket                  = aws_s3_bucket.b[each.key].id
          block_public_acls       = true
          block_public_policy     = true
          ignore_public_acls      = true
          restrict_public_buckets = true
        }}
    """
        },
    )
    _, undecided, r = run(tmp_path, "URR-TF-011")
    assert undecided == []
    assert [f.message.split(" ", 1)[0] for f in r.findings if f.rule_id == "URR-TF-011"] == expected


def test_public_access_block_with_an_unresolved_key_covers_every_instance(tmp_path):
    write(
        tmp_path,
        {
            "main.tf": """
        variable "which" { type = string }
        resource "aws_s3_bucket" "b" {
          for_each = toset(["a", "b"])
          bucket   = "urr-${each.key}"
        }
        resource "aws_s3_bucket_public_access_block" "b" {
          bucket                  = aws_s3_bucket.b[var.which].id
          block_public_acls       = true
          block_public_policy     = true
          ignore_public_acls      = true
          restrict_public_buckets = true
        }
    """
        },
    )
    found, undecided, _ = run(tmp_path, "URR-TF-011")
    assert found == [] and undecided == []


def test_route_table_instances_are_matched_by_key(tmp_path):
    # the NAT route is on the "app" instance only: the "data" instance, shared by two tiers, is isolated
    write(
        tmp_path,
        {
            "main.tf": """
        resource "aws_subnet" "app" {
          vpc_id     = "vpc-1"
          cidr_block = "10.0.1.0/24"
        }
        resource "aws_subnet" "db" {
          vpc_id     = "vpc-1"
          cidr_block = "10.0.2.0/24"
        }
        resource "aws_subnet" "cache" {
          vpc_id     = "vpc-1"
          cidr_block = "10.0.3.0/24"
        }
        resource "aws_route_table" "t" {
          for_each = toset(["app", "data"])
          vpc_id   = "vpc-1"
        }
        resource "aws_route" "nat" {
          route_table_id         = aws_route_table.t["app"].id
          destination_cidr_block = "0.0.0.0/0"
          nat_gateway_id         = "nat-1"
        }
        resource "aws_route_table_association" "app" {
          subnet_id      = aws_subnet.app.id
          route_table_id = aws_route_table.t["app"].id
        }
        resource "aws_route_table_association" "tier" {
          for_each       = { db = aws_subnet.db.id, cache = aws_subnet.cache.id }
          subnet_id      = each.value
          route_table_id = aws_route_table.t["data"].id
        }
    """
        },
    )
    _, undecided, r = run(tmp_path, "URR-TF-023")
    assert undecided == []
    (f,) = [f for f in r.findings if f.rule_id == "URR-TF-023"]
    assert f.address == 'aws_route_table.t["data"]'
    assert "aws_subnet.cache, aws_subnet.db" in f.message and "aws_subnet.app" not in f.message


@pytest.mark.parametrize(
    ("peer", "expected"),
    [
        ("self = true", []),  # members of the group talking to each other
        ('cidr_blocks = ["10.0.0.0/8"]', [("main.tf", 4)]),
        ('self = true\n            cidr_blocks = ["10.0.0.0/8"]', [("main.tf", 4)]),
    ],
)
def test_all_ports_inline_self_ingress_is_left_out(tmp_path, peer, expected):
    write(
        tmp_path,
        {
            "main.tf": f"""
        resource "aws_security_group" "a" {{
          name = "a"
          ingress {{
            from_port = 0
            to_port   = 0
            protocol  = "-1"
            {peer}
          }}
        }}
    """
        },
    )
    found, undecided, _ = run(tmp_path, "URR-TF-007")
    assert [x[:2] for x in found] == expected and undecided == []


def test_data_sources_are_not_targets_of_resource_rules(tmp_path):
    """A data source reads an object configured elsewhere: no flow log, deletion protection
    or retention is expected on it (found on real examples: `data "aws_vpc" "default"`)."""
    write(
        tmp_path,
        {
            "main.tf": """
        terraform {
          backend "s3" {}
        }
        data "aws_vpc" "default" {
          default = true
        }
        data "aws_db_instance" "legacy" {
          db_instance_identifier = "legacy"
        }
        data "aws_cloudwatch_log_group" "existing" {
          name = "/app/existing"
        }
        output "ids" {
          value = [data.aws_vpc.default.id, data.aws_db_instance.legacy.id, data.aws_cloudwatch_log_group.existing.arn]
        }
    """,
            "prod/main.tf": """
        terraform {
          backend "s3" {}
        }
        data "aws_db_instance" "legacy" {
          db_instance_identifier = "legacy"
        }
    """,
        },
    )
    for rule in ("URR-TF-015", "URR-TF-009", "URR-TF-013"):
        found, undecided, _ = run(tmp_path, rule)
        assert (found, undecided) == ([], []), rule


def test_ingress_on_allowed_port_from_unresolved_source_is_not_undecided(tmp_path):
    """Port 443 may be open to the world: whatever the source turns out to be, there is
    nothing to report, so an unknown CIDR must not make the rule undecided."""
    write(
        tmp_path,
        {
            "main.tf": """
        data "aws_vpc" "this" {
          default = true
        }
        data "aws_ssm_parameter" "peer" {
          name = "/net/peer-cidr"
        }
        resource "aws_security_group" "web" {
          vpc_id = data.aws_vpc.this.id
        }
        resource "aws_vpc_security_group_ingress_rule" "https" {
          security_group_id = aws_security_group.web.id
          ip_protocol       = "tcp"
          from_port         = 443
          to_port           = 443
          cidr_ipv4         = data.aws_ssm_parameter.peer.value
        }
        resource "aws_vpc_security_group_ingress_rule" "ssh" {
          security_group_id = aws_security_group.web.id
          ip_protocol       = "tcp"
          from_port         = 22
          to_port           = 22
          cidr_ipv4         = data.aws_ssm_parameter.peer.value
        }
    """
        },
    )
    found, undecided, _ = run(tmp_path, "URR-TF-006")
    assert found == []
    assert undecided == [("main.tf", 18)]


def test_statements_of_a_policy_list_of_unknown_length_are_checked(tmp_path):
    # the conditional statement is unknown (so is how many statements there are); the known
    # ones are certainly in the policy, before and after it
    write(
        tmp_path,
        {
            "main.tf": """
        resource "aws_cloudwatch_log_group" "l" {
          name = "l"
        }
        resource "aws_iam_role_policy" "p" {
          role = "r"
          policy = jsonencode({
            Statement = concat(
              [
                { Effect = "Allow", Action = "s3:GetObject", Resource = "*" },
                { Effect = "Allow", Action = ["kms:*"], Resource = "*" },
              ],
              aws_cloudwatch_log_group.l.arn == null ? [] : [
                { Effect = "Allow", Action = "logs:*", Resource = "*" },
              ],
              [{ Effect = "Allow", Action = "sqs:PurgeQueue", Resource = "*" }],
            )
          })
        }
        data "aws_iam_policy_document" "d" {
          statement {
            actions   = concat(["s3:DeleteObject"], aws_cloudwatch_log_group.l.arn == null ? [] : ["s3:GetObject"])
            resources = ["*"]
          }
          statement {
            actions   = concat(["s3:GetObject"], aws_cloudwatch_log_group.l.arn == null ? [] : ["s3:PutObject"])
            resources = ["*"]
          }
        }
    """
        },
    )
    found, undecided, r = run(tmp_path, "URR-TF-016")
    assert sorted((p, line) for p, line, _ in found) == [("main.tf", 11), ("main.tf", 16), ("main.tf", 21)]
    # a known write action decides; only unknown ones beside reads stay undecided
    assert undecided == [("main.tf", 25)]
    [doc] = [f for f in r.findings if f.line == 21]
    assert "s3:DeleteObject (and actions that cannot be resolved)" in doc.message


@pytest.mark.parametrize(
    ("cidrs", "found", "undecided"),
    [
        ("[]", [("main.tf", 14)], []),  # AWS reads an empty list as 0.0.0.0/0
        ("var.none", [("main.tf", 14)], []),  # default [] from the variable
        ("null", [("main.tf", 14)], []),
        ('["203.0.113.0/24"]', [], []),
        ('concat(["0.0.0.0/0"], data.aws_ip_ranges.x.cidr_blocks)', [("main.tf", 14)], []),
        ('concat(["203.0.113.0/24"], data.aws_ip_ranges.x.cidr_blocks)', [], [("main.tf", 14)]),
    ],
)
def test_eks_public_access_cidrs_as_aws_applies_them(tmp_path, cidrs, found, undecided):
    write(
        tmp_path,
        {
            "main.tf": f"""
        variable "none" {{
          type    = list(string)
          default = []
        }}
        data "aws_ip_ranges" "x" {{
          services = ["ec2"]
        }}
        resource "aws_eks_cluster" "c" {{
          name     = "c"
          role_arn = "arn:aws:iam::1:role/eks"
          vpc_config {{
            subnet_ids          = ["subnet-1"]
            public_access_cidrs = {cidrs}
          }}
        }}
    """
        },
    )
    got, got_undecided, _ = run(tmp_path, "URR-TF-017")
    assert [x[:2] for x in got] == found
    assert got_undecided == undecided
