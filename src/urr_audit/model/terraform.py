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

Existence: a module call or resource whose `count` is known to be 0 or whose `for_each` is
known to be empty does not exist in that environment. Such module calls are not instantiated
(`Environment.skipped_modules` records them); a resource says so in `ResourceInstance.exists`
(known False), and the `terraform.resource` scope skips it. `exists` is unknown when
count/for_each cannot be resolved.

Origins: a value read through `var.x` (at any module depth) has `Value.origin`: the module
argument, tfvars attribute or variable default that sets it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from urr_audit.model.common import Span, Value


class Expression(BaseModel):
    """An HCL expression as written. `literal` is known when it is a plain literal."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    text: str
    span: Span
    references: list[str] = Field(default_factory=list)  # "var.x", "module.sqs.queue_arn", "aws_subnet.db"
    functions: list[str] = Field(default_factory=list)  # function names called anywhere inside
    literal: Value = Field(default_factory=Value.absent)
    _node: Any = PrivateAttr(default=None)  # loader-private syntax node for the evaluator


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


class TfvarsFile(BaseModel):
    path: str
    span: Span
    kind: Literal["tfvars", "auto", "example", "json"]  # example: recorded, never loaded
    values: dict[str, Attribute] = Field(default_factory=dict)


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
    address: str  # "" for the root module, "module.eks", "module.a.module.b"
    module: ModuleDir
    call: ModuleCall | None = None
    variables: dict[str, Value] = Field(default_factory=dict)
    # known True, or unknown when the call's count/for_each (or a caller's) cannot be resolved;
    # instances known not to exist are not built (see Environment.skipped_modules)
    exists: Value = Field(default_factory=lambda: Value.known(True))
    _evaluate: Callable[[Expression], Value] | None = PrivateAttr(default=None)
    _structured: Callable[[Expression], Value] | None = PrivateAttr(default=None)

    def eval(self, expr: Expression | None) -> Value:
        if expr is None:
            return Value.absent()
        if self._evaluate is None:
            return expr.literal if expr.literal.is_known else Value.unknown("not evaluated", expr.span)
        return self._evaluate(expr)

    def eval_structured(self, expr: Expression | None) -> Value:
        """`eval`, with JSON documents decoded and located (see the module docstring)."""
        if expr is None:
            return Value.absent()
        if self._structured is None:
            return self.eval(expr)
        return self._structured(expr)

    def resources(self, *types: str) -> Iterator[ResourceInstance]:
        for r in self.module.resources:
            if not types or r.type in types:
                yield ResourceInstance(instance=self, resource=r)

    def prefixed(self, address: str) -> str:
        return f"{self.address}.{address}" if self.address else address


class BlockView(BaseModel):
    """A nested block of a resource, evaluated in its module instance."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    instance: ModuleInstance
    block: Block

    @property
    def span(self) -> Span:
        return self.block.span

    def get(self, path: str) -> Value:
        return _get(self.instance, self.block, path)

    def get_structured(self, path: str) -> Value:
        return _get(self.instance, self.block, path, structured=True)

    def blocks(self, type_: str) -> list[BlockView]:
        return [BlockView(instance=self.instance, block=b) for b in self.block.blocks_of(type_)]


class ResourceInstance(BaseModel):
    """What resource rules see: one resource as configured in one environment."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    instance: ModuleInstance
    resource: Resource

    @property
    def address(self) -> str:
        return self.instance.prefixed(self.resource.address)

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
        """The attribute as written (for its span), following dotted nested-block paths."""
        block: Block | None = self.resource.body
        *heads, last = path.split(".")
        for h in heads:
            found = block.blocks_of(h) if block else []
            block = found[0] if found else None
        return block.attr(last) if block else None

    def span_of(self, path: str) -> Span:
        a = self.attribute(path)
        return a.span if a else self.span

    def get(self, path: str) -> Value:
        """Evaluate `a`, or `block.attr` (first nested block of that type)."""
        return _get(self.instance, self.resource.body, path)

    def get_structured(self, path: str) -> Value:
        """`get`, for attributes holding a document (a policy...): JSON decoded, unknown
        `jsonencode(...)` seen before encoding, parts located (see the module docstring)."""
        return _get(self.instance, self.resource.body, path, structured=True)

    @property
    def exists(self) -> Value:
        """Known False when `count` is known to be 0 or `for_each` known to be empty in this
        environment; unknown when they (or the module instance's) cannot be resolved."""
        own = existence(self.instance, self.resource.count, self.resource.for_each)
        if own.is_known and own.value is False:
            return own
        if not self.instance.exists.is_known:
            return self.instance.exists
        return own

    def blocks(self, type_: str) -> list[BlockView]:
        return [BlockView(instance=self.instance, block=b) for b in self.resource.body.blocks_of(type_)]

    def has_block(self, type_: str) -> bool:
        """True when a literal or `dynamic` block of that type is written."""
        body = self.resource.body
        return bool(body.blocks_of(type_)) or any(
            b.labels == [type_] for b in body.blocks_of("dynamic")
        )


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
        items = v.value if v.is_known else v.partial  # a partially known collection has a known size
        if isinstance(items, (dict, list)):
            if not items:
                return Value.known(False, for_each.span)
        else:
            out = Value.unknown(v.reason or f"for_each = {v.value!r}", for_each.span)
    return out


def _get(instance: ModuleInstance, block: Block, path: str, structured: bool = False) -> Value:
    *heads, last = path.split(".")
    current: Block | None = block
    for h in heads:
        found = current.blocks_of(h) if current else []
        if not found:
            if current and any(b.labels == [h] for b in current.blocks_of("dynamic")):
                return Value.unknown(f"`{h}` is a dynamic block", current.span)
            return Value.absent()
        current = found[0]
    attr = current.attr(last) if current else None
    if attr is None:
        return Value.absent()
    return instance.eval_structured(attr.expr) if structured else instance.eval(attr.expr)


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

    @property
    def root(self) -> ModuleInstance:
        return self.instances[0]

    def resources(self, *types: str) -> Iterator[ResourceInstance]:
        for inst in self.instances:
            yield from inst.resources(*types)


class TerraformProject(BaseModel):
    modules: dict[str, ModuleDir] = Field(default_factory=dict)  # by repo-relative dir
    environments: list[Environment] = Field(default_factory=list)  # root modules, evaluated

    def resources(self, *types: str) -> Iterator[ResourceInstance]:
        for env in self.environments:
            yield from env.resources(*types)
