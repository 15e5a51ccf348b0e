"""Expression evaluator for one module instance: three-state, lazy, memoised.

Internally values are plain Python values in which `Unknown` (the model's `UnknownLeaf`) may
appear at any depth, so `merge(local.tags, {Name = aws_x.id})["Env"]` stays known. At the
boundary (`evaluate`), a value containing any `Unknown` becomes `Value.unknown` with that
reason and the half-known structure in `partial`: rules only see it if they ask. An unknown
string made by `jsonencode()` of a half-known value (or a JSON template with unknown
interpolations) carries that document in `decoded`.

Lists of unknown length: `concat` and `flatten` keep the known elements of a list one of
whose parts is unknown as a whole (`concat(["a"], var.unknown_list)` is `["a",
UnknownElements(...)]`, the marker standing for zero or more elements). Only operations that
are sound on such a list see it: `concat`, `flatten`, `jsonencode` (its document), indexing
before the marker, splats (element-wise) and being passed around. Every other function gets
the list as one `Unknown` (`_degrade`), as does a `for` expression or template `for`
iterating it, so no length, position or element count is ever computed from it.

Per-instance names (`each`, `count`, dynamic block iterators) come in as `Symbols` from the
model when an expanded resource is evaluated; results are memoised per binding.

Where collections are written is recorded as they are built (`Context.located`, shared by
the instances of an environment, so it survives locals, module arguments and outputs);
`structured` turns it into `Value.located` paths for the documents rules read.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tree_sitter import Node

from urr_audit.loaders.terraform.functions import APPLY_TIME, FUNCTIONS, EvalError, norm_number, tf_str, type_name
from urr_audit.loaders.terraform.jsonsyntax import JNode, JsonSyntaxError, JsonValue, _template, scan_json
from urr_audit.loaders.terraform.parse import (
    NON_REFERENCE_ROOTS,
    node_text,
    number,
    span_of,
    string_lit_value,
    unescape,
)
from urr_audit.model.common import Rejection, Span, UnknownElements, UnknownLeaf, Value, find_unknown
from urr_audit.model.terraform import (
    Block,
    Expression,
    ModuleCall,
    ModuleDir,
    Resource,
    Symbols,
    after_apply,
    after_apply_reason,
)
from urr_audit.workspace import OutsideRoot, Workspace

Unknown = UnknownLeaf
first_unknown = find_unknown


class IndexOutOfRange(EvalError):
    """An index past the end of a known list: Terraform's "Invalid index". Unlike other
    evaluation errors it is reported (`Value.rejected`), so it keeps where it happened."""

    def __init__(self, index: int, length: int):
        what = "an empty list" if length == 0 else f"a list of {length} element{'s' if length != 1 else ''}"
        super().__init__(f"index {index} of {what}")
        self.text = ""
        self.span: Span | None = None
        self.origin: Span | None = None


def to_internal(v: Value, what: str) -> Any:
    if v.is_known:
        return v.value
    if v.is_unknown:
        if v.partial is not None:
            return v.partial
        return Unknown(v.reason or f"{what} is unknown", v.decoded)
    return Unknown(f"{what} has no value")


def to_value(v: Any, expr: Expression | None = None) -> Value:
    span = expr.span if expr is not None else None
    if isinstance(v, Unknown):
        knows_more = v.choices is not None or v.invalid_json is not None
        return Value.unknown(v.reason, span, decoded=v.decoded, partial=v if knows_more else None)
    u = first_unknown(v)
    if u is not None:
        return Value.unknown(u.reason, span, partial=v)
    return Value.known(v, span)


# collection id -> (the collection, kept alive so the id stays its own; syntax node or None;
# path; line; end line), the lines used when there is no node
Located = dict[int, tuple[Any, Node | None, str, int, int]]


@dataclass
class ModuleInstances:
    """The instances of a module call with `count`/`for_each`, by key (sorted as Terraform
    orders them); `unresolved` says why the keys are unknown (then there is no key to read)."""

    by_count: bool
    instances: dict[Any, Evaluator] = field(default_factory=dict)
    unresolved: str | None = None


@dataclass
class Context:
    """What an instance's expressions can see."""

    ws: Workspace
    module: ModuleDir
    root_dir: str  # repo-relative root module directory: file() paths are relative to it
    path_module: str  # path.module as Terraform gives it: relative to the root module dir
    variables: dict[str, Value] = field(default_factory=dict)
    # module call name -> evaluator of the child instance, its instances when the call has
    # count/for_each, or a reason why it is not evaluated; a callable builds the child on first use
    children: dict[str, Evaluator | ModuleInstances | str | Callable[[], Any]] = field(default_factory=dict)
    located: Located = field(default_factory=dict)  # shared by every instance of an environment
    # JSON-looking strings -> (path, line of their first line), for `structured`
    texts: dict[str, tuple[str, int]] = field(default_factory=dict)
    # strings made by jsonencode() of a known value -> that value, whose collections are in
    # `located`: `structured` then locates a known policy's statements where they are written
    encoded: dict[str, Any] = field(default_factory=dict)
    # evaluate as a plan before anything exists: a managed resource reads as its configuration
    # (see `PlannedResource`) instead of as wholly unknown
    planned: bool = False


class PlannedResource:
    """A managed resource (or one of its nested blocks) as `terraform plan` sees it when it
    does not exist yet: the arguments its configuration sets are their values, everything else
    is unknown until apply, with a reason `model.terraform.after_apply` recognises. Attributes
    are evaluated when read."""

    __slots__ = ("block", "ev", "path", "resource", "symbols")

    def __init__(self, ev: Evaluator, resource: Resource, block: Block, symbols: dict[str, Any], path: str = ""):
        self.ev, self.resource, self.block, self.symbols, self.path = ev, resource, block, symbols, path

    def attr(self, name: str) -> Any:
        return self.ev.planned_attribute(self, name)

    def __repr__(self) -> str:
        return f"PlannedResource({self.resource.address}{'.' + self.path if self.path else ''})"


_TRAVERSAL = ("get_attr", "index", "splat")
_RESOURCE_META = frozenset({"count", "for_each", "provider", "depends_on"})
_NOT_RESOURCES = frozenset({"var", "local", "module", "path", "terraform"})


class Evaluator:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._memo: dict[tuple[int, tuple], tuple[Expression, Value]] = {}
        self._locals: dict[str, Any] = {}
        self._outputs: dict[str, Any] = {}
        self._busy: set[str] = set()
        self._path = ""  # file of the expression being evaluated, for `located`
        self._body_line: int | None = None  # first line of a template evaluated out of its file
        self._symbols: dict[str, Any] = {}  # per-instance names of the expression being evaluated
        self._synthetic = 0  # > 0 inside a template parsed apart from its file (lines are not the file's)

    # --- public ---------------------------------------------------------------------------
    def evaluate(self, expr: Expression, symbols: Symbols | None = None) -> Value:
        """`symbols`: names bound for one instance of an expanded resource (`each`, `count`,
        dynamic block iterators); memoised per binding."""
        memo_key = (id(expr), symbols.tag if symbols is not None else ())
        hit = self._memo.get(memo_key)
        if hit is not None:
            return hit[1]
        rejected: Rejection | None = None
        try:
            raw = self.raw(expr, symbols.values if symbols is not None else None)
        except IndexOutOfRange as e:
            raw = Unknown(f"invalid expression: {e.text + ': ' if e.text else ''}{e}")
            rejected = Rejection(message=str(e), text=e.text, span=e.span, origin=e.origin)
        except EvalError as e:
            raw = Unknown(f"invalid expression: {e}")
        except RecursionError:
            raw = Unknown("expression nested too deeply")
        value = to_value(raw, expr)
        if rejected is not None:
            value = value.model_copy(update={"rejected": rejected})
        name = _plain_var(expr._node)
        if name is not None and name in self.ctx.variables:
            origin = self.ctx.variables[name].origin
            if origin is not None:
                value = value.model_copy(update={"origin": origin})
        self._memo[memo_key] = (expr, value)
        return value

    def keys_read(self, expr: Expression, symbols: Symbols | None = None) -> dict[str, frozenset[str] | None]:
        """Module-relative resource address -> the instance keys (as strings) the expression
        picks with an index (`aws_x.y[each.key]`, `aws_x.y[0]`), or None when it reads the
        resource without a known key (no index, a splat, a key that cannot be resolved)."""
        node = expr._node
        if not isinstance(node, Node):
            return {}
        scope = dict(symbols.values) if symbols is not None else {}
        out: dict[str, frozenset[str] | None] = {}

        def walk(n: Node) -> None:
            ch = n.children
            if n.type == "expression" and ch and ch[0].type == "variable_expr":
                root = node_text(ch[0])
                if root not in NON_REFERENCE_ROOTS and root not in _NOT_RESOURCES:
                    named = 2 if root == "data" else 1
                    i = 1
                    while i < len(ch) and i <= named and ch[i].type == "get_attr":
                        i += 1
                    if i == named + 1:
                        address = ".".join([root, *(node_text(c.children[-1]) for c in ch[1:i])])
                        key: Any = None
                        if i < len(ch) and ch[i].type == "index":
                            try:
                                key = self._index_key(ch[i], scope)
                            except (EvalError, RecursionError):
                                key = None
                            if isinstance(key, Unknown) or first_unknown(key) is not None:
                                key = None
                        seen = out.get(address, frozenset())
                        out[address] = None if key is None or seen is None else seen | {tf_str(key)}
            for c in ch:
                walk(c)

        walk(node)
        return out

    def structured(self, expr: Expression, symbols: Symbols | None = None) -> Value:
        """The value as a document: a string holding a JSON object or array is decoded, an
        unknown JSON string gives the document it encodes (partially known), and the parts of
        the result are located (`Value.located`)."""
        v = self.evaluate(expr, symbols)
        if v.is_absent:
            return v
        if v.is_known:
            if isinstance(v.value, str):
                return self._decode_text(v)
            if isinstance(v.value, (dict, list)):
                return v.model_copy(update={"located": self._located_paths(v.value)})
            return v
        doc = v.partial if v.partial is not None else v.decoded
        if doc is None:
            return v
        return Value(
            state=v.state, reason=v.reason, span=v.span, partial=doc, origin=v.origin, located=self._located_paths(doc)
        )

    def _decode_text(self, v: Value) -> Value:
        text = v.value
        if text.lstrip()[:1] not in ("{", "["):
            return v
        source = self.ctx.encoded.get(text)
        if source is not None:
            return Value(state=v.state, value=source, span=v.span, origin=v.origin, located=self._located_paths(source))
        try:
            root = scan_json(text)
        except (JsonSyntaxError, ValueError, RecursionError):
            return v
        where = self.ctx.texts.get(text)
        located: dict[tuple[str | int, ...], Span] = {}
        if where is not None:
            path, first = where

            def walk(n: JNode, at: tuple[str | int, ...]) -> None:
                if n.pairs is None and n.items is None:
                    return
                located[at] = Span(path=path, line=first + n.line - 1, end_line=first + n.end_line - 1)
                for k, _, x in n.pairs or []:
                    walk(x, (*at, k))
                for i, x in enumerate(n.items or []):
                    walk(x, (*at, i))

            walk(root, ())
        return Value(state=v.state, value=root.value, span=v.span, origin=v.origin, located=located)

    def _located_paths(self, doc: Any) -> dict[tuple[str | int, ...], Span]:
        reg = self.ctx.located
        out: dict[tuple[str | int, ...], Span] = {}

        def walk(x: Any, at: tuple[str | int, ...]) -> None:
            if isinstance(x, dict):
                items: Any = x.items()
            elif isinstance(x, list):
                items = enumerate(x)
            else:
                return
            hit = reg.get(id(x))
            if hit is not None and hit[0] is x:
                _, node, path, line, end = hit
                out[at] = span_of(node, path) if node is not None else Span(path=path, line=line, end_line=end)
            for k, y in items:
                walk(y, (*at, k))

        walk(doc, ())
        return out

    def _locate(self, obj: Any, node: Node | None, line: int = 0, end: int = 0) -> Any:
        self.ctx.located[id(obj)] = (obj, node, self._path, line, end)
        return obj

    def raw(self, expr: Expression, symbols: dict[str, Any] | None = None) -> Any:
        node = expr._node
        if node is None:
            return expr.literal.value if expr.literal.is_known else Unknown("not evaluated")
        outer, self._path = self._path, expr.span.path
        outer_symbols, self._symbols = self._symbols, symbols or {}
        outer_synthetic, self._synthetic = self._synthetic, 0  # a local read from a template is in its file
        try:
            if isinstance(node, JsonValue):
                return self.json_value(node.node, node)
            return self.ev(node, dict(self._symbols))
        finally:
            self._path = outer
            self._symbols = outer_symbols
            self._synthetic = outer_synthetic

    def local(self, name: str) -> Any:
        if name in self._locals:
            return self._locals[name]
        loc = self.ctx.module.locals.get(name)
        if loc is None:
            raise EvalError(f"local.{name} is not declared")
        return self._once(self._locals, name, f"local.{name}", loc.expr, contain_errors=False)

    def output(self, name: str) -> Any:
        if name in self._outputs:
            return self._outputs[name]
        out = self.ctx.module.outputs.get(name)
        if out is None:
            raise EvalError(f"output {name!r} is not declared in {self.ctx.module.path}")
        # an error in a child's output gives the caller an unknown value, not a failed expression
        return self._once(self._outputs, name, f"output {name}", out.expr, contain_errors=True)

    def _once(self, cache: dict[str, Any], name: str, label: str, expr: Expression, contain_errors: bool) -> Any:
        """Evaluate a local's or output's expression once; a reference cycle gives an unknown."""
        if label in self._busy:
            return Unknown(f"{label} refers to itself")
        self._busy.add(label)
        try:
            v = self.raw(expr)
        except EvalError as e:
            if not contain_errors:
                raise
            v = Unknown(f"invalid expression: {e}")
        finally:
            self._busy.discard(label)
        cache[name] = v
        return v

    # --- type constraints -----------------------------------------------------------------
    def convert(self, value: Value, type_expr: Expression | None) -> Value:
        """A variable's value converted to its type constraint as far as object attributes go:
        an attribute declared `optional(T)` and not given is null, `optional(T, d)` is `d`
        (Terraform fills them before the module sees the value). Only for constraints that
        declare optional attributes; anything else is returned as is."""
        if type_expr is None or not isinstance(type_expr._node, Node) or "optional" not in type_expr.text:
            return value
        if value.is_absent or (value.is_unknown and value.partial is None):
            return value
        raw = to_internal(value, "variable")
        outer, self._path = self._path, type_expr.span.path
        try:
            converted = self._convert(raw, type_expr._node)
        except (EvalError, ValueError, IndexError):  # a constraint written oddly: leave the value as given
            return value
        finally:
            self._path = outer
        if converted is raw:
            return value
        out = to_value(converted)
        return out.model_copy(update={"span": value.span, "origin": value.origin})

    def _convert(self, v: Any, t: Node) -> Any:
        while t.type == "expression" and len(t.children) == 1:
            t = t.children[0]
        if t.type != "function_call" or v is None or isinstance(v, Unknown):
            return v
        name = node_text(t.children[0])
        args_node = next((c for c in t.children if c.type == "function_arguments"), None)
        args = [c for c in args_node.children if c.type == "expression"] if args_node else []
        if not args:
            return v
        if name in ("list", "set") and isinstance(v, list):
            return self._relocate(v, [self._convert(x, args[0]) for x in v])
        if name == "map" and isinstance(v, dict):
            return self._relocate(v, {k: self._convert(x, args[0]) for k, x in v.items()})
        if name == "object" and isinstance(v, dict):
            return self._relocate(v, self._convert_object(v, args[0]))
        return v

    def _convert_object(self, v: dict[str, Any], spec: Node) -> dict[str, Any]:
        obj = spec
        while obj.type in ("expression", "collection_value") and obj.children:
            obj = obj.children[0]
        if obj.type != "object":
            return v
        out = dict(v)
        for elem in obj.children:
            if elem.type != "object_elem":
                continue
            k_node, t_node = [x for x in elem.children if x.type == "expression"]
            key = node_text(k_node).strip().strip('"')
            inner = t_node
            while inner.type == "expression" and len(inner.children) == 1:
                inner = inner.children[0]
            if inner.type == "function_call" and node_text(inner.children[0]) == "optional":
                args_node = next((c for c in inner.children if c.type == "function_arguments"), None)
                args = [c for c in args_node.children if c.type == "expression"] if args_node else []
                if out.get(key) is None:
                    out[key] = self.ev(args[1], {}) if len(args) > 1 else None
                if args and out[key] is not None:
                    out[key] = self._convert(out[key], args[0])
            elif key in out:
                out[key] = self._convert(out[key], t_node)
        return out

    def _relocate(self, old: Any, new: Any) -> Any:
        """Keep where a converted collection was written (for located documents)."""
        hit = self.ctx.located.get(id(old))
        if hit is not None and hit[0] is old:
            self.ctx.located[id(new)] = (new, *hit[1:])
        return new

    def _degrade(self, v: Any) -> Any:
        """`v` with every list of unknown length (holding an `UnknownElements`) replaced by an
        `Unknown`: what functions that are not sound on such lists get. `v` itself when it holds
        none; rebuilt collections keep where they were written."""
        if isinstance(v, list):
            run = _first_run(v)
            if run is not None:
                return Unknown(run.reason)
            items: Any = enumerate(v)
        elif isinstance(v, dict):
            items = v.items()
        else:
            return v
        new: Any = None
        for k, x in items:
            y = self._degrade(x)
            if y is not x:
                if new is None:
                    new = list(v) if isinstance(v, list) else dict(v)
                new[k] = y
        return v if new is None else self._relocate(v, new)

    # --- JSON syntax ----------------------------------------------------------------------
    def json_value(self, n: JNode, holder: JsonValue) -> Any:
        tpl = holder.templates.get(id(n))
        if tpl is not None:
            self._body_line = n.line
            self._synthetic += 1
            try:
                v = self.ev(tpl.node, dict(self._symbols))
            finally:
                self._synthetic -= 1
            return v[:-1] if isinstance(v, str) and v.endswith("\n") else v
        if n.pairs is not None:
            return self._locate({k: self.json_value(v, holder) for k, _, v in n.pairs}, None, n.line, n.end_line)
        if n.items is not None:
            return self._locate([self.json_value(v, holder) for v in n.items], None, n.line, n.end_line)
        if isinstance(n.value, str) and n.value.lstrip()[:1] in ("{", "["):
            self.ctx.texts.setdefault(n.value, (self._path, n.line))
        return n.value

    # --- nodes ----------------------------------------------------------------------------
    def ev(self, node: Node, scope: dict[str, Any]) -> Any:
        t = node.type
        if t == "expression":
            return self.ev_terms(node.children, scope)
        method = _DISPATCH.get(t)
        if method is None:
            if t == "ERROR" or node.is_missing:
                raise EvalError("syntax error")
            raise EvalError(f"unsupported syntax {t}")
        return method(self, node, scope)

    def ev_terms(self, children: list[Node], scope: dict[str, Any]) -> Any:
        """A term and its postfix traversals, as found in `expression` nodes and, without the
        wrapping node, in the operands of unary and binary operations."""
        first = children[0]
        if first.type == "(":
            return self.apply_ops(self.ev(children[1], scope), children[3:], scope)
        if first.type == "variable_expr":
            value, rest = self.traversal(children, scope)
        else:
            value, rest = self.ev(first, scope), children[1:]
        try:
            return self.apply_ops(value, rest, scope)
        except IndexOutOfRange as e:
            if not e.text:
                self._place(e, children)
            raise

    def _place(self, e: IndexOutOfRange, children: list[Node]) -> None:
        """Where an out-of-range index is written, and where the indexed variable was set."""
        e.text = "".join(node_text(c) for c in children).strip()
        if not self._synthetic:
            e.span = Span(
                path=self._path, line=children[0].start_point.row + 1, end_line=children[-1].end_point.row + 1
            )
        if (
            children[0].type == "variable_expr"
            and node_text(children[0]) == "var"
            and len(children) > 1
            and children[1].type == "get_attr"
        ):
            name = node_text(children[1].children[-1])
            if name in self.ctx.variables:
                e.origin = self.ctx.variables[name].origin

    def literal_value(self, node: Node, scope: dict[str, Any]) -> Any:
        c = node.children[0]
        if c.type == "numeric_lit":
            return number(node_text(c))
        if c.type == "bool_lit":
            return node_text(c) == "true"
        if c.type == "null_lit":
            return None
        if c.type == "string_lit":
            return string_lit_value(c)
        raise EvalError(f"unsupported literal {c.type}")

    def collection(self, node: Node, scope: dict[str, Any]) -> Any:
        c = node.children[0]
        if c.type == "tuple":
            return self._locate([self.ev(e, scope) for e in c.children if e.type == "expression"], c)
        out: dict[str, Any] = {}
        for elem in c.children:
            if elem.type != "object_elem":
                continue
            k_node, v_node = [x for x in elem.children if x.type == "expression"]
            kc = k_node.children
            if len(kc) == 1 and kc[0].type == "variable_expr":
                key: Any = node_text(kc[0])  # a bare identifier key is its name, not a reference
            else:
                key = self.ev(k_node, scope)
            if isinstance(key, Unknown):
                return Unknown(key.reason)
            out[tf_str(key)] = self.ev(v_node, scope)
        return self._locate(out, c)

    def variable_expr(self, node: Node, scope: dict[str, Any]) -> Any:
        value, _ = self.traversal([node], scope)
        return value

    def traversal(self, children: list[Node], scope: dict[str, Any]) -> tuple[Any, list[Node]]:
        """Resolve the root of a traversal; return its value and the operations left."""
        root = node_text(children[0])
        rest = children[1:]
        if root in scope:
            return scope[root], rest
        names: list[str] = []
        for c in rest:
            if c.type != "get_attr":
                break
            names.append(node_text(c.children[-1]))

        def need(n: int, what: str) -> None:
            if len(names) < n:
                raise EvalError(f"{what} needs an attribute name")

        if root == "var":
            need(1, "var")
            name = names[0]
            if name not in self.ctx.variables:
                raise EvalError(f"var.{name} is not declared in {self.ctx.module.path}")
            return to_internal(self.ctx.variables[name], f"var.{name}"), rest[1:]
        if root == "local":
            need(1, "local")
            return self.local(names[0]), rest[1:]
        if root == "module":
            need(1, "module")
            name = names[0]
            call = self.ctx.module.module_calls.get(name)
            if call is None:
                raise EvalError(f"module.{name} is not declared")
            child = self.ctx.children.get(name)
            if callable(child) and not isinstance(child, Evaluator):
                child = child()
            if isinstance(child, ModuleInstances):
                return self.module_instances(name, child, rest[1:], scope)
            if not isinstance(child, Evaluator):
                return Unknown(child or f"module.{name} is not evaluated"), rest[1:]
            if call.count is not None or call.for_each is not None:
                return Unknown(f"module.{name} uses count/for_each"), rest[1:]
            if len(names) >= 2:
                return child.output(names[1]), rest[2:]
            return _module_object(child), rest[1:]
        if root == "path":
            need(1, "path")
            which = names[0]
            if which == "module":
                return self.ctx.path_module, rest[1:]
            if which in ("root", "cwd"):
                return ".", rest[1:]
            raise EvalError(f"unknown path.{which}")
        if root == "terraform":
            need(1, "terraform")
            if names[0] == "workspace":
                return "default", rest[1:]
            return Unknown(f"terraform.{names[0]}"), rest[1:]
        if root in NON_REFERENCE_ROOTS:
            return Unknown(f"{root}.* is only known per instance"), []
        if root == "data":
            shown = ".".join(["data"] + names[:3])
            return Unknown(f"depends on {shown}"), []
        if self.ctx.planned and names:
            declared = self._managed(root, names[0])
            if declared is not None:
                return self.planned_resource(declared), rest[1:]
        shown = ".".join([root] + names[:2])
        return Unknown(f"depends on {shown}"), []

    # --- plan mode ------------------------------------------------------------------------
    def _managed(self, type_: str, name: str) -> Resource | None:
        for r in self.ctx.module.resources:
            if r.mode == "managed" and r.type == type_ and r.name == name:
                return r
        return None

    def planned_resource(self, r: Resource) -> Any:
        """`aws_x.y` in plan mode: one object, a list (count) or a map (for_each) of them."""
        label = f"resource {r.address}"
        if label in self._busy:
            return Unknown(f"{r.address} refers to itself")
        self._busy.add(label)
        try:
            if r.for_each is not None:
                coll = self._meta(r.for_each)
                if isinstance(coll, Unknown):
                    return coll
                if isinstance(coll, dict):
                    return {k: self._planned(r, {"each": {"key": k, "value": x}}) for k, x in coll.items()}
                if isinstance(coll, list):
                    u = first_unknown(coll)
                    if u is not None:
                        return Unknown(u.reason)
                    keys = {tf_str(x): x for x in coll}
                    return {k: self._planned(r, {"each": {"key": k, "value": x}}) for k, x in keys.items()}
                return Unknown(f"{r.address}: for_each is not a map or set")
            if r.count is not None:
                n = self._meta(r.count)
                if isinstance(n, Unknown):
                    return n
                if isinstance(n, bool) or not isinstance(n, (int, float)) or n < 0:
                    return Unknown(f"{r.address}: count is not a whole number")
                return [self._planned(r, {"count": {"index": i}}) for i in range(int(n))]
            return self._planned(r, {})
        finally:
            self._busy.discard(label)

    def _meta(self, expr: Expression) -> Any:
        try:
            return self.raw(expr)
        except (EvalError, RecursionError) as e:
            return Unknown(f"invalid expression: {e}")

    def _planned(self, r: Resource, symbols: dict[str, Any]) -> PlannedResource:
        return PlannedResource(self, r, r.body, symbols)

    def planned_attribute(self, obj: PlannedResource, name: str) -> Any:
        r = obj.resource
        path = f"{obj.path}.{name}" if obj.path else name
        shown = f"{r.type}.{r.name}.{path}"
        attr = obj.block.attr(name)
        if attr is not None and not (obj.block is r.body and name in _RESOURCE_META):
            label = f"attribute {r.address}.{path}"
            if label in self._busy:
                return Unknown(f"{shown} refers to itself")
            self._busy.add(label)
            try:
                return self.raw(attr.expr, obj.symbols)
            except (EvalError, RecursionError) as e:
                return Unknown(f"{shown} cannot be evaluated: {e}")
            finally:
                self._busy.discard(label)
        if any(b.type == "dynamic" and b.labels == [name] for b in obj.block.blocks):
            return Unknown(f"{shown} is a dynamic block")
        blocks = obj.block.blocks_of(name)
        if blocks:
            return [PlannedResource(self, r, b, obj.symbols, path) for b in blocks]
        return Unknown(after_apply_reason(r.type, r.name, path))

    def module_instances(
        self, name: str, mi: ModuleInstances, ops: list[Node], scope: dict[str, Any]
    ) -> tuple[Any, list[Node]]:
        """`module.x[key].out`, `module.x[key]`, or `module.x` (a list/map of instance objects)
        for a call with count/for_each; `ops` are the operations after `module.x`."""
        meta = "count" if mi.by_count else "for_each"
        if mi.unresolved is not None:
            return Unknown(f"module.{name} has a {meta} that cannot be resolved ({mi.unresolved})"), []
        if ops and ops[0].type == "get_attr":
            attr = node_text(ops[0].children[-1])
            example = "[0]" if mi.by_count else '["key"]'
            return Unknown(
                f"module.{name}.{attr} is invalid: module.{name} has {meta}, read one instance as "
                f"module.{name}{example}.{attr}"
            ), []
        if ops and ops[0].type == "index":
            key = self._index_key(ops[0], scope)
            if isinstance(key, Unknown):
                return key, []
            if mi.by_count:
                try:
                    key = int(key)
                except (TypeError, ValueError):
                    raise EvalError(f"invalid index {key!r} for module.{name}") from None
            else:
                key = tf_str(key)
            child = mi.instances.get(key)
            if child is None:
                raise EvalError(f"module.{name} has no instance {key!r}")
            if len(ops) > 1 and ops[1].type == "get_attr":
                return child.output(node_text(ops[1].children[-1])), ops[2:]
            return _module_object(child), ops[1:]
        objects = {k: _module_object(c) for k, c in mi.instances.items()}
        return (list(objects.values()) if mi.by_count else objects), ops

    def _index_key(self, op: Node, scope: dict[str, Any]) -> Any:
        inner = op.children[0]
        if inner.type == "legacy_index":
            return int(node_text(inner)[1:])
        return self.ev(next(c for c in inner.children if c.type == "expression"), scope)

    def apply_ops(self, value: Any, ops: list[Node], scope: dict[str, Any]) -> Any:
        for op in ops:
            if isinstance(value, Unknown):
                return value
            if op.type == "get_attr":
                value = self.get_attr(value, node_text(op.children[-1]))
            elif op.type == "index":
                value = self.index(value, self._index_key(op, scope))
            elif op.type == "splat":
                return self.splat(value, op.children[0], scope)
        return value

    def splat(self, value: Any, splat: Node, scope: dict[str, Any]) -> Any:
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        ops = [c for c in splat.children if c.type in _TRAVERSAL]
        return [self.apply_ops(item, ops, scope) for item in items]

    @staticmethod
    def get_attr(value: Any, name: str) -> Any:
        if isinstance(value, PlannedResource):
            return value.attr(name)
        if isinstance(value, dict):
            if name not in value:
                raise EvalError(f"no attribute {name!r}")
            return value[name]
        raise EvalError(f"cannot read attribute {name!r} of {type_name(value)}")

    @staticmethod
    def index(value: Any, key: Any) -> Any:
        if isinstance(key, Unknown):
            return key
        if isinstance(value, list):
            try:
                i = int(key)
            except (TypeError, ValueError):
                raise EvalError(f"invalid index {key!r}") from None
            inside = 0 <= i < len(value)
            run = _first_run(value, i + 1 if inside else len(value))
            if run is not None:  # the element's position is unknown
                return Unknown(run.reason)
            if not inside:
                raise IndexOutOfRange(i, len(value))
            return value[i]
        if isinstance(value, dict):
            k = tf_str(key)
            if k not in value:
                raise EvalError(f"no key {k!r}")
            return value[k]
        raise EvalError(f"cannot index {type_name(value)}")

    # --- operators ------------------------------------------------------------------------
    def operation(self, node: Node, scope: dict[str, Any]) -> Any:
        op = node.children[0]
        if op.type == "unary_operation":
            sym = node_text(op.children[0])
            v = self.ev_terms(op.children[1:], scope)
            if isinstance(v, Unknown):
                return v
            if sym == "-":
                return -_number(v)
            if not isinstance(v, bool):
                raise EvalError("! needs a bool")
            return not v
        kids = op.children
        sym_i = next(i for i, c in enumerate(kids) if not c.is_named and c.type not in ("(", ")") and i > 0)
        sym = node_text(kids[sym_i])
        a = self.ev_terms(kids[:sym_i], scope)
        b = self.ev_terms(kids[sym_i + 1 :], scope)
        if self.ctx.planned and sym in ("==", "!=") and (isinstance(a, Unknown) or isinstance(b, Unknown)):
            other, u = (b, a) if isinstance(a, Unknown) else (a, b)
            if other is None and not isinstance(other, Unknown) and _never_null(u):
                return sym == "!="  # Terraform knows an id or a string template is never null
            if u.reason.startswith(_TEMPLATE):
                return Unknown(u.reason + _REFINABLE)  # a known prefix may decide it
        for x in (a, b):
            if isinstance(x, Unknown):
                return x
        if sym in ("==", "!=") and (a is None) != (b is None):
            # null against a collection whose parts are unknown: the collection itself is
            # known, so Terraform knows it is not null (`var.obj != null` stays decidable)
            return sym == "!="
        if sym in ("==", "!="):
            eq = a == b and (type_name(a) == type_name(b) or a is None or b is None)
            u = first_unknown(a) or first_unknown(b)
            if u is not None:
                return Unknown(u.reason)
            return eq if sym == "==" else not eq
        if sym in ("&&", "||"):
            if not isinstance(a, bool) or not isinstance(b, bool):
                raise EvalError(f"{sym} needs bools")
            return (a and b) if sym == "&&" else (a or b)
        x, y = _number(a), _number(b)
        if sym == "+":
            return norm_number(x + y)
        if sym == "-":
            return norm_number(x - y)
        if sym == "*":
            return norm_number(x * y)
        if sym == "/":
            if y == 0:
                raise EvalError("division by zero")
            return norm_number(x / y)
        if sym == "%":
            if y == 0:
                raise EvalError("modulo by zero")
            return norm_number(x % y)
        return {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[sym]

    def conditional(self, node: Node, scope: dict[str, Any]) -> Any:
        cond_n, yes_n, no_n = [c for c in node.children if c.type == "expression"]
        cond = self.ev(cond_n, scope)
        if isinstance(cond, Unknown):
            yes, no = self._safe(yes_n, scope), self._safe(no_n, scope)
            if yes is not _ERR and first_unknown(yes) is None and yes == no and type_name(yes) == type_name(no):
                return yes
            if yes is _ERR or no is _ERR:
                return Unknown(cond.reason)
            return Unknown(cond.reason, choices=(" ".join(node_text(cond_n).split()), yes, no))
        if not isinstance(cond, bool):
            cond = _tobool_cond(cond)
        return self.ev(yes_n if cond else no_n, scope)

    def _safe(self, node: Node, scope: dict[str, Any]) -> Any:
        try:
            return self.ev(node, scope)
        except EvalError:
            return _ERR

    # --- for expressions ------------------------------------------------------------------
    def for_expr(self, node: Node, scope: dict[str, Any]) -> Any:
        inner = node.children[0]
        intro = inner.children[1]
        names = [node_text(c) for c in intro.children if c.type == "identifier"]
        coll = self.ev(next(c for c in intro.children if c.type == "expression"), scope)
        if isinstance(coll, list):
            run = _first_run(coll)
            if run is not None:  # which elements there are is unknown: so is the result
                coll = Unknown(run.reason)
        if isinstance(coll, Unknown):
            return coll
        exprs = [c for c in inner.children[2:] if c.type == "expression"]
        cond = next((c for c in inner.children if c.type == "for_cond"), None)
        cond_expr = next((c for c in cond.children if c.type == "expression"), None) if cond else None
        grouping = any(c.type == "ellipsis" for c in inner.children)
        if isinstance(coll, dict):
            pairs = [(k, coll[k]) for k in sorted(coll)]
        elif isinstance(coll, list):
            pairs = list(enumerate(coll))
        else:
            raise EvalError(f"cannot iterate over {type_name(coll)}")
        is_object = inner.type == "for_object_expr"
        out_list: list[Any] = []
        out_map: dict[str, Any] = {}
        for k, v in pairs:
            local = dict(scope)
            if len(names) == 2:
                local[names[0]], local[names[1]] = k, v
            else:
                local[names[0]] = v
            if cond_expr is not None:
                c = self.ev(cond_expr, local)
                if isinstance(c, Unknown):
                    return c
                if not c:
                    continue
            if is_object:
                key = self.ev(exprs[0], local)
                if isinstance(key, Unknown):
                    return key
                val = self.ev(exprs[1], local)
                key = tf_str(key)
                if grouping:
                    out_map.setdefault(key, []).append(val)
                elif key in out_map:
                    raise EvalError(f"duplicate key {key!r} in for expression")
                else:
                    out_map[key] = val
            else:
                out_list.append(self.ev(exprs[0], local))
        return self._locate(out_map if is_object else out_list, node)

    # --- functions ------------------------------------------------------------------------
    def function_call(self, node: Node, scope: dict[str, Any]) -> Any:
        name = node_text(node.children[0])
        args_node = next((c for c in node.children if c.type == "function_arguments"), None)
        arg_nodes = [c for c in args_node.children if c.type == "expression"] if args_node else []
        expand = args_node is not None and any(c.type == "ellipsis" for c in args_node.children)
        if name.startswith("provider::"):
            return Unknown(f"provider function {name}")
        if name in APPLY_TIME:
            return Unknown(f"{name}() is only known at apply time")
        if name in ("try", "can"):
            return self.try_can(name, arg_nodes, scope)
        args = [self.ev(a, scope) for a in arg_nodes]
        if expand and args:
            last = args.pop()
            run = _first_run(last) if isinstance(last, list) else None
            if run is not None:  # how many arguments there are is unknown
                return Unknown(run.reason)
            if isinstance(last, Unknown):
                return last
            args.extend(last if isinstance(last, list) else [last])
        if name == "jsonencode" and len(args) == 1:
            # Terraform: the string is unknown, but what it encodes is worth keeping
            if isinstance(args[0], Unknown):
                return Unknown(args[0].reason)
            u = first_unknown(args[0])
            if u is not None:
                return Unknown(u.reason, args[0])
            if isinstance(args[0], (dict, list)):
                text = FUNCTIONS["jsonencode"](args[0])
                self.ctx.encoded.setdefault(text, args[0])
                return text
        if name == "jsondecode" and len(args) == 1 and isinstance(args[0], Unknown) and args[0].decoded is not None:
            return args[0].decoded
        if name == "concat":  # an unknown list argument: its elements, however many, are unknown
            return _concat(args)
        if name == "flatten" and len(args) == 1 and isinstance(args[0], list):
            return _flatten(args[0])
        if name in _SHAPE_FUNCTIONS and len(args) == 1 and _shape_known(args[0]):
            # a map whose keys are known, a list whose length is: Terraform knows its length and
            # keys at plan time even while the elements wait for apply
            return FUNCTIONS[name](args[0])
        if self.ctx.planned:
            refined = _plan_refined(name, args)
            if refined is not None:
                return refined
        for a in args:
            if isinstance(a, Unknown):
                return a
        nested = next((u for u in map(first_unknown, args) if u is not None), None)
        if nested is not None:
            args = [self._degrade(a) for a in args]
            for a in args:
                if isinstance(a, Unknown):
                    return a
            nested = Unknown(nested.reason) if isinstance(nested, UnknownElements) else nested
        if name in ("file", "templatefile", "fileexists", "filebase64"):
            return self.file_function(name, args)
        fn = FUNCTIONS.get(name)
        if fn is None:
            return Unknown(f"function {name}() is not supported")
        try:
            return fn(*args)
        except EvalError:
            if nested is not None:
                return nested
            raise
        except (TypeError, ValueError, KeyError, IndexError, re.error, UnicodeDecodeError) as e:
            if nested is not None:
                return nested
            raise EvalError(f"{name}(): {e}") from None

    def try_can(self, name: str, arg_nodes: list[Node], scope: dict[str, Any]) -> Any:
        for a in arg_nodes:
            try:
                v = self.ev(a, scope)
            except EvalError:
                continue
            if name == "can":
                return Unknown(v.reason) if isinstance(v, Unknown) else True
            return v
        if name == "can":
            return False
        raise EvalError("try: no argument could be evaluated")

    def file_function(self, name: str, args: list[Any]) -> Any:
        if not args or not isinstance(args[0], str):
            raise EvalError(f"{name}() needs a path")
        try:
            rel = self.ctx.ws.join(self.ctx.root_dir, args[0])
            if name == "fileexists":
                return self.ctx.ws.is_file(rel)
            if not self.ctx.ws.is_file(rel):
                if self.ctx.ws.exists(rel) or not self.ctx.ws.escapes(rel):
                    raise EvalError(f"{name}(): no file {rel}")
                raise OutsideRoot(rel)
            if name == "filebase64":
                import base64

                return base64.b64encode(self.ctx.ws.read_bytes(rel)).decode()
            text = self.ctx.ws.read_text(rel)
        except OutsideRoot:
            return Unknown(f"{name}() refers to {args[0]!r}, outside the scanned root")
        except OSError as exc:
            return Unknown(f"{name}(): cannot read {rel}: {exc.strerror or exc}")
        if name == "file":
            if text.lstrip()[:1] in ("{", "["):
                self.ctx.texts.setdefault(text, (rel, 1))
            return text
        tpl_vars = args[1] if len(args) > 1 else {}
        if not isinstance(tpl_vars, dict):
            raise EvalError("templatefile(): vars must be a map")
        tpl = _template(text)
        if tpl is None:
            raise EvalError(f"templatefile(): template syntax error in {rel}")
        outer, self._path, self._body_line = self._path, rel, 1
        self._synthetic += 1
        try:
            v = self.ev(tpl.node, dict(tpl_vars))
        finally:
            self._path = outer
            self._synthetic -= 1
        return v[:-1] if isinstance(v, str) and v.endswith("\n") else v

    # --- templates ------------------------------------------------------------------------
    def template_expr(self, node: Node, scope: dict[str, Any]) -> Any:
        tmpl = node.children[0]
        src = tmpl.text or b""
        base = tmpl.start_byte
        body_line, self._body_line = self._body_line, None
        if body_line is None:
            body_line = tmpl.start_point.row + (1 if tmpl.type == "quoted_template" else 2)
        if tmpl.type == "quoted_template":
            kids = [c for c in tmpl.children if c.type not in ("quoted_template_start", "quoted_template_end")]
            start = tmpl.children[0].end_byte
            end = tmpl.children[-1].start_byte if tmpl.children[-1].type == "quoted_template_end" else tmpl.end_byte
            if (
                len(kids) == 1
                and kids[0].type == "template_interpolation"
                and _gap(src, base, start, kids[0].start_byte) == ""
                and _gap(src, base, kids[0].end_byte, end) == ""
            ):
                # "${x}" alone yields x itself, not its string form
                return self.ev(_interp_expr(kids[0]), scope)
            r = _Render(self, src, base, quoted=True, indent=0, line=body_line)
            r.seq(kids, start, end, scope)
            return r.result()
        # heredoc: body runs from the line after `<<EOT` to the line holding the closing marker
        idents = [c for c in tmpl.children if c.type == "heredoc_identifier"]
        strip_indent = node_text(tmpl.children[0]).strip() == "<<-"
        open_end = idents[0].end_byte
        start = src.index(b"\n", open_end - base) + base + 1 if b"\n" in src[open_end - base :] else open_end
        close = idents[-1] if len(idents) > 1 else None
        if close is not None:
            line_start = src.rfind(b"\n", 0, close.start_byte - base) + 1 + base
            end = max(line_start, start)
        else:
            end = tmpl.end_byte
        kids = [
            c for c in tmpl.children if c.start_byte >= start and c.end_byte <= end and c.type != "heredoc_identifier"
        ]
        indent = 0
        if strip_indent:
            body = src[start - base : end - base].decode("utf-8", "replace")
            widths = [len(ln) - len(ln.lstrip(" \t")) for ln in body.split("\n") if ln.strip()]
            indent = min(widths) if widths else 0
        r = _Render(self, src, base, quoted=False, indent=indent, line=body_line)
        r.seq(kids, start, end, scope)
        return r.result()

    def string_lit(self, node: Node, scope: dict[str, Any]) -> Any:
        return string_lit_value(node)


def _module_object(child: Evaluator) -> dict[str, Any]:
    """A module instance as its caller sees it: an object of its outputs."""
    return {o: child.output(o) for o in child.ctx.module.outputs}


def _interp_expr(interp: Node) -> Node:
    return next(c for c in interp.children if c.type == "expression")


def _gap(src: bytes, base: int, a: int, b: int) -> str:
    return src[a - base : b - base].decode("utf-8", "replace") if b > a else ""


class _Render:
    """Accumulates a template's output; handles `~` strip markers and `<<-` indentation."""

    def __init__(self, ev: Evaluator, src: bytes, base: int, quoted: bool, indent: int, line: int):
        self.ev, self.src, self.base, self.quoted, self.indent, self.line = ev, src, base, quoted, indent, line
        self.parts: list[str] = []
        self.unknown: Unknown | None = None
        self.holes: list[Unknown] = []  # unknown interpolations, marked in `parts`
        self.shapeless = False  # an unknown directive: the text's shape itself is unknown
        self.strip_next = False
        self.at_line_start = True

    def result(self) -> Any:
        text = "".join(self.parts)
        if self.unknown is None:
            if text.lstrip()[:1] in ("{", "["):
                self.ev.ctx.texts.setdefault(text, (self.ev._path, self.line))
            return text
        reason = self.unknown.reason
        if self.ev.ctx.planned and not reason.startswith(_TEMPLATE):
            reason = _TEMPLATE + reason
        if not self.shapeless and text.lstrip()[:1] in ("{", "["):
            doc = _json_with_holes(self.ev, text, self.holes, self.line)
            if doc is not None:
                return Unknown(self.unknown.reason, doc)
            return Unknown(reason, invalid_json=_json_error(text))
        return Unknown(reason)

    def literal(self, text: str) -> None:
        if not text:
            return
        text = unescape(text, quoted=self.quoted)
        if self.indent:
            lines = text.split("\n")
            for i, ln in enumerate(lines):
                if i > 0 or self.at_line_start:
                    n = 0
                    while n < self.indent and n < len(ln) and ln[n] in " \t":
                        n += 1
                    lines[i] = ln[n:]
            text = "\n".join(lines)
        if self.strip_next:
            text = text.lstrip()
            self.strip_next = False
        self.parts.append(text)
        self.at_line_start = text.endswith("\n")

    def _markers(self, node: Node) -> tuple[bool, bool]:
        kids = node.children
        left = len(kids) > 1 and kids[1].type == "strip_marker"
        right = len(kids) > 1 and kids[-2].type == "strip_marker"
        return left, right

    def _strip_left(self) -> None:
        if self.parts:
            self.parts[-1] = self.parts[-1].rstrip()

    def seq(self, kids: list[Node], start: int, end: int, scope: dict[str, Any]) -> None:
        pos = start
        for k in kids:
            self.literal(_gap(self.src, self.base, pos, k.start_byte))
            self.item(k, scope)
            pos = k.end_byte
        self.literal(_gap(self.src, self.base, pos, end))

    def item(self, k: Node, scope: dict[str, Any]) -> None:
        t = k.type
        self.at_line_start = False
        if t == "template_literal":
            self.literal(node_text(k))
        elif t == "template_interpolation":
            left, right = self._markers(k)
            if left:
                self._strip_left()
            v = self.ev.ev(_interp_expr(k), scope)
            self.emit(v)
            self.strip_next = right
        elif t == "template_directive":
            d = k.children[0]
            if d.type == "template_if":
                self.if_directive(d, scope)
            elif d.type == "template_for":
                self.for_directive(d, scope)

    def emit(self, v: Any) -> None:
        if not isinstance(v, Unknown):
            u = first_unknown(v)
            if u is None:
                self.parts.append(tf_str(v))
                return
            v = Unknown(u.reason)
        self.unknown = self.unknown or v
        self.parts.append(f"\x00{len(self.holes)}\x00")
        self.holes.append(v)

    def _open(self, intro: Node) -> None:
        left, right = self._markers(intro)
        if left:
            self._strip_left()
        self.strip_next = right

    def if_directive(self, d: Node, scope: dict[str, Any]) -> None:
        intro = d.children[0]
        else_intro = next((c for c in d.children if c.type == "template_else_intro"), None)
        end = d.children[-1]
        cond = self.ev.ev(next(c for c in intro.children if c.type == "expression"), scope)
        if isinstance(cond, Unknown):
            self.unknown = self.unknown or cond
            self.shapeless = True
            return
        self._open(intro)
        if cond:
            stop = else_intro if else_intro is not None else end
            branch = [c for c in d.children[1:] if c.end_byte <= stop.start_byte]
            self.seq(branch, intro.end_byte, stop.start_byte, scope)
        elif else_intro is not None:
            self._open(else_intro)
            branch = [
                c
                for c in d.children
                if c.start_byte >= else_intro.end_byte and c is not end and c.end_byte <= end.start_byte
            ]
            self.seq(branch, else_intro.end_byte, end.start_byte, scope)
        self._open(end)

    def for_directive(self, d: Node, scope: dict[str, Any]) -> None:
        intro, end = d.children[0], d.children[-1]
        names = [node_text(c) for c in intro.children if c.type == "identifier"]
        coll = self.ev.ev(next(c for c in intro.children if c.type == "expression"), scope)
        run = _first_run(coll) if isinstance(coll, list) else None
        if run is not None:
            coll = Unknown(run.reason)
        if isinstance(coll, Unknown):
            self.unknown = self.unknown or coll
            self.shapeless = True
            return
        pairs = [(k, coll[k]) for k in sorted(coll)] if isinstance(coll, dict) else list(enumerate(coll or []))
        body = [c for c in d.children[1:-1]]
        for k, v in pairs:
            self._open(intro)
            local = dict(scope)
            if len(names) == 2:
                local[names[0]], local[names[1]] = k, v
            else:
                local[names[0]] = v
            self.seq(body, intro.end_byte, end.start_byte, local)
            self._open(end)


# Plan mode: Terraform refines some unknown values (1.6+): a string template is never null and
# its leading text is known, a resource's id is never null, coalesce() never returns null. What
# such a value decides may be known at plan time, so it is marked: never a finding there.
_TEMPLATE = "never null at plan time (a string template or coalesce(), its prefix known): "
_REFINABLE = " (Terraform may know this at plan time through the value's refinements)"
_NEVER_NULL_FUNCTIONS = frozenset({"coalesce", "coalescelist"})
_PREFIX_FUNCTIONS = frozenset({"startswith", "endswith", "strcontains", "length", "substr", "split", "regex"})


def _never_null(u: Unknown) -> bool:
    cause = after_apply(u.reason)
    return (cause is not None and cause[2] == "id") or u.reason.startswith(_TEMPLATE)


def _plan_refined(name: str, args: list[Any]) -> Any:
    """The unknown result of a function whose result Terraform may refine at plan time."""
    unknown = next((a for a in args if isinstance(a, Unknown)), None) or next(
        (u for u in map(first_unknown, args) if u is not None), None
    )
    if unknown is None:
        return None
    if name in _NEVER_NULL_FUNCTIONS:
        return Unknown(_TEMPLATE + unknown.reason if not unknown.reason.startswith(_TEMPLATE) else unknown.reason)
    if name in _PREFIX_FUNCTIONS and unknown.reason.startswith(_TEMPLATE):
        return Unknown(unknown.reason + _REFINABLE)
    return None


_SHAPE_FUNCTIONS = frozenset({"length", "keys"})


def _shape_known(v: Any) -> bool:
    if isinstance(v, dict):
        return True
    return isinstance(v, list) and not any(isinstance(x, UnknownElements) for x in v)


_ERR = object()
_HOLE = re.compile(r"\x00(\d+)\x00")
_IN_STRING_HOLE = re.compile("\ue000(\\d+)\ue001")


def _split_at_holes(text: str) -> Iterator[tuple[str, re.Match[str] | None, bool]]:
    """The text of a JSON template cut at its interpolation holes: (text before the hole, the
    hole, whether it sits inside a JSON string), ending with (the rest, None, ...)."""
    in_string = escaped = False
    pos = 0
    for m in _HOLE.finditer(text):
        for ch in text[pos : m.start()]:
            if escaped:
                escaped = False
            elif ch == "\\" and in_string:
                escaped = True
            elif ch == '"':
                in_string = not in_string
        yield text[pos : m.start()], m, in_string
        pos = m.end()
    yield text[pos:], None, in_string


def _json_error(text: str) -> str | None:
    """Why a JSON template is not valid JSON whatever its interpolations hold, with the line;
    None when it may be valid. Only templates whose interpolations all sit inside JSON strings
    are judged (one outside quotes may render any JSON text: a key, several elements)."""
    out: list[str] = []
    for before, hole, in_string in _split_at_holes(text):
        out.append(before)
        if hole is None:
            break
        if not in_string:
            return None
        out.append("x")
    try:
        scan_json("".join(out))
    except JsonSyntaxError as e:
        return f"{e} (line {e.line} of the document)"
    except (ValueError, RecursionError):
        return None
    return None


def _json_with_holes(ev: Evaluator, text: str, holes: list[Unknown], first_line: int) -> Any:
    """A JSON template with unknown interpolations, decoded: a string holding one is an
    `Unknown` (the hole itself when it is the whole value, its document if it has one)."""
    out: list[str] = []
    for before, hole, in_string in _split_at_holes(text):
        out.append(before)
        if hole is None:
            break
        mark = f"\ue000{hole.group(1)}\ue001"
        out.append(mark if in_string else f'"{mark}"')
    try:
        root = scan_json("".join(out))
    except (JsonSyntaxError, ValueError, RecursionError):
        return None
    path = ev._path

    class _Shapeless(Exception):
        pass

    def build(n: JNode) -> Any:
        if n.pairs is not None:
            obj = {}
            for k, _, x in n.pairs:
                if "\ue000" in k:
                    raise _Shapeless
                obj[k] = build(x)
        elif n.items is not None:
            obj = [build(x) for x in n.items]  # type: ignore[assignment]
        else:
            if isinstance(n.value, str) and "\ue000" in n.value:
                m = _IN_STRING_HOLE.fullmatch(n.value)
                hole = holes[int((m or _IN_STRING_HOLE.search(n.value)).group(1))]  # type: ignore[union-attr]
                if m is not None:
                    return hole.decoded if hole.decoded is not None else hole
                return Unknown(hole.reason)
            return n.value
        ev.ctx.located[id(obj)] = (obj, None, path, first_line + n.line - 1, first_line + n.end_line - 1)
        return obj

    try:
        return build(root)
    except _Shapeless:
        return None


def _first_run(lst: list[Any], stop: int | None = None) -> UnknownElements | None:
    """The first `UnknownElements` among the elements of `lst` (the first `stop` of them)."""
    for x in lst if stop is None else itertools.islice(lst, stop):
        if isinstance(x, UnknownElements):
            return x
    return None


def _add_run(out: list[Any], reason: str) -> None:
    if not (out and isinstance(out[-1], UnknownElements)):  # runs in a row are one run
        out.append(UnknownElements(reason))


def _only_runs(out: list[Any]) -> Any:
    """A list that is nothing but unknown elements is as unknown as a list can be."""
    if len(out) == 1 and isinstance(out[0], UnknownElements):
        return Unknown(out[0].reason)
    return out


def _concat(args: list[Any]) -> Any:
    """Terraform's `concat`, keeping the known elements when some argument is unknown: an
    unknown list stands for zero or more elements (`UnknownElements`), known lists after it
    are still in the result, at positions that are unknown."""
    out: list[Any] = []
    for a in args:
        if isinstance(a, Unknown):
            _add_run(out, a.reason)
        elif isinstance(a, list):
            for x in a:
                if isinstance(x, UnknownElements):
                    _add_run(out, x.reason)
                else:
                    out.append(x)
        else:
            raise EvalError(f"concat: a list is required, got {type_name(a)}")
    return _only_runs(out)


def _flatten(v: list[Any]) -> Any:
    """Terraform's `flatten`; an unknown element may be a list (flattened into any number of
    elements) as well as one value: either way, zero or more unknown elements."""
    out: list[Any] = []

    def walk(lst: list[Any]) -> None:
        for x in lst:
            if isinstance(x, list):
                walk(x)
            elif isinstance(x, Unknown):
                _add_run(out, x.reason)
            else:
                out.append(x)

    walk(v)
    return _only_runs(out)


def _plain_var(node: Any) -> str | None:
    """`x` when the expression is exactly `var.x`."""
    if not isinstance(node, Node) or node.child_count != 2:
        return None
    head, attr = node.children
    if head.type != "variable_expr" or attr.type != "get_attr" or node_text(head) != "var":
        return None
    return node_text(attr.children[-1])


def _number(v: Any) -> int | float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        if isinstance(v, str):
            try:
                return norm_number(float(v))
            except ValueError:
                pass
        raise EvalError(f"a number is required, got {type_name(v)}")
    return v


def _tobool_cond(v: Any) -> bool:
    if v in ("true", "false"):
        return v == "true"
    raise EvalError(f"condition must be a bool, got {type_name(v)}")


_DISPATCH: dict[str, Callable[[Evaluator, Node, dict[str, Any]], Any]] = {
    "literal_value": Evaluator.literal_value,
    "collection_value": Evaluator.collection,
    "variable_expr": Evaluator.variable_expr,
    "operation": Evaluator.operation,
    "conditional": Evaluator.conditional,
    "for_expr": Evaluator.for_expr,
    "function_call": Evaluator.function_call,
    "template_expr": Evaluator.template_expr,
    "string_lit": Evaluator.string_lit,
}


def make_evaluator(ctx: Context) -> Evaluator:
    return Evaluator(ctx)


__all__ = ["Context", "Evaluator", "ModuleCall", "ModuleInstances", "Unknown", "make_evaluator"]
