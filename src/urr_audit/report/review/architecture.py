"""1. Architecture overview: the flows the model knows, per environment, as a diagram, and the
traffic paths as a table."""

from __future__ import annotations

from urr_audit.facts.flows import INTERNET
from urr_audit.model.common import Span
from urr_audit.model.kubernetes import K8sEnvironment
from urr_audit.report.review.doc import Mermaid, ReviewContext, Section, code, envs_text, plain, short, table

TITLE = "Architecture overview"

_SHAPES = {"data store": "db", "queue": "queue", "stream": "queue", "topic": "queue", "edge": "round"}


def build(ctx: ReviewContext) -> Section | None:
    s = Section(TITLE)
    names = [e.name for e in ctx.tf_envs] or [e.name for e in ctx.k8s_envs]
    k8s = {e.name: e for e in ctx.k8s_envs}
    rows: dict[tuple[str, str, str, str], tuple[list[str], object]] = {}
    k8s_rows: list[list[str]] = []
    diagrams = []
    for name in names:
        env = ctx.tf_env(name)
        chart = Mermaid("LR")
        has_edges = False
        if env is not None:
            flows = ctx.flows(env)
            used = {f.source for f in flows.flows} | {f.target for f in flows.flows}
            by_role: dict[str, list[tuple[str, str, str]]] = {}
            for address in sorted(used):
                node = flows.nodes.get(address)
                if node is None:
                    continue
                by_role.setdefault(node.role, []).append((address, short(address), _SHAPES.get(node.role, "box")))
            if INTERNET in used:
                chart.node(INTERNET, "Internet", "round")
            for role, members in sorted(by_role.items()):
                chart.group(f"{name}:{role}", role, members)
            for f in flows.flows:
                chart.edge(f.source, f.target, f.label if not f.detail else f"{f.label}: {f.detail}")
                has_edges = True
                key = (f.source, f.target, f.label, f.detail)
                rows.setdefault(key, ([], f.span))[0].append(name)
        k_env = k8s.get(name)
        if k_env is not None:
            drawn = _kubernetes(ctx, chart, k_env)
            has_edges |= bool(drawn)
            k8s_rows += drawn
        if has_edges:
            diagrams.append((name, chart.render()))
    if not diagrams and not rows and not k8s_rows:
        return None
    every = [e.name for e in ctx.tf_envs]
    s.add(
        "What the model knows about how requests and data flow: Terraform references between "
        "resources that carry traffic or hold data (origins, listeners, triggers, function "
        "environments), and the hosts each Kubernetes workload's configuration names. A component "
        "whose wiring is not written in the repository (targets registered by a controller, "
        "clients configured at run time) has no arrow."
    )
    for name, chart_text in diagrams:
        s.sub(f"Environment {name}", chart_text)
    if rows or k8s_rows:
        body = []
        for (src, dst, label, detail), (envs, span) in sorted(rows.items()):
            body.append(
                [
                    "Internet" if src == INTERNET else code(short(src)),
                    code(short(dst)),
                    plain(label),
                    plain(detail) or "-",
                    envs_text(envs, every),
                    ctx.link.span(span),  # type: ignore[arg-type]
                ]
            )
        body += k8s_rows
        s.sub(
            "Traffic paths",
            table(["from", "to", "how", "protocol / port / admitted", "environments", "evidence"], body),
        )
    return s


def _kubernetes(ctx: ReviewContext, chart: Mermaid, k_env: K8sEnvironment) -> list[list[str]]:
    """The environment's workloads as one node, with an arrow to each cloud resource or outside
    host their configuration names (how many workloads do); calls between workloads are drawn
    in the Kubernetes section."""
    f = ctx.k8s(k_env)
    deps = ctx.dependencies(k_env)
    workloads = sorted({w.name for w in f.pod_workloads()})
    if not workloads:
        return []
    me = f"k8s:{k_env.name}"
    chart.node(me, f"Kubernetes {k_env.name}: {len(workloads)} workloads", "box")
    # (target key, label, dotted) -> workloads; target key -> (text, shape)
    edges: dict[tuple[str, str, bool], set[str]] = {}
    targets: dict[str, tuple[str, str]] = {}
    evidence: dict[tuple[str, str, bool], Span] = {}
    for name in workloads:
        for d in deps.get(name, []):
            key = None
            port = f"{d.what} {d.port}".strip() if d.port else d.what
            if d.resource is not None:
                targets[d.resource] = (short(d.resource), "db")
                key = (d.resource, port, False)
            elif d.kind in ("external", "unknown-service", "foreign"):
                host = f"host:{d.host}"
                note = {"unknown-service": " (no such Service)", "foreign": " (another namespace)"}.get(d.kind, "")
                targets[host] = (d.host + note, "round")
                key = (host, port, True)
            if key is not None:
                edges.setdefault(key, set()).add(name)
                evidence.setdefault(key, d.span)
    rows = []
    for (target, label, dotted), sources in sorted(edges.items()):
        chart.node(target, *targets[target])
        count = "all" if len(sources) == len(workloads) else f"{len(sources)} of {len(workloads)}"
        chart.edge(me, target, f"{label} ({count})" if label else count, dotted=dotted)
        rows.append(
            [
                f"Kubernetes {k_env.name}: "
                + (
                    f"all {len(workloads)} workloads"
                    if len(sources) == len(workloads)
                    else ", ".join(code(n) for n in sorted(sources))
                ),
                code(short(target)) if not target.startswith("host:") else code(targets[target][0]),
                "configured",
                plain(label) or "-",
                k_env.name,
                ctx.link.span(evidence[(target, label, dotted)]),
            ]
        )
    return rows
