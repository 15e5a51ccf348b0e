"""Network facts of one Terraform environment: VPCs, subnet tiers, route tables and where their
routes lead, security-group links (who may reach whom on which ports), VPC endpoints."""

from __future__ import annotations

from dataclasses import dataclass, field

from urr_audit.checks.terraform._model import resource_targets
from urr_audit.facts.tf import Setting, resource_type, setting, targets
from urr_audit.facts.tf import existing as _existing
from urr_audit.model.common import Span, Value
from urr_audit.model.terraform import Attribute, Environment, ResourceInstance

# route attribute -> what it leads to, when its target is not a resource of a known type
ROUTE_TARGETS: dict[str, str] = {
    "gateway_id": "gateway",
    "nat_gateway_id": "NAT gateway",
    "transit_gateway_id": "transit gateway",
    "egress_only_gateway_id": "egress-only internet gateway",
    "vpc_peering_connection_id": "VPC peering",
    "vpc_endpoint_id": "VPC endpoint",
    "network_interface_id": "network interface",
    "carrier_gateway_id": "carrier gateway",
    "local_gateway_id": "local gateway",
    "core_network_arn": "Cloud WAN",
}
TARGET_KINDS: dict[str, str] = {
    "aws_internet_gateway": "internet gateway",
    "aws_nat_gateway": "NAT gateway",
    "aws_vpn_gateway": "VPN gateway",
    "aws_ec2_transit_gateway": "transit gateway",
    "aws_vpc_peering_connection": "VPC peering",
    "aws_egress_only_internet_gateway": "egress-only internet gateway",
    "aws_vpc_endpoint": "VPC endpoint",
}
# leave the VPC (to the internet or another network)
EXIT_KINDS = frozenset(TARGET_KINDS.values()) - {"VPC endpoint"} | {"gateway", "network interface", "local gateway"}
DESTINATIONS = ("destination_cidr_block", "cidr_block", "destination_ipv6_cidr_block", "destination_prefix_list_id")


@dataclass(frozen=True)
class Subnet:
    """One subnet resource (a tier when written per tier), with all its instances."""

    address: str  # resource address without instance key
    name: str
    span: Span
    count: Value  # how many instances exist: known, or unknown with the reason
    cidrs: tuple[Setting, ...]  # one per instance (one when not expanded)
    zones: tuple[Setting, ...]
    public_ip: Setting | None = None


@dataclass(frozen=True)
class Route:
    destination: Setting | None
    kind: str  # internet gateway, NAT gateway, VPC endpoint, ...
    target: str | None  # the target resource's address, when it refers to one
    span: Span

    @property
    def exits(self) -> bool:
        return self.kind in EXIT_KINDS


@dataclass(frozen=True)
class RouteTable:
    address: str
    span: Span
    routes: tuple[Route, ...]
    subnets: tuple[str, ...]  # subnet resource addresses associated with it
    endpoints: tuple[str, ...] = ()  # gateway VPC endpoints attached to it

    @property
    def exits(self) -> bool:
        return any(r.exits for r in self.routes)


@dataclass(frozen=True)
class Peer:
    kind: str  # "group", "cidr", "prefix list", "self", "unresolved"
    name: str  # group address, CIDR, prefix list address, or why it is unresolved


@dataclass(frozen=True)
class SgLink:
    """One rule of a security group: `group` admits (ingress) or reaches (egress) `peer`."""

    group: str  # the security group's address ("" when it cannot be resolved)
    direction: str  # ingress | egress
    peer: Peer
    protocol: str
    ports: str  # "5432", "0-65535", "all", or "unknown (...)"
    span: Span
    rule: str  # the address of the rule (or of the group for inline rules)
    description: str = ""

    @property
    def source(self) -> str:
        return self.peer.name if self.direction == "ingress" else self.group

    @property
    def destination(self) -> str:
        return self.group if self.direction == "ingress" else self.peer.name


@dataclass(frozen=True)
class VpcEndpoint:
    address: str
    key: str | int | None
    service: Setting | None
    type: str
    span: Span
    placed_in: tuple[str, ...]  # subnets (interface) or route tables (gateway) it attaches to


@dataclass
class NetworkFacts:
    environment: str
    vpcs: list[tuple[str, Setting | None, Span]] = field(default_factory=list)
    subnets: list[Subnet] = field(default_factory=list)
    route_tables: list[RouteTable] = field(default_factory=list)
    links: list[SgLink] = field(default_factory=list)
    endpoints: list[VpcEndpoint] = field(default_factory=list)
    groups: dict[str, Span] = field(default_factory=dict)  # security group address -> span


def existing(env: Environment, *types: str) -> list[ResourceInstance]:
    """Managed resources only: a data source reads a network that exists elsewhere."""
    return [ri for ri in _existing(env, *types) if ri.resource.mode == "managed"]


def network_facts(env: Environment) -> NetworkFacts:
    out = NetworkFacts(env.name)
    for ri in existing(env, "aws_vpc"):
        out.vpcs.append((ri.address, setting(ri, "cidr_block"), ri.span))
    out.subnets = _subnets(env)
    out.route_tables = _route_tables(env)
    out.groups = {ri.resource_address: ri.span for ri in existing(env, "aws_security_group")}
    out.links = _links(env)
    out.endpoints = [_endpoint(env, ri) for ri in existing(env, "aws_vpc_endpoint")]
    return out


def route_tables(env: Environment) -> list[RouteTable]:
    """The environment's route tables and where their routes lead (without the rest of
    `network_facts`, for rules that only need the routes)."""
    return _route_tables(env)


def _subnets(env: Environment) -> list[Subnet]:
    by_resource: dict[str, list[ResourceInstance]] = {}
    for ri in existing(env, "aws_subnet"):
        by_resource.setdefault(ri.resource_address, []).append(ri)
    out = []
    for address, instances in by_resource.items():
        first = instances[0]
        meta = first.resource.count or first.resource.for_each
        if first.key is None and meta is not None:
            reason = first.exists.reason or "count/for_each cannot be resolved"
            count = Value.unknown(reason, meta.span)
        else:
            count = Value.known(len(instances), first.span)
        cidrs = tuple(s for ri in instances if (s := setting(ri, "cidr_block")) is not None)
        zones = tuple(
            s for ri in instances if (s := setting(ri, "availability_zone") or setting(ri, "availability_zone_id"))
        )
        out.append(
            Subnet(
                address, first.resource.name, first.span, count, cidrs, zones, setting(first, "map_public_ip_on_launch")
            )
        )
    return out


def _kind(env: Environment, ri: ResourceInstance, attribute: str) -> tuple[str, str | None]:
    found = targets(env, ri, attribute)
    for t in found:
        kind = TARGET_KINDS.get(resource_type(t))
        if kind:
            return kind, t
    return ROUTE_TARGETS.get(attribute, attribute), found[0] if found else None


def _route_of(env: Environment, ri: ResourceInstance) -> Route | None:
    for attribute in ROUTE_TARGETS:
        s = setting(ri, attribute)
        if s is None or (s.known and s.value.value in (None, "")):
            continue
        kind, target = _kind(env, ri, attribute)
        destination = next((d for a in DESTINATIONS if (d := setting(ri, a)) is not None), None)
        return Route(destination, kind, target, ri.span)
    return None


def _route_tables(env: Environment) -> list[RouteTable]:
    tables = list(existing(env, "aws_route_table"))
    if not tables:
        return []
    routes = list(existing(env, "aws_route"))
    assocs = list(existing(env, "aws_route_table_association"))
    endpoints = list(existing(env, "aws_vpc_endpoint"))
    table_of = {id(r): set(targets(env, r, "route_table_id")) for r in routes + assocs}
    out = []
    seen: set[str] = set()
    for table in tables:
        if table.resource_address in seen:
            continue  # the instances of an expanded table are described together
        seen.add(table.resource_address)
        found: list[Route] = []
        for view in table.blocks("route"):
            for attribute, kind in ROUTE_TARGETS.items():
                written = view.block.attr(attribute)
                if written is None:
                    continue
                v = view.get(attribute)
                if v.is_known and v.value in (None, ""):
                    continue
                dest = None
                for d in ("cidr_block", "ipv6_cidr_block", "destination_prefix_list_id"):
                    da = view.block.attr(d)
                    if da is not None:
                        dv = view.get(d)
                        dest = Setting(d, dv, dv.origin or da.span)
                        break
                target = next((t for t in sorted(resource_targets(env, table.instance, written.expr)) if t), None)
                kind = TARGET_KINDS.get(resource_type(target), kind) if target else kind
                found.append(Route(dest, kind, target, view.span))
        for r in routes:
            if table.resource_address in table_of[id(r)]:
                route = _route_of(env, r)
                if route is not None:
                    found.append(route)
        subnets = sorted(
            {
                t
                for a in assocs
                if table.resource_address in table_of[id(a)]
                for t in targets(env, a, "subnet_id")
                if resource_type(t) == "aws_subnet"
            }
        )
        attached = sorted(e.address for e in endpoints if table.resource_address in targets(env, e, "route_table_ids"))
        out.append(RouteTable(table.resource_address, table.span, tuple(found), tuple(subnets), tuple(attached)))
    return out


_PEER_ATTRIBUTES = {
    "aws_security_group_rule": ("source_security_group_id", "cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"),
    "aws_vpc_security_group_ingress_rule": ("referenced_security_group_id", "cidr_ipv4", "cidr_ipv6", "prefix_list_id"),
    "aws_vpc_security_group_egress_rule": ("referenced_security_group_id", "cidr_ipv4", "cidr_ipv6", "prefix_list_id"),
}


def _ports(protocol: Value, lo: Value, hi: Value) -> tuple[str, str]:
    proto = str(protocol.value).lower() if protocol.is_known else "unknown"
    if proto in ("-1", "all"):
        return "all", "all"
    if lo.is_absent and hi.is_absent:
        return proto, "all"
    if not (lo.is_known and hi.is_known):
        v = lo if not lo.is_known else hi
        return proto, f"unknown ({v.reason or 'not set'})"
    a, b = lo.value, hi.value
    if a == b:
        return proto, str(a)
    if (a, b) in ((0, 65535), ("0", "65535")):
        return proto, "0-65535"
    return proto, f"{a}-{b}"


def _peers(env: Environment, ri: ResourceInstance, names: tuple[str, ...], group: str) -> list[Peer]:
    """The peers a rule names; an attribute known to be null in this instance (one rule of a
    `for_each` map using `cidr` where another uses `source_sg_id`) names none."""
    out: list[Peer] = []
    for attribute in names:
        a = ri.attribute(attribute)
        if a is None:
            continue
        v = ri.get(attribute)
        if v.is_absent or (v.is_known and v.value in (None, [], "")):
            continue
        if attribute.endswith("security_group_id"):
            found = [t for t in targets(env, ri, attribute) if resource_type(t) == "aws_security_group"]
            out += [Peer("self" if t == group else "group", t) for t in found] or [
                Peer("unresolved", f"{a.expr.text}: {v.reason or 'not a security group of this repository'}")
            ]
            continue
        if "prefix_list" in attribute:
            found = [t for t in targets(env, ri, attribute) if "prefix_list" in resource_type(t)]
            out += [Peer("prefix list", t) for t in found] or [
                Peer("prefix list", str(v.value) if v.is_known else f"{a.expr.text}: {v.reason}")
            ]
            continue
        if v.is_known:
            values = v.value if isinstance(v.value, list) else [v.value]
            out += [Peer("cidr", str(c)) for c in values if c is not None]
        elif found := targets(env, ri, attribute):
            # known only at apply, but whose: `var.vpc_cidr_block` from `aws_vpc.this.cidr_block`
            out += [Peer("cidr of", t) for t in found]
        else:
            out.append(Peer("unresolved", f"{a.expr.text}: {v.reason}"))
    if ri.type == "aws_security_group_rule" and ri.get("self").known_or(False) is True:
        out.append(Peer("self", group))
    return out


def _group_of(env: Environment, ri: ResourceInstance) -> str:
    found = [t for t in targets(env, ri, "security_group_id") if resource_type(t) == "aws_security_group"]
    return found[0] if len(found) == 1 else ""


def _links(env: Environment) -> list[SgLink]:
    out: list[SgLink] = []
    for ri in existing(env, "aws_security_group"):
        group = ri.resource_address
        for direction in ("ingress", "egress"):
            for view in ri.blocks(direction):
                proto, ports = _ports(view.get("protocol"), view.get("from_port"), view.get("to_port"))
                peers: list[Peer] = []
                for attribute in ("cidr_blocks", "ipv6_cidr_blocks"):
                    v = view.get(attribute)
                    if v.is_known and isinstance(v.value, list):
                        peers += [Peer("cidr", str(c)) for c in v.value]
                    elif v.is_unknown:
                        peers.append(Peer("unresolved", v.reason))
                a = view.block.attr("security_groups")
                if a is not None:
                    peers += [
                        Peer("group", t)
                        for t in sorted(resource_targets_of(env, ri, a))
                        if resource_type(t) == "aws_security_group"
                    ]
                if view.get("self").known_or(False) is True:
                    peers.append(Peer("self", group))
                desc = view.get("description")
                for p in peers:
                    out.append(SgLink(group, direction, p, proto, ports, view.span, ri.resource_address, _text(desc)))
    for ri in existing(env, *_PEER_ATTRIBUTES):
        if ri.type == "aws_security_group_rule":
            t = ri.get("type")
            direction = str(t.value) if t.is_known else "unknown"
            proto, ports = _ports(ri.get("protocol"), ri.get("from_port"), ri.get("to_port"))
        else:
            direction = "ingress" if ri.type.endswith("ingress_rule") else "egress"
            proto, ports = _ports(ri.get("ip_protocol"), ri.get("from_port"), ri.get("to_port"))
        group = _group_of(env, ri)
        for p in _peers(env, ri, _PEER_ATTRIBUTES[ri.type], group):
            out.append(SgLink(group, direction, p, proto, ports, ri.span, ri.address, _text(ri.get("description"))))
    return out


def resource_targets_of(env: Environment, ri: ResourceInstance, attr: Attribute) -> set[str]:
    return resource_targets(env, ri.instance, attr.expr)


def _text(v: Value) -> str:
    return str(v.value) if v.is_known and v.value is not None else ""


def _endpoint(env: Environment, ri: ResourceInstance) -> VpcEndpoint:
    t = ri.get("vpc_endpoint_type")
    kind = str(t.value) if t.is_known else ("Gateway" if t.is_absent else "unknown")
    placed = targets(env, ri, "subnet_ids") if kind != "Gateway" else targets(env, ri, "route_table_ids")
    return VpcEndpoint(ri.address, ri.key, setting(ri, "service_name"), kind, ri.span, tuple(placed))
