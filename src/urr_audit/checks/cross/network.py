"""Network: NetworkPolicy `ipBlock` egress against where Terraform puts what the pods dial,
and CIDRs in policies that match no network Terraform knows."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from pydantic import Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.cross._common import PairingParams, pairings, spans, workload_names
from urr_audit.checks.kubernetes.network import variable_matcher
from urr_audit.facts.network import route_tables
from urr_audit.facts.placement import Located, covers, locate, resource_for_host
from urr_audit.facts.tf import existing, setting
from urr_audit.model.common import Severity, Span
from urr_audit.model.k8s_facts import DEFAULT_HOST_KEYS, Endpoint, IPBlock, NetworkPolicy, PolicyRule, Workload, facts
from urr_audit.model.project import Project
from urr_audit.model.terraform import Environment, ResourceInstance
from urr_audit.wording import listed


class SubnetEgressParams(PairingParams):
    ports: list[int]  # only destinations on these ports are checked (data stores, proxies, endpoints)
    scheme_ports: dict[str, int] = Field(default_factory=dict)
    host_keys: str = DEFAULT_HOST_KEYS
    # variables the pod never dials itself (CORS origins, bind addresses...): regexes, full match
    ignore_variables: list[str] = Field(default_factory=list)


def _port_rules(policies: list[NetworkPolicy], port: int) -> list[tuple[NetworkPolicy, PolicyRule]]:
    out = []
    for pol in policies:
        for rule in pol.egress:
            if not rule.ports or any(
                p.protocol.upper() == "TCP"
                and (p.port is None or (isinstance(p.port, int) and p.port <= port <= (p.end_port or p.port)))
                for p in rule.ports
            ):
                out.append((pol, rule))
    return out


@dataclass
class _Gap:
    anchor: Span
    policy: str
    blocks: list[str]
    located: Located
    missing: list[tuple[str, Span]]  # uncovered CIDRs
    partial: bool  # some CIDRs of the resource are covered
    exact: bool  # the CIDRs are the subnets' own (not candidates of a count known at apply)
    port: int
    users: list[tuple[Workload, Endpoint]] = field(default_factory=list)


@check(
    "cross-egress-subnets",
    scope="project",
    params=SubnetEgressParams,
    subjects=("kubernetes:NetworkPolicy", "terraform:aws_subnet"),
)
def egress_subnets(ctx: Context, project: Project, params: SubnetEgressParams) -> Iterator[Hit]:
    """Pods whose egress to a data store, proxy or interface endpoint their configuration
    names is opened by `ipBlock` rules only, and the CIDRs written there miss the subnets the
    paired Terraform environment places that resource in (an RDS proxy in the application
    subnets behind a rule for the database subnets). The resource is found by the endpoint
    name in the host (`<proxy>.proxy-...rds.amazonaws.com`, `<group>...cache.amazonaws.com`)
    or, for AWS API hosts, the interface endpoint with private DNS; its subnets through its
    subnet attributes and subnet groups. Where a subnet count is known only at apply and its
    candidate CIDRs are partly covered, the rule is undecided."""
    not_dialed = variable_matcher(params.ignore_variables)
    wanted = set(params.ports)
    for pair in pairings(project, params):
        f = facts(pair.kubernetes)
        tf = pair.terraform
        gaps: dict[tuple[str, int, str], _Gap] = {}
        for w in f.pod_workloads():
            policies = f.policies_for(w, "Egress")
            if not policies:
                continue
            for e in f.endpoints(w, host_keys=params.host_keys, scheme_ports=params.scheme_ports):
                if e.port is None or e.port not in wanted or not_dialed(e.variable):
                    continue
                if f.resolve_host(e.host, w.namespace).kind != "external":
                    continue
                rules = _port_rules(policies, e.port)
                if not rules or any(not r.peers for _, r in rules):
                    continue  # nothing opens the port (URR-K8S-003), or a rule opens it to everyone
                blocks = [
                    (pol, r, i, peer.ip_block)
                    for pol, r in rules
                    for i, peer in enumerate(r.peers)
                    if peer.ip_block is not None
                ]
                if not blocks:
                    continue
                ri = resource_for_host(tf, e.host)
                if ri is None:
                    continue
                gap = _gap(tf, ri, blocks, e.port)
                if gap is None:
                    continue
                key = (gap.anchor.path, gap.anchor.line, ri.address)
                gaps.setdefault(key, gap).users.append((w, e))
        for gap in gaps.values():
            yield _hit(ctx, pair.kubernetes.name, tf.name, gap)


def _gap(
    tf: Environment,
    ri: ResourceInstance,
    blocks: list[tuple[NetworkPolicy, PolicyRule, int, IPBlock]],
    port: int,
) -> _Gap | None:
    loc = locate(tf, ri)
    pol, rule, i, _ = blocks[0]
    anchor = pol.obj.origin(f"{rule.path}.to[{i}].ipBlock.cidr")
    written = [b.cidr for _, _, _, b in blocks]
    if loc.reason:
        return _Gap(anchor, pol.name, written, loc, [], False, False, port)
    cidrs = [(c, s) for sub in loc.subnets for c, s in sub.cidrs]
    if not cidrs:
        return _Gap(anchor, pol.name, written, loc, [], False, False, port)
    missing = []
    for c, s in cidrs:
        if not any(covers(b.cidr, b.excepts, c) for _, _, _, b in blocks):
            missing.append((c, s))
    if not missing:
        return None
    exact = all(sub.exact for sub in loc.subnets)
    return _Gap(anchor, pol.name, written, loc, missing, len(missing) < len(cidrs), exact, port)


def _hit(ctx: Context, k8s: str, tf: str, gap: _Gap) -> Hit:
    ri = gap.located.resource
    who = workload_names((w for w, _ in gap.users), 3)
    variables = listed(sorted({e.variable for _, e in gap.users}), 3)
    related = spans(
        [e.span for _, e in gap.users] + [s for _, s in gap.missing] + gap.located.via + [ri.span], exclude=gap.anchor
    )
    subject = (
        f"{who} dial{'s' if len(gap.users) == 1 else ''} {ri.address} ({variables}, TCP {gap.port}), which "
        f"NetworkPolicy {gap.policy} opens only to {listed(gap.blocks, 3)}"
    )
    if not gap.missing:
        why = gap.located.reason or "its subnets' CIDRs are not known before apply"
        return ctx.undecided(
            at=gap.anchor, environment=k8s, related=related, message=f"{subject}; where it lives is not known: {why}"
        )
    subnets = listed([f"{s.address} ({', '.join(c for c, _ in s.cidrs)})" for s in gap.located.subnets], 3)
    if gap.partial and not gap.exact:
        return ctx.undecided(
            at=gap.anchor,
            environment=k8s,
            related=related,
            message=f"{subject}; Terraform {tf} places it in {subnets}, and whether the uncovered "
            f"{listed([c for c, _ in gap.missing])} exist depends on a count known only at apply",
        )
    if gap.partial:
        return ctx.finding(
            at=gap.anchor,
            environment=k8s,
            related=related,
            severity=Severity.MEDIUM,
            message=f"{subject}; Terraform {tf} places it in {subnets}, and {listed([c for c, _ in gap.missing])} "
            "is not covered: connections to its interfaces there are dropped",
        )
    return ctx.finding(
        at=gap.anchor,
        environment=k8s,
        related=related,
        message=f"{subject}, but Terraform {tf} places it in {subnets}, which that rule does not cover: every "
        "connection is dropped",
    )


# --- CIDRs written by hand -----------------------------------------------------------------------

_SHARED = ipaddress.ip_network("100.64.0.0/10")


def _private(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    return (net.is_private or net.subnet_of(_SHARED)) if net.version == 4 else net.is_private  # type: ignore[arg-type]


@dataclass
class _Networks:
    known: list[tuple[str, str]] = field(default_factory=list)  # (CIDR, what it is)
    spans: list[Span] = field(default_factory=list)  # where the VPC CIDRs are set
    unknown: list[str] = field(default_factory=list)  # why the list may lack networks


def _networks(env: Environment) -> _Networks:
    out = _Networks()
    for ri in existing(env, "aws_vpc"):
        if ri.resource.mode != "managed":
            continue
        s = setting(ri, "cidr_block")
        out.spans.append(s.span if s is not None else ri.span)
        if s is not None and s.known and isinstance(s.value.value, str):
            out.known.append((s.value.value, f"VPC {ri.address}"))
        else:
            out.unknown.append(f"the CIDR of {ri.address} is not known before apply")
    for ri in existing(env, "aws_vpc_ipv4_cidr_block_association"):
        s = setting(ri, "cidr_block")
        if s is not None and s.known:
            out.known.append((str(s.value.value), f"secondary CIDR {ri.address}"))
    out.unknown += [f"{r} (it may create networks)" for r in env.incomplete]
    for table in route_tables(env):
        for r in table.routes:
            if r.kind in ("internet gateway", "NAT gateway", "egress-only internet gateway", "gateway"):
                continue
            d = r.destination
            if d is not None and d.known and isinstance(d.value.value, str) and "/" in d.value.value:
                if d.value.value not in ("0.0.0.0/0", "::/0"):
                    out.known.append((d.value.value, f"route to {r.kind} in {table.address}"))
            else:
                out.unknown.append(f"a route to {r.kind} in {table.address} has a destination not known")
    return out


class PolicyCidrParams(PairingParams):
    # names of the Kubernetes environments (regex, full match) whose policies address networks
    # outside the cloud (on-premises ranges, a local cluster): not judged
    skip: list[str] = Field(default_factory=list)


@check(
    "cross-policy-cidr-network",
    scope="project",
    params=PolicyCidrParams,
    subjects=("kubernetes:NetworkPolicy", "terraform:aws_vpc"),
)
def policy_cidr_network(ctx: Context, project: Project, params: PolicyCidrParams) -> Iterator[Hit]:
    """Private CIDRs in NetworkPolicy `ipBlock`s (written by hand for the VPC, a subnet tier,
    a peered network) that overlap no network the paired Terraform environment knows: its
    VPCs (secondary CIDRs included) and the destinations of its routes to peerings, transit
    gateways and VPNs. Such a rule opens (or closes) nothing that exists; often it is another
    environment's or a default VPC's range copied by hand. Public ranges are not judged;
    a VPC CIDR or route known only at apply leaves the case undecided."""
    skip = [re.compile(p) for p in params.skip]
    by_name = {e.name: e for e in project.terraform.environments}
    others: dict[str, list[str]] = {}
    nets_of = {e.name: _networks(e) for e in project.terraform.environments}
    for e in project.terraform.environments:
        for c, what in nets_of[e.name].known:
            if what.startswith("VPC"):
                others.setdefault(c, []).append(e.name)
    for pair in pairings(project, params):
        if any(p.fullmatch(pair.kubernetes.name) for p in skip):
            continue
        nets = nets_of[pair.terraform.name]
        if not nets.known:
            continue  # the environment creates no network (or not one read): nothing to compare with
        parsed = []
        for c, what in nets.known:
            try:
                parsed.append((ipaddress.ip_network(c, strict=False), c, what))
            except ValueError:
                continue
        for pol in facts(pair.kubernetes).network_policies:
            for rule in (*pol.ingress, *pol.egress):
                side = "from" if rule.direction == "ingress" else "to"
                for i, peer in enumerate(rule.peers):
                    if peer.ip_block is None:
                        continue
                    try:
                        net = ipaddress.ip_network(peer.ip_block.cidr, strict=False)
                    except ValueError:
                        continue
                    if not _private(net) or any(n.version == net.version and n.overlaps(net) for n, _, _ in parsed):
                        continue
                    at = pol.obj.origin(f"{rule.path}.{side}[{i}].ipBlock.cidr")
                    vpcs = listed([f"{c} ({w})" for _, c, w in parsed], 3) or "none known"
                    elsewhere = [n for n in others.get(peer.ip_block.cidr, []) if n != pair.terraform.name]
                    hint = f"; it is the VPC of Terraform {listed(elsewhere)}" if elsewhere else ""
                    text = (
                        f"NetworkPolicy {pol.name}: {rule.direction} rule {rule.index + 1} names {peer.ip_block.cidr}, "
                        f"which overlaps no network Terraform {by_name[pair.terraform.name].name} knows ({vpcs}){hint}"
                    )
                    if nets.unknown:
                        yield ctx.undecided(
                            at=at, node=pol, environment=pair.kubernetes.name, message=f"{text}, but {nets.unknown[0]}"
                        )
                        continue
                    yield ctx.finding(
                        at=at,
                        node=pol,
                        environment=pair.kubernetes.name,
                        related=spans(nets.spans),
                        message=f"{text}: the rule {'admits' if side == 'from' else 'opens'} nothing that exists here",
                    )
