"""Evaluator: one small module per case, the value of `local.out` in the root instance."""

from __future__ import annotations

from pathlib import Path

import pytest

from urr_audit.loaders.terraform import load_terraform
from urr_audit.model.common import Value
from urr_audit.workspace import Workspace

from .conftest import write_tree


def out_value(tmp_path: Path, body: str, extra: dict[str, str] | None = None) -> Value:
    write_tree(tmp_path, {"main.tf": body, **(extra or {})})
    project, errors = load_terraform(Workspace(tmp_path))
    assert not [e for e in errors if e.kind == "terraform.parse"], errors
    root = project.environments[0].root
    return root.eval(root.module.locals["out"].expr)


KNOWN_CASES = [
    ("literals", 'locals { out = [1, 1.5, true, null, "s"] }', [1, 1.5, True, None, "s"]),
    ("integral float is int", "locals { out = 2.0 }", 2),
    ("object keys", 'locals { out = { a = 1, "b-c" = 2 } }', {"a": 1, "b-c": 2}),
    ("template", 'locals {\n  n = "x"\n  out = "a-${local.n}-b"\n}', "a-x-b"),
    ("escapes", r'locals { out = "q\"\n$${lit}" }', 'q"\n${lit}'),
    ("sole interpolation keeps type", 'locals {\n  n = 3\n  out = "${local.n}"\n}', 3),
    ("heredoc", "locals {\n  out = <<EOT\n  a\n    b\nEOT\n}", "  a\n    b\n"),
    ("indented heredoc", "locals {\n  out = <<-EOT\n    a\n      b ${1 + 1}\n    EOT\n}", "a\n  b 2\n"),
    ("if directive", 'locals { out = "%{ if true }yes%{ else }no%{ endif }" }', "yes"),
    (
        "for directive with strip",
        'locals {\n  out = <<EOT\n%{ for x in ["a", "b"] ~}\n${x},\n%{~ endfor }\nEOT\n}',
        "a,b,\n",
    ),
    ("var default", 'variable "v" { default = "d" }\nlocals { out = var.v }', "d"),
    ("path.module", "locals { out = path.module }", "."),
    ("terraform.workspace", "locals { out = terraform.workspace }", "default"),
    ("conditional", 'locals { out = 1 > 2 ? "a" : "b" }', "b"),
    # operands of operators arrive without a wrapping `expression` node: a traversal there
    # is several sibling nodes (variable_expr, get_attr, index)
    ("traversal operands", 'variable "env" { default = "prod" }\nlocals { out = var.env == "prod" ? 1 : 2 }', 1),
    (
        "traversal operands everywhere",
        (
            'variable "c" { default = { d = false } }\nlocals {\n  b = [3]\n'
            "  out = [(length(var.c) + 1) * 2 > local.b[0] && !var.c.d, -local.b[0], (local.b)[0]]\n}"
        ),
        [True, -3, 3],
    ),
    ("arithmetic", "locals { out = [1 + 2 * 3, 7 / 2, 7 % 3, -(2 - 5)] }", [7, 3.5, 1, 3]),
    (
        "comparison and logic",
        'locals { out = [1 == 1, "1" == 1, !true || 2 >= 2, true && false] }',
        [True, False, True, False],
    ),
    (
        "index and attribute",
        'locals {\n  m = { a = [10, { b = "x" }] }\n  out = [local.m.a[0], local.m["a"][1].b, local.m.a.0]\n}',
        [10, "x", 10],
    ),
    ("splat", "locals {\n  l = [{ id = 1 }, { id = 2 }]\n  out = [local.l[*].id, local.l.*.id]\n}", [[1, 2], [1, 2]]),
    ("for tuple", 'locals { out = [for i, v in ["a", "b", "c"] : "${i}${upper(v)}" if v != "b"] }', ["0A", "2C"]),
    ("for object", "locals { out = { for k, v in { a = 1, b = 2 } : v => k } }", {"1": "a", "2": "b"}),
    (
        "for object grouping",
        'locals { out = { for v in ["ab", "ac", "b"] : substr(v, 0, 1) => v... } }',
        {"a": ["ab", "ac"], "b": ["b"]},
    ),
    (
        "merge concat lookup",
        'locals { out = [merge({ a = 1 }, { b = 2 }), concat([1], [2]), lookup({ a = 1 }, "b", 0)] }',
        [{"a": 1, "b": 2}, [1, 2], 0],
    ),
    ("coalesce", 'locals { out = [coalesce("", null, "x"), coalescelist([], [1])] }', ["x", [1]]),
    ("format", 'locals { out = [format("%s-%03d", "a", 7), formatlist("%s!", ["a", "b"])] }', ["a-007", ["a!", "b!"]]),
    (
        "strings",
        (
            'locals { out = [join(",", ["a", "b"]), split(",", "a,b"), lower("A"), upper("a"), '
            'replace("a-b", "-", "_"), trimspace(" x "), trimprefix("ab", "a"), trimsuffix("ab", "b"), substr("hello", 1, 3)] }'
        ),
        ["a,b", ["a", "b"], "a", "A", "a_b", "x", "b", "a", "ell"],
    ),
    (
        "conversions",
        'locals { out = [tostring(1), tonumber("2"), tobool("true"), toset(["b", "a", "b"]), tolist(["x"]), tomap({ a = 1 })] }',
        ["1", 2, True, ["a", "b"], ["x"], {"a": 1}],
    ),
    (
        "try and can",
        'locals {\n  out = [try(local.missing_key_map.x, "fallback"), can(tonumber("x")), can(1)]\n  missing_key_map = {}\n}',
        ["fallback", False, True],
    ),
    (
        "collections",
        (
            'locals { out = [element(["a", "b"], 3), contains(["a"], "a"), keys({ b = 1, a = 2 }), values({ b = 1, a = 2 }), '
            'distinct([1, 1, 2]), flatten([[1], [2, [3]]]), compact(["a", "", null]), length({ a = 1 }), zipmap(["a"], [1]), one([5]), range(3)] }'
        ),
        ["b", True, ["a", "b"], [2, 1], [1, 2], [1, 2, 3], ["a"], 1, {"a": 1}, 5, [0, 1, 2]],
    ),
    (
        "json yaml base64",
        'locals { out = [jsonencode({ a = [1, "x"] }), jsondecode("{\\"k\\": true}"), yamlencode({ a = 1 }), base64encode("hi")] }',
        ['{"a":[1,"x"]}', {"k": True}, '"a": 1\n', "aGk="],
    ),
    ("numbers", "locals { out = [min(3, 1), max(3, 1), abs(-2), ceil(1.2), floor(1.8)] }", [1, 3, 2, 2, 1]),
    (
        "cidr",
        'locals { out = [cidrsubnet("10.0.0.0/16", 8, 2), cidrhost("10.0.1.0/24", 5)] }',
        ["10.0.2.0/24", "10.0.1.5"],
    ),
    (
        "startswith regex",
        'locals { out = [startswith("abc", "ab"), endswith("abc", "bc"), regex("v(\\\\d+)", "v12"), regexall("\\\\d", "a1b2")] }',
        [True, True, ["12"], ["1", "2"]],
    ),
    ("local chain is lazy", 'locals {\n  out = local.b\n  b = local.c\n  c = "deep"\n}', "deep"),
    ("unknown condition with equal branches", 'locals { out = aws_s3_bucket.b.id == "" ? "same" : "same" }', "same"),
    ("function with expanded args", 'locals { out = concat([["a"], ["b"]]...) }', ["a", "b"]),
    ("partially unknown object indexed", 'locals { out = { a = "k", b = aws_vpc.x.id }.a }', "k"),
]


@pytest.mark.parametrize(("name", "src", "expected"), KNOWN_CASES, ids=[c[0] for c in KNOWN_CASES])
def test_known_values(tmp_path: Path, name: str, src: str, expected: object) -> None:
    v = out_value(tmp_path, src)
    assert v.is_known, v.reason
    assert v.value == expected


UNKNOWN_CASES = [
    ("resource attribute", "locals { out = aws_subnet.db.id }", "depends on aws_subnet.db.id"),
    (
        "data source",
        "locals { out = data.aws_iam_policy_document.p.json }",
        "depends on data.aws_iam_policy_document.p.json",
    ),
    ("each", "locals { out = each.key }", "each"),
    ("count", "locals { out = count.index }", "count"),
    ("unknown condition", 'locals { out = aws_x.y.enabled ? "a" : "b" }', "aws_x.y"),
    ("unknown in template", 'locals { out = "arn:${aws_iam_role.r.arn}" }', "aws_iam_role.r"),
    ("timestamp", "locals { out = timestamp() }", "apply time"),
    ("uuid", "locals { out = uuid() }", "apply time"),
    ("provider function", 'locals { out = provider::aws::arn_parse("x") }', "provider::aws::arn_parse"),
    ("local cycle", "locals {\n  out = local.a\n  a = local.out\n}", "refers to itself"),
    ("list with unknown element", "locals { out = [1, aws_vpc.x.id] }", "aws_vpc.x.id"),
    ("required variable unset", 'variable "v" {}\nlocals { out = var.v }', "var.v has no value"),
    ("file outside root", 'locals { out = file("../../etc/passwd") }', "outside the scanned root"),
]


@pytest.mark.parametrize(("name", "src", "reason"), UNKNOWN_CASES, ids=[c[0] for c in UNKNOWN_CASES])
def test_unknown_values(tmp_path: Path, name: str, src: str, reason: str) -> None:
    v = out_value(tmp_path / "repo", src)
    assert v.is_unknown
    assert reason in v.reason


def test_file_and_templatefile_read_through_workspace(tmp_path: Path) -> None:
    v = out_value(
        tmp_path,
        'locals { out = [file("${path.module}/a.txt"), templatefile("t.tpl", { name = "urr", xs = [1, 2] })] }',
        {"a.txt": "hello", "t.tpl": "hi ${name}%{ for x in xs }-${x}%{ endfor }\n"},
    )
    assert v.value == ["hello", "hi urr-1-2\n"]  # templatefile keeps the file's final newline


def test_module_output_evaluated_in_child(load_tree) -> None:
    project, errors = load_tree(
        {
            "env/main.tf": """
            module "sqs" {
              source = "../mod/sqs"
              name   = "orders"
            }
            module "iam" {
              source    = "../mod/iam"
              queue_arn = module.sqs.queue_arn
            }
        """,
            "mod/sqs/main.tf": """
            variable "name" {}
            output "queue_arn" { value = "arn:aws:sqs:::${var.name}" }
            output "url" { value = aws_sqs_queue.q.url }
        """,
            "mod/iam/main.tf": 'variable "queue_arn" {}\nlocals { arn = var.queue_arn }\n',
        }
    )
    assert errors == []
    env = project.environments[0]
    iam = next(i for i in env.instances if i.address == "module.iam")
    assert iam.variables["queue_arn"].value == "arn:aws:sqs:::orders"
    assert iam.call is not None
    assert iam.call.arguments["queue_arn"].expr.references == ["module.sqs.queue_arn"]
    root = env.root
    expr = root.module.module_calls["iam"].arguments["queue_arn"].expr
    assert root.eval(expr).value == "arn:aws:sqs:::orders"


def test_variable_precedence_in_root(load_tree) -> None:
    project, _ = load_tree(
        {
            "prod/main.tf": """
            variable "a" { default = "default" }
            variable "b" { default = "default" }
            variable "c" { default = "default" }
            variable "d" { default = "default" }
        """,
            "prod/terraform.tfvars": 'a = "tfvars"\nb = "tfvars"\nc = "tfvars"\n',
            "prod/b.auto.tfvars": 'a = "b-auto"\nb = "b-auto"\n',
            "prod/a.auto.tfvars.json": '{"a": "a-auto-json", "c": "a-auto-json"}',
            "prod/terraform.tfvars.example": 'd = "example"\n',
        }
    )
    env = project.environments[0]
    values = {k: v.value for k, v in env.root.variables.items()}
    # auto files in lexical order (a.auto.tfvars.json, then b.auto.tfvars) over terraform.tfvars over default
    assert values == {"a": "b-auto", "b": "b-auto", "c": "a-auto-json", "d": "default"}
    assert env.tfvars_ignored == ["prod/terraform.tfvars.example"]
    assert env.tfvars_loaded == ["prod/terraform.tfvars", "prod/a.auto.tfvars.json", "prod/b.auto.tfvars"]
    assert env.root.variables["a"].span is not None and env.root.variables["a"].span.path == "prod/b.auto.tfvars"


def test_caller_argument_over_child_default_and_non_nullable(load_tree) -> None:
    project, _ = load_tree(
        {
            "root/main.tf": 'module "m" {\n  source = "../m"\n  x = "arg"\n  y = null\n}\n',
            "m/main.tf": 'variable "x" { default = "d" }\nvariable "y" {\n  default = "dy"\n  nullable = false\n}\nvariable "z" { default = 3 }\n',
        }
    )
    m = project.environments[0].instances[1]
    assert {k: v.value for k, v in m.variables.items()} == {"x": "arg", "y": "dy", "z": 3}


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        # Terraform knows a collection's shape while its elements wait for apply
        ('resource "aws_s3_bucket" "b" {}\nlocals { out = length({ a = aws_s3_bucket.b.arn, b = "x" }) }', 2),
        ('resource "aws_s3_bucket" "b" {}\nlocals { out = length([aws_s3_bucket.b.arn]) }', 1),
        ('resource "aws_s3_bucket" "b" {}\nlocals { out = keys({ z = aws_s3_bucket.b.arn, a = 1 }) }', ["a", "z"]),
    ],
)
def test_length_and_keys_of_a_collection_with_unknown_elements_are_known(tmp_path: Path, src: str, expected: object):
    v = out_value(tmp_path, src)
    assert v.is_known and v.value == expected


def test_length_of_a_list_of_unknown_length_stays_unknown(tmp_path: Path):
    src = 'resource "aws_s3_bucket" "b" {}\nlocals { out = length(concat(["a"], aws_s3_bucket.b.tags_all)) }'
    assert out_value(tmp_path, src).is_unknown
