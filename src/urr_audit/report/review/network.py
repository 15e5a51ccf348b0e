"""3. Network: VPCs, subnet tiers with CIDRs and zones, route tables and where they lead,
security-group links as a table and a diagram."""

from __future__ import annotations

from urr_audit.facts.tf import display
from urr_audit.report.review.doc import (
    Mermaid,
    ReviewContext,
    Section,
    code,
    envs_text,
    plain,
    setting_text,
    short,
    table,
    value_text,
)

TITLE = "Network"


def build(ctx: ReviewContext) -> Section | None:
    nets = [(env.name, ctx.network(env)) for env in ctx.tf_envs]
    if not any(n.vpcs or n.subnets or n.links or n.route_tables for _, n in nets):
        return None
    every = [name for name, _ in nets]
    s = Section(TITLE)

    def merged(rows_by_env: list[tuple[str, list[list[str]]]]) -> list[list[str]]:
        """One row per distinct row, with the environments it holds in."""
        out: dict[tuple[str, ...], list[str]] = {}
        for env, rows in rows_by_env:
            for r in rows:
                out.setdefault(tuple(r), []).append(env)
        return [[*r, envs_text(e, every)] for r, e in out.items()]

    vpcs = merged(
        [
            (name, [[code(short(a)), setting_text(cidr, ctx.link), ctx.link.span(span)] for a, cidr, span in n.vpcs])
            for name, n in nets
        ]
    )
    subnets = merged(
        [
            (
                name,
                [
                    [
                        code(sub.name),
                        code(short(sub.address)),
                        value_text(sub.count),
                        "<br>".join(setting_text(c, ctx.link) for c in sub.cidrs) or "not set",
                        "<br>".join(setting_text(z, ctx.link) for z in sub.zones) or "not set",
                        ", ".join(code(short(t.address)) for t in n.route_tables if sub.address in t.subnets)
                        or "none (main route table)",
                        ctx.link.span(sub.span),
                    ]
                    for sub in n.subnets
                ],
            )
            for name, n in nets
        ]
    )
    if vpcs or subnets:
        s.sub(
            "VPCs and subnets",
            table(["VPC", "CIDR", "evidence", "environments"], vpcs),
            table(
                [
                    "tier",
                    "subnet resource",
                    "count",
                    "CIDR",
                    "availability zone",
                    "route table",
                    "evidence",
                    "environments",
                ],
                subnets,
            ),
        )
    routes = merged(
        [
            (
                name,
                [
                    [
                        code(short(t.address)),
                        ", ".join(code(display(x).rsplit(".", 1)[-1]) for x in t.subnets) or "-",
                        "<br>".join(
                            f"{setting_text(r.destination, ctx.link) if r.destination else 'any'} → {r.kind}"
                            + (f" {code(short(r.target))}" if r.target else "")
                            + f" ({ctx.link.span(r.span)})"
                            for r in t.routes
                        )
                        or "local only",
                        ", ".join(code(short(e)) for e in t.endpoints) or "-",
                        "yes" if t.exits else "no",
                        ctx.link.span(t.span),
                    ]
                    for t in n.route_tables
                ],
            )
            for name, n in nets
        ]
    )
    if routes:
        s.sub(
            "Route tables",
            "Where each route table sends traffic that leaves the VPC's local range; a table with "
            "no such route keeps its subnets off the internet (gateway endpoints still reach their "
            "AWS service).",
            table(
                ["route table", "subnets", "routes", "gateway endpoints", "leaves the VPC", "evidence", "environments"],
                routes,
            ),
        )
    link_rows = merged(
        [
            (
                name,
                [
                    [
                        _peer(link.source, link.direction == "egress", link),
                        _peer(link.destination, link.direction == "ingress", link),
                        f"{link.protocol} {link.ports}" if link.protocol != "all" else "all traffic",
                        link.direction,
                        ctx.link.span(link.span),
                    ]
                    for link in n.links
                ],
            )
            for name, n in nets
        ]
    )
    if link_rows:
        chart = Mermaid("LR")
        for name, n in nets:
            for link in n.links:
                a = _node(chart, link.source, link, link.direction == "egress")
                b = _node(chart, link.destination, link, link.direction == "ingress")
                ports = "all" if link.protocol == "all" else f"{link.protocol} {link.ports}"
                chart.edge(a, b, ports, dotted=link.direction == "egress")
        s.sub(
            "Security-group links",
            "Who may open connections to whom: `from` reaches `to` on the ports shown. Ingress "
            "rules are drawn solid, egress rules dotted.",
            chart.render(),
            table(["from", "to", "ports", "rule", "evidence", "environments"], link_rows),
        )
    return s


def _peer(name: str, is_group_side: bool, link) -> str:  # type: ignore[no-untyped-def]
    if name == link.group or link.peer.kind in ("group", "self"):
        return code(short(name)) if name else "unresolved group"
    kind = link.peer.kind
    if kind == "cidr":
        return code(name)
    if kind == "cidr of":
        return f"CIDR of {code(short(name))}"
    if kind == "prefix list":
        return f"prefix list {code(short(name))}"
    return f"unresolved ({plain(name)})"


def _node(chart: Mermaid, name: str, link, group_side: bool) -> str:  # type: ignore[no-untyped-def]
    if name == link.group or link.peer.kind in ("group", "self"):
        chart.node(f"sg:{name}", short(name) if name else "unresolved group")
        return f"sg:{name}"
    kind = link.peer.kind
    text = {"cidr": name, "cidr of": f"CIDR of {short(name)}", "prefix list": f"prefix list {short(name)}"}.get(
        kind, f"unresolved: {name}"
    )
    chart.node(f"peer:{kind}:{name}", text, "round")
    return f"peer:{kind}:{name}"
