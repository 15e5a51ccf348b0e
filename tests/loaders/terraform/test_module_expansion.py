"""count/for_each on module calls: one module instance per key, per-instance arguments,
nested keyed addresses, outputs of expanded calls read from the caller."""

from __future__ import annotations

from urr_audit.model.terraform import call_address, parent_address, static_address

QUEUE = {
    "modules/queue/main.tf": """
        variable "name" {}
        variable "fifo" { default = false }
        variable "index" { default = null }
        resource "aws_sqs_queue" "q" {
          name       = var.name
          fifo_queue = var.fifo
        }
        output "name" { value = var.name }
        output "fifo" { value = var.fifo }
    """,
}


def _env(load_tree, files):
    project, errors = load_tree({**QUEUE, **files})
    assert errors == []
    (env,) = project.environments
    return env


def _by_address(env):
    return {i.address: i for i in env.instances}


def test_for_each_over_a_tfvars_map_gives_one_instance_per_key_with_its_own_arguments(load_tree) -> None:
    env = _env(
        load_tree,
        {
            "env/main.tf": """
            variable "queues" {}
            module "queues" {
              source   = "../modules/queue"
              for_each = var.queues
              name     = "urr-${each.key}"
              fifo     = each.value.fifo
            }
        """,
            "env/terraform.tfvars": "queues = { ticket = { fifo = true }, audit = { fifo = false } }\n",
        },
    )
    got = _by_address(env)
    assert list(got) == ["", 'module.queues["audit"]', 'module.queues["ticket"]']  # keys sorted
    ticket = got['module.queues["ticket"]']
    assert ticket.key == "ticket" and ticket.call_address == "module.queues" and ticket.exists.value is True
    assert ticket.variables["name"].value == "urr-ticket" and ticket.variables["fifo"].value is True
    assert got['module.queues["audit"]'].variables["fifo"].value is False
    queues = {ri.address: ri.get("name").value for ri in env.resources("aws_sqs_queue")}
    assert queues == {
        'module.queues["audit"].aws_sqs_queue.q': "urr-audit",
        'module.queues["ticket"].aws_sqs_queue.q': "urr-ticket",
    }


def test_count_binds_count_index_in_the_arguments(load_tree) -> None:
    env = _env(
        load_tree,
        {
            "env/main.tf": """
            module "shard" {
              source = "../modules/queue"
              count  = 2
              name   = "shard-${count.index}"
              index  = count.index
            }
        """
        },
    )
    got = _by_address(env)
    assert list(got) == ["", "module.shard[0]", "module.shard[1]"]
    assert got["module.shard[1]"].key == 1
    assert [got[f"module.shard[{i}]"].variables["name"].value for i in (0, 1)] == ["shard-0", "shard-1"]
    assert got["module.shard[0]"].variables["index"].value == 0


def test_nested_expansion_composes_addresses(load_tree) -> None:
    env = _env(
        load_tree,
        {
            "modules/pair/main.tf": """
            variable "prefix" {}
            module "q" {
              source = "../queue"
              count  = 2
              name   = "${var.prefix}-${count.index}"
            }
            output "names" { value = module.q[*].name }
        """,
            "env/main.tf": """
            module "pair" {
              source   = "../modules/pair"
              for_each = toset(["a", "b"])
              prefix   = each.key
            }
            output "b_names" { value = module.pair["b"].names }
        """,
        },
    )
    got = _by_address(env)
    assert list(got) == [
        "",
        'module.pair["a"]',
        'module.pair["a"].module.q[0]',
        'module.pair["a"].module.q[1]',
        'module.pair["b"]',
        'module.pair["b"].module.q[0]',
        'module.pair["b"].module.q[1]',
    ]
    deep = got['module.pair["b"].module.q[1]']
    assert deep.variables["name"].value == "b-1"
    assert deep.parent_address == 'module.pair["b"]' and deep.call_address == 'module.pair["b"].module.q'
    assert deep.static_address == "module.pair.module.q"
    assert env.root.eval(env.module.outputs["b_names"].expr).value == ["b-0", "b-1"]


def test_addresses_with_dots_in_keys_are_not_split() -> None:
    a = 'module.a["x.module.y"].module.b[0]'
    assert parent_address(a) == 'module.a["x.module.y"]'
    assert call_address(a) == 'module.a["x.module.y"].module.b'
    assert static_address(a) == "module.a.module.b"
    assert parent_address("module.a") == "" and call_address("module.a[3]") == "module.a"


def test_known_empty_creates_no_instance_and_is_recorded(load_tree) -> None:
    env = _env(
        load_tree,
        {
            "env/main.tf": """
            variable "queues" { default = {} }
            module "none" {
              source   = "../modules/queue"
              for_each = var.queues
              name     = each.key
            }
            output "all" { value = module.none[*] }
        """
        },
    )
    assert [i.address for i in env.instances] == [""]
    assert [(s.address, s.span.line) for s in env.skipped_modules] == [("module.none", 3)]
    assert "for_each = var.queues" in env.skipped_modules[0].reason


def test_unknown_collection_leaves_one_unexpanded_instance(load_tree) -> None:
    env = _env(
        load_tree,
        {
            "env/main.tf": """
            resource "aws_s3_bucket" "b" {}
            module "maybe" {
              source   = "../modules/queue"
              for_each = toset([aws_s3_bucket.b.id])
              name     = each.key
            }
            output "name" { value = module.maybe["x"].name }
        """
        },
    )
    got = _by_address(env)
    assert list(got) == ["", "module.maybe"]
    maybe = got["module.maybe"]
    assert maybe.key is None and maybe.exists.value is True  # one element, its value unknown
    name = maybe.variables["name"]
    assert name.is_unknown and "each.* is unknown" in name.reason and "aws_s3_bucket.b" in name.reason
    out = env.root.eval(env.module.outputs["name"].expr)
    assert out.is_unknown and "cannot be resolved" in out.reason


def test_outputs_of_an_expanded_module(load_tree) -> None:
    env = _env(
        load_tree,
        {
            "env/main.tf": """
            module "queues" {
              source   = "../modules/queue"
              for_each = { ticket = true, audit = false }
              name     = each.key
              fifo     = each.value
            }
            module "shard" {
              source = "../modules/queue"
              count  = 2
              name   = "shard-${count.index}"
            }
            locals {
              k = "ticket"
            }
            output "by_key"   { value = module.queues["ticket"].fifo }
            output "by_local" { value = module.queues[local.k].name }
            output "by_index" { value = module.shard[1].name }
            output "legacy"   { value = module.shard.0.name }
            output "splat"    { value = module.shard[*].name }
            output "for"      { value = { for k, m in module.queues : k => m.fifo } }
            output "values"   { value = values(module.queues)[*].name }
            output "bad"      { value = module.queues.name }
            output "missing"  { value = module.queues["nope"].name }
        """
        },
    )
    out = {n: env.root.eval(o.expr) for n, o in env.module.outputs.items()}
    assert out["by_key"].value is True and out["by_local"].value == "ticket"
    assert out["by_index"].value == "shard-1" and out["legacy"].value == "shard-0"
    assert out["splat"].value == ["shard-0", "shard-1"]
    assert out["for"].value == {"audit": False, "ticket": True}
    assert out["values"].value == ["audit", "ticket"]
    assert out["bad"].is_unknown and 'module.queues["key"].name' in out["bad"].reason
    assert out["missing"].is_unknown and "no instance" in out["missing"].reason


def test_for_each_may_read_a_sibling_declared_later(load_tree) -> None:
    env = _env(
        load_tree,
        {
            "modules/names/main.tf": 'output "names" { value = ["x", "y"] }\n',
            "env/main.tf": """
            module "queues" {
              source   = "../modules/queue"
              for_each = toset(module.names.names)
              name     = each.value
            }
            module "names" {
              source = "../modules/names"
            }
        """,
        },
    )
    # built on demand, listed as written
    assert [i.address for i in env.instances] == ["", 'module.queues["x"]', 'module.queues["y"]', "module.names"]
