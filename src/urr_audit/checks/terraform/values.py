"""Values Terraform itself rejects, or that leave a resource without what it was written to get,
in one environment: an index past the end of a list, a required argument that is null, an
identifier that is empty, an argument meant to receive a key or a group that receives nothing.

Each finding names the environment and where the value was set (a variable default, a tfvars
file, a module argument). Values known only at apply time are not judged here: nothing says
they will be null or empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._providers import Root, local_provider_name, provider_source
from urr_audit.model.common import Span, Value
from urr_audit.model.terraform import (
    Attribute,
    BlockView,
    Environment,
    Expression,
    ModuleDir,
    ModuleInstance,
    ResourceInstance,
    Symbols,
    instance_keys,
    unexpanded_symbols,
)
from urr_audit.providers import BlockSchema, majors

_META_ATTRIBUTES = frozenset({"count", "for_each", "provider", "depends_on"})
_META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection"})


def origin_note(env: Environment, o: Span | None) -> str:
    """Where a value was set, from `Value.origin`: " (set in terraform.tfvars:3)", " (the
    default of var.x at variables.tf:5, which no caller overrides)", " (set by the module
    argument at main.tf:19)"; "" when unknown."""
    if o is None:
        return ""
    if o.path in env.tfvars_loaded:
        return f" (set in {o})"
    for inst in env.instances:
        for var in inst.module.variables.values():
            if var.default is not None and var.default.span == o:
                return f" (the default of var.{var.name} at {o}, which no caller overrides)"
    return f" (set by the module argument at {o})"


# --- walking what Terraform evaluates --------------------------------------------------------


@dataclass
class Evaluated:
    """One expression Terraform evaluates in an environment, and what it belongs to."""

    expr: Expression
    symbols: Symbols | None
    instance: ModuleInstance
    address: str  # what the finding names: a resource, `local.x`, `output.x`, `module.m`
    span: Span  # where to anchor when the expression itself is the problem
    exists: Value  # known True, or unknown when its count/for_each (or a module's) is unknown
    resource: ResourceInstance | None = None
    path: str = ""  # attribute path inside the resource ("vpc_config.subnet_ids")


def _attributes(view: BlockView, prefix: str, top: bool) -> Iterator[tuple[str, Attribute, Symbols]]:
    block = view.block
    for name, attr in block.attributes.items():
        if top and name in _META_ATTRIBUTES:
            continue
        yield prefix + name, attr, view.symbols
    types = dict.fromkeys(b.labels[0] if b.type == "dynamic" and b.labels else b.type for b in block.blocks)
    for t in types:
        if top and t in _META_BLOCKS:
            continue
        for child in view.blocks(t):
            yield from _attributes(child, f"{prefix}{t}.", False)


def resource_attributes(ri: ResourceInstance) -> Iterator[tuple[str, Attribute, Symbols]]:
    """(dotted path, attribute, symbols) of every argument of a resource instance, through
    nested and dynamic blocks (expanded where their for_each is known); meta-arguments left out."""
    top = BlockView(instance=ri.instance, block=ri.resource.body, symbols=ri.symbols)
    yield from _attributes(top, "", True)


def evaluated(env: Environment) -> Iterator[Evaluated]:
    """Every expression Terraform evaluates in the environment: resource arguments and
    count/for_each, module arguments and count/for_each, locals, outputs, provider settings.
    Resources known not to exist here are left out (Terraform does not evaluate them)."""
    by_address = {i.address: i for i in env.instances}
    for inst in env.instances:
        yes = inst.exists
        mod = inst.module
        for name, loc in mod.locals.items():
            yield Evaluated(loc.expr, None, inst, inst.prefixed(f"local.{name}"), loc.span, yes)
        for name, out in mod.outputs.items():
            yield Evaluated(out.expr, None, inst, inst.prefixed(f"output.{name}"), out.span, yes)
        for p in mod.providers:
            for a in p.body.attributes.values():
                yield Evaluated(a.expr, None, inst, inst.prefixed(f"provider.{p.name}"), a.span, yes)
        for call in mod.module_calls.values():
            for meta in (call.count, call.for_each):
                if meta is not None:
                    yield Evaluated(meta, None, inst, inst.prefixed(f"module.{call.name}"), meta.span, yes)
        parent = by_address.get(inst.parent_address) if inst.call is not None else None
        if inst.call is not None and parent is not None:  # its arguments, with its each/count
            symbols = _call_symbols(parent, inst)
            for arg in inst.call.arguments.values():
                yield Evaluated(arg.expr, symbols, parent, inst.address, arg.span, yes)
        for r in mod.resources:
            for meta in (r.count, r.for_each):
                if meta is not None:
                    yield Evaluated(meta, None, inst, inst.prefixed(r.address), meta.span, yes)
            for ri in inst.expand(r):
                exists = ri.exists
                if exists.is_known and exists.value is False:
                    continue
                for path, attr, symbols in resource_attributes(ri):
                    yield Evaluated(
                        attr.expr, symbols if symbols.values else None, inst, ri.address, attr.span, exists, ri, path
                    )


_LEGACY_INDEX = re.compile(r"\.\d")


def _indexes(expr: Expression) -> bool:
    return "[" in expr.text or bool(_LEGACY_INDEX.search(expr.text))


def _exists_note(e: Evaluated) -> str | None:
    if e.exists.is_known:
        return None
    return f"only if {e.address} exists here ({e.exists.reason or 'its count/for_each is unknown'})"


# --- URR-TF-028: index past the end ------------------------------------------------------------


class InvalidIndexParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


@check("tf-invalid-index", scope="terraform.environment", params=InvalidIndexParams, subjects=("*",))
def invalid_index(ctx: Context, env: Environment, params: InvalidIndexParams) -> Iterator[Hit]:
    """An index past the end of a list whose value is known in this environment
    (`var.subnet_ids[0]` where the list is empty): Terraform stops with "Invalid index". Guarded
    reads (`try(...)`, a conditional on `length(...)`) are not errors; undecided when the
    resource holding the expression may not exist here."""
    seen: set[tuple[str, int, str]] = set()
    for e in evaluated(env):
        # a rejection comes from an index written in the expression itself; one inside a
        # local, an output or a module argument is found where that is evaluated
        if not _indexes(e.expr):
            continue
        v = e.instance.eval(e.expr, e.symbols)
        rej = v.rejected
        if rej is None:
            continue
        at = rej.span or e.span
        key = (at.path, at.line, rej.text)
        if key in seen:
            continue
        seen.add(key)
        # the list indexed here is the variable's own value when the index is on `var.x`
        where = origin_note(env, rej.origin)
        message = (
            f"`{rej.text or e.expr.text.strip()}`: {rej.message} in environment `{env.name}`{where}; "
            'Terraform stops with "Invalid index"'
        )
        note = _exists_note(e)
        if note is not None:
            yield ctx.undecided(at=at, message=f"{message} ({note})", address=e.address, environment=env.name)
        else:
            yield ctx.finding(at=at, message=message, address=e.address, environment=env.name)


# --- URR-TF-027 / -092: null and empty values ---------------------------------------------------


def _is_empty(v: object) -> str | None:
    if v is None:
        return "null"
    if v == "":
        return 'an empty string ""'
    if isinstance(v, (list, dict)) and not v:
        return "an empty list" if isinstance(v, list) else "an empty map"
    return None


def _schema_for(root: Root | None, ri: ResourceInstance) -> tuple[list[BlockSchema], str | None]:
    """The schemas of the resource's type in every table the root selects (empty when any
    lacks it, or no table applies), and why a later release may differ (or None)."""
    source = provider_source(ri.instance.module, local_provider_name(ri.resource))
    if root is None or source is None or not majors(source):
        return [], None
    sel = root.selection(source)
    schemas = [t.schema(ri.resource.mode, ri.type) for t in sel.tables]
    if not schemas or any(s is None for s in schemas):
        return [], None
    newer = [t for t in sel.tables if sel.may_be_newer(t)]
    why = f"{newer[0].label} is the newest schema known here; a later release may make it optional" if newer else None
    return [s for s in schemas if s is not None], why


def _attribute_schema(schema: BlockSchema, path: str) -> tuple[bool, str] | None:
    """(required, name) of the attribute at a dotted path, None when not in the schema."""
    *blocks, name = path.split(".")
    s: BlockSchema | None = schema
    for b in blocks:
        bt = s.blocks.get(b) if s is not None else None
        a = s.attributes.get(b) if s is not None else None
        s = bt.nested if bt is not None else (a.nested if a is not None else None)
    if s is None or name not in s.attributes:
        return None
    return s.attributes[name].required, name


class RequiredNullParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # required arguments naming an object: an empty string or list identifies nothing, and the
    # provider's API rejects it (an empty `security_group_id`, `subnet_ids = []`)
    identifier_suffixes: list[str] = ["_id", "_ids", "_arn", "_arns"]
    # resource type -> arguments of which at least one must be given (none is required alone,
    # but the API rejects the resource without any: a rule with no source, a load balancer
    # with no subnet); `false` counts as not given
    needs_one_of: dict[str, list[str]] = {}


@check("tf-required-null", scope="terraform.environment", params=RequiredNullParams, subjects=("*",))
def required_null(ctx: Context, env: Environment, params: RequiredNullParams) -> Iterator[Hit]:
    """A required argument (per the provider schema table) whose value is null in this
    environment, or an empty string or list where it names objects (`*_id`, `*_ids`, `*_arn`):
    Terraform (null) or the provider's API (empty) rejects it. Also resources given none of
    the arguments the params say one of is needed. Values known only at apply time are not
    judged."""
    root = Root(env, _modules(env))
    for ri in env.resources():
        exists = ri.exists
        if exists.is_known and exists.value is False:
            continue
        group = params.needs_one_of.get(ri.type) if ri.resource.mode == "managed" else None
        if group:
            yield from _none_of(ctx, env, ri, group)
        schemas, newer = _schema_for(root, ri)
        if not schemas:
            continue
        for path, attr, symbols in resource_attributes(ri):
            name = path.rsplit(".", 1)[-1]
            flags = [_attribute_schema(s, path) for s in schemas]
            if any(f is None or not f[0] for f in flags):
                continue
            v = ri.instance.eval(attr.expr, symbols if symbols.values else None)
            what = _is_empty(v.value) if v.is_known else None
            if what is None or (what != "null" and not name.endswith(tuple(params.identifier_suffixes))):
                continue
            via = "" if attr.expr.literal.is_known else f" (`{attr.expr.text.strip()}`)"
            address = ri.address_for(path)
            consequence = (
                'Terraform stops with "Missing required argument"'
                if what == "null"
                else "the provider's API rejects an empty identifier"
            )
            message = (
                f"{address}: required `{path}` is {what}{via} in environment `{env.name}`"
                f"{origin_note(env, v.origin)}; {consequence}"
            )
            yield _judged(ctx, ri, attr, address, message, newer if what == "null" else None)


def _judged(ctx: Context, ri: ResourceInstance, at: object, address: str, message: str, newer: str | None) -> Hit:
    exists = ri.exists
    if exists.is_known and newer is None:
        return ctx.finding(at=at, node=ri, address=address, message=message)
    why = newer if exists.is_known else f"only if it exists here: {exists.reason or 'count/for_each unknown'}"
    return ctx.undecided(at=at, node=ri, address=address, message=f"{message} (not decided: {why})")


def _none_of(ctx: Context, env: Environment, ri: ResourceInstance, group: list[str]) -> Iterator[Hit]:
    """Every argument of the group absent, null, empty or false (all known)."""
    given: list[str] = []
    for name in group:
        if ri.has_block(name):
            return  # a block (literal or dynamic) may give it
        v = ri.get(name)
        if v.is_unknown:
            return
        if v.is_known and _is_empty(v.value) is None and v.value is not False:
            return
        if not v.is_absent:
            a = ri.attribute(name)
            shown = "false" if v.value is False else _is_empty(v.value)
            via = f" (`{a.expr.text.strip()}`)" if a is not None and not a.expr.literal.is_known else ""
            given.append(f"`{name}` is {shown}{via}{origin_note(env, v.origin)}")
    written = "; ".join(given) if given else "none is written"
    names = ", ".join(f"`{n}`" for n in group)
    address = ri.resource_address
    message = (
        f"{address}: none of {names} is given in environment `{env.name}` ({written}); "
        f"the provider's API rejects {ri.type} without one"
    )
    at = next((a for a in (ri.attribute(n) for n in group) if a is not None), None)
    yield _judged(ctx, ri, at or ri, address, message, None)


def _modules(env: Environment) -> list[ModuleDir]:
    """The module directories instantiated in the environment, whose version constraints
    Terraform combines (a call with count = 0 counts too, but holds nothing judged here)."""
    seen: dict[str, ModuleDir] = {}
    for inst in env.instances:
        seen.setdefault(inst.module.path, inst.module)
    return list(seen.values())


def _call_symbols(parent: ModuleInstance, inst: ModuleInstance) -> Symbols | None:
    """`each`/`count` of a module instance, for its arguments (evaluated in the caller)."""
    call = inst.call
    if call is None or (call.count is None and call.for_each is None):
        return None
    if inst.key is None:
        return unexpanded_symbols(parent, call.count, call.for_each)
    for key, symbols in instance_keys(parent, call.count, call.for_each) or []:
        if key == inst.key:
            return symbols
    return None
