"""8. Local clusters: their configurations (nodes, ports mapped from the host and the NodePort
Services behind them) and the in-cluster stand-ins an environment runs for services the others
reach outside the cluster (a PostgreSQL StatefulSet for a managed database, ...)."""

from __future__ import annotations

from urr_audit.facts.kubernetes import host_ports, stand_ins
from urr_audit.report.review.doc import ReviewContext, Section, code, table

TITLE = "Local clusters and stand-ins"


def build(ctx: ReviewContext) -> Section | None:
    s = Section(TITLE)
    clusters = _clusters(ctx)
    if clusters:
        s.sub("Cluster configurations", *clusters)
    standins = _stand_ins(ctx)
    if standins:
        s.sub("Stand-ins for cloud services", *standins)
    return None if s.empty else s


def _clusters(ctx: ReviewContext) -> list[str]:
    clusters = ctx.project.local_clusters.clusters
    if not clusters:
        return []
    facts = [ctx.k8s(e) for e in ctx.k8s_envs]
    rows = []
    for hp in host_ports(clusters, facts):
        m = hp.mapping
        behind = "<br>".join(
            f"{t.environment}: Service {code(t.service)}"
            + (f" ({', '.join(code(w) for w in t.workloads)})" if t.workloads else "")
            + f" {ctx.link.span(t.span, 'nodePort')}"
            for t in hp.targets
        )
        rows.append(
            [
                ctx.link.file(hp.cluster.path),
                code(hp.cluster.name or "kind"),
                hp.role,
                f"{m.listen_address + ':' if m.listen_address else ''}{m.host_port} → {m.container_port} {m.protocol}",
                behind or "no NodePort Service of this repository",
                ctx.link.span(m.span),
            ]
        )
    nodes = [
        [
            ctx.link.file(c.path),
            code(c.name or "kind"),
            c.tool,
            ", ".join(n.role for n in c.nodes) or "one control-plane (default)",
        ]
        for c in clusters
    ]
    return [
        (
            "Local cluster configurations found in the repository, and the ports they open on the "
            "host: each maps a host port to a node port, where a NodePort Service of an environment "
            "may listen."
        ),
        table(["file", "cluster", "tool", "nodes"], nodes),
        table(["file", "cluster", "node", "host → node port", "NodePort Service there", "evidence"], rows),
    ]


def _stand_ins(ctx: ReviewContext) -> list[str]:
    per = {}
    for e in ctx.k8s_envs:
        f = ctx.k8s(e)
        per[e.name] = (f, [d for deps in ctx.dependencies(e).values() for d in deps])
    found = stand_ins(per)
    if not found:
        return []
    groups: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], list] = {}  # type: ignore[type-arg]
    for st in found:
        groups.setdefault((st.local_env, st.service, st.backends, st.images), []).append(st)
    body = []
    for (env, service, backends, images), items in sorted(groups.items()):
        elsewhere: dict[tuple[str, str], object] = {}
        for st in items:
            for other, host, span in st.elsewhere:
                elsewhere.setdefault((other, host), span)
        body.append(
            [
                env,
                f"Service {code(service)} ({', '.join(code(b) for b in backends)})",
                ", ".join(code(i) for i in images) or "-",
                "<br>".join(
                    f"{other}: {ctx.link.span(span, host)}"  # type: ignore[arg-type]
                    for (other, host), span in sorted(elsewhere.items())
                ),
                ", ".join(
                    ctx.link.span(st.span, f"{st.workload} {st.variable}")
                    for st in sorted(items, key=lambda x: (x.workload, x.variable))
                ),
            ]
        )
    return [
        (
            "A configuration variable that names an in-cluster Service (backed by a workload of the "
            "same environment) in one environment and a host outside the cluster in others: the "
            "in-cluster workload stands in for the external service there."
        ),
        table(["environment", "stand-in", "image", "what other environments reach instead", "configured by"], body),
    ]
