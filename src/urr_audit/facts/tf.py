"""Shared helpers over the evaluated Terraform model: a setting with its evidence, what an
attribute refers to (through variables, locals and module outputs), short display names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from urr_audit.checks.terraform._model import live_resources, resource_targets
from urr_audit.model.common import Span, Value
from urr_audit.model.terraform import Attribute, BlockView, Environment, ResourceInstance, module_steps

_DEPENDS = re.compile(r"depends on ((?:data\.)?[A-Za-z_][\w-]*\.[A-Za-z_][\w-]*)")


@dataclass(frozen=True)
class Setting:
    """An attribute's value in one environment and where to change it: the module argument,
    tfvars line or variable default it comes from, else the attribute itself. For an unknown
    value, the expression as written and the known inputs it reads (`var.x`) explain it."""

    name: str
    value: Value
    span: Span
    written: str = ""
    inputs: tuple[tuple[str, Value], ...] = ()

    @property
    def known(self) -> bool:
        return self.value.is_known


def setting(ri: ResourceInstance, path: str) -> Setting | None:
    """None when the attribute (or its block) is not written."""
    attr = ri.attribute(path)
    if attr is None:
        return None
    value = ri.get(path)
    span = value.origin or attr.span
    if value.is_known:
        return Setting(path, value, span)
    inputs: dict[str, Value] = {}
    for t in attr.expr.traversals:
        parts = t.split(".")
        if parts[0] == "var" and len(parts) >= 2:
            v = ri.instance.variables.get(parts[1])
            if v is not None and v.is_known:
                inputs[f"var.{parts[1]}"] = v
    return Setting(path, value, span, attr.expr.text, tuple(inputs.items()))


def attributes_at(ri: ResourceInstance, path: str) -> list[tuple[Attribute, BlockView | None]]:
    """Every attribute at a dotted path, through every nested block of each type on the way
    (all `origin` blocks of a distribution, not only the first)."""
    head, _, rest = path.rpartition(".")
    if not head:
        a = ri.attribute(path)
        return [(a, None)] if a is not None else []
    views: list[BlockView] = []
    for i, step in enumerate(head.split(".")):
        views = ri.blocks(step) if i == 0 else [c for v in views for c in v.blocks(step)]
    out: list[tuple[Attribute, BlockView | None]] = []
    for v in views:
        a = v.block.attr(rest)
        if a is not None:
            out.append((a, v))
    return out


def targets(env: Environment, ri: ResourceInstance, path: str) -> list[str]:
    """Addresses of the resources an attribute refers to, in every block on the path.

    `each.value.x` is followed into the `for_each` collection; for an expanded instance whose
    value is unknown because of one resource (`depends on aws_security_group.db.id`), only the
    candidates that are that resource are kept, so `worker_egress["redis"]` points at the Redis
    group and not at every group of the collection."""
    out: set[str] = set()
    for attr, view in attributes_at(ri, path):
        found = resource_targets(env, ri.instance, attr.expr)
        per_instance = attr.expr.reads("each", "count") and ri.resource.for_each is not None
        if per_instance:
            assert ri.resource.for_each is not None
            found |= resource_targets(env, ri.instance, ri.resource.for_each)
        if view is not None and view.dynamic is not None:
            fe = view.dynamic.attr("for_each")
            if fe is not None:
                found |= resource_targets(env, ri.instance, fe.expr)
        if per_instance and len(found) > 1 and ri.key is not None:
            found = _narrow(found, ri, path)
        out |= found
    return sorted(out)


def _narrow(found: set[str], ri: ResourceInstance, path: str) -> set[str]:
    value = ri.get(path)
    m = _DEPENDS.search(value.reason) if value.is_unknown else None
    if m is None:
        return found
    name = m.group(1)
    hit = {f for f in found if f == name or f.endswith("." + name)}
    return hit or found


def display(address: str) -> str:
    """`module.rds.aws_security_group.db` -> `rds.aws_security_group.db`."""
    steps = module_steps(_module_part(address))
    rest = address[len(_module_part(address)) :].lstrip(".")
    return ".".join([*(n + k for n, k in steps), *([rest] if rest else [])]) if steps else address


def _module_part(address: str) -> str:
    # instance keys may hold dots: match whole `module.x["k"].` steps
    m = re.match(r'^((?:module\.[A-Za-z_][\w-]*(?:\[(?:"(?:[^"\\]|\\.)*"|\d+)\])?\.?)*)', address)
    return m.group(1).rstrip(".") if m else ""


def local_address(address: str) -> str:
    """The address inside its module: `module.a.aws_x.y["k"]` -> `aws_x.y["k"]`."""
    return address[len(_module_part(address)) :].lstrip(".")


def resource_type(address: str) -> str:
    """`module.a.aws_x.y["k"]` -> `aws_x`; `module.a.data.aws_x.y` -> `aws_x`."""
    rest = address[len(_module_part(address)) :].lstrip(".")
    parts = rest.split(".")
    return parts[1] if parts[0] == "data" and len(parts) > 1 else parts[0]


# id(environment) -> (environment, its existing resource instances, those of some types); the environment is kept
# so that its id is not reused while the entry lives
_EXISTING: dict[int, tuple[Environment, list[ResourceInstance], dict[tuple[str, ...], list[ResourceInstance]]]] = {}


def existing(env: Environment, *types: str) -> Iterator[ResourceInstance]:
    """Resources of the environment that exist (count/for_each not known to be empty), in
    declaration order. Expanding them evaluates count/for_each: done once per environment."""
    hit = _EXISTING.get(id(env))
    if hit is None or hit[0] is not env:
        if len(_EXISTING) > 16:
            _EXISTING.clear()
        hit = (env, list(live_resources(env)), {})
        _EXISTING[id(env)] = hit
    if not types:
        return iter(list(hit[1]))
    by_types = hit[2]
    if types not in by_types:
        wanted = set(types)
        by_types[types] = [ri for ri in hit[1] if ri.type in wanted]
    return iter(list(by_types[types]))
