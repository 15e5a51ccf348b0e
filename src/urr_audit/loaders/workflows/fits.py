"""A yes/no answer to "does this document fit the schema?", without importing `jsonschema`.

Nearly every workflow a scan reads is valid, and for a valid one `jsonschema` pays its import
(about as much CPU as loading a dozen workflows) and a validator object per schema node visited.
This module compiles a JSON Schema once into nested predicates over plain data, keyword for
keyword with `jsonschema`'s draft-07 semantics (types, `enum`/`const` equality where `True != 1`,
`re.search` patterns, `$ref` hiding its siblings, formats not asserted). Only a document that
does not fit goes to `jsonschema`, which says why: messages come from one place.

A schema using anything not implemented here (another draft, a remote `$ref`, a keyword not
listed) compiles to None and every document goes to `jsonschema`; so does a document on which a
predicate raises. The answer is checked against `jsonschema` over every workflow in the fixtures
and over generated documents in the tests.

Why not `fastjsonschema`: it turns GitHub's workflow schema into 1.4 MB of Python source whose
generation and compilation cost about 200 ms CPU in every process, more than `jsonschema`'s
import it would save; these predicates compile in about 5 ms.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

Predicate = Callable[[Any], bool]

DRAFTS = frozenset({"http://json-schema.org/draft-07/schema#", "http://json-schema.org/draft-07/schema"})
# keywords that never make a document invalid (annotations; `format` is not asserted by
# `jsonschema` without a format checker, and the loader passes none)
ANNOTATIONS = frozenset(
    {
        "$comment",
        "$schema",
        "title",
        "description",
        "markdownDescription",
        "default",
        "examples",
        "deprecationMessage",
        "readOnly",
        "writeOnly",
        "format",
        "definitions",
    }
)
_OBJECT = frozenset(
    {"properties", "patternProperties", "additionalProperties", "required", "minProperties", "dependencies"}
)


class Unsupported(Exception):
    """The schema uses something this module does not implement."""


def compile_schema(schema: Any) -> Predicate | None:
    """A predicate equivalent to `jsonschema`'s validity for `schema`, or None when the schema
    uses something not implemented here."""
    if not isinstance(schema, dict) or schema.get("$schema") not in DRAFTS:
        return None
    try:
        return _Compiler(schema).compile(schema, root=True)
    except Unsupported:
        return None


def fits(predicate: Predicate, data: Any) -> bool | None:
    """True or False, or None when the predicate failed on this document."""
    try:
        return predicate(data)
    except (TypeError, ValueError, RecursionError):  # a key no pattern can search (not a string): ask jsonschema
        return None


def _is_integer(x: Any) -> bool:
    if isinstance(x, bool):
        return False
    return isinstance(x, int) or (isinstance(x, float) and x.is_integer())


_TYPES: dict[str, Predicate] = {
    "array": lambda x: isinstance(x, list),
    "boolean": lambda x: isinstance(x, bool),
    "integer": _is_integer,
    "null": lambda x: x is None,
    "number": lambda x: isinstance(x, numbers.Number) and not isinstance(x, bool),
    "object": lambda x: isinstance(x, dict),
    "string": lambda x: isinstance(x, str),
}

_TRUE: Predicate = lambda x: True
_FALSE: Predicate = lambda x: False


def _unbool(x: Any) -> Any:
    # jsonschema's `_utils.unbool`: True and 1 are different values for `enum` and `const`
    if x is True:
        return (bool, True)
    if x is False:
        return (bool, False)
    return x


def equal(one: Any, two: Any) -> bool:
    """`jsonschema._utils.equal`."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two, strict=False))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return one.keys() == two.keys() and all(equal(one[k], two[k]) for k in one)
    return bool(_unbool(one) == _unbool(two))


def _all(checks: list[Predicate]) -> Predicate:
    if not checks:
        return _TRUE
    if len(checks) == 1:
        return checks[0]

    def every(x: Any) -> bool:
        for c in checks:
            if not c(x):
                return False
        return True

    return every


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Predicate] = {}

    def ref(self, pointer: Any) -> Predicate:
        if not isinstance(pointer, str) or not (pointer == "#" or pointer.startswith("#/")):
            raise Unsupported(f"$ref {pointer!r}")
        if pointer in self.refs:
            return self.refs[pointer]
        compiled: list[Predicate] = []

        def deferred(x: Any) -> bool:  # a recursive definition refers to itself before it is built
            return compiled[0](x)

        self.refs[pointer] = deferred
        target: Any = self.root
        for part in pointer[2:].split("/") if pointer != "#" else []:
            part = unquote(part).replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                raise Unsupported(f"$ref {pointer!r} does not resolve")
        compiled.append(self.compile(target))
        self.refs[pointer] = compiled[0]
        return compiled[0]

    def compile(self, schema: Any, root: bool = False) -> Predicate:
        if schema is True:
            return _TRUE
        if schema is False:
            return _FALSE
        if not isinstance(schema, dict):
            raise Unsupported(f"schema {schema!r}")
        if "$ref" in schema:  # draft 7: the siblings of `$ref` are ignored
            return self.ref(schema["$ref"])
        if "$id" in schema and not root:
            raise Unsupported("$id below the root")
        unknown = set(schema) - ANNOTATIONS - _OBJECT - {"$id"} - set(_SIMPLE) - {"items", "if", "then", "else"}
        if unknown:
            raise Unsupported(f"keywords {sorted(unknown)}")
        checks: list[Predicate] = []
        if "type" in schema:
            checks.append(_type(schema["type"]))
        for key, make in _SIMPLE.items():
            if key in schema and key != "type":
                checks.append(make(self, schema[key]))
        if "items" in schema:
            checks.append(self._items(schema["items"]))
        if "if" in schema:
            checks.append(self._if(schema))
        if _OBJECT & schema.keys():
            checks.append(self._object(schema))
        return _all(checks)

    def _items(self, items: Any) -> Predicate:
        if isinstance(items, list):
            raise Unsupported("items as a list")
        each = self.compile(items)
        if each is _TRUE:
            return _TRUE

        def check(x: Any) -> bool:
            if isinstance(x, list):
                for item in x:
                    if not each(item):
                        return False
            return True

        return check

    def _if(self, schema: dict[str, Any]) -> Predicate:
        cond = self.compile(schema["if"])
        then = self.compile(schema["then"]) if "then" in schema else _TRUE
        other = self.compile(schema["else"]) if "else" in schema else _TRUE
        return lambda x: then(x) if cond(x) else other(x)

    def _object(self, schema: dict[str, Any]) -> Predicate:
        props = {k: self.compile(v) for k, v in (schema.get("properties") or {}).items()}
        patterns = [(re.compile(p), self.compile(v)) for p, v in (schema.get("patternProperties") or {}).items()]
        extra = self.compile(schema["additionalProperties"]) if "additionalProperties" in schema else None
        required = list(schema.get("required") or [])
        least = schema.get("minProperties")
        dependencies: list[tuple[str, Predicate]] = []
        for key, dep in (schema.get("dependencies") or {}).items():
            if isinstance(dep, list):
                names = list(dep)
                dependencies.append((key, lambda x, names=names: all(n in x for n in names)))
            else:
                dependencies.append((key, self.compile(dep)))
        if least is not None and not isinstance(least, int):
            raise Unsupported("minProperties")

        def check(x: Any) -> bool:
            if not isinstance(x, dict):
                return True
            for name in required:
                if name not in x:
                    return False
            if least is not None and len(x) < least:
                return False
            for key, value in x.items():
                matched = False
                sub = props.get(key)
                if sub is not None:
                    matched = True
                    if not sub(value):
                        return False
                for pattern, psub in patterns:
                    if pattern.search(key):
                        matched = True
                        if not psub(value):
                            return False
                if not matched and extra is not None and not extra(value):
                    return False
            for key, dep_check in dependencies:
                if key in x and not dep_check(x):
                    return False
            return True

        return check


def _type(types: Any) -> Predicate:
    names = [types] if isinstance(types, str) else types
    if not isinstance(names, list) or any(n not in _TYPES for n in names):
        raise Unsupported(f"type {types!r}")
    preds = [_TYPES[n] for n in names]
    return preds[0] if len(preds) == 1 else (lambda x: any(p(x) for p in preds))


def _enum(_: _Compiler, values: Any) -> Predicate:
    if not isinstance(values, list):
        raise Unsupported("enum")
    if all(isinstance(v, str) for v in values):
        allowed = frozenset(values)
        return lambda x: isinstance(x, str) and x in allowed
    return lambda x: any(equal(v, x) for v in values)


def _const(_: _Compiler, value: Any) -> Predicate:
    return lambda x: equal(x, value)


def _pattern(_: _Compiler, pattern: Any) -> Predicate:
    search = re.compile(pattern).search
    return lambda x: not isinstance(x, str) or search(x) is not None


def _length(kind: type, least: bool) -> Callable[[_Compiler, Any], Predicate]:
    def make(_: _Compiler, n: Any) -> Predicate:
        if not isinstance(n, int):
            raise Unsupported("length bound")
        if least:
            return lambda x: not isinstance(x, kind) or len(x) >= n
        return lambda x: not isinstance(x, kind) or len(x) <= n

    return make


def _not(c: _Compiler, schema: Any) -> Predicate:
    sub = c.compile(schema)
    return lambda x: not sub(x)


def _all_of(c: _Compiler, schemas: Any) -> Predicate:
    return _all([c.compile(s) for s in schemas])


def _any_of(c: _Compiler, schemas: Any) -> Predicate:
    subs = [c.compile(s) for s in schemas]
    return lambda x: any(s(x) for s in subs)


def _one_of(c: _Compiler, schemas: Any) -> Predicate:
    subs = [c.compile(s) for s in schemas]

    def check(x: Any) -> bool:
        found = False
        for s in subs:
            if s(x):
                if found:
                    return False
                found = True
        return found

    return check


_SIMPLE: dict[str, Callable[[_Compiler, Any], Predicate]] = {
    "type": lambda c, t: _type(t),
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "minLength": _length(str, True),
    "maxLength": _length(str, False),
    "minItems": _length(list, True),
    "maxItems": _length(list, False),
    "not": _not,
    "allOf": _all_of,
    "anyOf": _any_of,
    "oneOf": _one_of,
}
