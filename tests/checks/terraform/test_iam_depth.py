"""Policies: a wildcard reached through a conditional fallback, and documents that are not JSON."""

from __future__ import annotations

import textwrap

import pytest

from urr_audit.loaders import load_project
from urr_audit.model.common import UnknownLeaf
from urr_audit.scan import scan


def _write(root, files):
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))


def test_conditional_choices_survive_module_arguments(tmp_path):
    _write(
        tmp_path,
        {
            "main.tf": """
            variable "arn" {
              type = string
            }
            module "m" {
              source   = "./m"
              resource = var.arn != "" ? var.arn : "*"
            }
            """,
            "m/main.tf": """
            variable "resource" {
              type = string
            }
            resource "aws_iam_policy" "p" {
              policy = jsonencode({
                Statement = [{ Effect = "Allow", Action = "sqs:SendMessage", Resource = var.resource }]
              })
            }
            """,
        },
    )
    env = load_project(tmp_path).terraform.environments[0]
    [ri] = list(env.resources("aws_iam_policy"))
    leaf = ri.get_structured("policy").partial["Statement"][0]["Resource"]
    assert isinstance(leaf, UnknownLeaf)
    assert leaf.choices is not None and leaf.choices[0] == 'var.arn != ""' and leaf.choices[2] == "*"
    r = scan(tmp_path, select=["URR-TF-016"]).result
    [f] = r.findings
    assert f.severity.value == "medium"
    assert 'when `var.arn != ""` is false (var.arn has no value)' in f.message


@pytest.mark.parametrize(
    ("resource", "found", "undecided"),
    [
        ('var.arn != "" ? var.arn : "*"', 1, 0),  # an input no one sets: possible
        ('aws_sqs_queue.q.arn != "" ? aws_sqs_queue.q.arn : "*"', 0, 1),  # known after apply: undecided
        ('var.arn == "" ? "*" : var.arn', 1, 0),
        ('var.arn != "" ? var.arn : "arn:aws:sqs:eu-west-1:1:q"', 0, 0),
    ],
)
def test_wildcard_fallback(tmp_path, resource, found, undecided):
    _write(
        tmp_path,
        {
            "main.tf": f"""
            variable "arn" {{
              type = string
            }}
            resource "aws_sqs_queue" "q" {{
              name = "q"
            }}
            resource "aws_iam_policy" "p" {{
              policy = jsonencode({{
                Statement = [{{ Effect = "Allow", Action = "sqs:SendMessage", Resource = {resource} }}]
              }})
            }}
            """
        },
    )
    r = scan(tmp_path, select=["URR-TF-016"]).result
    assert (len(r.findings), len(r.undecided)) == (found, undecided)


@pytest.mark.parametrize(
    ("policy", "found"),
    [
        ('<<EOT\n{"Statement": [{"Resource": "${var.arn}"},]}\nEOT', True),
        ('<<EOT\n{"Statement": ${var.statements}}\nEOT', False),  # outside a string: could be anything
        ('<<EOT\n{"Statement": [{"Resource": "${var.arn}"}]}\nEOT', False),
        ('"{\\"Statement\\": []"', True),
        ("jsonencode({ Statement = [] })", False),
    ],
)
def test_policy_not_json(tmp_path, policy, found):
    _write(
        tmp_path,
        {
            "main.tf": 'variable "arn" {\n  type = string\n}\nvariable "statements" {\n  type = string\n}\n'
            f'resource "aws_iam_policy" "p" {{\n  policy = {policy}\n}}\n'
        },
    )
    r = scan(tmp_path, select=["URR-TF-040"]).result
    assert bool(r.findings) is found, [f.message for f in r.findings]


def test_statements_of_a_known_jsonencode_policy_are_located(tmp_path):
    _write(
        tmp_path,
        {
            "main.tf": """
            resource "aws_iam_policy" "p" {
              policy = jsonencode({
                Version = "2012-10-17"
                Statement = [
                  { Effect = "Allow", Action = "s3:GetObject", Resource = "*" },
                  {
                    Effect   = "Allow"
                    Action   = "s3:PutObject"
                    Resource = "*"
                  },
                ]
              })
            }
            """
        },
    )
    env = load_project(tmp_path).terraform.environments[0]
    [ri] = list(env.resources("aws_iam_policy"))
    doc = ri.get_structured("policy")
    assert doc.is_known and doc.value["Statement"][1]["Action"] == "s3:PutObject"
    assert [doc.span_at("Statement", i).line for i in (0, 1)] == [6, 7]
    r = scan(tmp_path, select=["URR-TF-016"]).result
    assert [f.line for f in r.findings] == [7]
