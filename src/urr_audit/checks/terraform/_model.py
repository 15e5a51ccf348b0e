"""Helpers over the Terraform model shared by several check modules (no checks here).

Reference following: `Expression.references` holds traversal heads (`var.x`, `local.x`,
`module.m.out`, `data.t.n`, `t.n`). `trace` follows them through the model the way Terraform
wires values: a `var.x` of a called module continues in the caller's argument `x`, a
`local.x` in its expression, a `module.m.out` in the output `out` of that child instance.
What it reaches are *declarations* (variables, locals, outputs, resources) with the chain of
references that led there; checks decide what such a reach means. This is static and
environment-aware (which module instances exist and who calls whom), not value evaluation:
`cond ? a : b` reaches both `a` and `b`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.model.common import Span, Value
from urr_audit.model.terraform import (
    Attribute,
    Block,
    Environment,
    Expression,
    ModuleInstance,
    Provider,
    Resource,
    ResourceInstance,
)

MAX_DEPTH = 12


class EnvironmentFilter(BaseModel):
    """Which environments a rule applies to: by exact name or regex. Empty = every environment."""

    model_config = ConfigDict(extra="forbid")

    environments: list[str] = Field(default_factory=list)
    environment_pattern: str | None = None

    def applies_to(self, name: str) -> bool:
        if not self.environments and not self.environment_pattern:
            return True
        if name in self.environments:
            return True
        return bool(self.environment_pattern and re.search(self.environment_pattern, name))


# --- instances -----------------------------------------------------------------------------


def call_instances(env: Environment, inst: ModuleInstance, name: str) -> list[ModuleInstance]:
    """The instances of `inst`'s call `name`: one, or one per key of an expanded call."""
    return env.call_instances(inst, name)


def resource_exists(ri: ResourceInstance) -> bool:
    """False when `count`/`for_each` (of the resource or a module call above it) is known to
    create no instance in this environment; unknown counts as existing."""
    return ri.exists.known_or(True) is not False


def live_resources(env: Environment, *types: str) -> Iterator[ResourceInstance]:
    """Resources of the environment that exist (module instance and count/for_each not empty)."""
    for ri in env.resources(*types):
        if resource_exists(ri):
            yield ri


# --- reference tracing ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """A declaration reached from an expression: what it is, where, and through which refs."""

    kind: str  # "var" | "local" | "output" | "resource" | "data"
    name: str  # "x" for var/local/output; "type.name" / "data.type.name" for resources
    instance: ModuleInstance
    span: Span
    chain: tuple[str, ...]  # references followed, outermost first
    decl: Any = None  # Variable | Local | Output | Resource | None (undeclared)
    attributes: tuple[str, ...] = ()  # for resources: attributes read (`x.y.secret_string` -> "secret_string")

    @property
    def address(self) -> str:
        return self.instance.prefixed(self.name)

    @property
    def resource_type(self) -> str | None:
        if self.kind == "resource":
            return self.name.split(".", 1)[0]
        if self.kind == "data":
            return self.name.split(".")[1]
        return None


def _attrs_read(expr: Expression, ref: str) -> tuple[str, ...]:
    """Attributes of resource `ref` the expression reads (`ref.secret_string` -> "secret_string")."""
    n = ref.count(".") + 1
    return tuple(
        dict.fromkeys(
            parts[n]
            for parts in (t.split(".") for t in expr.traversals)
            if len(parts) > n and ".".join(parts[:n]) == ref
        )
    )


def trace(
    env: Environment,
    inst: ModuleInstance,
    expr: Expression | None,
    prune: Callable[[Reach], bool] | None = None,
) -> Iterator[Reach]:
    """Every declaration `expr` depends on, depth-first, each reached once per instance.

    `prune(reach)` true: yield that declaration but do not follow what it depends on.
    """
    if expr is None:
        return
    seen: set[tuple[str, str, str]] = set()
    yield from _trace(env, inst, expr, (), seen, 0, prune or (lambda r: False))


def _trace(
    env: Environment,
    inst: ModuleInstance,
    expr: Expression,
    chain: tuple[str, ...],
    seen: set[tuple[str, str, str]],
    depth: int,
    prune: Callable[[Reach], bool],
) -> Iterator[Reach]:
    if depth > MAX_DEPTH:
        return
    for ref in expr.references:
        parts = ref.split(".")
        key = (inst.address, parts[0], ref)
        if key in seen:
            continue
        seen.add(key)
        here = (*chain, ref)
        if parts[0] == "var" and len(parts) >= 2:
            var = inst.module.variables.get(parts[1])
            reach = Reach("var", parts[1], inst, var.span if var else expr.span, here, var)
            yield reach
            if inst.call is not None and not prune(reach):
                arg = inst.call.arguments.get(parts[1])
                parent = env.instance(inst.parent_address)
                if arg is not None and parent is not None:
                    yield from _trace(env, parent, arg.expr, here, seen, depth + 1, prune)
        elif parts[0] == "local" and len(parts) >= 2:
            loc = inst.module.locals.get(parts[1])
            if loc is not None:
                reach = Reach("local", parts[1], inst, loc.span, here, loc)
                yield reach
                if not prune(reach):
                    yield from _trace(env, inst, loc.expr, here, seen, depth + 1, prune)
        elif parts[0] == "module" and len(parts) >= 2:
            # every instance of an expanded call: which key the expression picks is not followed
            for child in call_instances(env, inst, parts[1]):
                names = [parts[2]] if len(parts) >= 3 else list(child.module.outputs)  # whole-module refs
                for name in names:
                    out = child.module.outputs.get(name)
                    if out is None:
                        continue
                    reach = Reach("output", name, child, out.span, here, out)
                    yield reach
                    if not prune(reach):
                        yield from _trace(env, child, out.expr, here, seen, depth + 1, prune)
        elif parts[0] == "data" and len(parts) >= 3:
            name = ".".join(parts[:3])
            res = _resource(inst, name)
            yield Reach("data", name, inst, res.span if res else expr.span, here, res, _attrs_read(expr, name))
        elif len(parts) >= 2 and parts[0] not in ("var", "local", "module", "data"):
            name = ".".join(parts[:2])
            res = _resource(inst, name)
            if res is None:
                continue  # an iterator name or something the loader did not model
            yield Reach("resource", name, inst, res.span, here, res, _attrs_read(expr, name))


def _resource(inst: ModuleInstance, address: str) -> Resource | None:
    return inst.module.resource(address)


def resource_targets(env: Environment, inst: ModuleInstance, expr: Expression | None) -> set[str]:
    """Full addresses of the resources an expression points at (through vars, locals, outputs)."""
    return {r.address for r in trace(env, inst, expr) if r.kind in ("resource", "data")}


def attribute_targets(env: Environment, ri: ResourceInstance, path: str) -> set[str] | None:
    """Resources an attribute of `ri` points at; None when the attribute is not written.

    `each.value`/`each.key`/`count.index` are not references: when the attribute uses them,
    what the resource iterates over (`for_each`, `count`) is followed too.
    """
    a = ri.attribute(path)
    if a is None:
        return None
    out = resource_targets(env, ri.instance, a.expr)
    if a.expr.reads("each") and ri.resource.for_each is not None:
        out |= resource_targets(env, ri.instance, ri.resource.for_each)
    return out


def picks_instance(ri: ResourceInstance, path: str, target: ResourceInstance) -> bool:
    """False only when the attribute indexes `target`'s resource directly with keys known in
    `ri`'s instance (`aws_x.y[each.key]`, `aws_x.y[0]`) and none of them is `target`'s key:
    it then points at another instance. Anything not provable (no index, an unresolved key,
    a reference through variables or outputs, another module instance) picks it."""
    if target.key is None or target.instance is not ri.instance:
        return True
    keys = ri.keys_read(path).get(target.resource.address)
    return keys is None or str(target.key) in keys


# --- syntax walking ------------------------------------------------------------------------


def iter_attributes(block: Block, skip: tuple[str, ...] = (), prefix: str = "") -> Iterator[tuple[str, Attribute]]:
    """(dotted path, attribute) for every attribute of a block and its nested blocks."""
    for name, attr in block.attributes.items():
        yield f"{prefix}{name}", attr
    for child in block.blocks:
        if child.type in skip:
            continue
        label = child.labels[0] if child.type == "dynamic" and child.labels else child.type
        yield from iter_attributes(child, skip, f"{prefix}{label}.")


# --- values --------------------------------------------------------------------------------


def value_source(env: Environment, inst: ModuleInstance, expr: Expression) -> str | None:
    """Where a value written as a plain `var.x` (possibly through several module levels) is set:
    "module argument at path:line", "default at path:line" or "path:line" of a tfvars file;
    None when the expression is more than a variable reference or the source cannot be told."""
    origin = inst.eval(expr).origin
    if origin is None:
        return None
    if origin.path in env.tfvars_loaded:
        return str(origin)
    defaults = (v.default for i in env.instances for v in i.module.variables.values() if v.default is not None)
    if any(d.span == origin for d in defaults):
        return f"default at {origin}"
    return f"module argument at {origin}"


def fmt(v: Any) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


# --- providers -----------------------------------------------------------------------------


def provider_of(env: Environment, inst: ModuleInstance, ref: str) -> tuple[ModuleInstance, Provider] | None:
    """The provider configuration a provider reference (`aws`, `aws.us_east_1`) of a module
    instance uses: followed up the module calls through their `providers` maps (a default
    provider not in the map is inherited), to the `provider` block that configures it. None
    when no block configures it (settings from the environment, or an alias never passed)."""
    by_addr = {i.address: i for i in env.instances}
    here = inst
    for _ in range(MAX_DEPTH):
        name, _, alias = ref.partition(".")
        for p in here.module.providers:
            if p.name == name and (p.alias or "") == alias:
                return here, p
        call = here.call
        if call is None:
            return None
        parent = by_addr.get(here.parent_address)
        if parent is None:
            return None
        if ref in call.providers:
            ref = call.providers[ref]
        elif alias:
            return None  # an alias the caller does not pass: another rule's matter
        here = parent
    return None


def provider_region(env: Environment, ri: ResourceInstance) -> Value:
    """The `region` of the AWS provider configuration a resource uses; unknown when the
    configuration does not say (it comes from the environment) or cannot be resolved."""
    ref = ri.resource.provider or ri.type.split("_", 1)[0]
    found = provider_of(env, ri.instance, ref)
    if found is None:
        return Value.unknown(f"the region of provider `{ref}` is not configured in the repository")
    inst, p = found
    a = p.body.attr("region")
    if a is None:
        return Value.unknown(f"provider `{ref}` ({p.span}) sets no region: it comes from the environment")
    return inst.eval(a.expr)


_INTERPOLATION = re.compile(r"[$%]\{")


def literal_ends(text: str) -> tuple[str | None, str]:
    """The literal text before the first and after the last interpolation of a quoted
    template as written (`"/aws/lambda/${x}"` -> ("/aws/lambda/", ""), `"${x}:sub"` -> ("",
    ":sub")); (None, "") for anything else (a variable, a function call)."""
    t = text.strip()
    if len(t) < 2 or t[0] != '"' or t[-1] != '"':
        return None, ""
    body = t[1:-1]
    parts = _INTERPOLATION.split(body)
    if len(parts) == 1:
        return body, body
    last = body.rfind("}")
    return parts[0], body[last + 1 :] if last >= 0 else ""
