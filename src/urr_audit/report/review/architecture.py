"""1. Architecture overview: the flows the model knows, per environment, as a diagram, and the
traffic paths as a table."""

from __future__ import annotations

from urr_audit.facts.flows import INTERNET
from urr_audit.model.kubernetes import K8sEnvironment
from urr_audit.report.review.doc import Mermaid, ReviewContext, Section, code, envs_text, plain, short, table

TITLE = "Architecture overview"

_SHAPES = {"data store": "db", "queue": "queue", "stream": "queue", "topic": "queue", "edge": "round"}


def build(ctx: ReviewContext) -> Section | None:
    s = Section(TITLE)
    names = [e.name for e in ctx.tf_envs] or [e.name for e in ctx.k8s_envs]
    k8s = {e.name: e for e in ctx.k8s_envs}
    rows: dict[tuple[str, str, str, str], tuple[list[str], object]] = {}
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
            has_edges |= _kubernetes(ctx, chart, k_env)
        if has_edges:
            diagrams.append((name, chart.render()))
    if not diagrams and not rows:
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
    if rows:
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
        s.sub(
            "Traffic paths",
            table(["from", "to", "how", "protocol / port / admitted", "environments", "evidence"], body),
        )
    return s


def _kubernetes(ctx: ReviewContext, chart: Mermaid, k_env: K8sEnvironment) -> bool:
    """Workloads behind Services, the Services they call, and the hosts their configuration
    names; a dependency every workload shares is drawn once, from the environment's box."""
    f = ctx.k8s(k_env)
    deps = ctx.dependencies(k_env)
    workloads = sorted((w for w in f.pod_workloads() if f.services_for(w)), key=lambda w: w.name)
    if not workloads:
        return False
    group = f"k8s:{k_env.name}"
    chart.group(group, f"Kubernetes {k_env.name}", [(f"{group}:{w.name}", w.name, "box") for w in workloads])
    # (target key, label, dotted) -> workloads; target key -> (text, shape)
    edges: dict[tuple[str, str, bool], set[str]] = {}
    targets: dict[str, tuple[str, str]] = {}
    for w in workloads:
        for d in deps.get(w.name, []):
            port = f"{d.what} {d.port}".strip() if d.port else d.what
            if d.kind == "service" and d.backends:
                for b in d.backends:
                    if b != w.name and any(x.name == b for x in workloads):
                        edges.setdefault((f"{group}:{b}", port, False), set()).add(w.name)
            elif d.resource is not None:
                targets[d.resource] = (short(d.resource), "db")
                edges.setdefault((d.resource, port, False), set()).add(w.name)
            elif d.kind in ("external", "unknown-service", "foreign"):
                key = f"host:{d.host}"
                targets[key] = (d.host + (" (no such Service)" if d.kind == "unknown-service" else ""), "round")
                edges.setdefault((key, port, True), set()).add(w.name)
    everyone = {w.name for w in workloads}
    for (target, label, dotted), sources in sorted(edges.items()):
        if target in targets:
            chart.node(target, *targets[target])
        if sources == everyone and len(everyone) > 1:
            chart.edge(f"group:{group}", target, f"all: {label}" if label else "all", dotted=dotted)
            continue
        for source in sorted(sources):
            chart.edge(f"{group}:{source}", target, label, dotted=dotted)
    return bool(edges)
