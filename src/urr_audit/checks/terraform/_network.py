"""Security groups as one typed model, read by every security group rule (no checks here).

A rule of a security group is written in one of four ways, and each becomes one `SgRule`:

- inline `ingress`/`egress` blocks of `aws_security_group`, literal or `dynamic`;
- the attribute form `ingress = [{...}]` of the same resource (attributes as blocks);
- `aws_security_group_rule` (`type = "ingress" | "egress"`);
- `aws_vpc_security_group_ingress_rule` / `aws_vpc_security_group_egress_rule`.

An `SgRule` has a direction, a `Traffic` (protocol and port range, normalised by
`normalize_traffic`, the one place where protocol `-1`/`all`/`6` and ports `-1`/`0-0` are read)
and `Peer`s: CIDRs, other groups, prefix lists, the group itself.

Per environment, `Network` resolves what a rule and its group peers refer to: references are
followed through module arguments, locals and outputs (`_model.trace`), so a rule written in
one module about a group created in another lands on that group. A group is identified by the
address of the resource that stands for it (`module.eks.aws_security_group.nodes`; a
`data.aws_security_group`; or a resource that creates one, such as `aws_eks_cluster` for its
cluster security group); the instances of an expanded group resource share one identity.
Which resources take a group is asked by the rules that need it (`attachment_exprs`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.terraform._model import live_resources, trace
from urr_audit.model.common import Span, UnknownLeaf, Value
from urr_audit.model.terraform import Attribute, Block, Environment, Expression, ModuleInstance, ResourceInstance

GROUP_TYPE = "aws_security_group"
RULE_TYPES = (
    "aws_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
)
Direction = Literal["ingress", "egress"]

# --- traffic -------------------------------------------------------------------------------

_PROTOCOLS = {"-1": "all", "all": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
PORTED = ("tcp", "udp")


@dataclass(frozen=True)
class Traffic:
    """What a rule lets through: `all` (every protocol and port), `tcp`/`udp` with a port
    range, `icmp`/`icmpv6` (types and codes are not modelled), or another IP protocol by
    number (`50`), which has no ports."""

    protocol: str
    lo: int = 0
    hi: int = 65535

    @property
    def has_ports(self) -> bool:
        return self.protocol in PORTED

    @property
    def every_port(self) -> bool:
        """All traffic, or every TCP/UDP port (port 0 is reserved: 1-65535 counts)."""
        return self.protocol == "all" or (self.has_ports and self.lo <= 1 and self.hi >= 65535)

    def admits(self, protocol: str, port: int) -> bool:
        if self.protocol == "all":
            return True
        return self.protocol == protocol and self.has_ports and self.lo <= port <= self.hi

    def ports_outside(self, allowed: Iterable[int]) -> list[int]:
        """The ports of the range not in `allowed` (only the first one for very wide ranges);
        every protocol without ports counts as one port outside."""
        if not self.has_ports:
            return [-1]
        ok = set(allowed)
        if self.hi - self.lo > 70000:
            return [self.lo]
        return [p for p in range(self.lo, self.hi + 1) if p not in ok]

    def __str__(self) -> str:
        if self.protocol == "all":
            return "all protocols and ports"
        if self.has_ports:
            return f"{self.protocol} {self.lo}" if self.lo == self.hi else f"{self.protocol} {self.lo}-{self.hi}"
        if self.protocol.isdigit():
            return f"IP protocol {self.protocol}"
        return self.protocol


def _scalar(v: Value) -> Any:
    x = v.value
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def normalize_traffic(protocol: Value, from_port: Value, to_port: Value) -> Traffic | str:
    """The traffic of a rule, or why it cannot be told (a string).

    AWS's own reading: protocol `-1` / `"-1"` / `"all"` is every protocol, and then the ports
    are ignored (they are written `0`/`0` or `-1`/`-1`); protocol numbers 6, 17, 1 and 58 are
    tcp, udp, icmp and icmpv6; for ICMP the "ports" are a type and a code. For TCP and UDP a
    port range is required; `-1` is not a port (AWS documents it for ICMP and for protocol -1
    only), so a TCP rule with port -1 is not guessed to be anything.
    """
    if protocol.is_unknown:
        return f"protocol cannot be resolved ({protocol.reason})" if protocol.reason else "protocol cannot be resolved"
    raw = _scalar(protocol) if protocol.is_known else None
    if raw is None or isinstance(raw, (bool, list, dict)):
        return "no protocol"
    name = str(raw).strip().lower()
    name = _PROTOCOLS.get(name, name)
    if name == "all":
        return Traffic("all")
    if name in ("icmp", "icmpv6"):
        return Traffic(name, -1, -1)
    if name not in PORTED:
        if name.isdigit():
            return Traffic(name, -1, -1)
        return f"protocol {raw!r} is not an IP protocol name or number"
    ports: list[int] = []
    for v, label in ((from_port, "from_port"), (to_port, "to_port")):
        if v.is_unknown:
            return f"{label} cannot be resolved ({v.reason})" if v.reason else f"{label} cannot be resolved"
        x = _scalar(v) if v.is_known else None
        if x is None:
            return f"{name} rule without {label}"
        try:
            ports.append(int(str(x)))
        except ValueError:
            return f"{label} = {x!r} is not a port"
    lo, hi = ports
    if lo == -1 or hi == -1:
        return f"{name} with port -1: AWS documents -1 only for ICMP and for protocol -1, not as a {name} port"
    if not 0 <= lo <= hi <= 65535:
        return f"{name} port range {lo}-{hi} is not valid"
    return Traffic(name, lo, hi)


# --- peers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Peer:
    """The other side of a rule.

    `cidr` peers hold one known CIDR, or `unresolved` with the reason; `group` peers are
    resolved by `Network.peer_groups` from `exprs`, or name groups outside Terraform by known
    id (`external`); `prefix_list` peers are kept as written; `self` is the group itself.
    `exprs` are the expressions the value comes from (the attribute, and the `for_each` it
    iterates over), for reference following.
    """

    kind: Literal["cidr", "group", "prefix_list", "self"]
    cidr: str | None = None
    unresolved: str | None = None
    external: tuple[str, ...] = ()
    exprs: tuple[Expression, ...] = ()
    text: str = ""


@dataclass
class SgRule:
    direction: Direction
    traffic: Traffic | None
    traffic_why: str  # why `traffic` is None
    peers: list[Peer]
    span: Span  # where the rule is written (block, list element or rule resource)
    subject: str  # the address findings name: the instance's when the rule reads each/count
    resource: ResourceInstance
    # the group the rule belongs to: itself for inline rules, else `security_group_id`
    owner_exprs: tuple[Expression, ...] = ()
    description: str | None = None

    @property
    def inline(self) -> bool:
        return self.resource.type == GROUP_TYPE

    def cidrs(self) -> list[Peer]:
        return [p for p in self.peers if p.kind == "cidr"]


def _list_items(v: Value) -> list[Any]:
    """Elements of a list value (known, or the known parts of a partial one with
    `UnknownLeaf`s in place); one `UnknownLeaf` for a value unknown as a whole."""
    if v.is_absent:
        return []
    if v.is_unknown and v.partial is None:
        return [UnknownLeaf(v.reason or "unknown")]
    x = v.parts()
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


def _cidr_peers(items: list[Any], exprs: tuple[Expression, ...]) -> list[Peer]:
    out = []
    for c in items:
        if isinstance(c, str):
            out.append(Peer("cidr", cidr=c, exprs=exprs, text=c))
        elif isinstance(c, UnknownLeaf):
            out.append(Peer("cidr", unresolved=c.reason or "unknown", exprs=exprs, text="(unknown CIDR)"))
        elif c is not None:
            out.append(Peer("cidr", unresolved=f"{c!r} is not a CIDR", exprs=exprs, text=repr(c)))
    return out


def _group_peers(items: list[Any], exprs: tuple[Expression, ...], text: str) -> list[Peer]:
    """One group peer for the attribute: resolved by reference (`exprs`) in `Network`."""
    items = [x for x in items if x is not None and x != ""]
    if not items:
        return []
    known = tuple(x for x in items if isinstance(x, str))
    return [Peer("group", external=known if len(known) == len(items) else (), exprs=exprs, text=text)]


def _prefix_peers(items: list[Any], text: str) -> list[Peer]:
    items = [x for x in items if x is not None and x != ""]
    return [Peer("prefix_list", text=text)] if items else []


def _expr_of(block: Block, name: str) -> tuple[Expression, ...]:
    a = block.attr(name)
    return (a.expr,) if a is not None else ()


def _is_true(v: Value) -> bool:
    return v.is_known and v.value is True


def _iterated(ri: ResourceInstance, extra: tuple[Expression, ...] = ()) -> tuple[Expression, ...]:
    """The expressions an instance's `each`/`count` come from (for reference following)."""
    out = list(extra)
    if ri.resource.for_each is not None:
        out.append(ri.resource.for_each)
    return tuple(out)


def rules_of(ri: ResourceInstance) -> list[SgRule]:
    """The rules a resource instance writes (see the module docstring)."""
    if ri.type == GROUP_TYPE:
        return [*_inline_block_rules(ri), *_inline_attribute_rules(ri)]
    if ri.type == "aws_security_group_rule":
        t = ri.get("type")
        if not (t.is_known and t.value in ("ingress", "egress")):
            return []
        each = _iterated(ri)
        peers = [
            *_cidr_peers(_list_items(ri.get("cidr_blocks")), (*_expr_of(ri.resource.body, "cidr_blocks"), *each)),
            *_cidr_peers(
                _list_items(ri.get("ipv6_cidr_blocks")), (*_expr_of(ri.resource.body, "ipv6_cidr_blocks"), *each)
            ),
            *_group_peers(
                _list_items(ri.get("source_security_group_id")),
                (*_expr_of(ri.resource.body, "source_security_group_id"), *each),
                _text(ri.attribute("source_security_group_id")),
            ),
            *_prefix_peers(_list_items(ri.get("prefix_list_ids")), _text(ri.attribute("prefix_list_ids"))),
        ]
        if _is_true(ri.get("self")):
            peers.append(Peer("self", text="self"))
        return [
            _rule(
                ri,
                t.value,
                ri.get("protocol"),
                ri.get("from_port"),
                ri.get("to_port"),
                peers,
                ri.span,
                ri.address_for(*_RULE_ATTRIBUTES),
                (*_expr_of(ri.resource.body, "security_group_id"), *each),
                ri.get("description"),
            )
        ]
    if ri.type in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"):
        each = _iterated(ri)
        body = ri.resource.body
        peers = [
            *_cidr_peers(_list_items(ri.get("cidr_ipv4")), (*_expr_of(body, "cidr_ipv4"), *each)),
            *_cidr_peers(_list_items(ri.get("cidr_ipv6")), (*_expr_of(body, "cidr_ipv6"), *each)),
            *_group_peers(
                _list_items(ri.get("referenced_security_group_id")),
                (*_expr_of(body, "referenced_security_group_id"), *each),
                _text(ri.attribute("referenced_security_group_id")),
            ),
            *_prefix_peers(_list_items(ri.get("prefix_list_id")), _text(ri.attribute("prefix_list_id"))),
        ]
        direction: Direction = "ingress" if ri.type.endswith("ingress_rule") else "egress"
        return [
            _rule(
                ri,
                direction,
                ri.get("ip_protocol"),
                ri.get("from_port"),
                ri.get("to_port"),
                peers,
                ri.span,
                ri.address_for(*_RULE_ATTRIBUTES),
                (*_expr_of(body, "security_group_id"), *each),
                ri.get("description"),
            )
        ]
    return []


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
    "source_security_group_id",
    "referenced_security_group_id",
    "prefix_list_id",
    "prefix_list_ids",
    "self",
)


def _text(a: Attribute | None) -> str:
    return " ".join(a.expr.text.split()) if a is not None else ""


def _rule(
    ri: ResourceInstance,
    direction: Direction,
    protocol: Value,
    from_port: Value,
    to_port: Value,
    peers: list[Peer],
    span: Span,
    subject: str,
    owner_exprs: tuple[Expression, ...],
    description: Value,
) -> SgRule:
    traffic = normalize_traffic(protocol, from_port, to_port)
    return SgRule(
        direction=direction,
        traffic=traffic if isinstance(traffic, Traffic) else None,
        traffic_why="" if isinstance(traffic, Traffic) else traffic,
        peers=peers,
        span=span,
        subject=subject,
        resource=ri,
        owner_exprs=owner_exprs,
        description=description.value if description.is_known and isinstance(description.value, str) else None,
    )


def _inline_block_rules(ri: ResourceInstance) -> Iterator[SgRule]:
    for direction in ("ingress", "egress"):
        for b in ri.blocks(direction):
            dyn = b.dynamic
            reads = [*b.block.attributes.values(), *(dyn.attributes.values() if dyn is not None else ())]
            per_instance = ri.key is not None and any(a.expr.reads("each", "count") for a in reads)
            fe = dyn.attr("for_each") if dyn is not None else None
            extra = (fe.expr,) if fe is not None else ()
            each = _iterated(ri, extra)
            peers = [
                *_cidr_peers(_list_items(b.get("cidr_blocks")), (*_expr_of(b.block, "cidr_blocks"), *each)),
                *_cidr_peers(_list_items(b.get("ipv6_cidr_blocks")), (*_expr_of(b.block, "ipv6_cidr_blocks"), *each)),
                *_group_peers(
                    _list_items(b.get("security_groups")),
                    (*_expr_of(b.block, "security_groups"), *each),
                    _text(b.attribute("security_groups")),
                ),
                *_prefix_peers(_list_items(b.get("prefix_list_ids")), _text(b.attribute("prefix_list_ids"))),
            ]
            if _is_true(b.get("self")):
                peers.append(Peer("self", text="self"))
            yield _rule(
                ri,
                direction,
                b.get("protocol"),
                b.get("from_port"),
                b.get("to_port"),
                peers,
                b.span,
                ri.address if per_instance else ri.resource_address,
                (),
                b.get("description"),
            )


def _inline_attribute_rules(ri: ResourceInstance) -> Iterator[SgRule]:
    """`ingress = [{...}, ...]`: one rule per object. Its group peers are followed from the
    whole attribute (every group any element names), which can only widen what a peer is."""
    for direction in ("ingress", "egress"):
        attr = ri.attribute(direction)
        if attr is None:
            continue
        doc = ri.get_structured(direction)
        items = doc.parts()
        who = ri.address if ri.key is not None and attr.expr.reads("each", "count") else ri.resource_address
        exprs = (attr.expr, *_iterated(ri))
        if not isinstance(items, list):
            if items is None or doc.is_absent or (doc.is_known and doc.value is None):
                continue
            yield _unknown_rule(ri, direction, attr.span, who, doc.reason or "cannot be resolved")
            continue
        for i, el in enumerate(items):
            span = doc.span_at(i) or attr.span
            if not isinstance(el, dict):
                reason = el.reason if isinstance(el, UnknownLeaf) else f"element {i} is not an object"
                yield _unknown_rule(ri, direction, span, who, reason)
                continue

            def field_(name: str, el: dict[str, Any] = el) -> Value:
                if name not in el:
                    return Value.absent()
                x = el[name]
                if isinstance(x, UnknownLeaf):
                    return Value.unknown(x.reason)
                return Value.known(x)

            peers = [
                *_cidr_peers(_list_items(field_("cidr_blocks")), exprs),
                *_cidr_peers(_list_items(field_("ipv6_cidr_blocks")), exprs),
                *_group_peers(_list_items(field_("security_groups")), exprs, "security_groups"),
                *_prefix_peers(_list_items(field_("prefix_list_ids")), "prefix_list_ids"),
            ]
            if _is_true(field_("self")):
                peers.append(Peer("self", text="self"))
            yield _rule(
                ri,
                direction,
                field_("protocol"),
                field_("from_port"),
                field_("to_port"),
                peers,
                span,
                who,
                (),
                field_("description"),
            )


def _unknown_rule(ri: ResourceInstance, direction: Direction, span: Span, who: str, reason: str) -> SgRule:
    return SgRule(
        direction=direction,
        traffic=None,
        traffic_why=reason,
        peers=[Peer("cidr", unresolved=reason, text="(unknown)")],
        span=span,
        subject=who,
        resource=ri,
    )


def world_peers(rule: SgRule, world: list[str]) -> tuple[list[Peer], list[Peer]]:
    """(CIDR peers that are the whole internet, CIDR peers that cannot be resolved)."""
    hits = [p for p in rule.cidrs() if p.cidr is not None and _is_world(p.cidr, world)]
    unknown = [p for p in rule.cidrs() if p.cidr is None]
    return hits, unknown


def _is_world(cidr: str, world: list[str]) -> bool:
    if cidr in world:
        return True
    try:
        net = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return False
    return any(net == ipaddress.ip_network(w, strict=False) for w in world)


def why(rule: SgRule) -> str:
    """The first reason a rule cannot be judged, for an undecided message."""
    for p in rule.cidrs():
        if p.unresolved:
            return f" ({p.unresolved})"
    return f" ({rule.traffic_why})" if rule.traffic_why else ""


# --- one environment -----------------------------------------------------------------------


class NeverWorld(BaseModel):
    """Values that are never the whole internet: a VPC's or subnet's own range."""

    model_config = ConfigDict(extra="forbid")

    # `type.attribute` (data sources as `data.type.attribute`) holding a private range
    private_cidr_sources: list[str] = [
        "aws_vpc.cidr_block",
        "aws_vpc.ipv6_cidr_block",
        "data.aws_vpc.cidr_block",
        "data.aws_vpc.ipv6_cidr_block",
        "aws_subnet.cidr_block",
        "aws_subnet.ipv6_cidr_block",
        "data.aws_subnet.cidr_block",
        "data.aws_subnet.ipv6_cidr_block",
        "aws_vpc_ipv4_cidr_block_association.cidr_block",
    ]


def provably_not_world(env: Environment, inst: ModuleInstance, peer: Peer, world: list[str], nw: NeverWorld) -> bool:
    """An unresolved CIDR that can only be a VPC's or subnet's range (or part of one): every
    resource it is computed from is a `private_cidr_sources` attribute, every variable on the
    way has a value, and no expression on the way writes a world CIDR."""
    if not peer.exprs:
        return False
    texts = [e.text for e in peer.exprs]
    sources = 0
    for e in peer.exprs:
        for r in trace(env, inst, e):
            if r.kind in ("resource", "data"):
                prefix = "data." if r.kind == "data" else ""
                keys = [f"{prefix}{r.resource_type}.{a}" for a in r.attributes]
                if not keys or any(k not in nw.private_cidr_sources for k in keys):
                    return False
                sources += 1
            elif r.kind == "var":
                call = r.instance.call
                arg = call.arguments.get(r.name) if call is not None else None
                if arg is not None:
                    texts.append(arg.expr.text)
                elif not r.instance.variables.get(r.name, Value.absent()).is_known:
                    return False
            elif r.kind in ("local", "output") and r.decl is not None:
                texts.append(r.decl.expr.text)
    return sources > 0 and not any(w in t for t in texts for w in world)


@dataclass
class Network:
    env: Environment
    groups: dict[str, list[ResourceInstance]] = field(default_factory=dict)  # live aws_security_group, by address
    rules: list[SgRule] = field(default_factory=list)
    owners: dict[int, frozenset[str]] = field(default_factory=dict)  # id(rule) -> group addresses

    def owner_of(self, rule: SgRule) -> frozenset[str]:
        return self.owners.get(id(rule), frozenset())

    def peer_groups(self, rule: SgRule, peer: Peer) -> frozenset[str]:
        """Addresses of the groups a group (or self) peer names; empty when it names none the
        model holds (a known id of a group outside Terraform, or something unresolved)."""
        if peer.kind == "self":
            return self.owner_of(rule)
        if peer.kind != "group":
            return frozenset()
        return targets(self.env, rule.resource.instance, peer.exprs)


def targets(env: Environment, inst: ModuleInstance, exprs: Iterable[Expression]) -> frozenset[str]:
    """Resources (full addresses) some expressions point at, through variables, locals and
    outputs. A group identity is the address of the resource standing for the group."""
    out: set[str] = set()
    for e in exprs:
        out |= {r.address for r in trace(env, inst, e) if r.kind in ("resource", "data")}
    return frozenset(out)


def unread_module_groups(env: Environment) -> dict[str, str]:
    """Group (or any resource) address -> the module call not read (a remote source) that
    receives it in an argument: that module may attach the group or add rules to it."""
    out: dict[str, str] = {}
    for inst in env.instances:
        for call in inst.module.module_calls.values():
            if call.resolved_dir is not None:
                continue
            for arg in call.arguments.values():
                for g in targets(env, inst, [arg.expr]):
                    out.setdefault(g, f"{inst.prefixed('module.' + call.name)} ({call.source})")
    return out


def attributes_at(block: Block, path: str) -> list[Attribute]:
    """Every attribute at a dotted path: through every nested block of each type on the way,
    literal or the `content` of a `dynamic` one."""
    head, _, rest = path.partition(".")
    if not rest:
        a = block.attr(head)
        return [a] if a is not None else []
    out = []
    for b in block.blocks:
        if b.type == head:
            out += attributes_at(b, rest)
        elif b.type == "dynamic" and b.labels == [head]:
            for c in b.blocks_of("content"):
                out += attributes_at(c, rest)
    return out


def dynamic_sources(block: Block, path: str) -> list[Expression]:
    """The `for_each` expressions of the dynamic blocks on a dotted path (their iterator's
    values may be what an attribute reads)."""
    head, _, rest = path.partition(".")
    if not rest:
        return []
    out: list[Expression] = []
    for b in block.blocks:
        if b.type == head:
            out += dynamic_sources(b, rest)
        elif b.type == "dynamic" and b.labels == [head]:
            fe = b.attr("for_each")
            if fe is not None:
                out.append(fe.expr)
            for c in b.blocks_of("content"):
                out += dynamic_sources(c, rest)
    return out


def attachment_exprs(ri: ResourceInstance, path: str) -> tuple[list[Attribute], tuple[Expression, ...]]:
    """The attributes at `path` and every expression their value may come from."""
    attrs = attributes_at(ri.resource.body, path)
    exprs: list[Expression] = [a.expr for a in attrs]
    if attrs:
        exprs += dynamic_sources(ri.resource.body, path)
        if ri.resource.for_each is not None:
            exprs.append(ri.resource.for_each)
    return attrs, tuple(exprs)


class _EnvKey:
    """Identity key for caching per environment object."""

    __slots__ = ("env",)

    def __init__(self, env: Environment):
        self.env = env

    def __hash__(self) -> int:
        return id(self.env)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _EnvKey) and other.env is self.env


def network(env: Environment) -> Network:
    """The environment's security groups and their rules, built once per environment object
    and shared by the rules of one scan."""
    return _network(_EnvKey(env))


@lru_cache(maxsize=16)
def _network(key: _EnvKey) -> Network:
    env = key.env
    net = Network(env)
    for ri in live_resources(env, *RULE_TYPES):
        if ri.resource.mode != "managed":
            continue
        if ri.type == GROUP_TYPE:
            net.groups.setdefault(ri.resource_address, []).append(ri)
        for rule in rules_of(ri):
            net.rules.append(rule)
            if rule.inline:
                net.owners[id(rule)] = frozenset({ri.resource_address})
            else:
                net.owners[id(rule)] = targets(env, ri.instance, rule.owner_exprs)
    return net
