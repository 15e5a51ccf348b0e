"""Terraform model: module directories (static) and their evaluation per environment.

Static part (one per directory, as Terraform sees it: all `*.tf` and `*.tf.json` files of a
directory form one module): `ModuleDir` with its resources, variables, locals, outputs,
providers, module calls, `terraform` settings and tfvars files.

Evaluated part: a root module (an *environment*) is evaluated into `ModuleInstance`s, one per
module call reached from it (recursively), each with its variable values resolved from
defaults, tfvars and the caller's arguments. `ResourceInstance` is the view rules use: it
answers `get("vpc_config.endpoint_public_access")` with a three-state `Value`.

Addresses are Terraform's: `module.eks.aws_eks_addon.coredns`, `module.a.module.b.x.y`,
`data.aws_iam_policy_document.p`.

Partially known values: `get` answers a collection with an unknown part as unknown, with the
known parts in `Value.partial` (unknown ones as `UnknownLeaf`). Documents (IAM policies and
the like) are usually JSON strings whose value is unknown as a whole, since one ARN in them is:
`get_structured(path)` returns the document itself, with its parts located:

    doc = ri.get_structured("policy")
    for i, st in enumerate(doc.parts().get("Statement", [])):   # parts(): value or partial
        where = doc.span_at("Statement", i)                       # the statement's own line

It decodes a known string holding a JSON object/array (heredoc, `file()`, quoted), the
argument of `jsonencode(...)` (through locals, module arguments and outputs) and a JSON
template whose interpolations are unknown; anything else comes back as `get` returns it.

A list of unknown length keeps its known elements: `Statement = concat([{...}], var.x == null
? [] : [{...}])` with an unknown condition gives the first statement and an `UnknownElements`
marker for the others (zero or more). Indexes are positions in `parts()` (what `span_at`
takes); rules looking for *some* element with a property may conclude on a known one, rules
needing all elements (or their count) stay undecided (see `UnknownElements`).

Instances: a resource whose `for_each` (map or set) or `count` is known in an environment is
one `ResourceInstance` per key, addressed as Terraform does (`aws_x.y["a"]`, `aws_x.y[0]`),
with `each.key`/`each.value` (or `count.index`) bound when its attributes are evaluated. A
`for_each` whose keys cannot be resolved leaves one unexpanded instance whose `each.*` reads
are unknown. `dynamic "x"` blocks are expanded the same way into `BlockView`s (`x.key`,
`x.value`, or the `iterator` name); an unresolved collection gives one view of the `content`
block in which the iterator is unknown.

Module instances: a module call whose `for_each`/`count` is known is one `ModuleInstance` per
key, addressed `module.x["k"]` / `module.x[0]` (nested: `module.a["k"].module.b[0]`), its
arguments evaluated with `each`/`count` bound, so the child's variables differ per instance.
An unresolved collection leaves one unexpanded instance (`key` None) whose arguments read
`each.*`/`count.*` as unknown. From the caller, `module.x["k"].out` and `module.x[0].out` read one
instance, `module.x` is the map (for_each) or list (count) of instance objects, and
`module.x.out` on an expanded call is unknown: Terraform rejects it.

Existence: a module call or resource whose `count` is known to be 0 or whose `for_each` is
known to be empty does not exist in that environment. Such module calls are not instantiated
(`Environment.skipped_modules` records them); a resource says so in `ResourceInstance.exists`
(known False), and the `terraform.resource` scope skips it. `exists` is unknown when
count/for_each cannot be resolved.

Origins: a value read through `var.x` (at any module depth) has `Value.origin`: the module
argument, tfvars attribute or variable default that sets it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from urr_audit.model.common import Span, UnknownElements, UnknownLeaf, Value, private


class Expression(BaseModel):
    """An HCL expression as written. `literal` is known when it is a plain literal."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    text: str
    span: Span
    references: list[str] = Field(default_factory=list)  # "var.x", "module.sqs.queue_arn", "aws_subnet.db"
    # every traversal written, dotted up to its first index or splat, iterator symbols included:
    # "aws_secretsmanager_secret_version.db.secret_string", "var.x.y", "each.value.port". An
    # instance key right after a resource name is skipped (`aws_x.y[0].arn` -> "aws_x.y.arn"):
    # it picks an instance, the attribute read is the same.
    traversals: list[str] = Field(default_factory=list)
    functions: list[str] = Field(default_factory=list)  # function names called anywhere inside
    literal: Value = Field(default_factory=Value.absent)
    _node: Any = PrivateAttr(default=None)  # loader-private syntax node for the evaluator

    def reads(self, *roots: str) -> bool:
        """True when a traversal starts at one of these symbols (`each`, `count`, `var`...)."""
        return any(t.split(".", 1)[0] in roots for t in self.traversals)


class Attribute(BaseModel):
    name: str
    span: Span
    expr: Expression


class Block(BaseModel):
    type: str
    labels: list[str] = Field(default_factory=list)
    span: Span
    attributes: dict[str, Attribute] = Field(default_factory=dict)
    blocks: list[Block] = Field(default_factory=list)

    def attr(self, name: str) -> Attribute | None:
        return self.attributes.get(name)

    def blocks_of(self, type_: str) -> list[Block]:
        return [b for b in self.blocks if b.type == type_]


class Resource(BaseModel):
    mode: Literal["managed", "data"]
    type: str
    name: str
    address: str  # module-relative: "aws_eks_addon.coredns", "data.aws_iam_policy_document.p"
    span: Span
    body: Block
    count: Expression | None = None
    for_each: Expression | None = None
    provider: str | None = None


class Variable(BaseModel):
    name: str
    span: Span
    type: str | None = None  # the type constraint as written
    # the same, as an expression node: the evaluator fills `optional()` attributes from it
    type_expr: Expression | None = None
    description: str | None = None
    default: Expression | None = None  # None: no default, the variable is required
    sensitive: bool = False
    nullable: bool = True
    validations: list[Block] = Field(default_factory=list)

    @property
    def required(self) -> bool:
        return self.default is None


class Local(BaseModel):
    name: str
    span: Span
    expr: Expression


class Output(BaseModel):
    name: str
    span: Span
    expr: Expression
    sensitive: bool = False


class Provider(BaseModel):
    name: str
    alias: str | None = None
    span: Span
    body: Block


class Backend(BaseModel):
    type: str  # "s3", "local", "remote", ... or "cloud" for terraform { cloud {} }
    span: Span
    config: Block


class TerraformSettings(BaseModel):
    """A `terraform { ... }` block."""

    span: Span
    required_version: str | None = None
    required_providers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    backends: list[Backend] = Field(default_factory=list)  # backend "x" {} and cloud {} blocks


class ModuleCall(BaseModel):
    name: str
    span: Span
    source: str
    source_kind: Literal["local", "registry", "git", "http", "s3", "gcs", "other"]
    resolved_dir: str | None = None  # repo-relative directory of a local source inside the root
    version: str | None = None
    arguments: dict[str, Attribute] = Field(default_factory=dict)  # every attribute but meta-args
    count: Expression | None = None
    for_each: Expression | None = None
    depends_on: list[str] = Field(default_factory=list)
    # `providers = { aws.west = aws.eu_west_1 }`: the child's provider (local name, `.alias`)
    # -> the caller's configuration it receives, as written
    providers: dict[str, str] = Field(default_factory=dict)
    providers_span: Span | None = None


class TfvarsFile(BaseModel):
    path: str
    span: Span
    kind: Literal["tfvars", "auto", "example", "json"]  # example: recorded, never loaded
    values: dict[str, Attribute] = Field(default_factory=dict)


class LockedProvider(BaseModel):
    """One `provider "registry.terraform.io/hashicorp/aws" { version = ... }` entry of a
    dependency lock file (`.terraform.lock.hcl`): the version `terraform init` installs."""

    source: str  # as written: "registry.terraform.io/hashicorp/aws"
    version: str
    constraints: str | None = None
    span: Span


class ModuleDir(BaseModel):
    path: str  # repo-relative directory
    files: list[str] = Field(default_factory=list)
    resources: list[Resource] = Field(default_factory=list)  # managed and data
    variables: dict[str, Variable] = Field(default_factory=dict)
    locals: dict[str, Local] = Field(default_factory=dict)
    outputs: dict[str, Output] = Field(default_factory=dict)
    providers: list[Provider] = Field(default_factory=list)
    module_calls: dict[str, ModuleCall] = Field(default_factory=dict)
    settings: list[TerraformSettings] = Field(default_factory=list)
    other_blocks: list[Block] = Field(default_factory=list)  # moved, import, check, removed
    tfvars: list[TfvarsFile] = Field(default_factory=list)
    # `.terraform.lock.hcl` of the directory (meaningful in root modules), by source as written
    locked_providers: dict[str, LockedProvider] = Field(default_factory=dict)
    # `resource`'s index: (resources indexed, first resource of each address)
    _by_address: tuple[int, dict[str, Resource]] = PrivateAttr(default=(-1, {}))

    def resource(self, address: str) -> Resource | None:
        """The first resource (managed `t.n` or `data.t.n`) declared with this module-relative address."""
        n, index = private(self)["_by_address"]
        if n != len(self.resources):  # built on first use, again if the loader added more since
            index = {}
            for r in self.resources:
                index.setdefault(r.address, r)
            self._by_address = (len(self.resources), index)
        found: Resource | None = index.get(address)
        return found

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def backends(self) -> list[Backend]:
        return [b for s in self.settings for b in s.backends]

    @property
    def managed(self) -> list[Resource]:
        return [r for r in self.resources if r.mode == "managed"]


class ModuleInstance(BaseModel):
    """A module directory as reached from one environment, with its variables resolved."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    environment: str
    address: str  # "" for the root module, "module.eks", "module.a.module.b", 'module.a["k"].module.b[0]'
    module: ModuleDir
    call: ModuleCall | None = None
    # the for_each key or count index of an expanded module call; None when not expanded
    key: str | int | None = None
    variables: dict[str, Value] = Field(default_factory=dict)
    # known True, or unknown when the call's count/for_each (or a caller's) cannot be resolved;
    # instances known not to exist are not built (see Environment.skipped_modules)
    exists: Value = Field(default_factory=lambda: Value.known(True))
    _evaluate: Callable[..., Value] | None = PrivateAttr(default=None)
    _structured: Callable[..., Value] | None = PrivateAttr(default=None)
    _keys_read: Callable[..., dict[str, frozenset[str] | None]] | None = PrivateAttr(default=None)
    # `expand` per resource (by id; the resource is kept beside its instances, so the id is
    # never reused): every rule of a scan walks the same instances, built once
    _expanded: dict[int, tuple[Resource, list[ResourceInstance]]] = PrivateAttr(default_factory=dict)

    def eval(self, expr: Expression | None, symbols: Symbols | None = None) -> Value:
        """Evaluate in this module instance; `symbols` binds per-instance names (`each`, `count`,
        dynamic block iterators) for expressions of an expanded resource."""
        if expr is None:
            return Value.absent()
        evaluate = private(self)["_evaluate"]
        if evaluate is None:
            return expr.literal if expr.literal.is_known else Value.unknown("not evaluated", expr.span)
        try:
            value: Value = evaluate(expr, symbols)
            return value
        except RecursionError:  # hostile or generated input: say so rather than crash the rule
            return Value.unknown("expression nested too deeply to evaluate", expr.span)

    def eval_structured(self, expr: Expression | None, symbols: Symbols | None = None) -> Value:
        """`eval`, with JSON documents decoded and located (see the module docstring)."""
        if expr is None:
            return Value.absent()
        if self._structured is None:
            return self.eval(expr, symbols)
        return self._structured(expr, symbols)

    def keys_read(self, expr: Expression | None, symbols: Symbols | None = None) -> dict[str, frozenset[str] | None]:
        """Resources the expression indexes directly, by module-relative address, with the
        instance keys it picks (as strings: `"a"`, `"0"`), or None when it reads the resource
        without a key known here (no index, splat, unresolved key). References through
        variables, locals and outputs are not followed."""
        if expr is None or self._keys_read is None:
            return {}
        return self._keys_read(expr, symbols)

    def resources(self, *types: str) -> Iterator[ResourceInstance]:
        """Resource instances in declaration order, expanded ones by key (see the module docstring)."""
        for r in self.module.resources:
            if not types or r.type in types:
                yield from self.expand(r)

    def expand(self, resource: Resource) -> list[ResourceInstance]:
        mine = private(self)
        if mine["_evaluate"] is None:  # not wired to its evaluator yet: nothing to keep
            return self._expand(resource)
        hit = mine["_expanded"].get(id(resource))
        if hit is None:
            hit = mine["_expanded"][id(resource)] = (resource, self._expand(resource))
        return list(hit[1])

    def _expand(self, resource: Resource) -> list[ResourceInstance]:
        keys = instance_keys(self, resource.count, resource.for_each)
        if keys:
            return [ResourceInstance(instance=self, resource=resource, key=k, symbols=s) for k, s in keys]
        # unresolved, or known to create nothing (`exists` says which): one unexpanded instance,
        # whose `each`/`count` say why they are unknown
        symbols = unexpanded_symbols(self, resource.count, resource.for_each)
        return [ResourceInstance(instance=self, resource=resource, symbols=symbols)]

    def prefixed(self, address: str) -> str:
        return f"{self.address}.{address}" if self.address else address

    @property
    def call_address(self) -> str:
        """The address without this instance's own key: `module.a["k"].module.b`."""
        return call_address(self.address)

    @property
    def parent_address(self) -> str:
        """The calling instance's address ("" for the root module and its direct calls)."""
        return parent_address(self.address)

    @property
    def static_address(self) -> str:
        """The address with every instance key removed: `module.a.module.b`, the same for all
        instances of a call (graph nodes, grouping)."""
        return static_address(self.address)


_MODULE_STEP = re.compile(r'module\.([A-Za-z_][A-Za-z0-9_-]*)(\[(?:"(?:[^"\\]|\\.)*"|\d+)\])?(?:\.|$)')


def module_steps(address: str) -> list[tuple[str, str]]:
    """(call name, key as written or "") for each module step of a module instance address;
    keys may hold any character, so addresses are never split on `.module.`."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(address):
        m = _MODULE_STEP.match(address, pos)
        if m is None:  # not written by the loader (a hand-built instance): keep what is left whole
            out.append((address[pos:].removeprefix("module."), ""))
            break
        out.append((m.group(1), m.group(2) or ""))
        pos = m.end()
    return out


def _join_steps(steps: list[tuple[str, str]]) -> str:
    return ".".join(f"module.{n}{k}" for n, k in steps)


@lru_cache(maxsize=4096)
def parent_address(address: str) -> str:
    """`module.a["x.module.y"].module.b[0]` -> `module.a["x.module.y"]`; `module.a` -> ""."""
    return _join_steps(module_steps(address)[:-1])


@lru_cache(maxsize=4096)
def call_address(address: str) -> str:
    """The address without its last key: `module.a["k"].module.b[0]` -> `module.a["k"].module.b`."""
    steps = module_steps(address)
    return _join_steps([*steps[:-1], (steps[-1][0], "")]) if steps else ""


@lru_cache(maxsize=4096)
def static_address(address: str) -> str:
    """Every key removed: `module.a["k"].module.b[0]` -> `module.a.module.b`."""
    return _join_steps([(n, "") for n, _ in module_steps(address)])


class Symbols:
    """Names bound while evaluating one instance: `each`, `count`, dynamic block iterators.

    `values` maps a name to its (evaluator-internal) value, e.g. `{"each": {"key": "a",
    "value": 5432}}`; `tag` identifies the binding for memoisation (the keys chosen so far).
    """

    __slots__ = ("tag", "values")

    def __init__(self, values: dict[str, Any] | None = None, tag: tuple[Any, ...] = ()):
        self.values = values or {}
        self.tag = tag

    def bind(self, name: str, key: Any, value: Any) -> Symbols:
        return Symbols({**self.values, name: value}, (*self.tag, (name, key)))


NO_SYMBOLS = Symbols()


# Past this a `count` is not expanded (its instances stay one unexpanded resource): a count of
# 1e9 would otherwise build a billion instances (found by probing the loaders).
MAX_EXPANDED_COUNT = 100_000


def instance_keys(
    instance: ModuleInstance, count: Expression | None, for_each: Expression | None
) -> list[tuple[str | int, Symbols]] | None:
    """One (key, symbols) per instance Terraform creates when `for_each`/`count` is known;
    None when the keys cannot be resolved (or there is neither)."""
    if for_each is not None:
        v = instance.eval(for_each)
        items = v.value if v.is_known else v.partial  # a map with unknown values has known keys
        pairs: list[tuple[str, Any]]
        if isinstance(items, dict):
            pairs = sorted(items.items())
        elif v.is_known and isinstance(items, list):  # a set: key and value are the element
            if any(isinstance(x, (dict, list)) or x is None for x in items):
                return None
            pairs = sorted({_key_str(x): x for x in items}.items())
        else:
            return None
        return [(k, NO_SYMBOLS.bind("each", k, {"key": k, "value": x})) for k, x in pairs]
    if count is not None:
        v = instance.eval(count)
        n = v.value if v.is_known else None
        if isinstance(n, bool) or not isinstance(n, (int, float)) or not math.isfinite(n) or n != int(n) or n < 0:
            return None
        if n > MAX_EXPANDED_COUNT:
            return None  # left unexpanded: millions of instances are junk input, not a deployment
        return [(i, NO_SYMBOLS.bind("count", i, {"index": i})) for i in range(int(n))]
    return None


def unexpanded_symbols(instance: ModuleInstance, count: Expression | None, for_each: Expression | None) -> Symbols:
    """`each`/`count` of something whose count/for_each is not expanded: unknown, saying why."""
    symbols = NO_SYMBOLS
    for name, expr in (("each", for_each), ("count", count)):
        if expr is not None:
            v = instance.eval(expr)
            why = v.reason or f"{'for_each' if name == 'each' else 'count'} = {v.value!r}"
            symbols = symbols.bind(name, None, UnknownLeaf(f"{name}.* is unknown: {why}"))
    return symbols


def _key_str(x: Any) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def format_key(key: str | int) -> str:
    """`["a"]` or `[0]`, as Terraform writes instance keys."""
    return f"[{key}]" if isinstance(key, int) else "[" + json.dumps(key) + "]"


def _content_blocks(block: Block, type_: str) -> Iterator[tuple[Block, Block | None]]:
    """(block, its dynamic block or None) for literal and `dynamic` blocks of a type, in order."""
    for b in block.blocks:
        if b.type == type_:
            yield b, None
        elif b.type == "dynamic" and b.labels == [type_]:
            for c in b.blocks_of("content"):
                yield c, b


def _views(instance: ModuleInstance, block: Block, type_: str, symbols: Symbols) -> list[BlockView]:
    out: list[BlockView] = []
    for content, dyn in _content_blocks(block, type_):
        if dyn is None:
            out.append(BlockView(instance=instance, block=content, symbols=symbols))
            continue
        it = dyn.attr("iterator")
        name = it.expr.traversals[0] if it and it.expr.traversals else type_
        fe = dyn.attr("for_each")
        v = instance.eval(fe.expr, symbols if symbols.values else None) if fe else Value.absent()
        items = v.value if v.is_known else v.partial
        if isinstance(items, dict):
            pairs: list[tuple[Any, Any]] = sorted(items.items())
        elif v.is_known and isinstance(items, list):
            pairs = list(enumerate(items))  # a list: keys are indexes (sets reach us as lists too)
        else:
            why = "no for_each" if fe is None else (v.reason or f"for_each = {v.value!r}")
            unknown = UnknownLeaf(f'dynamic "{type_}" for_each cannot be resolved ({why})')
            out.append(
                BlockView(instance=instance, block=content, dynamic=dyn, symbols=symbols.bind(name, None, unknown))
            )
            continue
        for k, x in pairs:
            bound = symbols.bind(name, k, {"key": k, "value": x})
            out.append(BlockView(instance=instance, block=content, dynamic=dyn, key=k, symbols=bound))
    return out


class BlockView(BaseModel):
    """A nested block of a resource, evaluated in its module instance (and for an expanded
    `dynamic` block, with its iterator bound to one element)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    instance: ModuleInstance
    block: Block
    symbols: Symbols = Field(default=NO_SYMBOLS)
    dynamic: Block | None = None  # the `dynamic` block this `content` comes from
    key: str | int | None = None  # the element of the dynamic block's collection

    @property
    def span(self) -> Span:
        return self.block.span

    def get(self, path: str) -> Value:
        return _get(self.instance, self.block, path, symbols=self.symbols)

    def get_structured(self, path: str) -> Value:
        return _get(self.instance, self.block, path, structured=True, symbols=self.symbols)

    def blocks(self, type_: str) -> list[BlockView]:
        return _views(self.instance, self.block, type_, self.symbols)

    def attribute(self, path: str) -> Attribute | None:
        return _attribute(self.block, path)


class ResourceInstance(BaseModel):
    """What resource rules see: one resource as configured in one environment."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    instance: ModuleInstance
    resource: Resource
    # the for_each key or count index of an expanded instance; None when not expanded
    key: str | int | None = None
    symbols: Symbols = Field(default=NO_SYMBOLS)  # `each`/`count` for an expanded instance
    _exists: Value | None = PrivateAttr(default=None)

    @property
    def address(self) -> str:
        """Terraform's instance address: `module.m.aws_x.y["k"]`, `aws_x.y[0]`, or unkeyed."""
        base = self.resource_address
        return base if self.key is None else base + format_key(self.key)

    @property
    def resource_address(self) -> str:
        """The resource's address without an instance key."""
        return self.instance.prefixed(self.resource.address)

    def reads_instance(self, *paths: str) -> bool:
        """True when this is an expanded instance and one of these attributes (dotted paths,
        through dynamic blocks; every attribute when none is given) reads `each`/`count`, so
        its value may differ between the instances of the resource."""
        if self.key is None:
            return False
        if not paths:
            return any(e.reads("each", "count") for e in _expressions(self.resource.body))
        return any(a is not None and a.expr.reads("each", "count") for a in map(self.attribute, paths))

    def keys_read(self, path: str) -> dict[str, frozenset[str] | None]:
        """`ModuleInstance.keys_read` of an attribute (dotted path), with this instance's
        `each`/`count` bound: `aws_x.y[each.key]` in instance `["a"]` picks `{"a"}`."""
        a = self.attribute(path)
        if a is None:
            return {}
        return self.instance.keys_read(a.expr, self.symbols if self.symbols.values else None)

    def address_for(self, *paths: str) -> str:
        """The address a finding about these attributes names: the instance's when their value
        depends on the instance key, else the resource's, so that identical findings on the
        instances of one resource merge into one."""
        return self.address if self.reads_instance(*paths) else self.resource_address

    @property
    def environment(self) -> str:
        return self.instance.environment

    @property
    def type(self) -> str:
        return self.resource.type

    @property
    def span(self) -> Span:
        return self.resource.span

    def attribute(self, path: str) -> Attribute | None:
        """The attribute as written (for its span), following dotted nested-block paths (the
        first block of each type, literal or the `content` of a dynamic one)."""
        return _attribute(self.resource.body, path)

    def span_of(self, path: str) -> Span:
        a = self.attribute(path)
        return a.span if a else self.span

    def get(self, path: str) -> Value:
        """Evaluate `a`, or `block.attr` (first nested block of that type)."""
        return _get(self.instance, self.resource.body, path, symbols=self.symbols)

    def get_structured(self, path: str) -> Value:
        """`get`, for attributes holding a document (a policy...): JSON decoded, unknown
        `jsonencode(...)` seen before encoding, parts located (see the module docstring)."""
        return _get(self.instance, self.resource.body, path, structured=True, symbols=self.symbols)

    @property
    def exists(self) -> Value:
        """Known False when `count` is known to be 0 or `for_each` known to be empty in this
        environment; unknown when they (or the module instance's) cannot be resolved."""
        mine = private(self)
        if mine["_exists"] is None:  # the model does not change once loaded: worked out once
            mine["_exists"] = self._existence()
        exists: Value = mine["_exists"]
        return exists

    def _existence(self) -> Value:
        own = (
            Value.known(True)
            if self.key is not None
            else existence(self.instance, self.resource.count, self.resource.for_each)
        )
        if own.is_known and own.value is False:
            return own
        if not self.instance.exists.is_known:
            return self.instance.exists
        return own

    def blocks(self, type_: str) -> list[BlockView]:
        """Nested blocks of a type, literal and dynamic ones expanded, in source order."""
        return _views(self.instance, self.resource.body, type_, self.symbols)

    def has_block(self, type_: str) -> bool:
        """True when a literal or `dynamic` block of that type is written."""
        body = self.resource.body
        return bool(body.blocks_of(type_)) or any(b.labels == [type_] for b in body.blocks_of("dynamic"))


def existence(instance: ModuleInstance, count: Expression | None, for_each: Expression | None) -> Value:
    """Whether something with this `count`/`for_each`, evaluated in `instance`, has any instance."""
    out = Value.known(True)
    if count is not None:
        v = instance.eval(count)
        if v.is_known and isinstance(v.value, (int, float)):  # bool: `count = false` counts as 0
            if v.value == 0:
                return Value.known(False, count.span)
        else:
            out = Value.unknown(v.reason or f"count = {v.value!r}", count.span)
    if for_each is not None:
        v = instance.eval(for_each)
        # a partially known collection is empty or not as written, unless it is a list holding
        # unknown elements (`UnknownElements`) and nothing else
        items = v.value if v.is_known else v.partial
        if isinstance(items, (dict, list)) and not (
            isinstance(items, list) and items and all(isinstance(x, UnknownElements) for x in items)
        ):
            if not items:
                return Value.known(False, for_each.span)
        else:
            out = Value.unknown(v.reason or f"for_each = {v.value!r}", for_each.span)
    return out


def _get(
    instance: ModuleInstance, block: Block, path: str, structured: bool = False, symbols: Symbols = NO_SYMBOLS
) -> Value:
    head, _, rest = path.partition(".")
    if rest:
        views = _views(instance, block, head, symbols)
        if not views:
            return Value.absent()
        first = views[0]
        if first.dynamic is not None and first.key is None:
            v = _get(instance, first.block, rest, structured, first.symbols)
            if v.is_known:  # the block itself may not exist
                return Value.unknown(f"`{head}` is a dynamic block whose for_each cannot be resolved", v.span)
            return v
        return _get(instance, first.block, rest, structured, first.symbols)
    attr = block.attr(head)
    if attr is None:
        return Value.absent()
    bound = symbols if symbols.values else None
    return instance.eval_structured(attr.expr, bound) if structured else instance.eval(attr.expr, bound)


def _attribute(block: Block, path: str) -> Attribute | None:
    head, _, rest = path.partition(".")
    if not rest:
        return block.attr(head)
    first = next(_content_blocks(block, head), None)
    return _attribute(first[0], rest) if first else None


def _expressions(block: Block) -> Iterator[Expression]:
    for a in block.attributes.values():
        yield a.expr
    for b in block.blocks:
        yield from _expressions(b)


_AFTER_APPLY = re.compile(
    r"^`([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_.-]+)` is not set in configuration: known only after apply$"
)


def after_apply_reason(type_: str, name: str, path: str) -> str:
    """The reason of an attribute a planned environment (`Environment.planned`) cannot know:
    `aws_subnet.a.id`, not set in the configuration."""
    return f"`{type_}.{name}.{path}` is not set in configuration: known only after apply"


def after_apply(reason: str) -> tuple[str, str, str] | None:
    """(resource type, name, attribute path) when an unknown value's reason is an attribute of
    a managed resource its configuration does not set (see `Environment.planned`)."""
    m = _AFTER_APPLY.match(reason)
    return (m.group(1), m.group(2), m.group(3)) if m else None


class SkippedModule(BaseModel):
    """A module call that creates no instance in an environment (`count = 0`, empty `for_each`):
    it is not instantiated, and nothing under it is checked there."""

    address: str  # "module.logs", "module.a.module.b"
    span: Span  # the module block
    reason: str  # e.g. "count = 0 (var.enabled is false)"


class Environment(BaseModel):
    """A root module evaluated as one deployment (e.g. `terraform/environments/prod`)."""

    name: str
    path: str
    module: ModuleDir
    instances: list[ModuleInstance] = Field(default_factory=list)  # root first, then calls (depth-first)
    tfvars_loaded: list[str] = Field(default_factory=list)
    tfvars_ignored: list[str] = Field(default_factory=list)  # *.tfvars.example and the like
    skipped_modules: list[SkippedModule] = Field(default_factory=list)
    _planned: Callable[[], Environment] | None = PrivateAttr(default=None)
    # instance indexes: (instances indexed, by address, by (calling instance address, call name))
    _index: tuple[int, dict[str, ModuleInstance], dict[tuple[str, str], list[ModuleInstance]]] = PrivateAttr(
        default=(-1, {}, {})
    )

    def _indexes(self) -> tuple[dict[str, ModuleInstance], dict[tuple[str, str], list[ModuleInstance]]]:
        n, by_address, by_call = private(self)["_index"]
        if n != len(self.instances):  # built on first use, again if the loader added more since
            by_address, by_call = {}, {}
            for i in self.instances:
                by_address[i.address] = i
                if i.call is not None:
                    by_call.setdefault((i.parent_address, i.call.name), []).append(i)
            self._index = (len(self.instances), by_address, by_call)
        return by_address, by_call

    def instance(self, address: str) -> ModuleInstance | None:
        """The module instance at this address (the last one built there, as a dict of them keeps)."""
        return self._indexes()[0].get(address)

    def call_instances(self, parent: ModuleInstance, name: str) -> list[ModuleInstance]:
        """The instances of `parent`'s module call `name`: one, or one per key of an expanded call."""
        return list(self._indexes()[1].get((parent.address, name), ()))

    def planned(self) -> Environment | None:
        """This environment as `terraform plan` sees it before anything exists (a first
        apply): a reference to a managed resource reads its configured arguments, and each
        attribute the configuration does not set is unknown with a reason `after_apply`
        recognises; data sources and everything else read as in the environment itself. Its
        instances may be expanded further (a for_each over a resource map has known keys).
        Built on first use; None when the loader gave none."""
        return self._planned() if self._planned is not None else None

    @property
    def root(self) -> ModuleInstance:
        return self.instances[0]

    @property
    def incomplete(self) -> list[str]:
        """Why this environment's model may lack resources: module calls whose source is not
        read (remote, missing or outside the root). Checks that conclude from absence
        (`closed_world`) are undecided here."""
        reasons = []
        for inst in self.instances:
            for call in inst.module.module_calls.values():
                if call.resolved_dir is None:
                    reasons.append(f"{inst.prefixed('module.' + call.name)} ({call.source}) is not read")
        return reasons

    def resources(self, *types: str) -> Iterator[ResourceInstance]:
        for inst in self.instances:
            yield from inst.resources(*types)


class TerraformProject(BaseModel):
    modules: dict[str, ModuleDir] = Field(default_factory=dict)  # by repo-relative dir
    environments: list[Environment] = Field(default_factory=list)  # root modules, evaluated

    def resources(self, *types: str) -> Iterator[ResourceInstance]:
        for env in self.environments:
            yield from env.resources(*types)

    def inventory(self) -> dict[str, int]:
        """What was read, for the report's summary (the interface every sub-project offers)."""
        return {
            "Terraform files": sum(len(m.files) for m in self.modules.values()),
            "Terraform modules": len(self.modules),
            "Terraform environments": len(self.environments),
        }
