"""tree-sitter-hcl syntax trees -> generic `Block`/`Attribute`/`Expression` model nodes.

Only this module and `jsonsyntax` know the shape of the syntax trees; everything above works
on model nodes. An `Expression` keeps its syntax node in `_node` so the evaluator can walk it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import tree_sitter_hcl
from tree_sitter import Language, Node, Parser, Tree

from urr_audit.model.common import LoadError, Span, Value
from urr_audit.model.terraform import Attribute, Block, Expression

HCL = Language(tree_sitter_hcl.language())
_PARSER = Parser(HCL)

# tree-sitter-hcl takes time quadratic in a run of blanks or blank lines where an expression
# is expected (20 000 spaces after `=`: 7 s; 100 000 blank lines: many minutes). A parse gets a
# budget far above what real files need (over 1 MB/s on a loaded 2-core machine) and is
# cancelled past it: the file is reported unread instead of stalling the scan.
PARSE_BUDGET_SECONDS = 2.0
PARSE_BUDGET_BYTES_PER_SECOND = 100_000
TOO_SLOW = (
    "the HCL parser did not finish within its time budget (a very long run of blanks where an "
    "expression is expected makes it quadratic); the file is skipped"
)


def _parse_bounded(data: bytes) -> Tree | None:
    deadline = time.perf_counter() + PARSE_BUDGET_SECONDS + len(data) / PARSE_BUDGET_BYTES_PER_SECOND
    try:
        tree = _PARSER.parse(
            lambda byte, _point: data[byte : byte + 65536],
            progress_callback=lambda *_state: time.perf_counter() > deadline,
        )
    except ValueError:  # cancelled by the progress callback
        _PARSER.reset()  # else the next parse would resume this one
        return None
    # A tree read through a callback keeps no source: every `node.text` calls back for its
    # bytes (three times slower over a file's nodes). Parsed again from the bytes with the
    # finished tree as the old one (no edit: every node is reused, next to no time), the tree
    # keeps the source and `node.text` is a slice of it.
    return _PARSER.parse(data, old_tree=tree)


# Heads that are not dependencies: evaluation-context symbols and meta objects.
NON_REFERENCE_ROOTS = frozenset({"each", "count", "self", "path", "terraform"})


@dataclass
class ParsedFile:
    path: str
    blocks: list[Block] = field(default_factory=list)
    attributes: dict[str, Attribute] = field(default_factory=dict)
    errors: list[LoadError] = field(default_factory=list)


def parse_hcl(text: str, path: str) -> ParsedFile:
    """Parse one HCL file. On syntax errors, keep only the top-level items that end before the
    first error (a half-parsed block would give rules wrong facts) and report one LoadError."""
    tree = _parse_bounded(text.encode("utf-8"))
    out = ParsedFile(path=path)
    if tree is None:
        out.errors.append(LoadError(kind="terraform.parse", path=path, line=1, message=TOO_SLOW))
        return out
    root = tree.root_node
    limit: int | None = None
    if root.has_error:
        err = _first_error(root)
        if err is not None:
            line, message = _describe_error(err)
            out.errors.append(LoadError(kind="terraform.parse", path=path, line=line, message=message))
            limit = err.start_byte
    body = next((c for c in root.children if c.type == "body"), None)
    if body is None:
        return out
    builder = _Builder(path)
    for item in body.children:
        if limit is not None and (item.end_byte > limit or item.has_error):
            break
        if item.type == "block":
            out.blocks.append(builder.block(item, frozenset()))
        elif item.type == "attribute":
            attr = builder.attribute(item, frozenset())
            out.attributes[attr.name] = attr
    return out


def _first_error(node: Node) -> Node | None:
    for child in node.children:
        if child.is_missing or child.type == "ERROR":
            return child
        if child.has_error:
            found = _first_error(child)
            if found is not None:
                return found
    return None


def _describe_error(err: Node) -> tuple[int, str]:
    if err.is_missing:
        expected = err.type
        owner = err.parent
        while owner is not None and owner.type not in ("block", "object", "tuple", "function_call"):
            owner = owner.parent
        if expected == "}" and owner is not None and owner.type == "block":
            start = owner.start_point.row + 1
            return start, f"syntax error: unclosed block starting at line {start} (missing '}}')"
        return err.start_point.row + 1, f"syntax error: missing '{expected}'"
    found = err
    while found.child_count:
        found = found.children[0]
    token = (found.text or b"").decode("utf-8", "replace").strip()[:30]
    line = (found if token else err).start_point.row + 1
    if not token:
        return line, "syntax error"
    if not token.isprintable():  # a NUL byte or a binary file: show what it is, not blanks
        return line, f"syntax error: unexpected {token!r} (binary or control characters)"
    return line, f"syntax error: unexpected '{token}'"


def span_of(node: Node, path: str) -> Span:
    end = node.end_point
    end_row = end.row - 1 if end.column == 0 and end.row > node.start_point.row else end.row
    return Span(path=path, line=node.start_point.row + 1, end_line=end_row + 1)


def node_text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


class _Builder:
    def __init__(self, path: str):
        self.path = path

    def block(self, node: Node, iterators: frozenset[str]) -> Block:
        type_ = ""
        labels: list[str] = []
        body: Node | None = None
        for c in node.children:
            if c.type == "identifier" and not type_:
                type_ = node_text(c)
            elif c.type == "string_lit":
                labels.append(string_lit_value(c))
            elif c.type == "identifier":
                labels.append(node_text(c))
            elif c.type == "body":
                body = c
        blk = Block(type=type_, labels=labels, span=span_of(node, self.path))
        inner = iterators
        if type_ == "dynamic" and labels:
            # `content` refers to the iterator by the block label (or `iterator = name`).
            inner = iterators | {labels[0]}
            if body is not None:
                for c in body.children:
                    if c.type == "attribute" and node_text(c.children[0]) == "iterator":
                        inner = inner | {node_text(c.children[-1]).strip()}
        if body is not None:
            for c in body.children:
                if c.type == "block":
                    blk.blocks.append(self.block(c, inner))
                elif c.type == "attribute":
                    a = self.attribute(c, inner)
                    blk.attributes[a.name] = a
        return blk

    def attribute(self, node: Node, iterators: frozenset[str]) -> Attribute:
        name = node_text(node.children[0])
        expr_node = next(c for c in node.children if c.type == "expression")
        return Attribute(name=name, span=span_of(node, self.path), expr=self.expression(expr_node, iterators))

    def expression(self, node: Node, iterators: frozenset[str]) -> Expression:
        refs: list[str] = []
        funcs: list[str] = []
        travs: list[str] = []
        collect(node, set(iterators), refs, funcs, travs)
        expr = Expression(
            text=node_text(node),
            span=span_of(node, self.path),
            references=list(dict.fromkeys(refs)),
            functions=list(dict.fromkeys(funcs)),
            traversals=list(dict.fromkeys(travs)),
            literal=literal_of(node),
        )
        expr._node = node
        return expr


def collect(node: Node, scope: set[str], refs: list[str], funcs: list[str], travs: list[str] | None = None) -> None:
    """Gather traversal heads and function names under `node`; for-expression iterators and
    dynamic-block iterators in `scope` are local names, not dependencies. `travs` gets every
    traversal (see `traversal_path`), local names included."""
    t = node.type
    if t == "expression":
        children = node.children
        if children and children[0].type == "variable_expr":
            head = traversal_head(children)
            if head is not None and head.split(".", 1)[0] not in scope:
                refs.append(head)
            if travs is not None:
                travs.append(traversal_path(children))
            for c in children[1:]:
                collect(c, scope, refs, funcs, travs)
            return
    elif t == "object_elem":
        key = node.children[0]
        start = 1 if len(key.children) == 1 and key.children[0].type == "variable_expr" else 0  # `{ name = .. }`
        for c in node.children[start:]:
            collect(c, scope, refs, funcs, travs)
        return
    elif t == "function_call":
        funcs.append(node_text(node.children[0]))
    elif t in ("for_tuple_expr", "for_object_expr", "template_for"):
        # `[for k, v in coll : ...]` has its `for ... in coll` intro second, after `[`;
        # `%{ for v in coll }...` has it first
        at = 0 if t == "template_for" else 1
        intro = node.children[at]
        for c in intro.children:
            if c.type == "expression":
                collect(c, scope, refs, funcs, travs)
        inner = scope | {node_text(c) for c in intro.children if c.type == "identifier"}
        for c in node.children[at + 1 :]:
            collect(c, inner, refs, funcs, travs)
        return
    for c in node.children:
        collect(c, scope, refs, funcs, travs)


_NOT_INSTANCES = frozenset({"var", "local", "each", "count", "self", "path", "terraform"})


def traversal_path(children: list[Node]) -> str:
    """The dotted names of a traversal up to its first index or splat: `var.x.y`,
    `each.value.port`, `aws_x.y.id`. An index right after a resource, data source or module
    call name is an instance key and is skipped (`aws_x.y[0].arn` -> `aws_x.y.arn`)."""
    root = node_text(children[0])
    parts = [root]
    named = 3 if root == "data" else 2  # parts that name the resource (or module call)
    skipped = root in _NOT_INSTANCES
    for c in children[1:]:
        if c.type == "get_attr":
            parts.append(node_text(c.children[-1]))
        elif c.type == "index" and not skipped and len(parts) == named:
            skipped = True
        else:
            break
    return ".".join(parts)


def traversal_head(children: list[Node]) -> str | None:
    """`var.x`, `local.x`, `module.m.out`, `data.t.n`, `t.n` from a variable_expr and the
    attribute accesses after it; None for non-dependency roots (each, count, self, ...)."""
    root = node_text(children[0])
    if root in NON_REFERENCE_ROOTS:
        return None
    want = {"var": 1, "local": 1, "module": 2, "data": 2}.get(root, 1)
    parts = [root]
    for c in children[1:]:
        if len(parts) > want or c.type != "get_attr":
            break
        parts.append(node_text(c.children[-1]))
    return ".".join(parts)


# --- literals ------------------------------------------------------------------------------

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)|\$\$\{|%%\{", re.DOTALL)


def unescape(raw: str, quoted: bool = True) -> str:
    def repl(m: re.Match[str]) -> str:
        s = m.group(0)
        if s == "$${":
            return "${"
        if s == "%%{":
            return "%{"
        if not quoted:
            return s
        e = m.group(1)
        if e[0] in "uU" and len(e) > 1:
            return chr(int(e[1:], 16))
        return _ESCAPES.get(e, s)

    return _ESCAPE_RE.sub(repl, raw)


def string_lit_value(node: Node) -> str:
    return unescape("".join(node_text(c) for c in node.children if c.type == "template_literal"))


def number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        f = float(text)
        return int(f) if f.is_integer() else f


class _NotLiteral(Exception):
    pass


def literal_of(node: Node) -> Value:
    try:
        return Value.known(_literal(node))
    except _NotLiteral:
        return Value.absent()


def _literal(node: Node) -> Any:
    t = node.type
    if t == "expression":
        # child_count first: materialising `children` is the costly part of a tree walk
        if node.child_count == 1:
            return _literal(node.child(0))
        if node.child_count == 3 and node.child(0).type == "(":
            return _literal(node.child(1))
        raise _NotLiteral
    if t == "literal_value":
        return _literal(node.children[0])
    if t == "numeric_lit":
        return number(node_text(node))
    if t == "bool_lit":
        return node_text(node) == "true"
    if t == "null_lit":
        return None
    if t == "string_lit":
        return string_lit_value(node)
    if t == "collection_value":
        return _literal(node.children[0])
    if t == "tuple":
        return [_literal(c) for c in node.children if c.type == "expression"]
    if t == "object":
        out = {}
        for elem in node.children:
            if elem.type != "object_elem":
                continue
            exprs = [c for c in elem.children if c.type == "expression"]
            key_node = exprs[0]
            kc = key_node.children
            if len(kc) == 1 and kc[0].type == "variable_expr":
                key = node_text(kc[0])
            else:
                key = _literal(key_node)
                if not isinstance(key, str):
                    raise _NotLiteral
            out[key] = _literal(exprs[1])
        return out
    if t == "template_expr":
        tmpl = node.children[0]
        if tmpl.type == "quoted_template":
            parts = [c for c in tmpl.children if c.type not in ("quoted_template_start", "quoted_template_end")]
            if all(c.type == "template_literal" for c in parts):
                return unescape("".join(node_text(c) for c in parts))
        raise _NotLiteral
    if t == "operation":
        op = node.children[0]
        if op.type == "unary_operation" and node_text(op.children[0]) == "-":
            v = _literal(op.children[1])
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return -v
    raise _NotLiteral


def object_fields(expr: Expression) -> dict[str, Any] | None:
    """The fields of an object expression that can be read without evaluating it: literal
    values, and a tuple of bare references as their texts (`configuration_aliases =
    [aws.us_east_1]` -> `["aws.us_east_1"]`). None when the expression is not an object."""
    elems = _object_elems(expr)
    if elems is None:
        return None
    out: dict[str, Any] = {}
    for key, value in elems:
        try:
            out[key] = _literal(value)
            continue
        except _NotLiteral:
            pass
        inner = _unwrap(value)
        if inner.type == "tuple":
            items = [c for c in inner.children if c.type == "expression"]
            if all(c.child_count >= 1 and c.child(0).type == "variable_expr" for c in items):
                out[key] = [node_text(c).strip() for c in items]
    return out


def object_texts(expr: Expression) -> dict[str, str] | None:
    """Key text -> value text of an object expression written with references on both sides,
    as a module's `providers = { aws.west = aws.eu_west_1 }` is; a JSON-syntax object of
    strings reads the same. None when the expression is not an object."""
    lit = expr.literal
    if lit.is_known and isinstance(lit.value, dict):
        return {str(k): v for k, v in lit.value.items() if isinstance(v, str)}
    elems = _object_elems(expr)
    if elems is None:
        return None
    return {key: node_text(value).strip() for key, value in elems}


def _unwrap(node: Node) -> Node:
    """The node an expression wrapper (`expression`, `collection_value`) holds alone."""
    while node.type in ("expression", "collection_value") and node.child_count == 1:
        node = node.child(0)
    return node


def _object_elems(expr: Expression) -> list[tuple[str, Node]] | None:
    """(key text, value node) of each element of an object expression, read without
    evaluating it; None when the expression is not an object."""
    node = expr._node
    if not isinstance(node, Node):
        return None
    node = _unwrap(node)
    if node.type != "object":
        return None
    out = []
    for elem in node.children:
        if elem.type == "object_elem":
            key_node, value = [c for c in elem.children if c.type == "expression"]
            out.append((node_text(key_node).strip().strip('"'), value))
    return out
