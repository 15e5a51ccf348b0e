"""RFC 6902 JSON patch over plain data, with the dotted path each operation touched."""

from __future__ import annotations

from typing import Any

from urr_audit.loaders.kustomize.smp import SCHEMA_MERGE_KEYS, item_label
from urr_audit.loaders.kustomize.util import deep_copy


class JsonPatchError(Exception):
    pass


def _tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise JsonPatchError(f"invalid JSON pointer {pointer!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _index(container: list, token: str, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise JsonPatchError(f"invalid array index {token!r}")
    i = int(token)
    if i > len(container) or (i == len(container) and not allow_end):
        raise JsonPatchError(f"array index {i} out of range")
    return i


def _parent(doc: Any, tokens: list[str]) -> Any:
    node = doc
    for t in tokens:
        if isinstance(node, dict):
            if t not in node:
                raise JsonPatchError(f"path segment {t!r} not found")
            node = node[t]
        elif isinstance(node, list):
            node = node[_index(node, t, False)]
        else:
            raise JsonPatchError(f"cannot descend into a scalar at {t!r}")
    return node


def dotted(doc: Any, tokens: list[str]) -> str:
    """`spec.template.spec.containers[name=app].image` for `/spec/template/spec/containers/0/image`."""
    out, node, field = "", doc, ""
    for t in tokens:
        if isinstance(node, list):
            i = len(node) - 1 if t == "-" else (int(t) if t.isdigit() else -1)
            item = node[i] if 0 <= i < len(node) else None
            out += item_label(
                SCHEMA_MERGE_KEYS.get(field) or ("name" if isinstance(item, dict) and "name" in item else None), item, i
            )
            node = item
        else:
            out = f"{out}.{t}" if out else t
            node = node.get(t) if isinstance(node, dict) else None
            field = t
    return out


def _get(doc: Any, tokens: list[str]) -> Any:
    return _parent(doc, tokens)


def _remove(doc: Any, tokens: list[str]) -> Any:
    if not tokens:
        raise JsonPatchError("cannot remove the whole document")
    parent = _parent(doc, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise JsonPatchError(f"cannot remove missing key {last!r}")
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, False))
    raise JsonPatchError("cannot remove from a scalar")


def _add(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent = _parent(doc, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, True), value)
    else:
        raise JsonPatchError("cannot add to a scalar")
    return doc


def apply_op(doc: Any, op: dict) -> tuple[Any, str]:
    """Apply one operation; returns the new document and the dotted path it changed."""
    kind = op.get("op")
    path = op.get("path")
    if not isinstance(path, str):
        raise JsonPatchError("operation without a path")
    tokens = _tokens(path)
    if kind == "add":
        doc = _add(doc, tokens, deep_copy(op.get("value")))
    elif kind == "remove":
        where = dotted(doc, tokens)
        _remove(doc, tokens)
        return doc, where
    elif kind == "replace":
        if not tokens:
            return deep_copy(op.get("value")), ""
        parent = _parent(doc, tokens[:-1])
        last = tokens[-1]
        if isinstance(parent, dict):
            if last not in parent:
                raise JsonPatchError(f"replace operation does not apply: doc is missing key: {path}")
            parent[last] = deep_copy(op.get("value"))
        elif isinstance(parent, list):
            parent[_index(parent, last, False)] = deep_copy(op.get("value"))
        else:
            raise JsonPatchError("cannot replace in a scalar")
    elif kind in ("move", "copy"):
        if not isinstance(op.get("from"), str):
            raise JsonPatchError(f"{kind} operation without a from")
        src = _tokens(op["from"])
        value = _remove(doc, src) if kind == "move" else deep_copy(_get(doc, src))
        doc = _add(doc, tokens, value)
    elif kind == "test":
        if _get(doc, tokens) != op.get("value"):
            raise JsonPatchError(f"test operation failed at {path}")
        return doc, ""
    else:
        raise JsonPatchError(f"unknown operation {kind!r}")
    return doc, dotted(doc, tokens)
