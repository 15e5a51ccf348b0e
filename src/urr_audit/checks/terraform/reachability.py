"""Whether a consumer's traffic to a data store it is configured to use is admitted by the
security groups on both sides (egress of the consumer's groups, ingress of the store's).

A consumer *uses* a store when its configuration reads one of the store's endpoint attributes
(`aws_db_proxy.x.endpoint`, `aws_msk_cluster.x.bootstrap_brokers_sasl_iam`), directly or
through module outputs, variables and locals (a Lambda's environment variables, an ECS
service's task definition). The port comes from the endpoint read (MSK listeners), the store's
`port` argument, or the engine's default port (a param).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._model import Reach, live_resources, trace
from urr_audit.checks.terraform._network import (
    GROUP_TYPE,
    Network,
    Peer,
    SgRule,
    attachment_exprs,
    network,
    targets,
    unread_module_groups,
)
from urr_audit.model.terraform import Environment, Expression, ResourceInstance


class DataStore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    security_groups: list[str]  # attribute paths holding the store's groups
    endpoints: dict[str, int | None]  # attribute a client reads -> its port (null: the store's port)
    port_attribute: str | None = None  # the store's own port argument
    engine_attribute: str | None = None  # the argument naming the engine, for `default_ports`
    default_ports: dict[str, int] = Field(default_factory=dict)  # engine -> port ("*": any engine)


class Consumer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    security_groups: list[str]  # attribute paths holding the consumer's groups
    reads: list[str]  # attribute paths whose references say what it connects to
    # a resource the consumer names whose attributes it reads too: type -> paths
    # (an ECS service runs the containers of its task definition)
    via: dict[str, list[str]] = Field(default_factory=dict)


class ReachParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_stores: dict[str, DataStore]
    consumers: dict[str, Consumer]
    protocol: str = "tcp"


@dataclass
class Use:
    store: ResourceInstance
    attribute: str
    chain: tuple[str, ...]
    port: int | None = None
    why_no_port: str = ""


@dataclass
class Side:
    """Whether the groups of one side let the traffic through: `yes` names the rule that
    does; `maybe` says why it cannot be told; neither means nothing admits it."""

    yes: SgRule | None = None
    maybe: list[str] = field(default_factory=list)


def _store_port(store: ResourceInstance, spec: DataStore, attribute: str) -> tuple[int | None, str]:
    fixed = spec.endpoints.get(attribute)
    if fixed is not None:
        return fixed, ""
    if spec.port_attribute:
        v = store.get(spec.port_attribute)
        if v.is_known and v.value is not None:
            try:
                return int(v.value), ""
            except (TypeError, ValueError):
                return None, f"{spec.port_attribute} = {v.value!r}"
        if v.is_unknown:
            return None, f"{spec.port_attribute} cannot be resolved ({v.reason})"
    engine = store.get(spec.engine_attribute) if spec.engine_attribute else None
    if engine is not None and engine.is_known and isinstance(engine.value, str):
        port = spec.default_ports.get(engine.value) or spec.default_ports.get(engine.value.lower())
        if port is not None:
            return port, ""
        return None, f"no default port known for {spec.engine_attribute} = {engine.value!r}"
    if "*" in spec.default_ports:
        return spec.default_ports["*"], ""
    if engine is not None and engine.is_unknown:
        return None, f"{spec.engine_attribute} cannot be resolved ({engine.reason})"
    return None, "the store's port cannot be told"


def _uses(env: Environment, ri: ResourceInstance, spec: Consumer, params: ReachParams) -> list[Use]:
    stores = {s.resource_address: s for s in live_resources(env, *params.data_stores) if s.resource.mode == "managed"}
    out: dict[tuple[str, str], Use] = {}

    def visit(reaches: Iterator[Reach], depth: int) -> None:
        for r in reaches:
            if r.kind != "resource":
                continue
            store = stores.get(r.address)
            rtype = r.resource_type or ""
            if store is not None:
                sspec = params.data_stores[rtype]
                for a in r.attributes:
                    if a in sspec.endpoints and (r.address, a) not in out:
                        port, why = _store_port(store, sspec, a)
                        out[(r.address, a)] = Use(store, a, r.chain, port, why)
            elif depth == 0 and rtype in spec.via:
                for res in live_resources(env, rtype):
                    if res.resource_address == r.address:
                        for path in spec.via[rtype]:
                            for e in _exprs(res, path):
                                visit(trace(env, res.instance, e), 1)
                        break

    for path in spec.reads:
        for e in _exprs(ri, path):
            visit(trace(env, ri.instance, e), 0)
    return list(out.values())


def _exprs(ri: ResourceInstance, path: str) -> tuple[Expression, ...]:
    _, exprs = attachment_exprs(ri, path)
    return exprs


def _groups(env: Environment, ri: ResourceInstance, paths: list[str]) -> tuple[frozenset[str], bool]:
    """The groups at these attributes, and whether some of them are not in the model (a known
    id of a group outside Terraform, a value that cannot be followed)."""
    out: set[str] = set()
    opaque = False
    for path in paths:
        attrs, exprs = attachment_exprs(ri, path)
        if not attrs:
            continue
        found = targets(env, ri.instance, exprs)
        out |= found
        v = ri.get(path)
        items = v.parts()
        n = len(items) if isinstance(items, list) else None
        if not found or (n is not None and n > len(found)):
            opaque = True
    return frozenset(out), opaque


def _peer_side(net: Network, rule: SgRule, peer: Peer, other: frozenset[str], other_opaque: bool) -> str | None:
    """'yes' when the peer is one of the other side's groups (or the whole internet), 'maybe'
    when it could be, None when it is not."""
    if peer.kind == "self":
        return "yes" if net.owner_of(rule) & other else None
    if peer.kind == "group":
        named = net.peer_groups(rule, peer)
        if named & other:
            return "yes"
        return "maybe" if (not named or other_opaque) else None
    if peer.kind == "cidr":
        if peer.cidr in ("0.0.0.0/0", "::/0"):
            return "yes"
        return "maybe"
    return "maybe"  # a prefix list: its entries are not modelled


def _side(
    net: Network,
    own: frozenset[str],
    own_opaque: bool,
    other: frozenset[str],
    other_opaque: bool,
    direction: str,
    protocol: str,
    port: int,
) -> Side:
    side = Side()
    if own_opaque or any(not _managed_group(g) for g in own):
        side.maybe.append("some of its security groups are not managed in this configuration")
    unowned = [r for r in net.rules if not net.owner_of(r) and r.direction == direction]
    for r in net.rules:
        owners = net.owner_of(r)
        if r.direction != direction or not (owners & own):
            continue
        if r.traffic is None:
            side.maybe.append(f"{r.subject}: {r.traffic_why}")
            continue
        if not r.traffic.admits(protocol, port):
            continue
        for p in r.peers:
            verdict = _peer_side(net, r, p, other, other_opaque)
            if verdict == "yes":
                side.yes = r
                return side
            if verdict == "maybe":
                side.maybe.append(f"{r.subject} allows {r.traffic} to/from {p.text or p.kind}, not resolved here")
    for r in unowned:
        side.maybe.append(f"{r.subject} adds a rule to a group that cannot be resolved")
        break
    return side


@check(
    "tf-sg-consumer-blocked",
    scope="terraform.environment",
    params=ReachParams,
    closed_world="terraform",
    subjects=lambda p: list(p.consumers),
)
def consumer_blocked(ctx: Context, env: Environment, params: ReachParams) -> Iterator[Hit]:
    """A consumer configured with a data store's endpoint whose traffic to the store's port no
    security group rule admits: the consumer's groups allow no egress to the store, or the
    store's groups admit no ingress from the consumer. A rule that may admit it (a CIDR or prefix
    list that is not resolved, a group outside Terraform) makes it undecided."""
    net = network(env)
    unread = unread_module_groups(env)
    for ctype, cspec in params.consumers.items():
        for ri in live_resources(env, ctype):
            if ri.resource.mode != "managed":
                continue
            mine, mine_opaque = _groups(env, ri, cspec.security_groups)
            if not mine and not mine_opaque:
                continue  # not in a VPC, or given no group (another rule's matter)
            for use in _uses(env, ri, cspec, params):
                store = use.store
                sspec = params.data_stores[store.type]
                theirs, theirs_opaque = _groups(env, store, sspec.security_groups)
                who = ri.resource_address
                what = f"{store.resource_address}.{use.attribute}"
                if use.port is None:
                    yield ctx.undecided(
                        at=ri,
                        node=ri,
                        address=who,
                        message=f"{who} uses {what}: its port cannot be told ({use.why_no_port})",
                    )
                    continue
                what += f" ({params.protocol} {use.port})"
                if not theirs and not theirs_opaque:
                    continue  # the store is given no group: reported by another rule
                out = _side(net, mine, mine_opaque, theirs, theirs_opaque, "egress", params.protocol, use.port)
                into = _side(net, theirs, theirs_opaque, mine, mine_opaque, "ingress", params.protocol, use.port)
                if out.yes and into.yes:
                    continue
                gaps = []
                if not out.yes and not out.maybe:
                    gaps.append(f"no egress rule of its groups ({_names(mine)}) allows it")
                if not into.yes and not into.maybe:
                    gaps.append(f"no ingress rule of the store's groups ({_names(theirs)}) admits it")
                chain = " -> ".join(use.chain)
                handed = sorted({unread[g] for g in mine | theirs if g in unread})
                if gaps and handed:
                    gaps, out.maybe = [], [f"its groups are passed to {handed[0]}, which is not read"]
                if not gaps:
                    reason = (out.maybe if not out.yes else into.maybe)[0]
                    yield ctx.undecided(
                        at=ri,
                        node=ri,
                        address=who,
                        message=f"{who} uses {what}: whether its traffic is admitted cannot be told ({reason})",
                    )
                    continue
                yield ctx.finding(
                    at=ri,
                    node=ri,
                    address=who,
                    message=f"{who} uses {what} through {chain}, but {' and '.join(gaps)}: its connections are dropped",
                    related=[store.span],
                    settled=True,
                )


def _managed_group(address: str) -> bool:
    """A group whose rules are all in the model: an `aws_security_group` resource (not a data
    source, not a group some other resource creates)."""
    head, type_, _ = ("." + address).rsplit(".", 2)
    return type_ == GROUP_TYPE and not head.endswith(".data")


def _names(groups: frozenset[str]) -> str:
    return ", ".join(sorted(groups)) or "none"
