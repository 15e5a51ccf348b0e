"""8. Local clusters: in-cluster stand-ins an environment runs for services the others reach
outside the cluster (a PostgreSQL StatefulSet for a managed database, ...)."""

from __future__ import annotations

from urr_audit.facts.kubernetes import dependencies, stand_ins
from urr_audit.report.review.doc import ReviewContext, Section, code, table

TITLE = "Local clusters and stand-ins"


def build(ctx: ReviewContext) -> Section | None:
    per = {}
    for e in ctx.k8s_envs:
        f = ctx.k8s(e)
        per[e.name] = (f, [d for w in f.pod_workloads() for d in dependencies(f, w)])
    found = stand_ins(per)
    if not found:
        return None
    rows: dict[tuple[str, str, str, str], list[tuple[str, str]]] = {}
    for s in found:
        key = (
            s.local_env,
            f"Service {code(s.service)} ({', '.join(code(b) for b in s.backends)})",
            ", ".join(code(i) for i in s.images) or "-",
            "<br>".join(f"{env}: {code(host)} ({ctx.link.span(span)})" for env, host, span in s.elsewhere),
        )
        rows.setdefault(key, []).append((s.variable, ctx.link.span(s.span, f"{s.workload} {s.variable}")))
    body = [
        [env, service, images, elsewhere, ", ".join(sorted({link for _, link in uses}))]
        for (env, service, images, elsewhere), uses in sorted(rows.items())
    ]
    return Section(TITLE).add(
        "A configuration variable that names an in-cluster Service (backed by a workload of the "
        "same environment) in one environment and a host outside the cluster in others: the "
        "in-cluster workload stands in for the external service there.",
        table(["environment", "stand-in", "image", "what other environments reach instead", "configured by"], body),
    )
