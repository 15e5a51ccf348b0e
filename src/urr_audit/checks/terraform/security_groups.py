"""Security group rules: what is reachable from (or can reach) the whole internet, on which
ports. Every way of writing a rule is read through one model (`_network`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._network import (
    RULE_TYPES,
    Network,
    NeverWorld,
    SgRule,
    network,
    provably_not_world,
    why,
    world_peers,
)
from urr_audit.model.terraform import Environment

ICMP = ("icmp", "icmpv6")


def _world(net: Network, rule: SgRule, world: list[str], nw: NeverWorld) -> bool | None:
    """True when a peer is the whole internet, None when a CIDR cannot be resolved (and is not
    provably a private range), False otherwise."""
    hits, unknown = world_peers(rule, world)
    if hits:
        return True
    inst = rule.resource.instance
    if any(not provably_not_world(net.env, inst, p, world, nw) for p in unknown):
        return None
    return False


class OpenPortParams(NeverWorld):
    model_config = ConfigDict(extra="forbid")

    world_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0", "::/0"])
    allowed_ports: list[int] = Field(default_factory=lambda: [80, 443])


@check("tf-sg-world-open-port", scope="terraform.environment", params=OpenPortParams, subjects=RULE_TYPES)
def world_open_port(ctx: Context, env: Environment, params: OpenPortParams) -> Iterator[Hit]:
    """Ingress from the whole internet on a port that is not in the allowed list."""
    net = network(env)
    for rule in net.rules:
        if rule.direction != "ingress":
            continue
        world = _world(net, rule, params.world_cidrs, params)
        if world is False:
            continue
        t = rule.traffic
        if t is not None and t.protocol in ICMP:
            continue
        outside = t.ports_outside(params.allowed_ports) if t is not None else None
        if outside == []:  # only allowed ports: whatever the source, nothing to report
            continue
        ri = rule.resource
        if world is None or t is None:
            yield ctx.undecided(
                at=rule.span,
                node=ri,
                address=rule.subject,
                message=f"{rule.subject}: ingress source or ports cannot be resolved{why(rule)}",
            )
            continue
        yield ctx.finding(
            at=rule.span,
            node=ri,
            address=rule.subject,
            message=(
                f"{rule.subject}: ingress from the internet on {t}; only ports "
                f"{', '.join(map(str, params.allowed_ports))} may be open to the world"
            ),
        )


class AllPortsParams(NeverWorld):
    model_config = ConfigDict(extra="forbid")

    direction: Literal["ingress", "egress"]
    # "world": only rules whose CIDRs include world_cidrs; "any": whatever the peer (a security
    # group referring to itself is always left out: members of one group talking to each other).
    peer: Literal["world", "any"] = "world"
    world_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0", "::/0"])


def _self_only(net: Network, rule: SgRule) -> bool:
    """Every peer is the group itself: `self = true`, or a group reference that resolves to the
    rule's own group (by reference, or both ids known and equal)."""
    if not rule.peers:
        return False
    owner = net.owner_of(rule)
    for p in rule.peers:
        if p.kind == "self":
            continue
        if p.kind != "group":
            return False
        groups = net.peer_groups(rule, p)
        if groups and groups == owner:
            continue
        if not groups and p.external and not rule.inline:
            own = rule.resource.get("security_group_id")
            if own.is_known and own.value in p.external and len(set(p.external)) == 1:
                continue
        return False
    return True


@check("tf-sg-all-ports", scope="terraform.environment", params=AllPortsParams, subjects=RULE_TYPES)
def all_ports(ctx: Context, env: Environment, params: AllPortsParams) -> Iterator[Hit]:
    """A rule spanning every port (protocol -1/all, or 0-65535)."""
    net = network(env)
    for rule in net.rules:
        if rule.direction != params.direction or _self_only(net, rule):
            continue
        world = _world(net, rule, params.world_cidrs, params)
        if params.peer == "world" and world is False:
            continue
        ri = rule.resource
        t = rule.traffic
        if t is None or (params.peer == "world" and world is None):
            yield ctx.undecided(
                at=rule.span,
                node=ri,
                address=rule.subject,
                message=f"{rule.subject}: {params.direction} peer or ports cannot be resolved{why(rule)}",
            )
            continue
        if not t.every_port:
            continue
        peer = "the internet" if world else "its peers"
        toward = "from" if params.direction == "ingress" else "to"
        yield ctx.finding(
            at=rule.span,
            node=ri,
            address=rule.subject,
            message=f"{rule.subject}: {params.direction} {toward} {peer} on {t}",
        )
