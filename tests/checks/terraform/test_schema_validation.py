"""Offline validation against the provider schema tables: which table a module is checked
against (lock file, constraints, several roots), what is undecided, what is skipped."""

from __future__ import annotations

import textwrap
from pathlib import Path

from urr_audit.checks.terraform._providers import schema_coverage
from urr_audit.loaders.terraform import load_terraform
from urr_audit.scan import scan
from urr_audit.workspace import Workspace

SCHEMA_RULES = ["URR-TF-025", "URR-TF-026", "URR-TF-091"]

DB = """
resource "aws_db_instance" "main" {
  identifier     = "app"
  name           = "app"
  engine         = "postgres"
  instance_class = "db.t4g.micro"
}
"""


def tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return root


def env(constraint: str, source: str = "../../modules/db") -> str:
    return f"""
    terraform {{
      required_providers {{
        aws = {{ source = "hashicorp/aws", version = "{constraint}" }}
      }}
    }}
    module "db" {{
      source = "{source}"
    }}
    """


LOCK_4 = """
provider "registry.terraform.io/hashicorp/aws" {
  version     = "4.67.0"
  constraints = ">= 4.0"
}
"""


def run(root: Path, rules: list[str] = SCHEMA_RULES):
    return scan(root, select=rules).result


def test_each_root_checks_a_shared_module_with_its_own_version(tmp_path: Path):
    tree(
        tmp_path,
        {
            "modules/db/main.tf": DB,
            "environments/legacy/main.tf": env(">= 4.0"),
            "environments/legacy/.terraform.lock.hcl": LOCK_4,
            "environments/current/main.tf": env("~> 5.40"),
        },
    )
    result = run(tmp_path)
    [f] = result.findings
    assert f.environments == ["current"] and (f.path, f.line) == ("modules/db/main.tf", 4)
    assert "hashicorp/aws 5.100.0" in f.message and "it exists in hashicorp/aws 4.67.0" in f.message
    assert f.related and f.related[0].path == "environments/current/main.tf"  # the constraint that chose 5


def test_every_admitted_major_must_reject_it(tmp_path: Path):
    tree(tmp_path, {"modules/db/main.tf": DB, "environments/any/main.tf": env(">= 4.0")})
    assert run(tmp_path).findings == []  # 4 accepts `name`: installing 4 is possible


def test_a_constraint_without_a_table_is_undecided_naming_it(tmp_path: Path):
    tree(tmp_path, {"modules/db/main.tf": DB, "environments/old/main.tf": env("~> 3.70")})
    result = run(tmp_path)
    assert result.findings == []
    assert result.undecided and all("`~> 3.70`" in u.message for u in result.undecided)


def test_a_module_no_environment_instantiates_is_still_validated(tmp_path: Path):
    tree(
        tmp_path,
        {
            "modules/db/main.tf": DB,
            "environments/prod/main.tf": env("~> 5.40").replace(
                'source = "../../modules/db"', 'source = "../../modules/db"\n  count = 0'
            ),
        },
    )
    [f] = run(tmp_path).findings
    assert f.path == "modules/db/main.tf"


def test_json_blocks_are_read_by_the_schema(tmp_path: Path):
    tree(
        tmp_path,
        {
            "main.tf.json": """
            {
              "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "~> 5.0"}}},
              "resource": {"aws_instance": {"web": {
                "ami": "ami-1",
                "root_block_device": {"volume_sise": 20},
                "ebs_block_device": [{"device_name": "/dev/sdf"}, {"device_name": "/dev/sdg"}]
              }}}
            }
            """
        },
    )
    [f] = run(tmp_path).findings
    assert "`volume_sise` is not an argument of block `root_block_device`" in f.message
    assert "did you mean `volume_size`" in f.message


def test_dynamic_content_names_are_checked_but_not_completeness(tmp_path: Path):
    tree(
        tmp_path,
        {
            "main.tf": """
            terraform {
              required_providers {
                aws = { source = "hashicorp/aws", version = "~> 5.0" }
              }
            }
            resource "aws_autoscaling_group" "workers" {
              max_size = 2
              min_size = 1
              dynamic "tag" {
                for_each = { Team = "platform" }
                content {
                  key   = tag.key
                  valeu = tag.value
                }
              }
            }
            """
        },
    )
    result = run(tmp_path)
    assert [f.message.split(": ", 1)[1].split(" (")[0] for f in result.findings] == [
        "`valeu` is not an argument of block `tag` of aws_autoscaling_group; did you mean `value`?"
    ]


def test_untabled_providers_are_skipped_and_counted(tmp_path: Path):
    tree(
        tmp_path,
        {
            "main.tf": """
            resource "google_storage_bucket" "b" {
              not_an_argument = true
            }
            resource "aws_s3_bucket" "logs" {
              bucket = "logs"
            }
            data "aws_caller_identity" "me" {}
            """
        },
    )
    assert run(tmp_path).findings == []
    project, _ = load_terraform(Workspace(tmp_path))
    cov = schema_coverage(project)
    assert cov["skipped"] == {"hashicorp/google": {"google_storage_bucket"}}
    assert cov["checked"] == {"hashicorp/aws": {"aws_s3_bucket", "data.aws_caller_identity"}}


def test_another_registrys_provider_of_the_same_name_is_not_judged(tmp_path: Path):
    tree(
        tmp_path,
        {
            "main.tf": """
            terraform {
              required_providers {
                aws = { source = "example.com/acme/aws" }
              }
            }
            resource "aws_instance" "x" {
              not_an_argument = true
            }
            """
        },
    )
    assert run(tmp_path).findings == [] and run(tmp_path).undecided == []


def test_json_provider_references_are_read_as_references(tmp_path: Path):
    tree(
        tmp_path,
        {
            "mod/main.tf.json": """
            {
              "terraform": {"required_providers": {"aws": {
                "source": "hashicorp/aws", "version": "~> 5.0", "configuration_aliases": ["aws.us_east_1"]
              }}},
              "resource": {"aws_acm_certificate": {"edge": {
                "provider": "aws.us_east_1", "domain_name": "example.com", "validation_method": "DNS"
              }}}
            }
            """,
            "main.tf": """
            provider "aws" {
              alias  = "virginia"
              region = "us-east-1"
            }
            module "m" {
              source    = "./mod"
              providers = { aws.us_east_1 = aws.virginia }
            }
            """,
        },
    )
    result = run(tmp_path, [*SCHEMA_RULES, "URR-TF-090"])
    assert result.findings == [] and result.undecided == []


def test_terraforms_own_provider_is_tabled(tmp_path: Path):
    tree(
        tmp_path,
        {
            "main.tf": """
            data "terraform_remote_state" "network" {
              backend = "s3"
              config = {
                bucket = "state"
                key    = "network.tfstate"
              }
            }
            resource "terraform_data" "marker" {
              input   = data.terraform_remote_state.network.outputs.vpc_id
              trigger = "x"
            }
            """
        },
    )
    [f] = run(tmp_path).findings
    assert "`trigger` is not an argument of terraform_data" in f.message
