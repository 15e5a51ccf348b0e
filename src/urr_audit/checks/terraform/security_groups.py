"""Security group rules: what is reachable from (or can reach) the whole internet, on which ports.

Rules come from three places: inline `ingress`/`egress` blocks of `aws_security_group`,
`aws_security_group_rule` (by `type`), and `aws_vpc_security_group_{ingress,egress}_rule`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.model.common import Span, Value
from urr_audit.model.terraform import ResourceInstance

ALL_PROTOCOLS = ("-1", "all")
ICMP = ("1", "icmp", "58", "icmpv6")
SG_TYPES = (
    "aws_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
)


@dataclass
class SgRule:
    direction: str
    protocol: Value
    from_port: Value
    to_port: Value
    cidrs: list[Value]  # one Value per CIDR attribute written (lists or single strings)
    other_source: bool  # a security group, prefix list or `self` is (also) the peer
    span: Span
    subject: str  # the address findings name: the instance's when the rule reads each/count
    self_only: bool = False  # the group itself is the only peer (inline `self = true` alone)


# inline-block attributes naming a peer other than the group itself
_INLINE_PEERS = ("cidr_blocks", "ipv6_cidr_blocks", "security_groups", "prefix_list_ids")

_RULE_ATTRIBUTES = (
    "type",
    "protocol",
    "ip_protocol",
    "from_port",
    "to_port",
    "cidr_blocks",
    "ipv6_cidr_blocks",
    "cidr_ipv4",
    "cidr_ipv6",
)


def _rules(ri: ResourceInstance) -> Iterator[SgRule]:
    if ri.type == "aws_security_group":
        for direction in ("ingress", "egress"):
            for b in ri.blocks(direction):
                per_instance = ri.key is not None and (
                    any(a.expr.reads("each", "count") for a in b.block.attributes.values())
                    or (
                        b.dynamic is not None
                        and any(a.expr.reads("each", "count") for a in b.dynamic.attributes.values())
                    )
                )
                yield SgRule(
                    direction,
                    b.get("protocol"),
                    b.get("from_port"),
                    b.get("to_port"),
                    [b.get("cidr_blocks"), b.get("ipv6_cidr_blocks")],
                    any(not b.get(a).is_absent for a in ("security_groups", "prefix_list_ids", "self")),
                    b.span,
                    ri.address if per_instance else ri.resource_address,
                    b.get("self").known_or(False) is True and all(b.get(a).is_absent for a in _INLINE_PEERS),
                )
    elif ri.type == "aws_security_group_rule":
        t = ri.get("type")
        if not t.is_known:
            return
        yield SgRule(
            t.value,
            ri.get("protocol"),
            ri.get("from_port"),
            ri.get("to_port"),
            [ri.get("cidr_blocks"), ri.get("ipv6_cidr_blocks")],
            any(not ri.get(a).is_absent for a in ("source_security_group_id", "prefix_list_ids", "self")),
            ri.span,
            ri.address_for(*_RULE_ATTRIBUTES),
        )
    else:
        direction = "ingress" if ri.type.endswith("ingress_rule") else "egress"
        yield SgRule(
            direction,
            ri.get("ip_protocol"),
            ri.get("from_port"),
            ri.get("to_port"),
            [ri.get("cidr_ipv4"), ri.get("cidr_ipv6")],
            any(not ri.get(a).is_absent for a in ("referenced_security_group_id", "prefix_list_id")),
            ri.span,
            ri.address_for(*_RULE_ATTRIBUTES),
        )


def _world(rule: SgRule, world: list[str]) -> bool | None:
    """True when a CIDR is the whole internet, None when some CIDR cannot be resolved."""
    unknown = False
    for v in rule.cidrs:
        if v.is_unknown:
            unknown = True
        elif v.is_known and v.value is not None:
            values = v.value if isinstance(v.value, list) else [v.value]
            for c in values:
                if c in world:
                    return True
                if not isinstance(c, str):
                    unknown = True
    return None if unknown else False


def _why(rule: SgRule) -> str:
    """The reason the first unresolved value of the rule gives, for an undecided message."""
    for v in (*rule.cidrs, rule.protocol, rule.from_port, rule.to_port):
        if v.is_unknown and v.reason:
            return f" ({v.reason})"
    return ""


def _ports(rule: SgRule) -> tuple[str, int, int] | None:
    """(protocol, from, to); ports 0-65535 for every protocol; None when unknown."""
    p = rule.protocol
    if not p.is_known:
        return None
    proto = str(p.value).lower()
    if proto in ALL_PROTOCOLS:
        return proto, 0, 65535
    f, t = rule.from_port, rule.to_port
    if f.is_absent and t.is_absent:
        return proto, 0, 65535
    if not (f.is_known and t.is_known):
        return None
    try:
        return proto, int(f.value), int(t.value)
    except (TypeError, ValueError):
        return None


def _fmt(proto: str, lo: int, hi: int) -> str:
    if proto in ALL_PROTOCOLS:
        return "all protocols and ports"
    return f"{proto} {lo}" if lo == hi else f"{proto} {lo}-{hi}"


def _outside(ports: tuple[str, int, int], allowed: list[int]) -> list[int]:
    """The ports of the range not in `allowed` (the first one only for huge ranges)."""
    _, lo, hi = ports
    return [p for p in range(lo, hi + 1) if p not in allowed] if hi - lo < 70000 else [lo]


class OpenPortParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    world_cidrs: list[str] = ["0.0.0.0/0", "::/0"]
    allowed_ports: list[int] = [80, 443]


@check("tf-sg-world-open-port", scope="terraform.resource", params=OpenPortParams, types=SG_TYPES)
def world_open_port(ctx: Context, ri: ResourceInstance, params: OpenPortParams) -> Iterator[Hit]:
    """Ingress from the whole internet on a port that is not in the allowed list."""
    for rule in _rules(ri):
        if rule.direction != "ingress":
            continue
        world = _world(rule, params.world_cidrs)
        if world is False:
            continue
        ports = _ports(rule)
        if ports is not None and ports[0] in ICMP:
            continue
        outside = _outside(ports, params.allowed_ports) if ports is not None else None
        if outside == []:  # only allowed ports: whatever the source, nothing to report
            continue
        if world is None or ports is None:
            yield ctx.undecided(
                at=rule.span,
                node=ri,
                address=rule.subject,
                message=f"{rule.subject}: ingress source or ports cannot be resolved{_why(rule)}",
            )
            continue
        proto, lo, hi = ports
        yield ctx.finding(
            at=rule.span,
            node=ri,
            address=rule.subject,
            message=(
                f"{rule.subject}: ingress from the internet on {_fmt(proto, lo, hi)}; only ports "
                f"{', '.join(map(str, params.allowed_ports))} may be open to the world"
            ),
        )


class AllPortsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    direction: Literal["ingress", "egress"]
    # "world": only rules whose CIDRs include world_cidrs; "any": whatever the peer (a security
    # group referring to itself is always left out: members of one group talking to each other).
    peer: Literal["world", "any"] = "world"
    world_cidrs: list[str] = ["0.0.0.0/0", "::/0"]


@check("tf-sg-all-ports", scope="terraform.resource", params=AllPortsParams, types=SG_TYPES)
def all_ports(ctx: Context, ri: ResourceInstance, params: AllPortsParams) -> Iterator[Hit]:
    """A rule spanning every port (protocol -1/all, or 0-65535)."""
    for rule in _rules(ri):
        if rule.direction != params.direction:
            continue
        if rule.self_only or _self_only(ri):
            continue
        world = _world(rule, params.world_cidrs)
        if params.peer == "world" and world is False:
            continue
        ports = _ports(rule)
        if ports is None or (params.peer == "world" and world is None):
            yield ctx.undecided(
                at=rule.span,
                node=ri,
                address=rule.subject,
                message=f"{rule.subject}: {params.direction} peer or ports cannot be resolved{_why(rule)}",
            )
            continue
        proto, lo, hi = ports
        if proto in ICMP or lo > 0 or hi < 65535:
            continue
        peer = "the internet" if world else "its peers"
        toward = "from" if params.direction == "ingress" else "to"
        yield ctx.finding(
            at=rule.span,
            node=ri,
            address=rule.subject,
            message=f"{rule.subject}: {params.direction} {toward} {peer} on {_fmt(proto, lo, hi)}",
        )


_PEER_ATTRIBUTE = {
    "aws_security_group_rule": "source_security_group_id",
    "aws_vpc_security_group_ingress_rule": "referenced_security_group_id",
    "aws_vpc_security_group_egress_rule": "referenced_security_group_id",
}


def _self_only(ri: ResourceInstance) -> bool:
    """A rule whose peer is the group itself: `self = true`, both ids known and equal, or both
    written as the same single traversal (`aws_security_group.x.id`; indexes are not compared)."""
    if ri.type == "aws_security_group_rule" and ri.get("self").known_or(False) is True:
        return True
    peer = _PEER_ATTRIBUTE.get(ri.type)
    if peer is None or ri.attribute(peer) is None or ri.attribute("security_group_id") is None:
        return False
    src, dst = ri.get(peer), ri.get("security_group_id")
    if src.is_known and dst.is_known:
        return bool(src.value == dst.value)
    peer_attr, group_attr = ri.attribute(peer), ri.attribute("security_group_id")
    assert peer_attr is not None and group_attr is not None
    a, b = peer_attr.expr, group_attr.expr
    return (
        len(a.traversals) == 1
        and a.traversals == b.traversals
        and not a.functions
        and not b.functions
        and a.references == b.references
    )
