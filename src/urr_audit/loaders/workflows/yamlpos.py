"""A workflow file as plain data plus the position of every key and value.

Workflows need more than `loaders.kustomize.yamlsrc` keeps (the line of each key): expressions
are located by line and column inside their scalar, including `run: |` block scalars, so every
node's start and end (line, column) and style are recorded. The scalar conversion, the alias
budget against "billion laughs" documents and the error type are `yamlsrc`'s.

YAML 1.1 reads a bare `on` as the boolean true; ruamel reads YAML 1.2 by default (where `on` is a
string), and a `True` key is mapped back to "on" anyway for files that declare `%YAML 1.1`.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from urr_audit.loaders.kustomize.yamlsrc import (
    _YAML,
    EXPANSION_ALLOWANCE,
    EXPANSION_FACTOR,
    YamlError,
    _distinct_nodes,
    _scalar,
)

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Pos:
    """Where a node is written. Lines and columns are 1-based; `end_*` is one past the node.
    `key_line`/`key_column`: the mapping key (or `-` of a sequence item) the node belongs to."""

    line: int
    column: int
    end_line: int
    end_column: int
    key_line: int
    key_column: int
    style: str | None  # scalars: None plain, "'", '"', "|", ">"
    is_scalar: bool


@dataclass
class PosDoc:
    data: Any
    text: str
    pos: dict[Path, Pos] = field(default_factory=dict)
    _line_starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        starts = [0]
        for i, ch in enumerate(self.text):
            if ch == "\n":
                starts.append(i + 1)
        self._line_starts = starts

    def at(self, path: Path) -> Pos | None:
        return self.pos.get(tuple(path))

    def line(self, path: Path) -> int:
        """Line of the key of `path`, else of its nearest written ancestor."""
        p = tuple(path)
        while p:
            hit = self.pos.get(p)
            if hit is not None:
                return hit.key_line
            p = p[:-1]
        return 1

    def offset(self, line: int, column: int) -> int:
        """Character offset of a 1-based (line, column)."""
        if line - 1 >= len(self._line_starts):
            return len(self.text)
        return min(self._line_starts[line - 1] + column - 1, len(self.text))

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        i = bisect_right(self._line_starts, offset) - 1
        return i + 1, offset - self._line_starts[i] + 1

    def source(self, p: Pos) -> tuple[str, int]:
        """The raw text of a node and the offset where it starts."""
        a = self.offset(p.line, p.column)
        b = self.offset(p.end_line, p.end_column)
        return self.text[a:b], a


def _pos(node: Any, key: Any) -> Pos:
    s, e = node.start_mark, node.end_mark
    k = key.start_mark if key is not None else s
    return Pos(
        line=s.line + 1,
        column=s.column + 1,
        end_line=e.line + 1,
        end_column=e.column + 1,
        key_line=k.line + 1,
        key_column=k.column + 1,
        style=(node.style or None) if isinstance(node, ScalarNode) else None,
        is_scalar=isinstance(node, ScalarNode),
    )


# Workflows nest a dozen levels; far deeper input would only exhaust the recursion of the
# code that walks it later (schema validation, expression collection).
MAX_NESTING = 64


def _plain(node: Any, path: Path, out: dict[Path, Pos], budget: list[int]) -> Any:
    if len(path) > MAX_NESTING:
        raise YamlError(f"the document nests deeper than {MAX_NESTING} levels", node.start_mark.line + 1)
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlError("excessive aliasing: the document expands far beyond what is written", node.start_mark.line + 1)
    if isinstance(node, MappingNode):
        d: dict[Any, Any] = {}
        merged_keys: set[Any] = set()  # keys from `<<:` merges, which explicit keys override
        for key_node, value_node in node.value:
            key = _scalar(key_node) if isinstance(key_node, ScalarNode) else str(key_node.value)
            if key is True:
                key = "on"  # YAML 1.1 `on:` read as a boolean
            if key == "<<" and key_node.tag.endswith(":merge") and isinstance(value_node, (MappingNode, SequenceNode)):
                merged = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for m in merged:
                    sub_pos: dict[Path, Pos] = {}
                    sub = _plain(m, path, sub_pos, budget)
                    if not isinstance(sub, dict):
                        continue
                    for k, v in sub.items():
                        if k in d:
                            continue
                        d[k] = v
                        merged_keys.add(k)
                        n = len(path)
                        for p, ps in sub_pos.items():
                            if len(p) > n and p[n] == k:
                                out.setdefault(p, ps)
                continue
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                key = str(key)
            if key in merged_keys:
                merged_keys.discard(key)
                n = len(path)
                for p in [p for p in out if len(p) > n and p[:n] == path and p[n] == key]:
                    del out[p]
                del d[key]
            if key in d:
                raise YamlError(f"duplicate key {key!r}", key_node.start_mark.line + 1)
            sub_path = path + (key if isinstance(key, str) else str(key),)
            out[sub_path] = _pos(value_node, key_node)
            d[sub_path[-1]] = _plain(value_node, sub_path, out, budget)
        return d
    if isinstance(node, SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            sub_path = path + (i,)
            out[sub_path] = _pos(item, None)
            items.append(_plain(item, sub_path, out, budget))
        return items
    return _scalar(node)


def load(text: str) -> PosDoc:
    """The file's single document with positions. An empty file gives `data=None`. Raises
    `YamlError` (with the offending line) for invalid YAML, several documents, or aliasing
    that expands far beyond what is written."""
    try:
        nodes = [n for n in _YAML.compose_all(text) if n is not None]
        if len(nodes) > 1:
            raise YamlError(
                "a workflow file holds one YAML document, this one holds several", nodes[1].start_mark.line + 1
            )
        doc = PosDoc(data=None, text=text)
        if not nodes:
            return doc
        node = nodes[0]
        budget = [EXPANSION_ALLOWANCE + EXPANSION_FACTOR * _distinct_nodes(node)]
        doc.pos[()] = _pos(node, None)
        doc.data = _plain(node, (), doc.pos, budget)
        return doc
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        last = len(text.rstrip().splitlines())
        if exc.context_mark is not None and (mark is None or mark.line + 1 > last):
            # found at the end of the file (an unclosed quote or bracket): where it was opened
            mark = exc.context_mark
        where = f" ({exc.context} at line {exc.context_mark.line + 1})" if exc.context and exc.context_mark else ""
        problem = str(exc.problem or exc).strip()
        raise YamlError(problem + where, mark.line + 1 if mark is not None else 1) from exc
    except YamlError:
        raise
    except YAMLError as exc:
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else 1
        raise YamlError(str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid YAML", line) from exc
    except RecursionError as exc:
        raise YamlError("document nests too deep (recursive alias?)", 1) from exc
