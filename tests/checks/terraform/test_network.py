"""The security group model: one normalisation of protocol and ports, the four ways of writing
a rule read alike, and references between groups followed through modules."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from urr_audit.checks.terraform._network import Traffic, network, normalize_traffic
from urr_audit.loaders import load_project
from urr_audit.model.common import Value
from urr_audit.scan import scan


def V(x):
    return Value.absent() if x is None else Value.known(x)


@pytest.mark.parametrize(
    ("protocol", "lo", "hi", "expected"),
    [
        (-1, 0, 0, Traffic("all")),
        ("-1", -1, -1, Traffic("all")),
        ("all", None, None, Traffic("all")),
        ("ALL", 0, 65535, Traffic("all")),
        (-1.0, 0, 0, Traffic("all")),
        ("6", 22, 22, Traffic("tcp", 22, 22)),
        ("tcp", "22", "22", Traffic("tcp", 22, 22)),
        ("TCP", 0, 0, Traffic("tcp", 0, 0)),
        ("17", 0, 65535, Traffic("udp", 0, 65535)),
        ("icmp", -1, -1, Traffic("icmp", -1, -1)),
        ("1", 8, 0, Traffic("icmp", -1, -1)),
        ("58", -1, -1, Traffic("icmpv6", -1, -1)),
        ("50", 0, 0, Traffic("50", -1, -1)),
        ("tcp", -1, -1, "tcp with port -1"),
        ("udp", 0, -1, "udp with port -1"),
        ("tcp", 22, 21, "port range 22-21 is not valid"),
        ("tcp", None, 22, "tcp rule without from_port"),
        ("tcp", 0, 70000, "port range 0-70000 is not valid"),
        ("gre", 0, 0, "not an IP protocol name or number"),
        (None, 0, 0, "no protocol"),
    ],
)
def test_normalize_traffic(protocol, lo, hi, expected):
    got = normalize_traffic(V(protocol), V(lo), V(hi))
    if isinstance(expected, Traffic):
        assert got == expected
    else:
        assert isinstance(got, str) and expected in got


def test_unknown_values_give_their_reason():
    got = normalize_traffic(Value.known("tcp"), Value.unknown("depends on var.port"), Value.known(22))
    assert got == "from_port cannot be resolved (depends on var.port)"


@pytest.mark.parametrize(
    ("traffic", "every_port", "text"),
    [
        (Traffic("all"), True, "all protocols and ports"),
        (Traffic("tcp", 0, 65535), True, "tcp 0-65535"),
        (Traffic("tcp", 1, 65535), True, "tcp 1-65535"),
        (Traffic("tcp", 0, 0), False, "tcp 0"),
        (Traffic("udp", 53, 53), False, "udp 53"),
        (Traffic("icmp", -1, -1), False, "icmp"),
        (Traffic("50", -1, -1), False, "IP protocol 50"),
    ],
)
def test_traffic_properties(traffic, every_port, text):
    assert traffic.every_port is every_port
    assert str(traffic) == text


def test_admits():
    assert Traffic("all").admits("tcp", 5432)
    assert Traffic("tcp", 5000, 6000).admits("tcp", 5432)
    assert not Traffic("tcp", 5000, 6000).admits("udp", 5432)
    assert not Traffic("icmp", -1, -1).admits("tcp", 5432)


# --- the four ways of writing a rule -------------------------------------------------------

FORMS = {
    "block": """
        resource "aws_security_group" "g" {
          name = "g"
          ingress {
            protocol    = PROTOCOL
            from_port   = FROM
            to_port     = TO
            cidr_blocks = ["0.0.0.0/0"]
          }
        }
    """,
    "attribute": """
        resource "aws_security_group" "g" {
          name = "g"
          ingress = [
            {
              protocol         = PROTOCOL
              from_port        = FROM
              to_port          = TO
              cidr_blocks      = ["0.0.0.0/0"]
              ipv6_cidr_blocks = []
              prefix_list_ids  = []
              security_groups  = []
              self             = false
              description      = "x"
            },
          ]
        }
    """,
    "rule": """
        resource "aws_security_group" "g" {
          name = "g"
        }
        resource "aws_security_group_rule" "r" {
          type              = "ingress"
          security_group_id = aws_security_group.g.id
          protocol          = PROTOCOL
          from_port         = FROM
          to_port           = TO
          cidr_blocks       = ["0.0.0.0/0"]
        }
    """,
    "vpc_rule": """
        resource "aws_security_group" "g" {
          name = "g"
        }
        resource "aws_vpc_security_group_ingress_rule" "r" {
          security_group_id = aws_security_group.g.id
          ip_protocol       = PROTOCOL
          from_port         = FROM
          to_port           = TO
          cidr_ipv4         = "0.0.0.0/0"
        }
    """,
}


def _scan_form(tmp_path: Path, form: str, protocol: str, lo: str, hi: str):
    text = FORMS[form].replace("PROTOCOL", protocol).replace("FROM", lo).replace("TO", hi)
    (tmp_path / "main.tf").write_text(textwrap.dedent(text))
    r = scan(tmp_path, select=["URR-TF-006", "URR-TF-007"]).result
    return (
        sorted({f.rule_id for f in r.findings}),
        sorted({f.rule_id for f in r.undecided}),
        sorted(f.message.split(": ", 1)[1] for f in r.findings),
    )


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize(
    ("protocol", "lo", "hi", "found", "undecided"),
    [
        ('"-1"', "0", "0", ["URR-TF-006", "URR-TF-007"], []),
        ("-1", "-1", "-1", ["URR-TF-006", "URR-TF-007"], []),
        ('"all"', "0", "0", ["URR-TF-006", "URR-TF-007"], []),
        ('"tcp"', "0", "65535", ["URR-TF-006", "URR-TF-007"], []),
        ('"6"', "22", "22", ["URR-TF-006"], []),
        ('"tcp"', "443", "443", [], []),
        ('"tcp"', "-1", "-1", [], ["URR-TF-006", "URR-TF-007"]),  # not a port: not guessed
        ('"icmp"', "-1", "-1", [], []),
    ],
)
def test_every_way_of_writing_a_rule_is_read_alike(tmp_path, form, protocol, lo, hi, found, undecided):
    got_found, got_undecided, messages = _scan_form(tmp_path, form, protocol, lo, hi)
    assert (got_found, got_undecided) == (found, undecided)
    if "URR-TF-007" in found:
        assert any("from the internet on" in m for m in messages)


def test_attribute_form_reports_each_element_at_its_own_line(tmp_path):
    (tmp_path / "main.tf").write_text(
        textwrap.dedent(
            """
            resource "aws_security_group" "g" {
              name = "g"
              ingress = [
                {
                  protocol    = "tcp"
                  from_port   = 443
                  to_port     = 443
                  cidr_blocks = ["0.0.0.0/0"]
                },
                {
                  protocol    = "tcp"
                  from_port   = 22
                  to_port     = 22
                  cidr_blocks = ["0.0.0.0/0"]
                },
              ]
            }
            """
        )
    )
    r = scan(tmp_path, select=["URR-TF-006"]).result
    assert [(f.line, f.message) for f in r.findings] == [
        (11, "aws_security_group.g: ingress from the internet on tcp 22; only ports 80, 443 may be open to the world")
    ]


def test_rules_and_peers_land_on_groups_through_modules(tmp_path):
    files = {
        "main.tf": """
            module "db" {
              source        = "./db"
              client_groups = [aws_security_group.app.id]
            }
            resource "aws_security_group" "app" {
              name = "app"
            }
            resource "aws_vpc_security_group_egress_rule" "to_db" {
              security_group_id            = aws_security_group.app.id
              referenced_security_group_id = module.db.security_group_id
              ip_protocol                  = "tcp"
              from_port                    = 5432
              to_port                      = 5432
            }
        """,
        "db/main.tf": """
            variable "client_groups" {
              type = list(string)
            }
            resource "aws_security_group" "db" {
              name = "db"
              dynamic "ingress" {
                for_each = var.client_groups
                content {
                  protocol        = "tcp"
                  from_port       = 5432
                  to_port         = 5432
                  security_groups = [ingress.value]
                }
              }
            }
            output "security_group_id" {
              value = aws_security_group.db.id
            }
        """,
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    env = load_project(tmp_path).terraform.environments[0]
    net = network(env)
    by_owner = {(r.direction, next(iter(net.owner_of(r)))): r for r in net.rules}
    egress = by_owner[("egress", "aws_security_group.app")]
    assert net.peer_groups(egress, egress.peers[0]) == {"module.db.aws_security_group.db"}
    ingress = by_owner[("ingress", "module.db.aws_security_group.db")]
    assert net.peer_groups(ingress, ingress.peers[0]) == {"aws_security_group.app"}
    assert ingress.traffic == Traffic("tcp", 5432, 5432)
