"""Parser for GitHub Actions expressions, and the scanner that finds `${{ ... }}` in text.

`parse(text)` returns a `urr_audit.model.gha_expr.Node` or raises `ExprSyntaxError` with the
offset of the problem. `find(text)` returns the `${{ }}` occurrences of a string with their
offsets (raising `ExprSyntaxError` for one that is never closed). Both are bounded: nesting
deeper than MAX_DEPTH and expressions longer than MAX_LENGTH are syntax errors, never a crash.

Grammar (GitHub's precedence, loosest first):

    or      := and ('||' and)*
    and     := eq ('&&' eq)*
    eq      := rel (('==' | '!=') rel)*
    rel     := unary (('<' | '<=' | '>' | '>=') unary)*
    unary   := '!' unary | postfix
    postfix := primary ('.' (ident | '*') | '[' (or | '*') ']')*
    primary := literal | ident '(' [or (',' or)*] ')' | ident | '(' or ')'

Literals: `null`, `true`, `false`, numbers (JSON numbers, `0x` hex, `NaN`, `Infinity`), strings
in single quotes (`''` is a quote). Identifiers may hold `-` (`steps.my-step.outputs.x`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from urr_audit.model.gha_expr import (
    CONTEXTS,
    FUNCTIONS,
    Binary,
    Call,
    ContextName,
    Index,
    Literal,
    Node,
    Not,
    Property,
    Star,
    children,
)

MAX_DEPTH = 64  # parentheses, `!` and function calls nested in the text
MAX_TREE_DEPTH = 200  # the tree (a chain of 500 `||` is 500 deep): evaluators recurse over it
MAX_LENGTH = 20_000


class ExprSyntaxError(ValueError):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # punct, string, number, ident, end
    text: str
    start: int
    end: int
    value: object = None


_PUNCT = ("==", "!=", "<=", ">=", "&&", "||", "(", ")", "[", "]", ".", ",", "!", "<", ">", "*")
_NUMBER = re.compile(r"-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_SPACE = re.compile(r"\s+")


def tokenize(text: str) -> list[Token]:
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        m = _SPACE.match(text, i)
        if m:
            i = m.end()
            continue
        c = text[i]
        if c == "'":
            j = i + 1
            buf: list[str] = []
            while True:
                k = text.find("'", j)
                if k < 0:
                    raise ExprSyntaxError("unterminated string literal", i)
                buf.append(text[j:k])
                if text.startswith("''", k):
                    buf.append("'")
                    j = k + 2
                    continue
                j = k + 1
                break
            out.append(Token("string", text[i:j], i, j, "".join(buf)))
            i = j
            continue
        prev = out[-1] if out else None
        # `-1` is a number; after `.` a property name such as `1st` is not
        if (c.isdigit() or c == "-" or (c == "." and i + 1 < n and text[i + 1].isdigit())) and not (
            prev is not None and prev.kind == "punct" and prev.text == "."
        ):
            m = _NUMBER.match(text, i)
            if m and not (m.end() < n and (text[m.end()].isalnum() or text[m.end()] in "_-")):
                s = m.group()
                value = float(int(s, 16)) if "x" in s.lower() else float(s)
                out.append(Token("number", s, i, m.end(), value))
                i = m.end()
                continue
        m = _IDENT.match(text, i)
        if m:
            out.append(Token("ident", m.group(), i, m.end()))
            i = m.end()
            continue
        for p in _PUNCT:
            if text.startswith(p, i):
                out.append(Token("punct", p, i, i + len(p)))
                i += len(p)
                break
        else:
            raise ExprSyntaxError(f"unexpected character {c!r}", i)
    out.append(Token("end", "", n, n))
    return out


_KEYWORDS: dict[str, None | bool | float] = {
    "null": None,
    "true": True,
    "false": False,
    "NaN": math.nan,
    "Infinity": math.inf,
}


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def next(self) -> Token:
        t = self.tokens[self.pos]
        self.pos += 1
        return t

    def accept(self, *texts: str) -> Token | None:
        t = self.peek()
        if t.kind == "punct" and t.text in texts:
            self.pos += 1
            return t
        return None

    def expect(self, text: str) -> Token:
        t = self.peek()
        if t.kind != "punct" or t.text != text:
            raise ExprSyntaxError(f"expected {text!r}, found {_show(t)}", t.start)
        self.pos += 1
        return t

    def _enter(self, at: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprSyntaxError(f"expression nests deeper than {MAX_DEPTH} levels", at)

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ExprSyntaxError("empty expression", 0)
        node = self.or_()
        t = self.peek()
        if t.kind != "end":
            raise ExprSyntaxError(f"unexpected {_show(t)} after the expression", t.start)
        return node

    def _binary_level(self, ops: tuple[str, ...], sub: str) -> Node:
        left: Node = getattr(self, sub)()
        while True:
            t = self.accept(*ops)
            if t is None:
                return left
            right: Node = getattr(self, sub)()
            left = Binary(t.text, left, right, left.start, right.end)

    def or_(self) -> Node:
        self._enter(self.peek().start)
        try:
            return self._binary_level(("||",), "and_")
        finally:
            self.depth -= 1

    def and_(self) -> Node:
        return self._binary_level(("&&",), "eq")

    def eq(self) -> Node:
        return self._binary_level(("==", "!="), "rel")

    def rel(self) -> Node:
        return self._binary_level(("<", "<=", ">", ">="), "unary")

    def unary(self) -> Node:
        t = self.accept("!")
        if t is not None:
            self._enter(t.start)
            try:
                operand = self.unary()
            finally:
                self.depth -= 1
            return Not(operand, t.start, operand.end)
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            if self.accept("."):
                t = self.next()
                if t.kind == "punct" and t.text == "*":
                    node = Star(node, node.start, t.end)
                elif t.kind == "ident":
                    node = Property(node, t.text, node.start, t.end)
                else:
                    raise ExprSyntaxError(f"expected a property name after '.', found {_show(t)}", t.start)
            elif self.accept("["):
                star = self.accept("*")
                if star is not None:
                    end = self.expect("]")
                    node = Star(node, node.start, end.end)
                    continue
                index = self.or_()
                end = self.expect("]")
                if isinstance(index, Literal) and isinstance(index.value, str):
                    node = Property(node, index.value, node.start, end.end)
                else:
                    node = Index(node, index, node.start, end.end)
            else:
                return node

    def primary(self) -> Node:
        t = self.next()
        if t.kind == "string":
            assert isinstance(t.value, str)
            return Literal(t.value, t.start, t.end)
        if t.kind == "number":
            assert isinstance(t.value, float)
            return Literal(t.value, t.start, t.end)
        if t.kind == "ident":
            if self.accept("("):
                return self.call(t)
            if t.text in _KEYWORDS:
                return Literal(_KEYWORDS[t.text], t.start, t.end)
            if t.text.lower() not in CONTEXTS:
                raise ExprSyntaxError(f"unrecognized named value {t.text!r}", t.start)
            return ContextName(t.text, t.start, t.end)
        if t.kind == "punct" and t.text == "(":
            inner = self.or_()
            self.expect(")")
            return inner
        if t.kind == "end":
            raise ExprSyntaxError("the expression ends where a value is expected", t.start)
        raise ExprSyntaxError(f"unexpected {_show(t)}", t.start)

    def call(self, name: Token) -> Node:
        fn = name.text.lower()
        if fn not in FUNCTIONS:
            raise ExprSyntaxError(f"unknown function {name.text!r}", name.start)
        args: list[Node] = []
        if not self.accept(")"):
            while True:
                args.append(self.or_())
                if self.accept(")"):
                    break
                self.expect(",")
        lo, hi = FUNCTIONS[fn]
        if len(args) < lo or (hi is not None and len(args) > hi):
            want = f"{lo}" if lo == hi else f"at least {lo}" if hi is None else f"{lo} to {hi}"
            raise ExprSyntaxError(f"{name.text}() takes {want} argument(s), {len(args)} given", name.start)
        if fn == "case" and len(args) % 2 == 0:
            raise ExprSyntaxError("case() takes predicate/value pairs and a default (an odd count)", name.start)
        end = self.tokens[self.pos - 1].end
        return Call(fn, tuple(args), name.start, end)


def _show(t: Token) -> str:
    return "the end of the expression" if t.kind == "end" else repr(t.text)


def parse(text: str) -> Node:
    """The syntax tree of one expression (the text between `${{` and `}}`)."""
    if len(text) > MAX_LENGTH:
        raise ExprSyntaxError(f"expression longer than {MAX_LENGTH} characters", 0)
    node = _Parser(text).parse()
    if _tree_depth(node) > MAX_TREE_DEPTH:
        raise ExprSyntaxError(f"expression too complex: more than {MAX_TREE_DEPTH} operators or accesses deep", 0)
    return node


def _tree_depth(node: Node) -> int:
    deepest = 0
    stack = [(node, 1)]
    while stack:
        n, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((c, d + 1) for c in children(n))
    return deepest


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One `${{ ... }}` in a string: offsets of `${{` and one past `}}`, and the inner text."""

    start: int
    end: int
    inner: str
    inner_start: int  # offset of the inner text in the string


def find(text: str) -> list[Occurrence]:
    """Every `${{ }}` in `text`. The closing `}}` is the first one outside a string literal,
    as GitHub's template reader finds it. Raises ExprSyntaxError for an unclosed one."""
    out: list[Occurrence] = []
    i = text.find("${{")
    while i >= 0:
        j = i + 3
        n = len(text)
        while j < n:
            c = text[j]
            if c == "'":
                k = text.find("'", j + 1)
                while k >= 0 and text.startswith("''", k):
                    k = text.find("'", k + 2)
                if k < 0:
                    j = n
                    break
                j = k + 1
                continue
            if c == "}" and text.startswith("}}", j):
                break
            j += 1
        if j >= n:
            raise ExprSyntaxError("the expression `${{` is never closed with `}}`", i)
        out.append(Occurrence(i, j + 2, text[i + 3 : j], i + 3))
        i = text.find("${{", j + 2)
    return out
