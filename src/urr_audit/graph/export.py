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


KIND_NAMES = {
    "terraform_environment": "Terraform environment",
    "kubernetes_environment": "Kubernetes environment",
    "module": "module",
    "overlay": "kustomization",
}


def display_label(data: dict) -> str:
    """`Deployment api`, `module eks`, `Terraform environment prod`: the kind, then the name."""
    kind = str(data.get("kind", ""))
    label = str(data.get("label", ""))
    name = KIND_NAMES.get(kind, kind)
    if data.get("remote"):
        name = "remote module"
    return f"{name} {label}".strip()


# Node id prefixes that are not per environment: one group each.
SHARED_GROUPS = {
    "kustomize": "kustomizations",
    "gha": "GitHub Actions",
    "gha-remote": "actions and reusable workflows of other repositories",
    "file": "files edited by workflows",
    "argocd": "Argo CD",
    "dir": "directories Argo CD deploys",
    "image": "container images",
}


def group_of(node: str) -> tuple[str, str]:
    """(group id, title): one group per environment (`tf:prod`, `k8s:prod`); what several
    environments share (kustomizations, workflows, Argo CD objects, images) in a group per kind."""
    prefix, _, rest = node.partition(":")
    if prefix not in ("tf", "k8s"):
        return prefix, SHARED_GROUPS.get(prefix, prefix)
    env = rest.split("/", 1)[0]
    title = {"tf": "Terraform", "k8s": "Kubernetes"}[prefix]
    return f"{prefix}:{env}", f"{title} environment {env}"


def to_json(g: nx.DiGraph) -> str:
    h = _sorted_copy(g)
    # paths in the JSON are relative to the root; the root itself is named, not located
    if "root" in h.graph:
        h.graph["root"] = str(h.graph["root"]).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    data = nx.node_link_data(h, edges="links")
    return json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(g: nx.DiGraph) -> str:
    """One cluster per environment; nodes labelled with their kind; edges with theirs."""
    out = ["digraph urr {", "  rankdir=LR;", "  node [shape=box, fontname=Helvetica];"]
    groups: dict[tuple[str, str], list[str]] = {}
    for n in sorted(g.nodes):
        groups.setdefault(group_of(n), []).append(n)
    for i, ((_, title), nodes) in enumerate(sorted(groups.items())):
        out.append(f"  subgraph cluster_{i} {{")
        out.append(f"    label={_q(title)};")
        for n in nodes:
            d = g.nodes[n]
            where = f"{d['path']}:{d.get('line', 1)}" if d.get("path") else ""
            out.append(f"    {_q(n)} [label={_q(display_label(d))}, tooltip={_q(where)}];")
        out.append("  }")
    for u, v in sorted(g.edges):
        out.append(f"  {_q(u)} -> {_q(v)} [label={_q(g.edges[u, v].get('kind', ''))}];")
    out.append("}")
    return "\n".join(out) + "\n"


def _mid(n: str, ids: dict[str, str]) -> str:
    if n not in ids:
        ids[n] = "n" + str(len(ids)) + "_" + re.sub(r"[^A-Za-z0-9_]", "_", n.split("/")[-1])[:40]
    return ids[n]


def to_mermaid(g: nx.DiGraph) -> str:
    """One subgraph per environment; nodes labelled with their kind; every edge labelled
    (`calls` dotted, the others solid)."""
    ids: dict[str, str] = {}
    out = ["flowchart LR"]
    groups: dict[str, list[str]] = {}
    for n in sorted(g.nodes):
        groups.setdefault(group_of(n)[0], []).append(n)
    titles = {}
    for n in sorted(g.nodes):
        gid, title = group_of(n)
        titles[gid] = title
    for group, nodes in sorted(groups.items()):
        gid = group if group in titles else group_of(nodes[0])[0]
        out.append(f"  subgraph {re.sub(r'[^A-Za-z0-9_]', '_', gid)}[{_q(titles.get(gid, gid))}]")
        for n in nodes:
            out.append(f"    {_mid(n, ids)}[{_q(display_label(g.nodes[n]))}]")
        out.append("  end")
    for u, v in sorted(g.edges):
        kind = g.edges[u, v].get("kind", "")
        arrow = "-.->" if kind == "calls" else "-->"
        label = f"|{kind}|" if kind else ""
        out.append(f"  {_mid(u, ids)} {arrow}{label} {_mid(v, ids)}")
    return "\n".join(out) + "\n"


def export(g: nx.DiGraph, fmt: str) -> str:
    return {"json": to_json, "dot": to_dot, "mermaid": to_mermaid}[fmt](g)
