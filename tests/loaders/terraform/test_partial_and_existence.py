"""Partially known values, documents seen before encoding, value origins, count/for_each."""

from __future__ import annotations

from urr_audit.model.common import UnknownLeaf, find_unknown


def _instance(project, address=""):
    return next(i for i in project.environments[0].instances if i.address == address)


def test_partially_known_collection_keeps_its_known_parts(load_tree) -> None:
    project, _ = load_tree({"main.tf": 'locals { out = { a = "x", b = [1, aws_vpc.v.id] } }\n'})
    root = _instance(project)
    v = root.eval(root.module.locals["out"].expr)
    assert v.is_unknown and "aws_vpc.v.id" in v.reason  # as a whole: unknown, as before
    assert v.is_partially_known
    assert v.partial["a"] == "x" and v.partial["b"][0] == 1
    assert isinstance(v.partial["b"][1], UnknownLeaf) and find_unknown(v.partial) is v.partial["b"][1]
    assert v.parts() is v.partial


POLICY = """
resource "aws_sqs_queue" "q" {
  name = "q"
}

resource "aws_iam_policy" "p" {
  policy = jsonencode({
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = "*"
      },
      {
        Effect   = "Allow"
        Action   = "sqs:ReceiveMessage"
        Resource = aws_sqs_queue.q.arn
      },
    ]
  })
}
"""


def test_jsonencode_of_partial_value_is_an_unknown_string_with_a_located_document(load_tree) -> None:
    project, _ = load_tree({"main.tf": POLICY})
    [ri] = project.resources("aws_iam_policy")
    plain = ri.get("policy")
    assert plain.is_unknown and plain.partial is None  # an unknown string, as Terraform says
    doc = ri.get_structured("policy")
    assert doc.is_unknown
    first, second = doc.partial["Statement"]
    assert first == {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "*"}
    assert isinstance(second["Resource"], UnknownLeaf)
    assert (doc.span_at("Statement", 0).line, doc.span_at("Statement", 1).line) == (9, 14)
    assert doc.span_at("Statement", 1, "Action").line == 14  # a scalar: its enclosing object


def test_document_passed_through_a_module_argument_keeps_structure_and_lines(load_tree) -> None:
    project, _ = load_tree(
        {
            "env/main.tf": """
            module "iam" {
              source = "../iam"
              policy = jsonencode({
                Statement = [{ Effect = "Allow", Action = "s3:*", Resource = aws_s3_bucket.b.arn }]
              })
            }
        """,
            "iam/main.tf": 'variable "policy" {}\nresource "aws_iam_policy" "p" {\n  policy = var.policy\n}\n',
        }
    )
    [ri] = project.resources("aws_iam_policy")
    doc = ri.get_structured("policy")
    assert doc.partial["Statement"][0]["Action"] == "s3:*"
    assert doc.span_at("Statement", 0).path == "env/main.tf" and doc.span_at("Statement", 0).line == 5


def test_heredoc_json_with_unknown_interpolation_is_decoded(load_tree) -> None:
    project, _ = load_tree(
        {
            "main.tf": """
        resource "aws_iam_policy" "p" {
          policy = <<-EOT
            {
              "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "${aws_s3_bucket.b.arn}/*"},
                {"Effect": "Allow", "Action": ${jsonencode(var.actions)}, "Resource": "*"}
              ]
            }
          EOT
        }
        variable "actions" { default = ["sqs:SendMessage"] }
    """
        }
    )
    [ri] = project.resources("aws_iam_policy")
    doc = ri.get_structured("policy")
    a, b = doc.partial["Statement"]
    assert isinstance(a["Resource"], UnknownLeaf) and a["Action"] == "s3:*"
    assert b == {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "*"}
    assert [doc.span_at("Statement", i).line for i in (0, 1)] == [6, 7]


def test_known_heredoc_and_file_documents_are_located(load_tree) -> None:
    project, _ = load_tree(
        {
            "main.tf": """
            resource "aws_iam_policy" "a" {
              policy = <<EOT
            {"Statement": [
              {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
            ]}
            EOT
            }
            resource "aws_iam_policy" "b" {
              policy = file("${path.module}/p.json")
            }
        """,
            "p.json": '{\n  "Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}\n}\n',
        }
    )
    a, b = project.resources("aws_iam_policy")
    da, db = a.get_structured("policy"), b.get_structured("policy")
    assert da.is_known and da.value["Statement"][0]["Action"] == "s3:*"
    assert da.span_at("Statement", 0).line == 5
    assert db.is_known and db.span_at("Statement") == db.located[("Statement",)]
    assert (db.span_at("Statement").path, db.span_at("Statement").line) == ("p.json", 2)


def test_origin_is_where_a_variable_is_set(load_tree) -> None:
    project, _ = load_tree(
        {
            "env/main.tf": """
            variable "from_tfvars" {}
            variable "from_default" { default = "d" }
            module "m" {
              source = "../m"
              passed = var.from_tfvars
              direct = "lit"
            }
            locals {
              a = var.from_tfvars
              b = var.from_default
              c = "${var.from_default}-x"
            }
        """,
            "env/terraform.tfvars": 'from_tfvars = "t"\n',
            "m/main.tf": 'variable "passed" {}\nvariable "direct" {}\nlocals {\n  p = var.passed\n  d = var.direct\n}\n',
        }
    )
    root, m = _instance(project), _instance(project, "module.m")

    def ev(inst, name):
        return inst.eval(inst.module.locals[name].expr)

    assert str(ev(root, "a").origin) == "env/terraform.tfvars:1"
    assert str(ev(root, "b").origin) == "env/main.tf:3"
    assert ev(root, "c").origin is None  # more than a variable: not one place
    assert str(ev(m, "p").origin) == "env/terraform.tfvars:1"  # through the module argument
    assert str(ev(m, "d").origin) == "env/main.tf:7"


EXISTENCE = {
    "env/main.tf": """
        variable "enabled" { default = false }
        module "off" {
          source = "../m"
          count  = var.enabled ? 1 : 0
        }
        module "none" {
          source   = "../m"
          for_each = {}
        }
        module "on" {
          source = "../m"
          count  = 1
        }
        module "maybe" {
          source = "../m"
          count  = length(aws_subnet.s[*].id) > 0 ? 1 : 0
        }
    """,
    "m/main.tf": """
        module "inner" {
          source = "../inner"
        }
        resource "aws_sqs_queue" "always" {}
        resource "aws_sqs_queue" "never" {
          count = 0
        }
        resource "aws_sqs_queue" "empty" {
          for_each = toset([])
        }
        resource "aws_sqs_queue" "some" {
          for_each = toset([aws_sqs_queue.always.arn])
        }
    """,
    "inner/main.tf": 'resource "aws_sqs_queue" "deep" {}\n',
}


def test_module_calls_known_to_be_empty_are_skipped(load_tree) -> None:
    project, _ = load_tree(EXISTENCE)
    env = project.environments[0]
    assert [i.address for i in env.instances] == [
        "",
        "module.on[0]",  # count = 1: one instance, keyed as Terraform does
        "module.on[0].module.inner",
        "module.maybe",
        "module.maybe.module.inner",
    ]
    assert [(s.address, s.span.line) for s in env.skipped_modules] == [("module.off", 3), ("module.none", 7)]
    assert "count = var.enabled ? 1 : 0" in env.skipped_modules[0].reason
    exists = {i.address: i.exists for i in env.instances}
    assert exists["module.on[0]"].value is True
    assert exists["module.maybe"].is_unknown and exists["module.maybe.module.inner"].is_unknown


def test_resource_existence(load_tree) -> None:
    project, _ = load_tree(EXISTENCE)
    on = {ri.resource.name: ri.exists for ri in _instance(project, "module.on[0]").resources()}
    assert on["always"].value is True
    assert on["never"].value is False and on["never"].span.line == 7
    assert on["empty"].value is False
    assert on["some"].value is True  # a set of one unknown ARN: one instance
    maybe = {ri.resource.name: ri.exists for ri in _instance(project, "module.maybe").resources()}
    assert maybe["always"].is_unknown and maybe["never"].value is False
