"""From a positioned YAML document to located model values: spans, `Scalar`s and their
expressions (`Expr`) with exact line and column, parse errors as `LoadError`s.

Locating an expression: the k-th `${{` of a scalar's value is the k-th `${{` of the scalar's
source text (the raw file between the node's start and end marks), whatever the YAML style:
plain, quoted, literal `|` or folded `>` block. When the counts differ (an escaped `$` in a
double-quoted string) the expression takes the scalar's own position.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from urr_audit.loaders.workflows.expressions import ExprSyntaxError, find, parse
from urr_audit.loaders.workflows.yamlpos import Path, Pos, PosDoc
from urr_audit.model.common import LoadError, Span
from urr_audit.model.gha_expr import Node, calls, refs, value_refs
from urr_audit.model.workflows import Condition, ContextRef, Expr, Scalar

_OPENER = re.compile(r"\$\{\{")
MISSING = object()


@lru_cache(maxsize=4096)
def parse_cached(text: str) -> Node:
    """Workflows repeat the same expressions (`${{ env.X }}`, `${{ inputs.y }}`); a tree is
    immutable, so one parse serves all."""
    return parse(text)


class Located:
    """A file's document with helpers that turn paths into located model values."""

    def __init__(self, file: str, doc: PosDoc, errors: list[LoadError]):
        self.file = file
        self.doc = doc
        self.errors = errors
        self.n_lines = doc.text.count("\n") + 1

    # --- raw access -------------------------------------------------------------------------
    def get(self, path: Path, default: Any = None) -> Any:
        node = self.doc.data
        for p in path:
            if (
                isinstance(node, dict)
                and p in node
                or isinstance(node, list)
                and isinstance(p, int)
                and 0 <= p < len(node)
            ):
                node = node[p]
            else:
                return default
        return node

    def span(self, path: Path) -> Span:
        """From the key (or item) line to the value's last line."""
        pos = self.doc.at(path)
        if pos is None:
            line = self.doc.line(path)
            return Span(path=self.file, line=line, end_line=line)
        end = pos.end_line if pos.end_column > 1 else pos.end_line - 1
        return Span(path=self.file, line=pos.key_line, end_line=max(end, pos.key_line))

    def value_span(self, pos: Pos) -> Span:
        end = pos.end_line if pos.end_column > 1 else pos.end_line - 1
        return Span(path=self.file, line=pos.line, end_line=max(end, pos.line))

    def error(self, line: int, message: str, kind: str = "workflows.expression", column: int | None = None) -> None:
        where = f" (column {column})" if column else ""
        self.errors.append(LoadError(kind=kind, path=self.file, line=line, message=message + where))

    # --- scalars ----------------------------------------------------------------------------
    def scalar(self, path: Path, value: Any = MISSING) -> Scalar | None:
        """The value at `path` as a `Scalar` (None when absent). Mappings and sequences keep
        their plain value; their expressions are collected from every string inside."""
        if value is MISSING:
            value = self.get(path, MISSING)
            if value is MISSING:
                return None
        pos = self.doc.at(path)
        if pos is None:
            line = self.doc.line(path)
            return Scalar(value=value, span=Span(path=self.file, line=line, end_line=line))
        exprs = self.exprs_under(path, value)
        return Scalar(value=value, span=self.value_span(pos), column=pos.column, exprs=exprs, style=pos.style)

    def exprs_under(self, path: Path, value: Any) -> tuple[Expr, ...]:
        if isinstance(value, str):
            pos = self.doc.at(path)
            return self.exprs(value, pos) if pos is not None and "${{" in value else ()
        out: list[Expr] = []
        if isinstance(value, dict):
            for k, v in value.items():
                out.extend(self.exprs_under((*path, k), v))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                out.extend(self.exprs_under((*path, i), v))
        return tuple(out)

    def exprs(self, text: str, pos: Pos) -> tuple[Expr, ...]:
        try:
            occurrences = find(text)
        except ExprSyntaxError as exc:
            line, col = self._approx(text, pos, exc.offset)
            self.error(line, f"invalid expression: {exc.message}", column=col)
            return ()
        if not occurrences:
            return ()
        region, base = self.doc.source(pos)
        src = [m.start() for m in _OPENER.finditer(region)]
        aligned = len(src) == len(occurrences)
        out: list[Expr] = []
        for k, occ in enumerate(occurrences):
            if aligned:
                at = base + src[k]
                exact = region[src[k] + 3 : src[k] + 3 + len(occ.inner)] == occ.inner
            else:
                at = self.doc.offset(pos.line, pos.column)
                exact = False
            expr = self._expr(occ.inner, at, at + 3 if exact else None, at + (occ.end - occ.start) if exact else at)
            if expr is not None:
                out.append(expr)
        return tuple(out)

    def _approx(self, text: str, pos: Pos, offset: int) -> tuple[int, int]:
        """Position of an offset in the value, exact for single-line scalars and literal blocks."""
        region, base = self.doc.source(pos)
        snippet = text[offset : offset + 12]
        i = region.find(snippet) if snippet else -1
        if i >= 0:
            return self.doc.line_col(base + i)
        return pos.line, pos.column

    def _expr(self, inner: str, at: int, inner_at: int | None, end: int, bare: bool = False) -> Expr | None:
        line, col = self.doc.line_col(at)
        try:
            node = parse_cached(inner)
        except ExprSyntaxError as exc:
            eline, ecol = self.doc.line_col(inner_at + exc.offset) if inner_at is not None else (line, col)
            shown = inner.strip()
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            self.error(eline, f"invalid expression `{shown}`: {exc.message}", column=ecol)
            return None
        located = []
        flowing = {(r.start, r.end) for r in value_refs(node)}
        for r in refs(node):
            rl, rc = self.doc.line_col(inner_at + r.start) if inner_at is not None else (line, col)
            located.append(
                ContextRef(
                    parts=r.parts,
                    dynamic=r.dynamic,
                    line=rl,
                    column=rc,
                    reaches_value=(r.start, r.end) in flowing,
                )
            )
        end_line, end_col = self.doc.line_col(end)
        return Expr(
            text=inner.strip(),
            node=node,
            span=Span(path=self.file, line=line, end_line=max(line, end_line)),
            column=col,
            end_line=end_line,
            end_column=end_col,
            bare=bare,
            refs=tuple(located),
            calls=tuple(calls(node)),
        )

    def condition(self, path: Path) -> Condition | None:
        """An `if:`: a bare expression, one `${{ }}`, or a literal. A value mixing text and
        `${{ }}` is a string (always truthy when non-empty): `expr` is None, the scalar keeps
        its expressions."""
        scalar = self.scalar(path)
        if scalar is None:
            return None
        v = scalar.value
        if not isinstance(v, str):
            return Condition(scalar=scalar)
        stripped = v.strip()
        if "${{" in v:
            if scalar.is_expression and scalar.exprs:
                return Condition(scalar=scalar, expr=scalar.exprs[0])
            return Condition(scalar=scalar)
        pos = self.doc.at(path)
        if pos is None or not stripped:
            return Condition(scalar=scalar)
        region, base = self.doc.source(pos)
        i = region.find(stripped)
        at = base + i if i >= 0 else self.doc.offset(pos.line, pos.column)
        expr = self._expr(stripped, at, at if i >= 0 else None, at + len(stripped) if i >= 0 else at, bare=True)
        return Condition(scalar=scalar, expr=expr)

    def locate(self, path: Path, needle: str, cursor: int = 0) -> tuple[int, int, int]:
        """(line, column, offset past it) of `needle` in the source of the value at `path`
        after `cursor` (an offset returned by an earlier call); the value's start if absent."""
        pos = self.doc.at(path)
        if pos is None:
            line = self.doc.line(path)
            return line, 1, cursor
        region, base = self.doc.source(pos)
        start = max(cursor - base, 0)
        i = region.find(needle, start) if needle else -1
        if i < 0:
            return pos.line, pos.column, cursor
        line, col = self.doc.line_col(base + i)
        return line, col, base + i + len(needle)
