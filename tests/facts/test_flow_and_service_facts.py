"""Flows between resources (connectors contracted), inventory by service, the secrets flow,
alarms and log groups, on small Terraform repositories."""

from __future__ import annotations

from tests.facts.test_network_facts import env_of
from urr_audit.facts.aws_catalog import service_of
from urr_audit.facts.flows import INTERNET, flow_facts
from urr_audit.facts.network import network_facts
from urr_audit.facts.observability import condition, observability_facts
from urr_audit.facts.services import inventory, secret_flow

SERVERLESS = """
resource "aws_sqs_queue" "dlq" {
  name = "jobs-dlq"
}
resource "aws_sqs_queue" "jobs" {
  name           = "jobs"
  redrive_policy = jsonencode({ deadLetterTargetArn = aws_sqs_queue.dlq.arn, maxReceiveCount = 3 })
}
resource "aws_dynamodb_table" "t" {
  name     = "t"
  hash_key = "id"
}
resource "aws_lambda_function" "worker" {
  function_name = "worker"
  runtime       = "python3.12"
  environment {
    variables = { TABLE = aws_dynamodb_table.t.name }
  }
}
resource "aws_lambda_event_source_mapping" "m" {
  event_source_arn = aws_sqs_queue.jobs.arn
  function_name    = aws_lambda_function.worker.arn
}
resource "aws_cloudwatch_event_rule" "tick" {
  schedule_expression = "rate(5 minutes)"
}
resource "aws_cloudwatch_event_target" "tick" {
  rule = aws_cloudwatch_event_rule.tick.name
  arn  = aws_lambda_function.worker.arn
}
resource "aws_security_group" "web" {
  name = "web"
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
resource "aws_lb" "web" {
  name            = "web"
  internal        = false
  security_groups = [aws_security_group.web.id]
}
resource "aws_lb_target_group" "app" {
  port     = 8080
  protocol = "HTTP"
}
resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.web.arn
  port              = 443
  protocol          = "HTTPS"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}
resource "aws_api_gateway_rest_api" "api" {
  name = "api"
  endpoint_configuration {
    types = ["PRIVATE"]
  }
}
"""


def test_flows_contract_connectors_and_orient_traffic(tmp_path):
    env = env_of(tmp_path, {"main.tf": SERVERLESS})
    f = flow_facts(env, network_facts(env))
    got = {(x.source, x.target, x.label) for x in f.flows}
    assert got == {
        ("aws_sqs_queue.jobs", "aws_sqs_queue.dlq", "dead letters"),
        ("aws_sqs_queue.jobs", "aws_lambda_function.worker", "triggers"),
        ("aws_cloudwatch_event_rule.tick", "aws_lambda_function.worker", "triggers"),
        ("aws_lambda_function.worker", "aws_dynamodb_table.t", "configured with"),
        ("aws_lb.web", "aws_lb_target_group.app", "listener"),
        (INTERNET, "aws_lb.web", "internet-facing"),  # the private API is not internet-facing
    }
    listener = next(x for x in f.flows if x.target == "aws_lb_target_group.app")
    assert listener.detail == "HTTPS 443, HTTP 8080"
    # what the load balancer's security groups admit from outside
    assert next(x for x in f.flows if x.source == INTERNET).detail == "0.0.0.0/0:443"


def test_inventory_groups_by_service_with_key_settings(tmp_path):
    inv = inventory(env_of(tmp_path, {"main.tf": SERVERLESS}))
    assert inv["SQS"].types == {"aws_sqs_queue": 2}
    assert inv["VPC"].types == {"aws_security_group": 1}
    assert inv["Lambda"].types == {"aws_lambda_function": 1, "aws_lambda_event_source_mapping": 1}
    runtime = [s for a, label, s in inv["Lambda"].settings if label == "runtime"]
    assert [s.value.value for s in runtime] == ["python3.12"]
    assert service_of("aws_db_proxy_target") == "RDS Proxy" and service_of("aws_db_instance") == "RDS"
    assert service_of("google_sql_database_instance") == "google: sql"


SECRETS = """
resource "random_password" "db" {
  length = 32
}
resource "aws_secretsmanager_secret" "db" {
  name = "db"
}
resource "aws_secretsmanager_secret_version" "db" {
  secret_id     = aws_secretsmanager_secret.db.id
  secret_string = random_password.db.result
}
module "database" {
  source   = "./db"
  password = random_password.db.result
}
resource "aws_lambda_function" "app" {
  function_name = "app"
  environment {
    variables = { DB_SECRET = aws_secretsmanager_secret.db.arn }
  }
}
"""


def test_secret_flow_from_generator_to_store_to_consumers(tmp_path):
    env = env_of(
        tmp_path,
        {
            "main.tf": SECRETS,
            "db/main.tf": """
            variable "password" {
              type      = string
              sensitive = true
            }
            resource "aws_db_instance" "this" {
              password = var.password
            }
            """,
        },
    )
    flow = secret_flow(env)
    assert list(flow.generators) == ["random_password.db"]
    assert {k: v[0] for k, v in flow.stores.items()} == {"aws_secretsmanager_secret_version.db": "random_password.db"}
    uses = {(u.consumer, u.attribute, u.via_store) for u in flow.uses}
    assert uses == {
        ("module.database.aws_db_instance.this", "password", None),  # through the module argument
        ("aws_lambda_function.app", "environment.variables", "aws_secretsmanager_secret.db"),
    }


def test_alarms_and_log_groups(tmp_path):
    env = env_of(
        tmp_path,
        {
            "main.tf": """
            variable "days" {
              default = 14
            }
            resource "aws_sns_topic" "ops" {
              name = "ops"
            }
            resource "aws_sqs_queue" "q" {
              name = "q"
            }
            resource "aws_cloudwatch_metric_alarm" "age" {
              alarm_name          = "age"
              namespace           = "AWS/SQS"
              metric_name         = "ApproximateAgeOfOldestMessage"
              statistic           = "Maximum"
              comparison_operator = "GreaterThanThreshold"
              threshold           = 600
              period              = 300
              evaluation_periods  = 2
              dimensions          = { QueueName = aws_sqs_queue.q.name }
              alarm_actions       = [aws_sns_topic.ops.arn]
            }
            resource "aws_lambda_function" "f" {
              function_name = "reporter"
              tracing_config {
                mode = "Active"
              }
            }
            resource "aws_cloudwatch_log_group" "f" {
              name              = "/aws/lambda/reporter"
              retention_in_days = var.days
            }
            resource "aws_cloudwatch_log_group" "orphan" {
              name = "/custom/thing"
            }
            """
        },
    )
    o = observability_facts(env)
    (alarm,) = o.alarms
    assert condition(alarm) == "Maximum ApproximateAgeOfOldestMessage > 600 for 2 x 300 s"
    assert alarm.actions == ("aws_sns_topic.ops",) and alarm.subject == ("aws_sqs_queue.q",)
    groups = {g.address: g for g in o.log_groups}
    # Lambda writes to /aws/lambda/<function name> without any reference: the AWS convention
    assert groups["aws_cloudwatch_log_group.f"].writers == ("aws_lambda_function.f",)
    assert groups["aws_cloudwatch_log_group.f"].retention.value.value == 14
    assert groups["aws_cloudwatch_log_group.orphan"].retention is None
    assert [(a, label, s.value.value) for a, label, s in o.tracing] == [("aws_lambda_function.f", "X-Ray", "Active")]
