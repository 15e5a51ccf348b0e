"""4. Terraform: module tree, module dependency graph, state backend per environment, the
module inputs that differ between each pair of environments, and the secrets flow."""

from __future__ import annotations

from itertools import combinations

from urr_audit.facts.tf import display
from urr_audit.model.common import Value
from urr_audit.model.terraform import Environment, ModuleInstance
from urr_audit.report.review.doc import (
    Mermaid,
    ReviewContext,
    Section,
    bullets,
    code,
    envs_text,
    fmt,
    plain,
    short,
    shorten,
    table,
)

TITLE = "Terraform"


def build(ctx: ReviewContext) -> Section | None:
    modules = ctx.project.terraform.modules
    if not modules:
        return None
    s = Section(TITLE)
    s.sub("Modules", _modules(ctx))
    graph = _dependency_graph(ctx)
    if graph:
        s.sub(
            "Module dependencies",
            "An arrow from a module call to another means one of its arguments reads the other's "
            "outputs (so Terraform creates the other first).",
            graph,
        )
    if ctx.tf_envs:
        s.sub("State backends", _backends(ctx))
    for a, b in combinations(ctx.tf_envs, 2):
        s.sub(f"{a.name} versus {b.name}", *_differences(ctx, a, b))
    secrets = _secrets(ctx)
    if secrets:
        s.sub("Secrets flow", *secrets)
    return s


def _modules(ctx: ReviewContext) -> str:
    calls: dict[str, dict[str, list[str]]] = {}
    for env in ctx.tf_envs:
        for inst in env.instances:
            if inst.call is not None:
                calls.setdefault(inst.module.path, {}).setdefault(env.name, []).append(inst.static_address)
    rows = []
    for path, m in sorted(ctx.project.terraform.modules.items()):
        roots = [e.name for e in ctx.project.terraform.environments if e.path == path]
        if roots:
            used = f"environment {code(roots[0])}"
        else:
            by_env = calls.get(path, {})
            used = (
                "; ".join(
                    f"{e}: " + ", ".join(code(a) for a in sorted(set(addrs))) for e, addrs in sorted(by_env.items())
                )
                or "not called from an environment"
            )
        kinds = sorted({r.type for r in m.managed})
        first = m.files[0] if m.files else path
        rows.append(
            [
                ctx.link.file(first, path if path not in ("", ".") else ". (repository root)"),
                str(len(m.managed)),
                ", ".join(code(k) for k in kinds[:6]) + (f" and {len(kinds) - 6} more" if len(kinds) > 6 else ""),
                str(len(m.variables)),
                used,
            ]
        )
    return (
        f"{len(ctx.project.terraform.modules)} module directories, "
        f"{len(ctx.project.terraform.environments)} of them evaluated as environments.\n\n"
        + table(["module", "resources", "resource types", "inputs", "called as"], rows)
    )


def _dependency_graph(ctx: ReviewContext) -> str:
    chart = Mermaid("LR")
    edges: dict[tuple[str, str], list[str]] = {}
    nodes: dict[str, list[str]] = {}
    remote: set[str] = set()
    for env in ctx.tf_envs:
        for inst in env.instances:
            here = inst.static_address
            for call in inst.module.module_calls.values():
                address = f"{here}.module.{call.name}" if here else f"module.{call.name}"
                nodes.setdefault(address, []).append(env.name)
                if call.resolved_dir is None:
                    remote.add(address)
                refs = {r for a in call.arguments.values() for r in a.expr.references} | set(call.depends_on)
                for ref in refs:
                    parts = ref.split(".")
                    if len(parts) >= 2 and parts[0] == "module" and parts[1] != call.name:
                        target = f"{here}.module.{parts[1]}" if here else f"module.{parts[1]}"
                        edges.setdefault((target, address), []).append(env.name)
    if not edges:
        return ""
    every = {e.name for e in ctx.tf_envs}
    for address, envs in sorted(nodes.items()):
        only = "" if set(envs) == every else f" ({', '.join(sorted(set(envs)))} only)"
        chart.node(address, display(address) + (" (remote, not read)" if address in remote else "") + only)
    for (a, b), envs in sorted(edges.items()):
        chart.edge(a, b)
    return chart.render()


def _backends(ctx: ReviewContext) -> str:
    rows = []
    for env in ctx.tf_envs:
        backends = env.module.backends
        if not backends:
            files = ", ".join(ctx.link.file(f) for f in env.module.files)
            rows.append([env.name, "none declared: state stays local", "-", f"read: {files}"])
            continue
        for b in backends:
            settings = []
            for name, attr in b.config.attributes.items():
                lit = attr.expr.literal
                value = fmt(lit.value) if lit.is_known else attr.expr.text
                settings.append(f"{name} = {code(shorten(value, 50))}")
            rows.append([env.name, code(b.type), "<br>".join(settings) or "-", ctx.link.span(b.span, whole=True)])
    return table(["environment", "backend", "settings", "evidence"], rows)


def _text(v: Value) -> str:
    if v.is_known:
        return code(shorten(fmt(v.value), 70))
    if v.is_unknown:
        return f"unknown ({plain(v.reason)})"
    return "not set"


def _instances(env: Environment) -> dict[str, ModuleInstance]:
    return {i.address: i for i in env.instances}


def _differences(ctx: ReviewContext, a: Environment, b: Environment) -> list[str]:
    ia, ib = _instances(a), _instances(b)
    rows = []
    renamed: dict[str, set[str]] = {}
    only = []
    for address in sorted(set(ia) | set(ib)):
        x, y = ia.get(address), ib.get(address)
        if x is None or y is None:
            present = x or y
            assert present is not None
            span = present.call.span if present.call else None
            only.append(
                f"{code(display(address) or 'root')} exists only in {a.name if x else b.name} ({ctx.link.span(span)})"
            )
            continue
        for name in sorted(set(x.variables) | set(y.variables)):
            va, vb = x.variables.get(name, Value.absent()), y.variables.get(name, Value.absent())
            if _same(va, vb):
                continue
            if _renamed(va, vb, a.name, b.name):
                renamed.setdefault(name, set()).add(display(address) or "root")
                continue
            rows.append(
                [
                    code(display(address) or "(root)"),
                    code(name),
                    _text(va) + (" " + ctx.link.span(va.origin) if va.origin else ""),
                    _text(vb) + (" " + ctx.link.span(vb.origin) if vb.origin else ""),
                ]
            )
    blocks = [
        (
            f"Every module input whose resolved value differs between {code(a.name)} and "
            f"{code(b.name)}, with the line that sets it on each side."
        )
    ]
    if only:
        blocks.append(bullets(only))
    blocks.append(table(["module", "input", a.name, b.name], rows) if rows else "No module input differs.")
    if renamed:
        blocks.append(
            "Inputs that differ only by the environment's name ("
            + ", ".join(f"{code(n)} in {len(m)} module(s)" for n, m in sorted(renamed.items()))
            + ") are not listed."
        )
    return blocks


def _same(a: Value, b: Value) -> bool:
    if a.state != b.state:
        return False
    if a.is_known:
        return bool(a.value == b.value)
    return a.reason == b.reason


def _renamed(a: Value, b: Value, name_a: str, name_b: str) -> bool:
    """True when b is a with the environment's name swapped (`acme-prod` vs `acme-staging`)."""
    if not (a.is_known and b.is_known):
        return False
    try:
        return fmt(a.value).replace(name_a, "\0") == fmt(b.value).replace(name_b, "\0") and name_a in fmt(a.value)
    except TypeError:
        return False


def _secrets(ctx: ReviewContext) -> list[str]:
    # (generator, stores, consumer, attribute, store read) -> environments
    rows: dict[tuple[str, tuple[str, ...], str, str, str], list[str]] = {}
    spans = {}
    for env in ctx.tf_envs:
        flow = ctx.secrets(env)
        stores_of: dict[str, list[str]] = {}
        for store, (gen, _) in flow.stores.items():
            stores_of.setdefault(gen, []).append(store)
        for gen in flow.generators:
            stores = tuple(sorted(stores_of.get(gen, [])))
            uses = [u for u in flow.uses if u.generator == gen]
            keys = [((gen, stores, "", "", ""), flow.generators[gen])] if not uses else []
            keys += [((gen, stores, u.consumer, u.attribute, u.via_store or ""), u.span) for u in uses]
            for key, span in keys:
                rows.setdefault(key, []).append(env.name)
                spans.setdefault(key, span)
    if not rows:
        return []
    chart = Mermaid("LR")
    for gen, stores, consumer, _, via in rows:
        chart.node(f"gen:{gen}", short(gen), "round")
        for store in stores:
            chart.node(f"store:{store}", short(store), "db")
            chart.edge(f"gen:{gen}", f"store:{store}", "stored in")
        if consumer:
            chart.node(f"use:{consumer}", short(consumer))
            if via:
                chart.edge(f"gen:{gen}", f"use:{consumer}", "read from the store", dotted=True)
            else:
                chart.edge(f"gen:{gen}", f"use:{consumer}", "value passed")
    every = [e.name for e in ctx.tf_envs]
    body = [
        [
            code(short(g)),
            ", ".join(code(short(x)) for x in st) or "not stored",
            f"{code(short(c))} {code(a)}" if c else "-",
            (f"through {code(short(v))}" if v else "the value itself") if c else "-",
            envs_text(e, every),
            ctx.link.span(spans[(g, st, c, a, v)]),
        ]
        for (g, st, c, a, v), e in sorted(rows.items())
    ]
    return [
        (
            "Generated secrets (random passwords, keys), the stores their values are written to, and "
            "every resource attribute that reads them, directly or through the store."
        ),
        chart.render(),
        table(["generated by", "stored in", "consumed by", "how", "environments", "evidence"], body),
    ]
