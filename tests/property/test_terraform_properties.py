"""The Terraform loader (HCL through tree-sitter, `.tf.json` through its own scanner) on
generated and mutated input: a model plus `terraform.*` LoadErrors, never an exception."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from tests.property.mutations import MUTATIONS, ODD_TEXT, fixture_files, loader_settings, mutate, mutated_tree
from urr_audit.loaders.terraform import load_terraform
from urr_audit.loaders.terraform.jsonsyntax import parse_tf_json, parse_tfvars_json
from urr_audit.loaders.terraform.parse import parse_hcl
from urr_audit.workspace import Workspace

TREES = FIXTURES / "terraform"
HCL_SOURCES = [s for s in fixture_files(TREES, (".tf", ".tfvars")) if s[0].name != "broken"]
JSON_SOURCES = fixture_files(TREES, (".tf.json", ".tfvars.json"))

_HCL_TOKENS = st.sampled_from(
    [
        'resource "aws_s3_bucket" "b" ', 'module "m" ', "variable ", "locals ", "output ", "dynamic ", "{", "}", "[",
        "]", "(", ")", "=", "\n", " ", "x", "var.x", "local.y", "count.index", "each.key", '"', "${", "%{", "~}",
        "<<EOT\n", "<<-EOT\n", "EOT\n", "for ", " in ", " : ", "=>", "...", "?", ":", "# c\n", "/* c */", "//",
        "1", "1.5e3", "true", "null", "[*]", ".*", ",", "jsonencode(", "lookup(", "try(", "format(\"%s\", ",
        "\\", "\x00", "\ufeff",
    ]
)  # fmt: skip
_JSON_TOKENS = st.sampled_from(
    [
        "{", "}", "[", "]", ":", ",", '"resource"', '"aws_s3_bucket"', '"b"', '"locals"', '"variable"', '"module"',
        '"source"', '"${var.x}"', '"%{ if x }a%{ endif }"', '"//"', "1", "-0.5e-3", "true", "null", '"\\u00e9"',
        '"\\ud800"', '"', "\\", " ", "\n",
    ]
)  # fmt: skip


def _loads(repo) -> None:
    project, errors = load_terraform(Workspace(repo))
    assert all(e.kind.startswith(("terraform.", "fs.")) and e.path and e.line >= 1 for e in errors)
    # the evaluator is part of the loader and runs lazily: expand and evaluate everything
    for env in project.environments:
        for inst in env.instances:
            for local in inst.module.locals.values():
                inst.eval(local.expr)
            for output in inst.module.outputs.values():
                inst.eval_structured(output.expr)
        for r in env.resources():
            r.exists  # noqa: B018 -- evaluates count / for_each
            for name in r.resource.body.attributes:
                r.get(name)
                r.get_structured(name)


@loader_settings(max_examples=200)
@given(text=st.lists(st.one_of(_HCL_TOKENS, ODD_TEXT), max_size=60).map("".join))
def test_generated_hcl_parses_or_reports_a_load_error(text):
    parsed = parse_hcl(text, "main.tf")
    assert all(e.kind == "terraform.parse" and e.line >= 1 for e in parsed.errors)


@loader_settings(max_examples=200)
@given(text=st.lists(st.one_of(_JSON_TOKENS, ODD_TEXT), max_size=60).map("".join))
def test_generated_tf_json_parses_or_reports_a_load_error(text):
    for parse in (parse_tf_json, parse_tfvars_json):
        parsed = parse(text, "main.tf.json")
        assert all(e.kind == "terraform.parse" and e.line >= 1 for e in parsed.errors)


@loader_settings(max_examples=60)
@given(source=st.sampled_from(HCL_SOURCES), ops=MUTATIONS)
def test_mutated_hcl_modules_load(source, ops):
    tree, rel = source
    with mutated_tree(tree, rel, mutate((tree / rel).read_bytes(), ops)) as repo:
        _loads(repo)


@loader_settings(max_examples=60)
@given(source=st.sampled_from(JSON_SOURCES), ops=MUTATIONS)
def test_mutated_tf_json_modules_load(source, ops):
    tree, rel = source
    with mutated_tree(tree, rel, mutate((tree / rel).read_bytes(), ops)) as repo:
        _loads(repo)
