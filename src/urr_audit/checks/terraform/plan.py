"""What `terraform plan` refuses before anything is created: `count` and `for_each` that
depend on values known only after apply ("Invalid count argument", "Invalid for_each
argument").

Judged on the environment as a first plan sees it (`Environment.planned`): a managed resource
reads as its configuration, so `length(aws_subnet.private)` (a count Terraform knows) and a
map whose keys come from configuration but whose values are resource IDs stay decidable,
while `toset(aws_subnet.private[*].id)` does not. The provider schema tables tell which
attributes a configuration cannot set (read-only: known only after apply).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._model import trace
from urr_audit.checks.terraform._providers import Root
from urr_audit.model.common import Value, find_unknown
from urr_audit.model.terraform import Environment, Expression, ModuleDir, ModuleInstance, after_apply
from urr_audit.providers import BlockSchema, majors, normalize_source


class UnknownCountParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # `type.attribute` the provider computes while planning from the configuration (its plan
    # customisation), not at apply: e.g. aws_acm_certificate's domain_validation_options, whose
    # domain names come from `domain_name` and `subject_alternative_names` (AWS's documented
    # `for_each = { for o in ...domain_validation_options : o.domain_name => o }` pattern)
    plan_time_attributes: list[str] = []


def _modules(env: Environment) -> list[ModuleDir]:
    seen: dict[str, ModuleDir] = {}
    for inst in env.instances:
        seen.setdefault(inst.module.path, inst.module)
    return list(seen.values())


def _read_only(root: Root, type_: str, path: str) -> bool | None:
    """True when the attribute is read-only in every selected table (always computed), False
    when a configuration may set it (so, unset, it may be null), None when unknown."""
    if path == "id":
        return True  # every resource's id is decided by the provider
    source = normalize_source(type_.split("_", 1)[0])
    if source is None or not majors(source):
        return None
    sel = root.selection(source)
    flags: list[bool] = []
    for t in sel.tables:
        s: BlockSchema | None = t.schema("managed", type_)
        *blocks, name = path.split(".")
        for b in blocks:
            bt = s.blocks.get(b) if s is not None else None
            s = bt.nested if bt is not None else None
        if s is None or name not in s.attributes:
            return None
        flags.append(s.attributes[name].computed)
    if not flags:
        return None
    return all(flags)


def _known_keys(v: Value, kind: str) -> bool:
    """True when Terraform can tell the instances at plan time."""
    if v.is_known:
        return True
    # a map with known keys and unknown values is fine; a set with an unknown element is not
    return kind == "for_each" and isinstance(v.partial, dict)


def _apply_time_sources(env: Environment, inst: ModuleInstance, expr: Expression) -> list[str]:
    """Managed resources (and modules not read) the expression depends on: what could make it
    unknown at plan time. Empty: nothing it reads waits for apply."""
    out: list[str] = []
    for reach in trace(env, inst, expr):
        if reach.kind == "resource":
            out.append(reach.address)
    for ref in expr.references:
        if ref.startswith("module."):
            call = inst.module.module_calls.get(ref.split(".")[1])
            if call is not None and call.resolved_dir is None:
                out.append(f"module.{call.name} ({call.source}, not read)")
    return list(dict.fromkeys(out))


@check("tf-unknown-count", scope="terraform.environment", params=UnknownCountParams, subjects=("count",))
def unknown_count(ctx: Context, env: Environment, params: UnknownCountParams) -> Iterator[Hit]:
    """`count` or `for_each` (of a resource, data source or module call) whose value a first
    plan cannot know: it depends on an attribute the provider decides at apply (an id, an
    ARN). A for_each map whose keys are known and whose values are not is fine. Undecided when
    the value depends on a resource attribute the configuration leaves unset but could set, or
    cannot be evaluated while it reads managed resources."""
    planned = env.planned()
    if planned is None:
        return
    root = Root(planned, _modules(planned))
    seen: set[tuple[str, int, str]] = set()
    for inst in planned.instances:
        if inst.exists.is_known and inst.exists.value is False:
            continue
        metas = [(inst.prefixed(r.address), r.count, r.for_each) for r in inst.module.resources]
        metas += [(inst.prefixed(f"module.{c.name}"), c.count, c.for_each) for c in inst.module.module_calls.values()]
        for address, count, for_each in metas:
            for kind, expr in (("count", count), ("for_each", for_each)):
                if expr is None:
                    continue
                v = inst.eval(expr)
                if _known_keys(v, kind):
                    continue
                key = (expr.span.path, expr.span.line, kind)
                if key in seen:
                    continue
                seen.add(key)
                hit = _judge(ctx, planned, root, inst, address, kind, expr, v, params.plan_time_attributes)
                if hit is not None:
                    yield hit


def _judge(
    ctx: Context,
    env: Environment,
    root: Root,
    inst: ModuleInstance,
    address: str,
    kind: str,
    expr: Expression,
    v: Value,
    plan_time: list[str],
) -> Hit | None:
    leaf = find_unknown(v.partial) if v.partial is not None else None
    reason = leaf.reason if leaf is not None else v.reason
    error = "Invalid count argument" if kind == "count" else "Invalid for_each argument"
    what = (
        "how many instances"
        if kind == "count"
        else ("which keys" if not isinstance(v.partial, list) else "which elements (the set's keys)")
    )
    cause = after_apply(reason)
    if cause is not None:
        type_, name, path = cause
        if any(f"{type_}.{path}" == a or f"{type_}.{path}".startswith(a + ".") for a in plan_time):
            return None
        read_only = _read_only(root, type_, path)
        attr = f"{type_}.{name}.{path}"
        if read_only:
            return ctx.finding(
                at=expr,
                message=(
                    f"{address}: `{kind} = {_short(expr)}` depends on `{attr}`, which the provider sets only at "
                    f'apply: a plan cannot tell {what} there will be, and Terraform stops with "{error}" '
                    f"(on a first apply: a new environment, a rebuild; and whenever {type_}.{name} is replaced)"
                ),
                address=address,
                environment=env.name,
            )
        why = (
            "the configuration does not set it: it is null unless the provider computes it"
            if read_only is False
            else "the schema tables do not say whether the provider computes it"
        )
        return ctx.undecided(
            at=expr,
            message=f"{address}: `{kind} = {_short(expr)}` depends on `{attr}` ({why})",
            address=address,
            environment=env.name,
        )
    sources = _apply_time_sources(env, inst, expr)
    if not sources:
        return None  # unknown to urr-audit, but nothing it reads waits for apply
    return ctx.undecided(
        at=expr,
        message=(
            f"{address}: `{kind} = {_short(expr)}` cannot be evaluated ({reason or 'unknown'}) and reads "
            f"{', '.join(sources[:3])}{' and more' if len(sources) > 3 else ''}: it may be known only after apply"
        ),
        address=address,
        environment=env.name,
    )


def _short(expr: Expression) -> str:
    text = " ".join(expr.text.split())
    return text if len(text) <= 80 else text[:77] + "..."
