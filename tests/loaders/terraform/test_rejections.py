"""Expressions Terraform rejects in an environment (an index past the end of a list) are
reported on the value (`Value.rejected`), not left a silent unknown; and `terraform console`
(offline) agrees on which expressions fail and which guarded forms do not."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from urr_audit.loaders.terraform import load_terraform
from urr_audit.model.common import Value
from urr_audit.workspace import Workspace

TERRAFORM = shutil.which("terraform")

VARS = """
variable "subnet_ids" {
  type    = list(string)
  default = []
}
variable "azs" {
  type    = list(string)
  default = ["a", "b"]
}
"""

FAILING = [
    ("empty list", "var.subnet_ids[0]", "index 0 of an empty list"),
    ("past the end", "var.azs[2]", "index 2 of a list of 2 elements"),
    ("negative", "var.azs[-1]", "index -1 of a list of 2 elements"),
    ("through a local", "local.copy[0]", "index 0 of an empty list"),
    ("inside a call", "upper(var.azs[5])", "index 5 of a list of 2 elements"),
]

GUARDED = [
    ("try", "try(var.subnet_ids[0], null)", None),
    ("conditional on length", "length(var.subnet_ids) > 0 ? var.subnet_ids[0] : null", None),
    ("in range", "var.azs[1]", "b"),
    ("element wraps around", "element(var.azs, 3)", "b"),
    ("unselected branch", 'length(var.azs) > 5 ? var.azs[5] : "none"', "none"),
]


def _eval(tmp: Path, expr: str) -> Value:
    (tmp / "main.tf").write_text(VARS + f"locals {{\n  copy = var.subnet_ids\n  out = {expr}\n}}\n")
    project, _ = load_terraform(Workspace(tmp))
    root = project.environments[0].root
    return root.eval(root.module.locals["out"].expr)


@pytest.mark.parametrize(("name", "expr", "message"), FAILING, ids=[c[0] for c in FAILING])
def test_index_past_the_end_is_reported_with_where_and_origin(tmp_path: Path, name: str, expr: str, message: str):
    v = _eval(tmp_path, expr)
    assert v.is_unknown and v.rejected is not None, v
    assert v.rejected.message == message
    assert v.rejected.span is not None and v.rejected.span.path == "main.tf"
    assert message in v.reason
    if expr.startswith("var."):
        assert v.rejected.text == expr and v.rejected.origin is not None  # the variable's default


@pytest.mark.parametrize(("name", "expr", "value"), GUARDED, ids=[c[0] for c in GUARDED])
def test_guarded_reads_are_values_not_rejections(tmp_path: Path, name: str, expr: str, value: object):
    v = _eval(tmp_path, expr)
    assert v.is_known and v.rejected is None and v.value == value


def test_module_argument_is_the_origin_of_an_empty_list(tmp_path: Path):
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "main.tf").write_text('variable "ids" { type = list(string) }\nlocals { first = var.ids[0] }\n')
    (tmp_path / "main.tf").write_text('module "m" {\n  source = "./mod"\n  ids    = []\n}\n')
    project, _ = load_terraform(Workspace(tmp_path))
    child = project.environments[0].instances[1]
    v = child.eval(child.module.locals["first"].expr)
    assert v.rejected is not None and v.rejected.origin is not None
    assert (v.rejected.origin.path, v.rejected.origin.line) == ("main.tf", 3)


def _console(tmp: Path, expr: str) -> subprocess.CompletedProcess[str]:
    (tmp / "main.tf").write_text(VARS + f"locals {{\n  copy = var.subnet_ids\n  out = {expr}\n}}\n")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    return subprocess.run(
        [TERRAFORM or "terraform", "console"],
        input="jsonencode(local.out)\n",
        cwd=tmp,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.skipif(TERRAFORM is None, reason="terraform not installed: no reference evaluator")
@pytest.mark.parametrize(("name", "expr", "message"), FAILING, ids=[c[0] for c in FAILING])
def test_terraform_rejects_the_same_expressions(tmp_path: Path, name: str, expr: str, message: str):
    run = _console(tmp_path, expr)  # console exits 0 after printing an error for its input
    assert "Invalid index" in run.stderr, run.stderr


@pytest.mark.slow
@pytest.mark.skipif(TERRAFORM is None, reason="terraform not installed: no reference evaluator")
@pytest.mark.parametrize(("name", "expr", "value"), GUARDED, ids=[c[0] for c in GUARDED])
def test_terraform_accepts_the_guarded_reads(tmp_path: Path, name: str, expr: str, value: object):
    run = _console(tmp_path, expr)
    assert run.returncode == 0 and "Error" not in run.stderr, run.stderr
    assert run.stdout.strip(), "no value printed"
