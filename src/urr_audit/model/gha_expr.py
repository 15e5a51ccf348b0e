"""GitHub Actions expressions (`${{ ... }}`): the syntax tree, the context references it reads,
and a three-state evaluator.

The parser lives in `urr_audit.loaders.workflows.expressions`; every expression of a workflow is
parsed at load time and stored on the model (`urr_audit.model.workflows.Expr`), so rules read
trees, never strings. This module is pure: no I/O.

Syntax tree
-----------
`Node` is one of: `Literal` (null, booleans, numbers as floats, strings), `ContextName` (a
top-level named value: `github`, `inputs`, `secrets`...), `Property` (`a.b`, `a['b']`),
`Index` (`a[expr]` with a non-string index), `Star` (`a.*`, `a[*]`), `Not`, `Binary` (`==`, `!=`,
`<`, `<=`, `>`, `>=`, `&&`, `||`) and `Call` (`contains(...)`; `name` lower-cased). Every node
has `start`/`end` offsets into the expression text. `walk(node)` yields a tree's nodes.

`refs(node)` gives the context paths an expression reads, as `Ref`s: `github.event.pull_request.
title`, `steps.meta.outputs.tag`, `secrets` (for `toJSON(secrets)`), `secrets.?` (a dynamic
index: `secrets[inputs.name]`, with `dynamic=True`), `github.event.commits.*.message`.
`value_refs(node)` is the subset whose text can reach the result (`a == 'x'` only decides it).

Evaluation
----------
`evaluate(node, contexts, status=None)` computes a value the way GitHub's runner does: loose
equality (`==` coerces mismatched types to numbers, compares strings case-insensitively), `&&`/
`||` returning operands, property access that is case-insensitive and yields null for missing
keys. A value the caller does not know is an `Unknown` (a missing top-level context, a key
missing from a mapping that is not `Closed`, `hashFiles()`, a status function without
`status`). Unknowns propagate, but keep what can still be decided: `Unknown.truthy` says when the
truthiness is known though the value is not (`x && false` is falsy whatever `x` is).

`condition_truthiness(node, contexts, status)` answers "would this `if:` run?" with True, False
or None (undecided): a condition with no status function is implicitly `success() && (...)`,
as GitHub evaluates it. `possible_truthiness(node, contexts, domains)` tries every combination
of the finite domains given for some references (`{"inputs.environment": ["staging", "prod"],
"github.event_name": ["push"]}`) and returns the set of outcomes: `{False}` means "never true".
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from typing import Literal as TypingLiteral

# --- syntax tree ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    value: None | bool | float | str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ContextName:
    name: str  # as written; contexts are case-insensitive, compare `name.lower()`
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Property:
    obj: Node
    name: str  # `a.b` and `a['b']` alike
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Index:
    obj: Node
    index: Node  # not a string literal (those become Property)
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Star:
    obj: Node  # `a.*` / `a[*]`: an object filter
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # == != < <= > >= && ||
    left: Node
    right: Node
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # lower-cased: contains, startswith, format, tojson, fromjson, success, ...
    args: tuple[Node, ...]
    start: int
    end: int


Node = Literal | ContextName | Property | Index | Star | Not | Binary | Call

# Named values GitHub accepts at the top level of an expression.
CONTEXTS = frozenset(
    {"github", "env", "vars", "job", "jobs", "steps", "runner", "secrets", "strategy", "matrix", "needs", "inputs"}
)
STATUS_FUNCTIONS = frozenset({"success", "failure", "cancelled", "always"})
# name -> (min args, max args or None for unbounded)
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "contains": (2, 2),
    "startswith": (2, 2),
    "endswith": (2, 2),
    "format": (1, None),
    "join": (1, 2),
    "tojson": (1, 1),
    "fromjson": (1, 1),
    "hashfiles": (1, None),
    "success": (0, 0),
    "always": (0, 0),
    "cancelled": (0, 0),
    "failure": (0, 0),
    "case": (3, None),
}


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, (Property, Star)):
        return (node.obj,)
    if isinstance(node, Index):
        return (node.obj, node.index)
    if isinstance(node, Not):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))


def calls(node: Node) -> list[str]:
    """Lower-cased names of the functions called anywhere in the tree."""
    return [n.name for n in walk(node) if isinstance(n, Call)]


class ContextPath:
    """What a context path (`parts`: the context, then property names) answers; shared by the
    parser's `Ref` and the model's located `ContextRef`."""

    __slots__ = ()
    parts: tuple[str, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)

    @property
    def context(self) -> str:
        return self.parts[0]

    def startswith(self, prefix: str) -> bool:
        """`ref.startswith("github.event.pull_request")`, on whole parts, case-insensitively."""
        want = prefix.lower().split(".")
        return [p.lower() for p in self.parts[: len(want)]] == want


@dataclass(frozen=True, slots=True)
class Ref(ContextPath):
    """A context path read by an expression: `parts[0]` is the context (lower-cased), the rest
    are property names as written, `*` for an object filter, `?` for a dynamic index
    (`secrets[inputs.name]`, then `dynamic` is True), a decimal string for a numeric index."""

    parts: tuple[str, ...]
    dynamic: bool
    start: int  # offsets in the expression text
    end: int


def _chain(node: Node) -> tuple[list[str], bool] | None:
    """The path of a chain of property accesses rooted at a context, else None."""
    if isinstance(node, ContextName):
        return [node.name.lower()], False
    if isinstance(node, (Property, Star, Index)):
        inner = _chain(node.obj)
        if inner is None:
            return None
        parts, dynamic = inner
        if isinstance(node, Property):
            return [*parts, node.name], dynamic
        if isinstance(node, Star):
            return [*parts, "*"], dynamic
        idx = node.index
        if isinstance(idx, Literal) and isinstance(idx.value, float) and idx.value.is_integer():
            return [*parts, str(int(idx.value))], dynamic
        return [*parts, "?"], True
    return None


def refs(node: Node) -> list[Ref]:
    """The maximal context paths the tree reads, in source order. Indexes that are expressions
    contribute their own references too (`secrets[inputs.x]` reads `secrets.?` and `inputs.x`)."""
    out: list[Ref] = []

    def visit(n: Node) -> None:
        chain = _chain(n)
        if chain is not None:
            out.append(Ref(tuple(chain[0]), chain[1], n.start, n.end))
            # dynamic indexes inside the chain read contexts of their own
            m: Node = n
            while not isinstance(m, ContextName):
                if isinstance(m, Index):
                    visit(m.index)
                m = m.obj  # type: ignore[union-attr]
            return
        for c in children(n):
            visit(c)

    visit(node)
    out.sort(key=lambda r: r.start)
    return out


# Calls whose result carries (some of) their arguments' text; the others return booleans or
# numbers (`contains`, `startsWith`, status functions) or text of their own (`hashFiles`).
_TEXT_CALLS = frozenset({"format", "join", "tojson", "fromjson"})


def value_refs(node: Node) -> list[Ref]:
    """The references whose value (text) can reach the expression's result, as opposed to those
    that only decide it: `a == 'x'`, `contains(a, 'x')`, `!a` and the predicates of `case()` give
    booleans; `a && b` is `b` unless `a` is falsy (null, '', 0, false: no text worth the name);
    `a || b`, `format()`, `join()`, `toJSON()`, `fromJSON(a).b` and `case()` values pass text on.
    A dynamic index selects (`x[a]` passes `x` on, not `a`). What template injection follows."""
    out: list[Ref] = []

    def visit(n: Node) -> None:
        chain = _chain(n)
        if chain is not None:
            out.append(Ref(tuple(chain[0]), chain[1], n.start, n.end))
            return
        if isinstance(n, (Property, Star, Index)):
            visit(n.obj)  # `fromJSON(x).y`, `(a || b).c`
        elif isinstance(n, Binary):
            if n.op == "||":
                visit(n.left)
                visit(n.right)
            elif n.op == "&&":
                visit(n.right)
        elif isinstance(n, Call):
            if n.name in _TEXT_CALLS:
                for a in n.args:
                    visit(a)
            elif n.name == "case":
                for i, a in enumerate(n.args):
                    if i % 2 == 1 or i == len(n.args) - 1:
                        visit(a)

    visit(node)
    out.sort(key=lambda r: r.start)
    return out


# --- evaluation ----------------------------------------------------------------------------------


class Unknown:
    """A value not known to the evaluator. `truthy` is its truthiness when that alone is known."""

    __slots__ = ("reason", "truthy")

    def __init__(self, reason: str, truthy: bool | None = None):
        self.reason = reason
        self.truthy = truthy

    def __repr__(self) -> str:
        return f"Unknown({self.reason!r})"


class Closed(dict[str, Any]):
    """A mapping known to be complete: a key missing from it reads as null (as on GitHub), not
    as unknown. Plain dicts given to the evaluator are open: a missing key is unknown."""


class _Filtered(list[Any]):
    """The result of an object filter (`a.*`): property access maps over its elements."""


Status = TypingLiteral["success", "failure", "cancelled"]


def truthy(value: Any) -> bool | None:
    """GitHub's truthiness: false, 0, -0, NaN, '' and null are falsy. None when unknown."""
    if isinstance(value, Unknown):
        return value.truthy
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, (int, float)):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def to_number(value: Any) -> float:
    """GitHub's number coercion (for comparisons of mismatched types)."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        s = value.strip()
        if s == "":
            return 0.0
        try:
            if s.lower().startswith(("0x", "-0x")):
                return float(int(s, 16))
            return float(s)
        except ValueError:
            return math.nan
    return math.nan


def to_string(value: Any) -> str:
    """How a value is rendered into a string (`format`, `join`, text around `${{ }}`)."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    return "Object" if isinstance(value, Mapping) else "Array"


def loose_equal(a: Any, b: Any) -> bool:
    """GitHub's `==`: strings case-insensitively, mismatched primitives as numbers, objects and
    arrays by identity (never equal to a different literal)."""
    prim = (type(None), bool, int, float, str)
    if isinstance(a, prim) and isinstance(b, prim):
        if isinstance(a, str) and isinstance(b, str):
            return a.casefold() == b.casefold()
        if type(a) is type(b) and not isinstance(a, (int, float)):
            return bool(a == b)
        x, y = to_number(a), to_number(b)
        return x == y  # NaN is equal to nothing
    return a is b


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        x: Any = a.casefold()
        y: Any = b.casefold()
    else:
        x, y = to_number(a), to_number(b)
        if math.isnan(x) or math.isnan(y):
            return False
    if op == "<":
        return bool(x < y)
    if op == "<=":
        return bool(x <= y)
    if op == ">":
        return bool(x > y)
    return bool(x >= y)


def _lookup(obj: Any, name: str, where: str) -> Any:
    if isinstance(obj, Unknown):
        return obj
    if isinstance(obj, _Filtered):
        return _Filtered(v for v in (_lookup(e, name, where) for e in obj) if v is not None)
    if isinstance(obj, Mapping):
        if name in obj:
            return obj[name]
        low = name.lower()
        for k, v in obj.items():
            if isinstance(k, str) and k.lower() == low:
                return v
        return None if isinstance(obj, Closed) else Unknown(f"{where}.{name} is not known")
    return None


def _index(obj: Any, idx: Any, where: str) -> Any:
    if isinstance(obj, Unknown):
        return obj
    if isinstance(idx, Unknown):
        return Unknown(f"the index into {where} is not known")
    if isinstance(obj, list) and not isinstance(idx, (str, bool)) and isinstance(idx, (int, float)):
        i = int(idx) if float(idx).is_integer() else -1
        return obj[i] if 0 <= i < len(obj) else None
    if isinstance(obj, Mapping):
        return _lookup(obj, to_string(idx), where)
    return None


def _fmt(template: str, args: list[Any]) -> str | Unknown:
    out: list[str] = []
    i = 0
    while i < len(template):
        c = template[i]
        if c == "{" and template.startswith("{{", i):
            out.append("{")
            i += 2
        elif c == "}" and template.startswith("}}", i):
            out.append("}")
            i += 2
        elif c == "{":
            j = template.find("}", i)
            if j < 0 or not template[i + 1 : j].isdigit():
                return Unknown("format(): invalid placeholder")
            n = int(template[i + 1 : j])
            if n >= len(args):
                return Unknown("format(): placeholder without argument")
            if isinstance(args[n], Unknown):
                return args[n]  # type: ignore[no-any-return]
            out.append(to_string(args[n]))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _plain_json(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and not math.isinf(value):
        return int(value)
    if isinstance(value, Mapping):
        return {k: _plain_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_json(v) for v in value]
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        return Closed({k: _from_json(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def _contains_unknown(value: Any) -> Unknown | None:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, Mapping):
        for v in value.values():
            u = _contains_unknown(v)
            if u is not None:
                return u
    elif isinstance(value, list):
        for v in value:
            u = _contains_unknown(v)
            if u is not None:
                return u
    return None


class _Evaluator:
    def __init__(self, contexts: Mapping[str, Any], status: Status | None):
        self.contexts = {k.lower(): v for k, v in contexts.items()}
        self.status = status

    def eval(self, n: Node) -> Any:
        if isinstance(n, Literal):
            return n.value
        if isinstance(n, ContextName):
            name = n.name.lower()
            if name in self.contexts:
                return self.contexts[name]
            return Unknown(f"{name} is not known")
        if isinstance(n, Property):
            return _lookup(self.eval(n.obj), n.name, _describe(n.obj))
        if isinstance(n, Index):
            return _index(self.eval(n.obj), self.eval(n.index), _describe(n.obj))
        if isinstance(n, Star):
            obj = self.eval(n.obj)
            if isinstance(obj, Unknown):
                return obj
            if isinstance(obj, list):
                return _Filtered(obj)
            if isinstance(obj, Mapping):
                return _Filtered(obj.values())
            return _Filtered()
        if isinstance(n, Not):
            t = truthy(self.eval(n.operand))
            return Unknown("operand of ! is not known") if t is None else not t
        if isinstance(n, Binary):
            return self._binary(n)
        return self._call(n)

    def _binary(self, n: Binary) -> Any:
        left = self.eval(n.left)
        if n.op == "&&":
            lt = truthy(left)
            if lt is False:
                return left
            right = self.eval(n.right)
            if lt is True:
                return right
            rt = truthy(right)
            return Unknown(_reason(left), truthy=False if rt is False else None)
        if n.op == "||":
            lt = truthy(left)
            if lt is True:
                return left
            right = self.eval(n.right)
            if lt is False:
                return right
            rt = truthy(right)
            return Unknown(_reason(left), truthy=True if rt is True else None)
        right = self.eval(n.right)
        for v in (left, right):
            if isinstance(v, Unknown):
                return Unknown(v.reason)
        if n.op == "==":
            return loose_equal(left, right)
        if n.op == "!=":
            return not loose_equal(left, right)
        return _compare(n.op, left, right)

    def _call(self, n: Call) -> Any:
        name = n.name
        if name == "always":
            return True
        if name in ("success", "failure", "cancelled"):
            if self.status is None:
                return Unknown(f"{name}() depends on the outcome of earlier steps or jobs")
            return self.status == name
        if name == "hashfiles":
            return Unknown("hashFiles() depends on the files at run time")
        if name == "case":
            return self._case(n)
        args = [self.eval(a) for a in n.args]
        if name == "format":
            if isinstance(args[0], Unknown):
                return args[0]
            return _fmt(to_string(args[0]), args[1:])
        if name == "tojson":
            try:
                u = _contains_unknown(args[0])
                if u is not None:
                    return Unknown(u.reason, truthy=True)
                return json.dumps(_plain_json(args[0]), indent=2)
            except RecursionError:
                return Unknown("toJSON() of a value nested too deep", truthy=True)
        for a in args:
            if isinstance(a, Unknown):
                return Unknown(a.reason)
        if name == "fromjson":
            try:
                return _from_json(json.loads(to_string(args[0])))
            except ValueError:
                return Unknown("fromJSON() of text that is not JSON")
            except RecursionError:
                return Unknown("fromJSON() of a document nested too deep")
        if name == "join":
            sep = to_string(args[1]) if len(args) > 1 else ","
            if isinstance(args[0], list):
                return sep.join(to_string(v) for v in args[0])
            return to_string(args[0])
        if name == "contains":
            hay, needle = args
            if isinstance(hay, list):
                return any(loose_equal(v, needle) for v in hay)
            return to_string(needle).casefold() in to_string(hay).casefold()
        if name == "startswith":
            return to_string(args[0]).casefold().startswith(to_string(args[1]).casefold())
        if name == "endswith":
            return to_string(args[0]).casefold().endswith(to_string(args[1]).casefold())
        return Unknown(f"{name}() is not evaluated")

    def _case(self, n: Call) -> Any:
        args = n.args
        for i in range(0, len(args) - 1, 2):
            t = truthy(self.eval(args[i]))
            if t is None:
                return Unknown("a case() predicate is not known")
            if t:
                return self.eval(args[i + 1])
        return self.eval(args[-1])


def _describe(n: Node) -> str:
    chain = _chain(n)
    return ".".join(chain[0]) if chain else "value"


def _reason(v: Any) -> str:
    return v.reason if isinstance(v, Unknown) else "not known"


def evaluate(node: Node, contexts: Mapping[str, Any], status: Status | None = None) -> Any:
    """The expression's value: None/bool/float/str/list/dict, or an `Unknown`. Numbers are
    floats. `status` is the outcome that `success()`/`failure()`/`cancelled()` see."""
    return _Evaluator(contexts, status).eval(node)


def uses_status_function(node: Node) -> bool:
    return any(isinstance(n, Call) and n.name in STATUS_FUNCTIONS for n in walk(node))


def condition_truthiness(node: Node, contexts: Mapping[str, Any], status: Status | None = "success") -> bool | None:
    """Would an `if:` with this condition run? True / False / None (undecided). Without a
    status function the condition is `success() && (condition)`, as GitHub evaluates it."""
    value = evaluate(node, contexts, status)
    t = truthy(value)
    if uses_status_function(node):
        return t
    ok = None if status is None else status == "success"
    if ok is False or t is False:
        return False
    if ok is None or t is None:
        return None
    return True


def with_values(contexts: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `contexts` with dotted paths set: `{"inputs.environment": "prod"}`. Mappings on
    the way are copied (an existing `Closed` stays closed), so the input is not changed."""
    out: dict[str, Any] = dict(contexts)
    for dotted, value in values.items():
        parts = dotted.split(".")
        holder: dict[str, Any] = out
        for p in parts[:-1]:
            cur = holder.get(p)
            nxt: dict[str, Any] = type(cur)(cur) if isinstance(cur, dict) else {}
            holder[p] = nxt
            holder = nxt
        holder[parts[-1]] = value
    return out


MAX_COMBINATIONS = 512


def possible_truthiness(
    node: Node,
    contexts: Mapping[str, Any],
    domains: Mapping[str, list[Any]],
    status: Status | None = "success",
    condition: bool = True,
) -> set[bool | None]:
    """The outcomes of the condition over every combination of the given domains (dotted path ->
    possible values). `{False}`: never runs; `{True}`: always runs; None in the set: some
    combination stays undecided. More than MAX_COMBINATIONS combinations: `{None}`."""
    keys = list(domains)
    total = 1
    for k in keys:
        total *= max(1, len(domains[k]))
    if total > MAX_COMBINATIONS:
        return {None}
    results: set[bool | None] = set()
    for combo in itertools.product(*(domains[k] for k in keys)):
        ctx = with_values(contexts, dict(zip(keys, combo, strict=True)))
        if condition:
            results.add(condition_truthiness(node, ctx, status))
        else:
            results.add(truthy(evaluate(node, ctx, status)))
    return results
