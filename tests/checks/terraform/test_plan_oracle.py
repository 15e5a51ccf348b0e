"""URR-TF-029 and URR-TF-090 against Terraform itself. Terraform's built-in provider
(`terraform_data`) needs no download, so `terraform init`, `plan` and `validate` run offline:
every case is judged by urr-audit and by Terraform, and both must agree. Skipped when terraform
is absent; never used at scan time."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from urr_audit.scan import scan

TERRAFORM = shutil.which("terraform")
ENV = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}

BASE = """
resource "terraform_data" "a" {
  input = "x"
}
resource "terraform_data" "l" {
  count = 2
  input = "l${count.index}"
}
resource "terraform_data" "m" {
  for_each = toset(["p", "q"])
  input    = each.key
}
"""

# (name, extra configuration, does Terraform refuse to plan it)
COUNT_CASES = [
    ("count on an id", 'resource "terraform_data" "t" {\n  count = length(terraform_data.a.id)\n}', True),
    ("set of ids", 'resource "terraform_data" "t" {\n  for_each = toset([terraform_data.a.id])\n}', True),
    ("map with unknown values", 'resource "terraform_data" "t" {\n  for_each = { k = terraform_data.a.id }\n}', False),
    ("length of a counted resource", 'resource "terraform_data" "t" {\n  count = length(terraform_data.l)\n}', False),
    (
        "configured argument",
        'resource "terraform_data" "t" {\n  count = terraform_data.a.input == "x" ? 1 : 0\n}',
        False,
    ),
    ("splat of outputs", 'resource "terraform_data" "t" {\n  for_each = toset(terraform_data.l[*].output)\n}', True),
    (
        "object with unknown parts is not null",
        (
            "locals {\n  obj = { x = terraform_data.a.id }\n}\n"
            'resource "terraform_data" "t" {\n  count = local.obj != null ? 1 : 0\n}'
        ),
        False,
    ),
    (
        "keys from a for_each resource",
        'resource "terraform_data" "t" {\n  for_each = { for k, d in terraform_data.m : k => d.id }\n}',
        False,
    ),
    (
        "ids of a for_each resource",
        'resource "terraform_data" "t" {\n  for_each = toset([for d in terraform_data.m : d.id])\n}',
        True,
    ),
    # Terraform 1.6+ refines unknown values: an id and a string template are never null, a
    # template's prefix is known; what they decide is known at plan time
    (
        "module count from a caller's id: ids are never null",
        'module "child" {\n  source = "./child"\n  v      = terraform_data.a.id\n}',
        False,
    ),
    (
        "module count from a caller's output",
        'module "child" {\n  source = "./child"\n  v      = terraform_data.a.output\n}',
        True,
    ),
    (
        "id compared with a string",
        'resource "terraform_data" "t" {\n  count = terraform_data.a.id == "" ? 1 : 0\n}',
        True,
    ),
    (
        "template with a known prefix",
        'resource "terraform_data" "t" {\n  count = "x-${terraform_data.a.id}" != "" ? 1 : 0\n}',
        False,
    ),
    (
        "template is never null",
        'resource "terraform_data" "t" {\n  count = "x-${terraform_data.a.output}" == null ? 1 : 0\n}',
        False,
    ),
    (
        "startswith a known prefix",
        'resource "terraform_data" "t" {\n  count = startswith("arn:${terraform_data.a.id}", "arn:") ? 1 : 0\n}',
        False,
    ),
    (
        "coalesce is never null",
        'resource "terraform_data" "t" {\n  count = coalesce(terraform_data.a.output, "z") == null ? 1 : 0\n}',
        False,
    ),
    (
        "no short circuit",
        (
            'variable "off" {\n  default = false\n}\n'
            'resource "terraform_data" "t" {\n  count = var.off && terraform_data.a.output == "x" ? 1 : 0\n}'
        ),
        True,
    ),
    ("module count from a caller's literal", 'module "child" {\n  source = "./child"\n  v      = "given"\n}', False),
]
CHILD = 'variable "v" {\n  default = null\n}\nresource "terraform_data" "own" {\n  count = var.v == null ? 1 : 0\n}\n'


def _write(root: Path, extra: str) -> None:
    (root / "main.tf").write_text(BASE + "\n" + textwrap.dedent(extra) + "\n")
    (root / "child").mkdir()
    (root / "child" / "main.tf").write_text(CHILD)


def _terraform(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TERRAFORM or "terraform", *args, "-no-color", *(["-input=false"] if args[0] != "validate" else [])],
        cwd=root,
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(("name", "extra", "refused"), COUNT_CASES, ids=[c[0] for c in COUNT_CASES])
def test_urr_audit_judges_count_and_for_each(tmp_path: Path, name: str, extra: str, refused: bool):
    """Refused by Terraform: a finding. Accepted: no finding; undecided only where a
    refinement urr-audit does not model may decide it (never a wrong finding)."""
    _write(tmp_path, extra)
    report = scan(tmp_path, select=["URR-TF-029"])
    assert bool(report.result.findings) is refused, [f.message for f in report.result.findings]
    if refused:
        assert report.result.undecided == [], [f.message for f in report.result.undecided]


@pytest.fixture(scope="module")
def refused_by_terraform(tmp_path_factory: pytest.TempPathFactory) -> set[int]:
    """One configuration holding every case (resource `t` renamed `t<i>`, module `child` read
    from `child<i>/`), planned once: the indexes of the cases Terraform refuses."""
    if TERRAFORM is None:
        pytest.skip("terraform not installed: no reference")
    root = tmp_path_factory.mktemp("plan")
    parts = [BASE]
    for i, (_, extra, _) in enumerate(COUNT_CASES):
        text = textwrap.dedent(extra)
        text = text.replace('"terraform_data" "t"', f'"terraform_data" "t{i}"')
        text = text.replace('module "child"', f'module "child{i}"').replace('"./child"', f'"./child{i}"')
        text = text.replace('variable "off"', f'variable "off{i}"').replace("var.off", f"var.off{i}")
        text = text.replace("locals {\n  obj", f"locals {{\n  obj{i}").replace("local.obj", f"local.obj{i}")
        parts.append(text)
        (root / f"child{i}").mkdir()
        (root / f"child{i}" / "main.tf").write_text(CHILD)
    (root / "main.tf").write_text("\n".join(parts) + "\n")
    init = _terraform(root, "init")
    if init.returncode != 0:
        pytest.skip(f"terraform init failed offline: {init.stderr[-300:]}")
    plan = _terraform(root, "plan", "-refresh=false")
    refused: set[int] = set()
    for block in plan.stderr.split("Error: ")[1:]:
        if not block.startswith(("Invalid count argument", "Invalid for_each argument")):
            continue
        m = re.search(r'on (?:child(\d+)/)?main\.tf line \d+, in (?:resource "terraform_data" "t(\d+)"|.*)', block)
        assert m is not None, block
        refused.add(int(m.group(1) or m.group(2)))
    assert plan.stderr.count("Error: ") == len(refused), plan.stderr[-2000:]
    return refused


@pytest.mark.slow
@pytest.mark.parametrize(("name", "extra", "refused"), COUNT_CASES, ids=[c[0] for c in COUNT_CASES])
def test_terraform_plan_agrees(refused_by_terraform: set[int], name: str, extra: str, refused: bool):
    i = next(n for n, c in enumerate(COUNT_CASES) if c[0] == name)
    assert (i in refused_by_terraform) is refused


ALIAS_CHILD = """
terraform {
  required_providers {
    terraform = {
      source                = "terraform.io/builtin/terraform"
      configuration_aliases = [%s]
    }
  }
}
resource "terraform_data" "x" {
  provider = terraform.foo
}
"""
ALIAS_ROOT = """
terraform {
  required_providers {
    terraform = { source = "terraform.io/builtin/terraform" }
  }
}
provider "terraform" {
  alias = "bar"
}
module "m" {
  source = "./mod"
  %s
}
"""
ALIAS_CASES = [
    ("declared and passed", "terraform.foo", "providers = { terraform.foo = terraform.bar }", False),
    ("not declared", "", "", True),
    ("declared, not passed", "terraform.foo", "", True),
    ("passing an undeclared alias", "terraform.foo", "providers = { terraform.foo = terraform.baz }", True),
]


def _write_alias(root: Path, aliases: str, providers: str) -> None:
    (root / "mod").mkdir()
    (root / "mod" / "main.tf").write_text(ALIAS_CHILD % aliases)
    (root / "main.tf").write_text(ALIAS_ROOT % providers)


@pytest.mark.parametrize(("name", "aliases", "providers", "refused"), ALIAS_CASES, ids=[c[0] for c in ALIAS_CASES])
def test_urr_audit_judges_provider_aliases(tmp_path: Path, name: str, aliases: str, providers: str, refused: bool):
    _write_alias(tmp_path, aliases, providers)
    report = scan(tmp_path, select=["URR-TF-090"])
    assert bool(report.result.findings) is refused, [f.message for f in report.result.findings]


@pytest.mark.slow
@pytest.mark.skipif(TERRAFORM is None, reason="terraform not installed: no reference")
@pytest.mark.parametrize(("name", "aliases", "providers", "refused"), ALIAS_CASES, ids=[c[0] for c in ALIAS_CASES])
def test_terraform_validate_agrees(tmp_path: Path, name: str, aliases: str, providers: str, refused: bool):
    _write_alias(tmp_path, aliases, providers)
    init = _terraform(tmp_path, "init")
    if init.returncode != 0 and not refused:
        pytest.skip(f"terraform init failed offline: {init.stderr[-300:]}")
    if init.returncode != 0:  # init itself refuses a call missing a required configuration
        assert "provider configuration" in init.stderr, init.stderr[-1500:]
        return
    validate = _terraform(tmp_path, "validate")
    assert (validate.returncode != 0) is refused, validate.stderr[-1500:]
