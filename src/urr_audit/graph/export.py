"""Graph exports. Deterministic: nodes and edges sorted."""

from __future__ import annotations

import json
import re

import networkx as nx


def _sorted_copy(g: nx.DiGraph) -> nx.DiGraph:
    h = nx.DiGraph(**g.graph)
    for n in sorted(g.nodes):
        h.add_node(n, **g.nodes[n])
    for u, v in sorted(g.edges):
        h.add_edge(u, v, **g.edges[u, v])
    return h


def to_json(g: nx.DiGraph) -> str:
    data = nx.node_link_data(_sorted_copy(g), edges="links")
    return json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(g: nx.DiGraph) -> str:
    out = ["digraph urr {", "  rankdir=LR;", "  node [shape=box, fontname=Helvetica];"]
    for n in sorted(g.nodes):
        d = g.nodes[n]
        out.append(f"  {_q(n)} [label={_q(d.get('label', n))}, tooltip={_q(d.get('kind', ''))}];")
    for u, v in sorted(g.edges):
        out.append(f"  {_q(u)} -> {_q(v)} [label={_q(g.edges[u, v].get('kind', ''))}];")
    out.append("}")
    return "\n".join(out) + "\n"


def _mid(n: str, ids: dict[str, str]) -> str:
    if n not in ids:
        ids[n] = "n" + str(len(ids)) + "_" + re.sub(r"[^A-Za-z0-9_]", "_", n.split("/")[-1])[:40]
    return ids[n]


def to_mermaid(g: nx.DiGraph) -> str:
    """One subgraph per environment; `calls` edges dotted, dependencies solid."""
    ids: dict[str, str] = {}
    out = ["flowchart LR"]
    groups: dict[str, list[str]] = {}
    for n in sorted(g.nodes):
        env = n.split(":", 1)[-1].split("/", 1)[0]
        groups.setdefault(f"{n.split(':', 1)[0]}:{env}", []).append(n)
    for group, nodes in sorted(groups.items()):
        out.append(f"  subgraph {re.sub(r'[^A-Za-z0-9_]', '_', group)}[{_q(group)}]")
        for n in nodes:
            out.append(f"    {_mid(n, ids)}[{_q(g.nodes[n].get('label', n))}]")
        out.append("  end")
    for u, v in sorted(g.edges):
        kind = g.edges[u, v].get("kind", "")
        arrow = "-.->" if kind == "calls" else "-->"
        label = "" if kind in ("calls", "depends_on") else f"|{kind}|"
        out.append(f"  {_mid(u, ids)} {arrow}{label} {_mid(v, ids)}")
    return "\n".join(out) + "\n"


def export(g: nx.DiGraph, fmt: str) -> str:
    return {"json": to_json, "dot": to_dot, "mermaid": to_mermaid}[fmt](g)
