"""count/for_each expansion of resources and dynamic blocks; expression traversals."""

from __future__ import annotations

from urr_audit.model.common import ValueState


def _by_address(project, type_):
    return {ri.address: ri for ri in project.resources(type_)}


def test_for_each_over_a_known_set_gives_one_instance_per_key(load_tree) -> None:
    project, _ = load_tree(
        {
            "main.tf": """
        resource "aws_security_group_rule" "db" {
          for_each  = toset(["6379", "5432"])
          type      = "ingress"
          from_port = each.value
          to_port   = each.key
        }
    """
        }
    )
    got = _by_address(project, "aws_security_group_rule")
    assert list(got) == ['aws_security_group_rule.db["5432"]', 'aws_security_group_rule.db["6379"]']  # sorted keys
    ri = got['aws_security_group_rule.db["6379"]']
    assert ri.key == "6379" and ri.resource_address == "aws_security_group_rule.db"
    assert ri.get("from_port").value == "6379" and ri.get("to_port").value == "6379"
    assert ri.get("type").value == "ingress" and ri.exists.value is True


def test_for_each_over_a_map_from_a_variable_binds_each_key_and_value(load_tree) -> None:
    project, _ = load_tree(
        {
            "main.tf": """
            variable "ports" {
              type = map(object({ port = number }))
            }
            resource "aws_vpc_security_group_ingress_rule" "in" {
              for_each    = var.ports
              description = "${each.key} in"
              from_port   = each.value.port
            }
        """,
            "terraform.tfvars": "ports = { ssh = { port = 22 }, https = { port = 443 } }\n",
        }
    )
    got = _by_address(project, "aws_vpc_security_group_ingress_rule")
    assert list(got) == [
        'aws_vpc_security_group_ingress_rule.in["https"]',
        'aws_vpc_security_group_ingress_rule.in["ssh"]',
    ]
    ssh = got['aws_vpc_security_group_ingress_rule.in["ssh"]']
    assert ssh.get("from_port").value == 22 and ssh.get("description").value == "ssh in"
    assert got['aws_vpc_security_group_ingress_rule.in["https"]'].get("from_port").value == 443


def test_count_gives_indexed_instances_with_count_index(load_tree) -> None:
    project, _ = load_tree(
        {
            "modules/m/main.tf": """
            resource "aws_instance" "web" {
              count = 2
              name  = "web-${count.index}"
            }
        """,
            "main.tf": 'module "m" {\n  source = "./modules/m"\n}\n',
        }
    )
    got = _by_address(project, "aws_instance")
    assert list(got) == ["module.m.aws_instance.web[0]", "module.m.aws_instance.web[1]"]
    assert [ri.get("name").value for ri in got.values()] == ["web-0", "web-1"]
    assert [ri.key for ri in got.values()] == [0, 1]


def test_unknown_collection_keeps_one_unexpanded_instance(load_tree) -> None:
    project, _ = load_tree(
        {
            "main.tf": """
        resource "aws_subnet" "s" {
          for_each = toset(aws_vpc.v.ipv6_cidr_blocks)
          name     = each.value
          vpc_id   = "vpc-1"
        }
        resource "aws_route" "r" {
          count = length(aws_subnet.s)
          name  = count.index
        }
    """
        }
    )
    [s] = project.resources("aws_subnet")
    assert s.key is None and s.address == "aws_subnet.s"
    assert s.get("name").is_unknown and s.get("vpc_id").value == "vpc-1"
    assert "aws_vpc.v.ipv6_cidr_blocks" in s.get("name").reason  # why each.* is unknown
    assert s.exists.is_unknown
    [r] = project.resources("aws_route")
    assert r.address == "aws_route.r" and r.get("name").is_unknown


def test_known_empty_collection_is_one_instance_that_does_not_exist(load_tree) -> None:
    project, _ = load_tree({"main.tf": 'resource "aws_x" "y" {\n  for_each = {}\n  name = each.key\n}\n'})
    [ri] = project.resources("aws_x")
    assert ri.key is None and ri.exists.state is ValueState.KNOWN and ri.exists.value is False


def test_map_with_unknown_values_has_known_keys(load_tree) -> None:
    project, _ = load_tree(
        {
            "main.tf": """
        resource "aws_security_group_rule" "r" {
          for_each          = { redis = aws_security_group.redis.id, kafka = aws_security_group.kafka.id }
          security_group_id = each.value
          description       = each.key
        }
    """
        }
    )
    got = _by_address(project, "aws_security_group_rule")
    assert list(got) == ['aws_security_group_rule.r["kafka"]', 'aws_security_group_rule.r["redis"]']
    redis = got['aws_security_group_rule.r["redis"]']
    assert redis.get("description").value == "redis"
    v = redis.get("security_group_id")
    assert v.is_unknown and "aws_security_group.redis" in v.reason


def test_address_for_names_the_instance_only_when_the_value_reads_each(load_tree) -> None:
    project, _ = load_tree(
        {
            "main.tf": """
        resource "aws_db_instance" "db" {
          for_each          = toset(["a", "b"])
          identifier        = each.key
          storage_encrypted = false
        }
    """
        }
    )
    a = next(iter(project.resources("aws_db_instance")))
    assert a.reads_instance("identifier") and not a.reads_instance("storage_encrypted")
    assert a.address_for("identifier") == 'aws_db_instance.db["a"]'
    assert a.address_for("storage_encrypted") == "aws_db_instance.db"


DYNAMIC = """
variable "ports" {
  default = [22, 443]
}

resource "aws_security_group" "sg" {
  for_each = toset(["x"])
  ingress {
    from_port = 80
  }
  dynamic "ingress" {
    for_each = var.ports
    iterator = port
    content {
      from_port   = port.value
      description = "${each.key}-${port.key}"
      dynamic "tag" {
        for_each = { a = port.value }
        content {
          value = "${tag.key}=${tag.value}"
        }
      }
    }
  }
  dynamic "egress" {
    for_each = aws_vpc.v.cidrs
    content {
      cidr_blocks = [egress.value]
      protocol    = "-1"
    }
  }
}
"""


def test_dynamic_blocks_expand_with_their_iterator_bound(load_tree) -> None:
    project, _ = load_tree({"main.tf": DYNAMIC})
    [sg] = project.resources("aws_security_group")
    ingress = sg.blocks("ingress")
    assert [b.get("from_port").value for b in ingress] == [80, 22, 443]  # source order, then by key
    assert [b.key for b in ingress] == [None, 0, 1]
    assert ingress[1].dynamic is not None and ingress[1].get("description").value == "x-0"
    assert [t.get("value").value for t in ingress[2].blocks("tag")] == ["a=443"]
    assert sg.get("ingress.from_port").value == 80  # the first block
    assert sg.attribute("egress.protocol") is not None  # attributes found through `content`


def test_dynamic_block_over_an_unknown_collection_is_one_view_with_unknown_iterator(load_tree) -> None:
    project, _ = load_tree({"main.tf": DYNAMIC})
    [sg] = project.resources("aws_security_group")
    [egress] = sg.blocks("egress")
    assert egress.key is None and egress.dynamic is not None
    cidrs = egress.get("cidr_blocks")
    assert cidrs.is_unknown and 'dynamic "egress"' in cidrs.reason
    assert egress.get("protocol").value == "-1"  # written literally in the content
    assert sg.get("egress.protocol").is_unknown  # the block itself may not exist


def test_traversals_are_dotted_up_to_the_first_index(load_tree) -> None:
    project, _ = load_tree(
        {
            "main.tf": """
        locals {
          a = "${aws_secretsmanager_secret_version.db.secret_string}-${var.x.y[0].z}"
          b = [for s in aws_subnet.s[*].id : s]
          c = data.aws_iam_policy_document.p["k"].json
          d = aws_instance.web[0].private_ip
        }
        resource "aws_x" "y" {
          for_each = {}
          port     = each.value.port
        }
    """
        }
    )
    mod = project.modules["."]
    assert mod.locals["a"].expr.traversals == ["aws_secretsmanager_secret_version.db.secret_string", "var.x.y"]
    assert mod.locals["b"].expr.traversals == ["aws_subnet.s", "s"]
    assert mod.locals["c"].expr.traversals == ["data.aws_iam_policy_document.p.json"]  # instance key skipped
    assert mod.locals["d"].expr.traversals == ["aws_instance.web.private_ip"]
    port = mod.resources[0].body.attr("port").expr
    assert port.traversals == ["each.value.port"] and port.reads("each") and not port.reads("count")
