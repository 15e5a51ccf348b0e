"""9. Monitoring: alarms and their conditions, log destinations and retention, tracing."""

from __future__ import annotations

import re

from urr_audit.facts import aws_catalog
from urr_audit.facts.observability import condition
from urr_audit.report.review.doc import ReviewContext, Section, code, envs_text, setting_text, short, table

TITLE = "Monitoring"

HOST_KINDS = {
    "service": "an in-cluster Service",
    "unknown-service": "no such Service in this environment",
    "foreign": "a Service of a namespace deployed elsewhere",
    "external": "outside the cluster",
    "ip": "an IP address",
    "local": "the pod itself (localhost)",
}


def build(ctx: ReviewContext) -> Section | None:
    s = Section(TITLE)
    every = [e.name for e in ctx.tf_envs]
    alarms: dict[tuple[str, ...], list[str]] = {}
    groups: dict[tuple[str, ...], list[str]] = {}
    logging: dict[tuple[str, ...], list[str]] = {}
    tracing: dict[tuple[str, ...], list[str]] = {}
    for env in ctx.tf_envs:
        o = ctx.observability(env)
        for a in o.alarms:
            key = (
                code(short(a.address)),
                ", ".join(code(short(x)) for x in a.subject) or "-",
                code(condition(a)),
                ", ".join(code(short(x)) for x in a.actions) or "none",
                ctx.link.span(a.span),
            )
            alarms.setdefault(key, []).append(env.name)
        for g in o.log_groups:
            retention = (
                setting_text(g.retention, ctx.link) + " days" if g.retention is not None else "not set: kept forever"
            )
            key = (
                code(short(g.address)),
                retention,
                ", ".join(code(short(w)) for w in g.writers) or "-",
                ctx.link.span(g.span),
            )
            groups.setdefault(key, []).append(env.name)
        for address, label, st in o.logging:
            logging.setdefault((code(short(address)), label, setting_text(st, ctx.link)), []).append(env.name)
        for address, label, st in o.tracing:
            tracing.setdefault((code(short(address)), label, setting_text(st, ctx.link)), []).append(env.name)
    if alarms:
        s.sub(
            "Alarms",
            table(
                ["alarm", "watches", "condition", "notifies", "evidence", "environments"],
                [[*k, envs_text(v, every)] for k, v in alarms.items()],
            ),
        )
    if groups or logging:
        s.sub(
            "Logs",
            table(
                ["log group", "retention", "written by", "evidence", "environments"],
                [[*k, envs_text(v, every)] for k, v in groups.items()],
            ),
            table(
                ["resource", "log setting", "value", "environments"],
                [[*k, envs_text(v, every)] for k, v in logging.items()],
            ),
        )
    k8s_rows: dict[tuple[str, ...], list[str]] = {}
    for e in ctx.k8s_envs:
        for name, deps in ctx.dependencies(e).items():
            for d in deps:
                if re.search(aws_catalog.TRACING_VARIABLES, d.variable):
                    key = (
                        code(name),
                        code(d.variable),
                        code(f"{d.host}:{d.port}" if d.port else d.host),
                        HOST_KINDS.get(d.kind, d.kind),
                    )
                    k8s_rows.setdefault(key, []).append(e.name)
    if tracing or k8s_rows:
        k_every = [e.name for e in ctx.k8s_envs]
        s.sub(
            "Tracing and metrics",
            table(
                ["resource", "setting", "value", "environments"],
                [[*k, envs_text(v, every)] for k, v in tracing.items()],
            ),
            table(
                ["workload", "variable", "collector", "collector is", "environments"],
                [[*k, envs_text(v, k_every)] for k, v in sorted(k8s_rows.items())],
            ),
        )
    return None if s.empty else s
