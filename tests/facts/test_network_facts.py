"""Network facts from small Terraform repositories: subnet tiers, where route tables lead,
security-group links (every rule form, per-instance peers, nulls), VPC endpoints."""

from __future__ import annotations

import textwrap
from pathlib import Path

from urr_audit.facts.network import network_facts
from urr_audit.loaders import load_project


def env_of(root: Path, files: dict[str, str], name: str | None = None):
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    project = load_project(root)
    envs = project.terraform.environments
    return next(e for e in envs if name is None or e.name == name)


VPC = """
variable "cidrs" {
  type    = map(string)
  default = { a = "10.1.0.0/24", b = "10.1.1.0/24" }
}
data "aws_availability_zones" "az" {}

resource "aws_vpc" "main" {
  cidr_block = "10.1.0.0/16"
}
resource "aws_internet_gateway" "gw" {
  vpc_id = aws_vpc.main.id
}
resource "aws_subnet" "public" {
  for_each          = var.cidrs
  vpc_id            = aws_vpc.main.id
  cidr_block        = each.value
  availability_zone = data.aws_availability_zones.az.names[0]
}
resource "aws_subnet" "data" {
  count      = length(data.aws_availability_zones.az.names)
  vpc_id     = aws_vpc.main.id
  cidr_block = ["10.1.9.0/24", "10.1.10.0/24"][count.index]
}
resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.gw.id
  }
}
resource "aws_route_table" "data" {
  vpc_id = aws_vpc.main.id
}
resource "aws_route_table_association" "public" {
  for_each       = aws_subnet.public
  subnet_id      = each.value.id
  route_table_id = aws_route_table.public.id
}
resource "aws_route_table_association" "data" {
  count          = 2
  subnet_id      = aws_subnet.data[count.index].id
  route_table_id = aws_route_table.data.id
}
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.main.id
  service_name      = "com.amazonaws.eu-west-1.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.data.id]
}
"""


def test_subnet_tiers_with_known_and_unknown_counts(tmp_path):
    n = network_facts(env_of(tmp_path, {"main.tf": VPC}))
    assert [v[1].value.value for v in n.vpcs] == ["10.1.0.0/16"]
    tiers = {s.name: s for s in n.subnets}
    assert set(tiers) == {"public", "data"}
    public = tiers["public"]
    assert public.count.value == 2
    assert sorted(c.value.value for c in public.cidrs) == ["10.1.0.0/24", "10.1.1.0/24"]
    assert all(not z.value.is_known and "aws_availability_zones" in z.value.reason for z in public.zones)
    data = tiers["data"]
    # the count depends on a data source: unknown with the reason, never guessed
    assert data.count.is_unknown and "aws_availability_zones" in data.count.reason
    (cidr,) = data.cidrs
    assert not cidr.known and "count.index" in cidr.written


def test_route_tables_say_where_they_lead(tmp_path):
    n = network_facts(env_of(tmp_path, {"main.tf": VPC}))
    tables = {t.address: t for t in n.route_tables}
    public, data = tables["aws_route_table.public"], tables["aws_route_table.data"]
    assert public.exits and [(r.kind, r.target) for r in public.routes] == [
        ("internet gateway", "aws_internet_gateway.gw")
    ]
    assert public.subnets == ("aws_subnet.public",)
    assert not data.exits and data.routes == ()
    assert data.subnets == ("aws_subnet.data",)
    assert data.endpoints == ("aws_vpc_endpoint.s3",)


def test_separate_route_resource_targets_a_nat_gateway(tmp_path):
    env = env_of(
        tmp_path,
        {
            "main.tf": """
            resource "aws_route_table" "app" {
              vpc_id = "vpc-1"
            }
            resource "aws_nat_gateway" "nat" {
              subnet_id = "subnet-1"
            }
            resource "aws_route" "out" {
              route_table_id         = aws_route_table.app.id
              destination_cidr_block = "0.0.0.0/0"
              nat_gateway_id         = aws_nat_gateway.nat.id
            }
            """
        },
    )
    (table,) = network_facts(env).route_tables
    (route,) = table.routes
    assert (route.kind, route.target, route.destination.value.value) == (
        "NAT gateway",
        "aws_nat_gateway.nat",
        "0.0.0.0/0",
    )
    assert table.exits


SG = """
locals {
  egress = {
    db    = { port = 5432, target = aws_security_group.db.id }
    cache = { port = 6379, target = aws_security_group.cache.id }
  }
  ingress = {
    web  = { port = 443, cidr = "0.0.0.0/0", source = null }
    peer = { port = 8080, cidr = null, source = aws_security_group.db.id }
  }
}
resource "aws_security_group" "app" {
  name = "app"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }
}
resource "aws_security_group" "db" {
  name = "db"
}
resource "aws_security_group" "cache" {
  name = "cache"
}
resource "aws_security_group_rule" "app_out" {
  for_each                 = local.egress
  type                     = "egress"
  security_group_id        = aws_security_group.app.id
  source_security_group_id = each.value.target
  protocol                 = "tcp"
  from_port                = each.value.port
  to_port                  = each.value.port
}
resource "aws_vpc_security_group_ingress_rule" "app_in" {
  for_each                     = local.ingress
  security_group_id            = aws_security_group.app.id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  cidr_ipv4                    = each.value.cidr
  referenced_security_group_id = each.value.source
}
resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.db.id
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}
"""


def test_security_group_links_in_every_rule_form(tmp_path):
    n = network_facts(env_of(tmp_path, {"main.tf": SG}))
    got = {(link.source, link.destination, link.protocol, link.ports, link.direction) for link in n.links}
    assert got == {
        ("10.0.0.0/8", "aws_security_group.app", "tcp", "22", "ingress"),  # inline block
        # for_each over a map of groups: each instance points at its own group only
        ("aws_security_group.app", "aws_security_group.db", "tcp", "5432", "egress"),
        ("aws_security_group.app", "aws_security_group.cache", "tcp", "6379", "egress"),
        # one rule form, two instances: a CIDR in one, a group in the other (nulls name nobody)
        ("0.0.0.0/0", "aws_security_group.app", "tcp", "443", "ingress"),
        ("aws_security_group.db", "aws_security_group.app", "tcp", "8080", "ingress"),
        ("aws_security_group.db", "0.0.0.0/0", "all", "all", "egress"),
    }
    assert set(n.groups) == {"aws_security_group.app", "aws_security_group.db", "aws_security_group.cache"}


def test_cidr_known_only_after_apply_names_whose_it_is(tmp_path):
    env = env_of(
        tmp_path,
        {
            "main.tf": """
            resource "aws_vpc" "v" {
              cidr_block = var.cidr
            }
            variable "cidr" {
              type = string
            }
            resource "aws_security_group" "e" {
              vpc_id = aws_vpc.v.id
            }
            resource "aws_vpc_security_group_ingress_rule" "https" {
              security_group_id = aws_security_group.e.id
              ip_protocol       = "tcp"
              from_port         = 443
              to_port           = 443
              cidr_ipv4         = aws_vpc.v.cidr_block
            }
            """
        },
    )
    (link,) = network_facts(env).links
    assert (link.peer.kind, link.peer.name) == ("cidr of", "aws_vpc.v")


def test_interface_endpoints_by_key_with_unknown_service_name(tmp_path):
    env = env_of(
        tmp_path,
        {
            "main.tf": """
            data "aws_region" "r" {}
            resource "aws_subnet" "app" {
              vpc_id     = "vpc-1"
              cidr_block = "10.0.0.0/24"
            }
            resource "aws_vpc_endpoint" "i" {
              for_each          = toset(["sts", "logs"])
              vpc_id            = "vpc-1"
              service_name      = "com.amazonaws.${data.aws_region.r.name}.${each.key}"
              vpc_endpoint_type = "Interface"
              subnet_ids        = [aws_subnet.app.id]
            }
            """
        },
    )
    eps = network_facts(env).endpoints
    assert [(e.key, e.type, e.placed_in) for e in eps] == [
        ("logs", "Interface", ("aws_subnet.app",)),
        ("sts", "Interface", ("aws_subnet.app",)),
    ]
    assert all(e.service is not None and e.service.value.is_unknown for e in eps)
