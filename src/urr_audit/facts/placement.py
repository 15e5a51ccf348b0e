"""Where Terraform puts what workloads dial: the resource a configured host name belongs to
(an RDS proxy, a Redis replication group, an interface endpoint with private DNS) and the
subnets, with their CIDRs, where its network interfaces live.

A subnet resource written once per availability zone with a `count` Terraform only knows at
apply time (`count = length(data.aws_availability_zones...)`) still has CIDRs that can be
read: each index is evaluated until the expression runs past its list, and the CIDRs found are
the candidates (some may not exist). A rule may conclude that no candidate is covered, or that
all are, and is undecided in between.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from urr_audit.checks.terraform._model import resource_targets, trace
from urr_audit.facts import aws_catalog
from urr_audit.facts.kubernetes import endpoint_names, match_host
from urr_audit.facts.tf import existing, resource_type, setting, targets
from urr_audit.model.common import Span
from urr_audit.model.terraform import NO_SYMBOLS, Environment, ResourceInstance

# resource type -> attributes naming its subnets, or a subnet group naming them
SUBNET_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "aws_db_proxy": ("vpc_subnet_ids",),
    "aws_db_instance": ("db_subnet_group_name",),
    "aws_rds_cluster": ("db_subnet_group_name",),
    "aws_rds_cluster_instance": ("db_subnet_group_name",),
    "aws_elasticache_replication_group": ("subnet_group_name",),
    "aws_elasticache_cluster": ("subnet_group_name",),
    "aws_memorydb_cluster": ("subnet_group_name",),
    "aws_msk_cluster": ("broker_node_group_info.client_subnets",),
    "aws_mq_broker": ("subnet_ids",),
    "aws_opensearch_domain": ("vpc_options.subnet_ids",),
    "aws_vpc_endpoint": ("subnet_ids",),
    "aws_lb": ("subnets", "subnet_mapping.subnet_id"),
    "aws_lambda_function": ("vpc_config.subnet_ids",),
}
SUBNET_GROUPS: dict[str, str] = {
    "aws_db_subnet_group": "subnet_ids",
    "aws_elasticache_subnet_group": "subnet_ids",
    "aws_memorydb_subnet_group": "subnet_ids",
}
MAX_INDEX = 16

# id(environment) -> (environment, what was computed for it): facts asked for again and again
# by the rules of one scan (endpoint names, interface endpoints, outputs by resource); the
# environment is kept so that its id is not reused while the entry lives
_CACHE: dict[tuple[str, int], tuple[Environment, Any]] = {}


def _cached(kind: str, env: Environment, build: Callable[[], Any]) -> Any:
    key = (kind, id(env))
    hit = _CACHE.get(key)
    if hit is None or hit[0] is not env:
        if len(_CACHE) > 64:
            _CACHE.clear()
        hit = (env, build())
        _CACHE[key] = hit
    return hit[1]


@dataclass(frozen=True)
class SubnetRanges:
    """The CIDRs of one subnet resource (all its instances)."""

    address: str
    span: Span
    cidrs: tuple[tuple[str, Span], ...]  # (CIDR, where it is written)
    # True when every instance's CIDR is among `cidrs` and each exists; False when the list
    # holds candidates of a count known only at apply (some may not exist)
    exact: bool
    reason: str = ""  # why a CIDR is not known ("" when all are)


@dataclass
class Located:
    """Where a resource's network interfaces are: the subnets it is placed in."""

    resource: ResourceInstance
    subnets: list[SubnetRanges] = field(default_factory=list)
    via: list[Span] = field(default_factory=list)  # the attributes placing it
    reason: str = ""  # why its subnets are not known ("" when they are)


def _cidr(ri: ResourceInstance) -> tuple[str | None, Span, str]:
    s = setting(ri, "cidr_block")
    if s is None:
        return None, ri.span, "no cidr_block written"
    if s.known and isinstance(s.value.value, str):
        return s.value.value, s.span, ""
    return None, s.span, s.value.reason or "cidr_block is not known"


def subnet_ranges(env: Environment, address: str) -> SubnetRanges | None:
    """The CIDRs of the subnet resource at `address` (without instance key); None when the
    environment has no such managed subnet."""
    instances = [ri for ri in existing(env, "aws_subnet") if ri.resource_address == address]
    if not instances or instances[0].resource.mode != "managed":
        return None
    first = instances[0]
    cidrs: list[tuple[str, Span]] = []
    reason = ""
    expandable = first.key is None and first.resource.count is not None and first.resource.for_each is None
    if not expandable:
        for ri in instances:
            c, span, why = _cidr(ri)
            if c is None:
                reason = reason or why
            else:
                cidrs.append((c, span))
        exact = first.key is not None or (first.resource.count is None and first.resource.for_each is None)
        return SubnetRanges(address, first.span, tuple(cidrs), exact and not reason, reason)
    # count known only at apply: every index the CIDR expression can be evaluated at
    for i in range(MAX_INDEX):
        ri = ResourceInstance(
            instance=first.instance,
            resource=first.resource,
            key=i,
            symbols=NO_SYMBOLS.bind("count", i, {"index": i}),
        )
        v = ri.get("cidr_block")
        if v.is_known and isinstance(v.value, str):
            cidrs.append((v.value, v.origin or ri.span_of("cidr_block")))
            continue
        if v.rejected is None and not cidrs:
            reason = v.reason or "cidr_block is not known"
        break
    return SubnetRanges(address, first.span, tuple(cidrs), False, reason)


def locate(env: Environment, ri: ResourceInstance) -> Located:
    """The subnets of a resource whose type places network interfaces (`SUBNET_ATTRIBUTES`)."""
    out = Located(ri)
    paths = SUBNET_ATTRIBUTES.get(ri.type)
    if not paths:
        out.reason = f"where a {ri.type} lives is not modelled"
        return out
    addresses: list[str] = []
    filtered = False
    for path in paths:
        found = targets(env, ri, path)
        if not found:
            continue
        out.via.append(ri.span_of(path))
        filtered = filtered or _filters(env, ri, path)
        for t in found:
            kind = resource_type(t)
            if kind == "aws_subnet":
                addresses.append(t)
            elif kind in SUBNET_GROUPS:
                group = next((g for g in existing(env, kind) if g.address == t or g.resource_address == t), None)
                if group is not None:
                    out.via.append(group.span_of(SUBNET_GROUPS[kind]))
                    addresses += [
                        a for a in targets(env, group, SUBNET_GROUPS[kind]) if resource_type(a) == "aws_subnet"
                    ]
    for a in dict.fromkeys(addresses):
        r = subnet_ranges(env, a)
        if r is not None:
            # `[for s in aws_subnet.x : s.id if ...]` picks some instances: which ones is not
            # followed, so every instance is a candidate only
            out.subnets.append(replace(r, exact=False) if filtered and len(r.cidrs) > 1 else r)
    if not out.subnets:
        out.reason = f"{ri.address}: its subnets are not subnets this environment creates"
    return out


_FOR_IF = re.compile(r"\[\s*for\b[^\]]*\bif\b", re.DOTALL)


def _filters(env: Environment, ri: ResourceInstance, path: str) -> bool:
    """Whether the attribute's value goes through a filtering `for` expression (`[for ... if
    ...]`), written there or in a variable's argument, local or output on the way."""
    attr = ri.attribute(path)
    if attr is None:
        return False
    if _FOR_IF.search(attr.expr.text):
        return True
    for reach in trace(env, ri.instance, attr.expr):
        expr = getattr(reach.decl, "expr", None)
        if expr is not None and _FOR_IF.search(expr.text):
            return True
        if reach.kind == "var" and reach.instance.call is not None:
            arg = reach.instance.call.arguments.get(reach.name)
            if arg is not None and _FOR_IF.search(arg.expr.text):
                return True
    return False


def _interface_endpoint(env: Environment, host: str) -> ResourceInstance | None:
    """The interface endpoint with private DNS that answers an AWS API host name
    (`sqs.<region>.amazonaws.com` -> `com.amazonaws.<region>.sqs`)."""
    h = host.lower().rstrip(".")
    if not h.endswith(".amazonaws.com"):
        return None
    labels = h.removesuffix(".amazonaws.com").split(".")
    if len(labels) < 2:
        return None
    region, service = labels[-1], ".".join(reversed(labels[:-1]))
    wanted = [f"com.amazonaws.{region}.{service}", f"com.amazonaws.{region}.{'.'.join(labels[:-1])}"]
    by_service: dict[str, ResourceInstance] = _cached("interface", env, lambda: _interface_endpoints(env))
    return next((by_service[w] for w in wanted if w in by_service), None)


def _interface_endpoints(env: Environment) -> dict[str, ResourceInstance]:
    """Interface endpoints with private DNS, by service name."""
    out: dict[str, ResourceInstance] = {}
    for ri in existing(env, "aws_vpc_endpoint"):
        name = ri.get("service_name")
        if (
            name.is_known
            and isinstance(name.value, str)
            and ri.get("private_dns_enabled").known_or(False) is True
            and ri.get("vpc_endpoint_type").known_or("Gateway") == "Interface"
        ):
            out.setdefault(name.value, ri)
    return out


def resource_for_host(env: Environment, host: str) -> ResourceInstance | None:
    """The managed resource a configured host name belongs to: a data store, proxy, broker or
    load balancer named in the first labels of its AWS host name, or an interface endpoint."""
    names: dict[str, str] = _cached("names", env, lambda: endpoint_names(env))
    address = match_host(host, names) if names else None
    if address is not None:
        for ri in existing(env, *aws_catalog.ENDPOINT_NAMES):
            if ri.address == address and ri.resource.mode == "managed":
                return ri
    return _interface_endpoint(env, host)


def covers(block: str, excepts: tuple[str, ...], cidr: str) -> bool | None:
    """Whether an ipBlock (`block` minus `excepts`) holds every address of `cidr`; None when
    a CIDR cannot be read."""
    try:
        net = ipaddress.ip_network(cidr, strict=False)
        outer = ipaddress.ip_network(block, strict=False)
        if net.version != outer.version or not net.subnet_of(outer):  # type: ignore[arg-type]
            return False
        for e in excepts:
            ex = ipaddress.ip_network(e, strict=False)
            if ex.version == net.version and net.overlaps(ex):
                return False
        return True
    except ValueError:
        return None


def outputs_reading(env: Environment, address: str) -> list[tuple[str, Span]]:
    """Outputs whose value reads the resource at `address` (any of its instances), with where
    they are written: the root module's first (`name`), then the modules' (`module.x.name`)."""
    table: list[tuple[str, Span, set[str]]] = _cached("outputs", env, lambda: _outputs(env))
    return [(n, s) for n, s, read in table if any(t == address or t.startswith(address + "[") for t in read)]


def _outputs(env: Environment) -> list[tuple[str, Span, set[str]]]:
    out = []
    for inst in env.instances:
        for name, o in inst.module.outputs.items():
            label = f"{inst.address}.{name}" if inst.address else name
            out.append((label, o.span, resource_targets(env, inst, o.expr)))
    return out
