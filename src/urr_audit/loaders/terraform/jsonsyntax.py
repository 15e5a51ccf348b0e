"""Terraform JSON syntax (`*.tf.json`, `*.tfvars.json`) -> the same generic model nodes.

The stdlib `json` module keeps no positions, so a small scanner built on its `scanstring`
records the line of every key; values are decoded exactly as `json` would.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from json.decoder import scanstring
from typing import Any

from tree_sitter import Node

from urr_audit.loaders.terraform.parse import _PARSER, ParsedFile, collect
from urr_audit.model.common import LoadError, Span, Value
from urr_audit.model.terraform import Attribute, Block, Expression

# How many labels each top-level block type takes in JSON syntax.
_LABELS = {
    "resource": 2,
    "data": 2,
    "variable": 1,
    "output": 1,
    "module": 1,
    "provider": 1,
    "backend": 1,
    "dynamic": 1,
    "provisioner": 1,
}
# Keys whose object value is a nested block, not a map-typed attribute (no schema here).
_NESTED_BLOCKS = frozenset(
    {
        "lifecycle",
        "provisioner",
        "connection",
        "dynamic",
        "content",
        "validation",
        "precondition",
        "postcondition",
        "required_providers",
        "backend",
        "cloud",
        "workspaces",
        "terraform",
    }
)
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WS = re.compile(r"\s*")


@dataclass
class JNode:
    value: Any  # decoded python value of the whole subtree
    line: int
    end_line: int
    pairs: list[tuple[str, int, JNode]] | None = None  # objects: (key, key line, value)
    items: list[JNode] | None = None  # arrays


class JsonSyntaxError(ValueError):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


class _Scanner:
    def __init__(self, text: str):
        self.text = text
        self.nl = [i for i, ch in enumerate(text) if ch == "\n"]

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self.nl, pos) + 1

    def ws(self, pos: int) -> int:
        return _WS.match(self.text, pos).end()  # type: ignore[union-attr]

    def value(self, pos: int) -> tuple[JNode, int]:
        pos = self.ws(pos)
        t = self.text
        if pos >= len(t):
            raise JsonSyntaxError("unexpected end of JSON", self.line(pos))
        ch = t[pos]
        start_line = self.line(pos)
        if ch == "{":
            pairs: list[tuple[str, int, JNode]] = []
            pos = self.ws(pos + 1)
            if t.startswith("}", pos):
                return JNode({}, start_line, self.line(pos), pairs=pairs), pos + 1
            while True:
                pos = self.ws(pos)
                if not t.startswith('"', pos):
                    raise JsonSyntaxError("expected a quoted key", self.line(pos))
                key_line = self.line(pos)
                key, pos = scanstring(t, pos + 1)
                pos = self.ws(pos)
                if not t.startswith(":", pos):
                    raise JsonSyntaxError("expected ':' after key", self.line(pos))
                val, pos = self.value(pos + 1)
                pairs.append((key, key_line, val))
                pos = self.ws(pos)
                if t.startswith(",", pos):
                    pos += 1
                    continue
                if t.startswith("}", pos):
                    obj = {k: v.value for k, _, v in pairs}
                    return JNode(obj, start_line, self.line(pos), pairs=pairs), pos + 1
                raise JsonSyntaxError("expected ',' or '}'", self.line(pos))
        if ch == "[":
            items: list[JNode] = []
            pos = self.ws(pos + 1)
            if t.startswith("]", pos):
                return JNode([], start_line, self.line(pos), items=items), pos + 1
            while True:
                val, pos = self.value(pos)
                items.append(val)
                pos = self.ws(pos)
                if t.startswith(",", pos):
                    pos += 1
                    continue
                if t.startswith("]", pos):
                    return JNode([i.value for i in items], start_line, self.line(pos), items=items), pos + 1
                raise JsonSyntaxError("expected ',' or ']'", self.line(pos))
        if ch == '"':
            s, end = scanstring(t, pos + 1)
            return JNode(s, start_line, self.line(end - 1)), end
        for word, val in (("true", True), ("false", False), ("null", None)):
            if t.startswith(word, pos):
                return JNode(val, start_line, start_line), pos + len(word)
        m = _NUMBER.match(t, pos)
        if m:
            raw = m.group(0)
            num = json.loads(raw)
            if isinstance(num, float) and num.is_integer():
                num = int(num)
            return JNode(num, start_line, start_line), m.end()
        raise JsonSyntaxError(f"unexpected character {ch!r}", start_line)


def scan_json(text: str) -> JNode:
    sc = _Scanner(text)
    try:
        node, pos = sc.value(0)
    except ValueError as e:  # scanstring raises plain ValueError (json.JSONDecodeError)
        if isinstance(e, JsonSyntaxError):
            raise
        line = getattr(e, "lineno", 1)
        raise JsonSyntaxError(str(e), line) from e
    pos = sc.ws(pos)
    if pos != len(text):
        raise JsonSyntaxError("trailing data after the JSON value", sc.line(pos))
    return node


# --- JSON values as expressions ----------------------------------------------------------

_TEMPLATE_MARK = "__URR_JSON_TEMPLATE__"


@dataclass
class JsonTemplate:
    """A JSON string holding `${`/`%{`: evaluated as the heredoc body it is equivalent to."""

    node: Node  # the heredoc template_expr node
    tree: Any  # keeps the syntax tree alive


def _template(s: str) -> JsonTemplate | None:
    src = f"x = <<{_TEMPLATE_MARK}\n{s}\n{_TEMPLATE_MARK}\n"
    tree = _PARSER.parse(src.encode("utf-8"))
    if tree.root_node.has_error:
        return None
    attr = tree.root_node.children[0].children[0]
    expr = next(c for c in attr.children if c.type == "expression")
    return JsonTemplate(node=expr, tree=tree)


def _has_template(v: Any) -> bool:
    if isinstance(v, str):
        return "${" in v or "%{" in v
    if isinstance(v, list):
        return any(_has_template(x) for x in v)
    if isinstance(v, dict):
        return any(_has_template(x) for x in v.values())
    return False


def json_expression(node: JNode, path: str) -> Expression:
    refs: list[str] = []
    funcs: list[str] = []
    travs: list[str] = []
    templates: dict[int, JsonTemplate] = {}

    def walk(n: JNode) -> None:
        if isinstance(n.value, str) and _has_template(n.value):
            tpl = _template(n.value)
            if tpl is not None:
                templates[id(n)] = tpl
                collect(tpl.node, set(), refs, funcs, travs)
        for _, _, v in n.pairs or []:
            walk(v)
        for v in n.items or []:
            walk(v)

    walk(node)
    expr = Expression(
        text=json.dumps(node.value),
        span=Span(path=path, line=node.line, end_line=node.end_line),
        references=list(dict.fromkeys(refs)),
        functions=list(dict.fromkeys(funcs)),
        traversals=list(dict.fromkeys(travs)),
        literal=Value.absent() if _has_template(node.value) else Value.known(node.value),
    )
    expr._node = JsonValue(node=node, templates=templates)
    return expr


@dataclass
class JsonValue:
    node: JNode
    templates: dict[int, JsonTemplate]


# --- JSON documents as blocks -------------------------------------------------------------


def _body(path: str, type_: str, labels: list[str], line: int, node: JNode) -> Block:
    blk = Block(type=type_, labels=labels, span=Span(path=path, line=line, end_line=node.end_line))
    for key, key_line, val in node.pairs or []:
        if key == "//":
            continue  # JSON-syntax comment
        is_block_list = val.items is not None and val.items and all(i.pairs is not None for i in val.items)
        if key in _NESTED_BLOCKS or (is_block_list and key not in ("depends_on",)):
            blk.blocks.extend(_blocks(path, key, key_line, val))
        else:
            blk.attributes[key] = Attribute(
                name=key, span=Span(path=path, line=key_line, end_line=val.end_line), expr=json_expression(val, path)
            )
    return blk


def _blocks(path: str, type_: str, line: int, node: JNode, labels: list[str] | None = None) -> list[Block]:
    labels = labels or []
    want = _LABELS.get(type_, 0)
    if node.items is not None:
        return [b for item in node.items for b in _blocks(path, type_, item.line, item, labels)]
    if node.pairs is None:
        return []
    if len(labels) < want:
        return [b for key, key_line, val in node.pairs for b in _blocks(path, type_, key_line, val, labels + [key])]
    return [_body(path, type_, labels, line, node)]


def _top_object(text: str, out: ParsedFile) -> JNode | None:
    """The file's top-level object; None (with the error in `out`) when it is not one."""
    try:
        doc = scan_json(text)
    except JsonSyntaxError as e:
        out.errors.append(LoadError(kind="terraform.parse", path=out.path, line=e.line, message=f"invalid JSON: {e}"))
        return None
    if doc.pairs is None:
        out.errors.append(
            LoadError(
                kind="terraform.parse",
                path=out.path,
                line=doc.line,
                message="invalid Terraform JSON: the top level must be an object",
            )
        )
        return None
    return doc


def parse_tf_json(text: str, path: str) -> ParsedFile:
    out = ParsedFile(path=path)
    doc = _top_object(text, out)
    if doc is None:
        return out
    for key, key_line, val in doc.pairs or []:
        if key == "//":
            continue
        if key == "locals":
            for loc in val.items or [val]:
                out.blocks.append(_body(path, "locals", [], key_line, loc))
        else:
            out.blocks.extend(_blocks(path, key, key_line, val))
    return out


def parse_tfvars_json(text: str, path: str) -> ParsedFile:
    out = ParsedFile(path=path)
    doc = _top_object(text, out)
    if doc is None:
        return out
    for key, key_line, val in doc.pairs or []:
        node = JNode(val.value, val.line, val.end_line, val.pairs, val.items)
        expr = json_expression(node, path)
        expr._node.templates = {}  # tfvars values are literal: no templates in variable files
        expr.literal = Value.known(val.value)
        out.attributes[key] = Attribute(name=key, span=Span(path=path, line=key_line, end_line=val.end_line), expr=expr)
    return out
