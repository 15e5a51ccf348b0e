"""False positives found on the realistic repositories (fixtures/realworld), each removed in the
mechanism, and pinned here on the smallest repository that showed it."""

from __future__ import annotations

import textwrap

from urr_audit.scan import scan


def _scan(tmp_path, files, rule):
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return scan(tmp_path, select=[rule]).result


def test_key_policy_statements_with_principals_are_not_identity_grants(tmp_path):
    """aws-platform: a KMS key policy written with aws_iam_policy_document (`principals` blocks)
    was read as an identity policy granting kms:* on every resource."""
    r = _scan(
        tmp_path,
        {
            "main.tf": """
            data "aws_iam_policy_document" "kms" {
              statement {
                actions   = ["kms:*"]
                resources = ["*"]
                principals {
                  type        = "AWS"
                  identifiers = ["arn:aws:iam::111122223333:root"]
                }
              }
            }
            data "aws_iam_policy_document" "identity" {
              statement {
                actions   = ["kms:Decrypt"]
                resources = ["*"]
              }
            }
            """
        },
        "URR-TF-016",
    )
    assert [f.line for f in r.findings] == [13]


def test_actions_without_resource_level_permissions(tmp_path):
    """aws-platform: ECS Exec's ssmmessages actions and ecs:RegisterTaskDefinition support no
    resource ARNs: "*" is the only Resource they can have."""
    r = _scan(
        tmp_path,
        {
            "main.tf": """
            data "aws_iam_policy_document" "exec" {
              statement {
                actions   = ["ssmmessages:CreateControlChannel", "ssmmessages:OpenDataChannel", "ecs:RegisterTaskDefinition"]
                resources = ["*"]
              }
            }
            """
        },
        "URR-TF-016",
    )
    assert r.findings == []


def test_a_variable_named_secrets_holding_arns_is_not_a_secret(tmp_path):
    """aws-platform: an ECS module's `secrets` input (name -> Secrets Manager ARN, injected with
    valueFrom) was reported as a secret in the task definition because of its name."""
    files = {
        "main.tf": """
        resource "aws_secretsmanager_secret" "db" {
          name = "db"
        }
        module "svc" {
          source  = "./svc"
          secrets = { DB_PASSWORD = "${aws_secretsmanager_secret.db.arn}:password::" }
          api_key = "literal-key-in-code"
        }
        """,
        "svc/main.tf": """
        variable "secrets" {
          type = map(string)
        }
        variable "api_key" {
          type = string
        }
        resource "aws_ecs_task_definition" "t" {
          family = "t"
          container_definitions = jsonencode([{
            name        = "app"
            secrets     = [for k, v in var.secrets : { name = k, valueFrom = v }]
            environment = [{ name = "API_KEY", value = var.api_key }]
          }])
        }
        """,
    }
    r = _scan(tmp_path, files, "URR-TF-034")
    [f] = r.findings
    assert "var.api_key" in f.message and "var.secrets" not in f.message


def test_a_log_group_whose_written_name_differs_does_not_cover_the_function(tmp_path):
    """aws-platform: `/ecs/${aws_ecs_cluster.main.name}/api` and a group named after another
    function made the worker's missing log group undecided instead of reported."""
    r = _scan(
        tmp_path,
        {
            "main.tf": """
            resource "aws_ecs_cluster" "main" {
              name = "main"
            }
            resource "aws_cloudwatch_log_group" "api" {
              name              = "/ecs/${aws_ecs_cluster.main.name}/api"
              retention_in_days = 30
            }
            resource "aws_lambda_function" "other" {
              function_name = "other"
              role          = "arn:aws:iam::1:role/r"
              handler       = "h"
              runtime       = "python3.12"
              filename      = "f.zip"
            }
            resource "aws_cloudwatch_log_group" "other" {
              name              = "/aws/lambda/${aws_lambda_function.other.function_name}"
              retention_in_days = 30
            }
            resource "aws_lambda_function" "worker" {
              function_name = "worker"
              role          = "arn:aws:iam::1:role/r"
              handler       = "h"
              runtime       = "python3.12"
              filename      = "f.zip"
            }
            """
        },
        "URR-TF-039",
    )
    assert [f.line for f in r.findings] == [20] and r.undecided == []


def test_an_unread_module_that_is_not_given_the_name_cannot_create_the_group(tmp_path):
    """aws-platform: a registry VPC module made every missing Lambda log group undecided."""
    r = _scan(
        tmp_path,
        {
            "main.tf": """
            module "vpc" {
              source  = "terraform-aws-modules/vpc/aws"
              version = "~> 5.8"
              name    = "app"
            }
            module "logs" {
              source  = "acme/log-group/aws"
              version = "1.0.0"
              name    = "/aws/lambda/given"
            }
            resource "aws_lambda_function" "worker" {
              function_name = "worker"
              role          = "arn:aws:iam::1:role/r"
              handler       = "h"
              runtime       = "python3.12"
              filename      = "f.zip"
            }
            resource "aws_lambda_function" "given" {
              function_name = "given"
              role          = "arn:aws:iam::1:role/r"
              handler       = "h"
              runtime       = "python3.12"
              filename      = "f.zip"
            }
            """
        },
        "URR-TF-039",
    )
    assert [f.line for f in r.findings] == [12]
    assert [f.line for f in r.undecided] == [19]  # the unread module is given its name


def test_webhook_routes_are_reported_low_saying_why(tmp_path):
    """aws-platform: carrier webhooks are public by design (HMAC checked in the function)."""
    r = _scan(
        tmp_path,
        {
            "main.tf": """
            resource "aws_apigatewayv2_route" "hook" {
              api_id    = "a"
              route_key = "POST /v1/webhooks/{carrier}"
            }
            resource "aws_apigatewayv2_route" "orders" {
              api_id    = "a"
              route_key = "POST /v1/orders"
            }
            """
        },
        "URR-TF-041",
    )
    assert sorted((f.line, f.severity.value) for f in r.findings) == [(4, "low"), (8, "medium")]


def test_bastion_group_nothing_depends_on_is_reported_low(tmp_path):
    """tf-live: a bastion group no resource of the repository takes (the host is managed
    elsewhere): unused or attached outside Terraform, so low, saying so."""
    r = _scan(
        tmp_path,
        {
            "main.tf": """
            resource "aws_security_group" "bastion" {
              name = "bastion"
            }
            """
        },
        "URR-TF-030",
    )
    [f] = r.findings
    assert f.severity.value == "low" and "attached outside Terraform" in f.message
