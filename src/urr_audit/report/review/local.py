"""8. Local clusters: in-cluster stand-ins an environment runs for services the others reach
outside the cluster (a PostgreSQL StatefulSet for a managed database, ...)."""

from __future__ import annotations

from urr_audit.facts.kubernetes import stand_ins
from urr_audit.report.review.doc import ReviewContext, Section, code, table

TITLE = "Local clusters and stand-ins"


def build(ctx: ReviewContext) -> Section | None:
    per = {}
    for e in ctx.k8s_envs:
        f = ctx.k8s(e)
        per[e.name] = (f, [d for deps in ctx.dependencies(e).values() for d in deps])
    found = stand_ins(per)
    if not found:
        return None
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
    return Section(TITLE).add(
        (
            "A configuration variable that names an in-cluster Service (backed by a workload of the "
            "same environment) in one environment and a host outside the cluster in others: the "
            "in-cluster workload stands in for the external service there."
        ),
        table(["environment", "stand-in", "image", "what other environments reach instead", "configured by"], body),
    )
