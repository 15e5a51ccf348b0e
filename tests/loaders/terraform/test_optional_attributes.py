"""Type constraints with `optional()` attributes: Terraform fills the attributes a caller
leaves out (null, or the declared default) before the module reads them."""

from __future__ import annotations

from urr_audit.model.common import UnknownLeaf


def _env(load_tree, files):
    project, errors = load_tree(files)
    assert not [e for e in errors if e.level == "error"], errors
    return {e.name: e for e in project.environments}


CHILD = """
variable "rules" {
  type = map(object({
    port     = number
    protocol = optional(string, "tcp")
    cidr     = optional(string)
    extra    = optional(object({ on = optional(bool, true) }), {})
  }))
}
variable "settings" {
  type = object({
    enabled = optional(bool, true)
    tags    = optional(list(object({ k = string, v = optional(string, "x") })), [])
  })
  default = {}
}
locals {
  rules    = var.rules
  settings = var.settings
}
"""


def test_omitted_optional_attributes_read_as_null_or_default(load_tree):
    envs = _env(
        load_tree,
        {
            "mod/main.tf": CHILD,
            "root/main.tf": """
            module "m" {
              source = "../mod"
              rules = {
                ssh = { port = 22, cidr = "10.0.0.0/8" }
                web = { port = 443, protocol = "udp", extra = { on = false } }
              }
              settings = { tags = [{ k = "a" }] }
            }
            """,
        },
    )
    child = next(i for i in envs["root"].instances if i.address == "module.m")
    rules = child.eval(child.module.locals["rules"].expr)
    assert rules.is_known
    assert rules.value == {
        "ssh": {"port": 22, "protocol": "tcp", "cidr": "10.0.0.0/8", "extra": {"on": True}},
        "web": {"port": 443, "protocol": "udp", "cidr": None, "extra": {"on": False}},
    }
    settings = child.eval(child.module.locals["settings"].expr)
    assert settings.value == {"enabled": True, "tags": [{"k": "a", "v": "x"}]}


def test_variable_default_is_converted_and_unknown_parts_stay_unknown(load_tree):
    envs = _env(
        load_tree,
        {
            "mod/main.tf": CHILD,
            "root/main.tf": """
            resource "aws_vpc" "v" {
              cidr_block = "10.0.0.0/16"
            }
            module "m" {
              source = "../mod"
              rules  = { a = { port = 80, cidr = aws_vpc.v.cidr_block } }
            }
            """,
        },
    )
    child = next(i for i in envs["root"].instances if i.address == "module.m")
    assert child.eval(child.module.locals["settings"].expr).value == {"enabled": True, "tags": []}
    rules = child.eval(child.module.locals["rules"].expr)
    assert rules.is_unknown
    assert rules.partial["a"]["protocol"] == "tcp"
    assert isinstance(rules.partial["a"]["cidr"], UnknownLeaf)
    # the origin (the module argument) survives the conversion
    assert rules.origin is not None and rules.origin.path == "root/main.tf"
