"""How traffic and data move between the resources of one Terraform environment.

Resources that carry traffic or hold data (`aws_catalog.FLOW_NODES`: distributions, load
balancers, APIs, functions, queues, data stores) are the nodes. The references that wire them
(`aws_catalog.FLOW_REFERENCES`: an origin's domain, a listener's target group, a trigger's
source and function, a function's environment) are the edges, oriented the way traffic flows;
resources in between (listeners, integrations, event source mappings) are contracted away, so
`distribution -> origin -> listener -> target group` reads `distribution -> load balancer`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from urr_audit.facts import aws_catalog
from urr_audit.facts.network import NetworkFacts
from urr_audit.facts.tf import attributes_at, existing, targets
from urr_audit.model.common import Span
from urr_audit.model.terraform import Environment, ResourceInstance

INTERNET = "internet"


@dataclass(frozen=True)
class FlowNode:
    address: str  # resource address without instance key
    type: str
    role: str  # edge, load balancer, function, queue, data store, ...
    span: Span


@dataclass(frozen=True)
class Flow:
    source: str  # a FlowNode address, or INTERNET
    target: str
    label: str  # origin, forwards, triggers, configured with, ...
    span: Span  # the reference that makes it (first one when contracted)
    detail: str = ""  # protocol / port / path when the model knows it


@dataclass
class FlowFacts:
    environment: str
    nodes: dict[str, FlowNode] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)


def _detail(ri: ResourceInstance) -> str:
    """Protocol and port of a connector (listener, target group), when written and known."""
    parts = []
    for attribute in ("protocol", "port"):
        v = ri.get(attribute)
        if v.is_known and v.value is not None:
            parts.append(str(v.value))
    return " ".join(parts)


def flow_facts(env: Environment, network: NetworkFacts | None = None) -> FlowFacts:
    out = FlowFacts(env.name)
    instances: dict[str, ResourceInstance] = {}
    for ri in existing(env):
        if ri.resource.mode != "managed":
            continue
        instances.setdefault(ri.resource_address, ri)
        role = aws_catalog.FLOW_NODES.get(ri.type)
        if role is not None and ri.resource_address not in out.nodes:
            out.nodes[ri.resource_address] = FlowNode(ri.resource_address, ri.type, role, ri.span)

    # raw edges between any resources, oriented as traffic flows
    edges: dict[str, list[tuple[str, str, Span]]] = {}
    by_type: dict[str, list[tuple[str, aws_catalog.Direction, str]]] = {}
    for type_, path, direction, label in aws_catalog.FLOW_REFERENCES:
        by_type.setdefault(type_, []).append((path, direction, label))
    for ri in existing(env, *by_type):
        for path, direction, label in by_type[ri.type]:
            spans = [a.span for a, _ in attributes_at(ri, path)]
            if not spans:
                continue
            for t in targets(env, ri, path):
                t_base = _base(t)
                if t_base == ri.resource_address or t_base not in instances:
                    continue
                a, b = (ri.resource_address, t_base) if direction == "forward" else (t_base, ri.resource_address)
                edges.setdefault(a, []).append((b, label, spans[0]))

    details = {
        a: _detail(ri) for a, ri in instances.items() if ri.type.startswith(("aws_lb_listener", "aws_lb_target"))
    }
    seen: set[tuple[str, str]] = set()
    for start in sorted(out.nodes):
        # breadth-first through connectors to the next flow nodes
        queue: deque[tuple[str, str, Span, list[str]]] = deque(
            (b, label, span, [details.get(b, "")]) for b, label, span in edges.get(start, [])
        )
        visited = {start}
        while queue:
            node, label, span, info = queue.popleft()
            if node in visited:
                continue
            visited.add(node)
            if node in out.nodes:
                if (start, node) not in seen:
                    seen.add((start, node))
                    detail = ", ".join(dict.fromkeys(i for i in info if i))
                    out.flows.append(Flow(start, node, label, span, detail))
                continue
            for b, _, _ in edges.get(node, []):
                queue.append((b, label, span, [*info, details.get(b, "")]))

    for address, flow_node in sorted(out.nodes.items()):
        facing = aws_catalog.INTERNET_FACING.get(flow_node.type)
        if facing is None:
            continue
        attribute, internal_value, default = facing
        v = instances[address].get(attribute)
        internal = (v.value == internal_value) if v.is_known else (not default if v.is_absent else None)
        if internal is False:
            detail = _admitted(env, network, instances[address]) if network else ""
            out.flows.append(Flow(INTERNET, address, "internet-facing", flow_node.span, detail))
    return out


def _admitted(env: Environment, network: NetworkFacts, ri: ResourceInstance) -> str:
    """Who the load balancer's security groups admit: CIDRs and prefix lists, with ports."""
    groups = set(targets(env, ri, "security_groups"))
    peers = sorted(
        {
            f"{'prefix list' if link.peer.kind == 'prefix list' else link.peer.name}:{link.ports}"
            for link in network.links
            if link.group in groups and link.direction == "ingress" and link.peer.kind in ("cidr", "prefix list")
        }
    )
    return ", ".join(peers)


def _base(address: str) -> str:
    """The resource address without its instance key."""
    if address.endswith("]"):
        depth, i = 0, len(address) - 1
        while i >= 0:
            if address[i] == "]":
                depth += 1
            elif address[i] == "[":
                depth -= 1
                if depth == 0:
                    return address[:i]
            i -= 1
    return address
