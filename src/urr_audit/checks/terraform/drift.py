"""Arguments that change on every plan (apply-time functions), so the plan never settles."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._model import iter_attributes, resource_exists, trace
from urr_audit.model.terraform import Environment, Expression, ModuleDir


class PerpetualDiffParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    functions: list[str] = ["timestamp", "plantimestamp", "uuid"]
    # arguments whose whole point is to change every run (null_resource triggers, ...)
    intentional_arguments: list[str] = ["triggers", "triggers_replace", "keepers"]


def _ignored(lifecycle_expr: Expression | None) -> tuple[bool, set[str]]:
    """(ignore all, top-level argument names under ignore_changes). The names are bare
    traversals (`[tags, ami]`), which the model lists as references; quoted names (the 0.11
    form) are literals."""
    if lifecycle_expr is None:
        return False, set()
    literal = lifecycle_expr.literal.value if lifecycle_expr.literal.is_known else None
    names = {ref.split(".", 1)[0] for ref in lifecycle_expr.references}
    if literal == "all" or (literal is None and names == {"all"}):
        return True, set()
    if isinstance(literal, list):
        names |= {x for x in literal if isinstance(x, str)}
    return False, names


def _expressions(module: ModuleDir) -> Iterator[Expression]:
    yield from (loc.expr for loc in module.locals.values())
    yield from (o.expr for o in module.outputs.values())
    yield from (a.expr for c in module.module_calls.values() for a in c.arguments.values())
    for r in module.resources:
        yield from (a.expr for _, a in iter_attributes(r.body))


@check("tf-perpetual-diff", scope="terraform.environment", params=PerpetualDiffParams, subjects=("*",))
def perpetual_diff(ctx: Context, env: Environment, params: PerpetualDiffParams) -> Iterator[Hit]:
    """A managed resource argument that calls an apply-time function (directly or through
    locals and module arguments) and is not under `lifecycle { ignore_changes }`."""
    wanted = set(params.functions)
    if not any(wanted & set(e.functions) for inst in env.instances for e in _expressions(inst.module)):
        return  # no apply-time function anywhere in the environment: nothing can reach one
    seen: set[str] = set()
    for ri in env.resources():
        if ri.resource.mode != "managed" or not resource_exists(ri):
            continue
        if ri.resource_address in seen:  # a fact of the source: the expanded instances say it once
            continue
        seen.add(ri.resource_address)
        ignore_changes = ri.attribute("lifecycle.ignore_changes")
        ignore_all, ignored = _ignored(ignore_changes.expr if ignore_changes else None)
        if ignore_all:
            continue
        for path, attr in iter_attributes(ri.resource.body, skip=("lifecycle", "provisioner", "connection")):
            top = path.split(".", 1)[0]
            if top in ignored or top in params.intentional_arguments:
                continue
            found = wanted & set(attr.expr.functions)
            via = ""
            if not found:
                for reach in trace(env, ri.instance, attr.expr):
                    decl_expr = getattr(reach.decl, "expr", None) if reach.kind in ("local", "output") else None
                    if reach.kind == "var" and reach.instance.call is not None:
                        arg = reach.instance.call.arguments.get(reach.name)
                        decl_expr = arg.expr if arg else None
                    if decl_expr is not None and wanted & set(decl_expr.functions):
                        found = wanted & set(decl_expr.functions)
                        via = f" through {' -> '.join(reach.chain)} ({reach.span})"
                        break
            if not found:
                continue
            fn = min(found)
            yield ctx.finding(
                at=attr,
                node=ri,
                address=ri.resource_address,  # a fact of the source, the same for every instance
                message=(
                    f"{ri.resource_address}: `{path}` uses {fn}(){via}, which changes on every run: every plan "
                    f"shows a change (add `{top}` to lifecycle.ignore_changes, or use a time_static resource)"
                ),
            )
