"""2. Cloud service inventory: resources by service, the modules creating them, key settings
per environment; VPC endpoints."""

from __future__ import annotations

from urr_audit.facts.tf import Setting, local_address
from urr_audit.report.review.doc import (
    ReviewContext,
    Section,
    code,
    envs_text,
    fmt,
    setting_text,
    short,
    shorten,
    table,
)

TITLE = "Cloud service inventory"


def build(ctx: ReviewContext) -> Section | None:
    if not ctx.tf_envs:
        return None
    per_env = {env.name: ctx.inventory(env) for env in ctx.tf_envs}
    services = sorted({name for inv in per_env.values() for name in inv})
    if not services:
        return None
    every = list(per_env)
    rows = []
    for service in services:
        uses = {e: inv[service] for e, inv in per_env.items() if service in inv}
        types: dict[str, set[str]] = {}
        for e, use in uses.items():
            for t, n in use.types.items():
                counted = f"{t} ×{n}" + (" (count unknown)" if t in use.uncounted else "")
                types.setdefault(counted, set()).add(e)
        type_text = "<br>".join(
            code(t) + ("" if len(envs) == len(uses) else f" ({', '.join(sorted(envs))})")
            for t, envs in sorted(types.items())
        )
        modules: dict[str, object] = {}
        for use in uses.values():
            for m, span in use.modules.items():
                modules.setdefault(m, span)
        module_text = "<br>".join(
            ctx.link.span(span, m if m not in ("", ".") else ". (repository root)")  # type: ignore[arg-type]
            for m, span in sorted(modules.items())
        )
        rows.append([service, type_text, module_text, _settings(ctx, uses), envs_text(uses, every)])
    s = Section(TITLE)
    s.add(
        "Managed resources of every Terraform environment, grouped by service. Settings show the "
        "value in each environment, linked to where it is set (the module argument, variable "
        "default or tfvars line); a value Terraform only knows after apply is shown as unknown."
    )
    s.sub("Services", table(["service", "resources", "created in", "key settings", "environments"], rows))
    endpoints = _endpoints(ctx)
    if endpoints:
        s.sub("VPC endpoints", endpoints)
    return s


def _settings(ctx: ReviewContext, uses) -> str:  # type: ignore[no-untyped-def]
    """`resource label: value`, one line per setting: the value once when every environment
    has it (linked to each line that sets it when those differ), else the value per environment."""
    # (resource, label) -> env -> setting
    values: dict[tuple[str, str], dict[str, Setting]] = {}
    for e, use in uses.items():
        for address, label, st in use.settings:
            values.setdefault((address, label), {})[e] = st
    lines = []
    for (address, label), by_env in values.items():
        shown = {e: _value(st) for e, st in by_env.items()}
        spans = {st.span for st in by_env.values()}
        if len(set(shown.values())) == 1 and len(by_env) == len(uses):
            if len(spans) == 1:
                text = setting_text(next(iter(by_env.values())), ctx.link)
            else:
                where = ", ".join(ctx.link.span(st.span, e) for e, st in sorted(by_env.items()))
                text = f"{next(iter(shown.values()))} ({where})"
        else:
            text = "; ".join(f"{e}: {setting_text(st, ctx.link)}" for e, st in sorted(by_env.items()))
        lines.append(f"{code(local_address(address))} {label}: {text}")
    return "<br>".join(lines)


def _value(st: Setting) -> str:
    if st.value.is_known:
        return code(shorten(fmt(st.value.value), 60))
    return f"unknown ({st.value.reason})"


def _endpoints(ctx: ReviewContext) -> str:
    rows: dict[tuple[str, str, str], list[str]] = {}
    spans = {}
    for env in ctx.tf_envs:
        for ep in ctx.network(env).endpoints:
            service = ep.service
            if service is not None and service.known:
                name = str(service.value.value)
            else:
                name = (
                    f"{ep.key} (for_each key; service name unknown: {service.value.reason if service else 'not set'})"
                )
            placed = ", ".join(code(short(p)) for p in ep.placed_in) or "-"
            key = (name, ep.type, placed)
            rows.setdefault(key, []).append(env.name)
            spans.setdefault(key, ep.span)
    every = [e.name for e in ctx.tf_envs]
    return table(
        ["endpoint", "type", "attached to", "environments", "evidence"],
        [[code(k[0]), k[1], k[2], envs_text(v, every), ctx.link.span(spans[k])] for k, v in sorted(rows.items())],
    )
