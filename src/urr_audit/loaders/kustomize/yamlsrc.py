"""YAML documents as plain data plus the line of every mapping key and sequence item.

ruamel's round-trip loader is the only parser that keeps positions; its output is converted
at once to plain dicts/lists so that nothing past this module sees ruamel types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

Path = tuple  # of str keys and int indices

# Composing nodes with the safe (non round-trip) parser keeps every position we need and
# skips ruamel's comment bookkeeping, which is most of the round-trip loader's cost. With
# ruamel.yaml.clib installed the scanner and parser run in C (about 6x faster on a repository
# of manifests); tags are still resolved by ruamel's Python resolver, so the data and lines
# are the same (tests/loaders/kustomize/test_yamlsrc.py compares both on every fixture).
_PURE = YAML(typ="safe", pure=True)
_YAML = YAML(typ="safe", pure=False)

# The C composer recurses on the C stack without Python's recursion check: a document nested
# tens of thousands of levels deep (`[[[[...`, `? ? ? ...` on one line) overflows it and kills
# the process (segmentation fault), and the pure-Python composer is quadratic in the depth of
# flow collections. Text that may nest deeper than this is refused before parsing, as a
# YamlError at the line where the bound is passed; converting nodes to plain data refuses
# documents deeper than Python's recursion limit (about 1000) anyway, so nothing readable is
# lost (found by tests/property).
MAX_DEPTH = 4000
_FLOW = re.compile(r"[\[\]{}]")
_LEADING_INDICATORS = re.compile(r"( *)((?:[-?:](?: +|$))*)")


def _too_deep(text: str, limit: int) -> int | None:
    """The line where an upper bound on node depth passes `limit`, None if it never does.
    The bound (linear, quotes and block scalars not excluded, so it can only overestimate):
    flow brackets open at once, plus twice (a block sequence may sit at its parent mapping's
    indentation) the most one line nests by indentation and leading `-`, `?`, `:` indicators."""
    if len(text) < limit:
        return None
    block_limit = limit // 2
    for number, line in enumerate(text.split("\n"), 1):
        m = _LEADING_INDICATORS.match(line)
        if m and len(m.group(1)) + m.group(2).count(" ") + 1 > block_limit:
            return number
    flow = 0
    for m in _FLOW.finditer(text):
        if m.group() in "[{":
            flow += 1
            if flow > block_limit:
                return text.count("\n", 0, m.start()) + 1
        elif flow:
            flow -= 1
    return None


@dataclass
class Doc:
    data: Any
    start: int  # 1-based first line of the document's content
    end: int  # 1-based last line
    lines: dict[Path, int] = field(default_factory=dict)  # path -> 1-based line

    def line(self, path: Path, default: int | None = None) -> int:
        """Line of `path`, else of its nearest written ancestor."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return default if default is not None else self.start


class YamlError(Exception):
    def __init__(self, message: str, line: int, docs: list[Doc] | None = None):
        super().__init__(message)
        self.line = line
        # the documents read before the error, so a caller can tell what kind of file it was
        self.docs = docs or []


_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


def _scalar(node: ScalarNode) -> Any:
    tag, value = node.tag, node.value
    if node.style or tag.endswith(":str"):  # plain style: None (pure parser) or "" (C parser)
        return value
    if tag.endswith(":null"):
        return None
    if tag.endswith(":bool"):
        return _BOOL.get(value, value)
    if tag.endswith(":int"):
        try:
            v = value.replace("_", "")
            if v.startswith(("0x", "-0x", "+0x")):
                return int(v, 16)
            if v.startswith(("0o", "-0o", "+0o")):
                return int(v, 8)
            return int(v)
        except ValueError:
            return value
    if tag.endswith(":float"):
        low = value.lower()
        if low in (".inf", "+.inf"):
            return float("inf")
        if low == "-.inf":
            return float("-inf")
        if low == ".nan":
            return float("nan")
        try:
            return float(value.replace("_", ""))
        except ValueError:
            return value
    return value


# Aliases are expanded into plain data; a document whose expansion dwarfs what is written
# (the "billion laughs" shape) is refused, as go-yaml refuses excessive aliasing in kustomize.
EXPANSION_ALLOWANCE = 100_000
EXPANSION_FACTOR = 10


def _distinct_nodes(root: Any) -> int:
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            stack.extend(n for pair in node.value for n in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return len(seen)


def _plain(node: Any, path: Path, lines: dict[Path, int], last: list[int], budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlError("excessive aliasing: the document expands far beyond what is written", node.start_mark.line + 1)
    if isinstance(node, MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node) if isinstance(key_node, ScalarNode) else str(key_node.value)
            if key == "<<" and key_node.tag.endswith(":merge") and isinstance(value_node, MappingNode):
                for k, v in _plain(value_node, path, {}, last, budget).items():
                    out.setdefault(k, v)
                continue
            ln = key_node.start_mark.line + 1
            if key in out:
                raise YamlError(f"duplicate key {key!r}", ln)
            sub = path + (key,)
            lines[sub] = ln
            last[0] = max(last[0], value_node.end_mark.line + (0 if value_node.end_mark.column == 0 else 1))
            out[key] = _plain(value_node, sub, lines, last, budget)
        return out
    if isinstance(node, SequenceNode):
        out_l = []
        for i, item in enumerate(node.value):
            sub = path + (i,)
            lines[sub] = item.start_mark.line + 1
            out_l.append(_plain(item, sub, lines, last, budget))
        return out_l
    return _scalar(node)


def load_docs(text: str, yaml: YAML | None = None) -> list[Doc]:
    """All non-empty documents of a YAML stream. Raises YamlError with the offending line."""
    docs: list[Doc] = []
    too_deep = _too_deep(text, MAX_DEPTH)
    if too_deep is not None:
        raise YamlError(f"nested deeper than {MAX_DEPTH // 2} levels; not read", too_deep, docs)
    text_lines = text.splitlines()
    separators = [i + 1 for i, ln in enumerate(text_lines) if ln.startswith("---") and ln[3:4] in ("", " ", "\t")]
    try:
        for node in (yaml or _YAML).compose_all(text):
            if node is None or (isinstance(node, ScalarNode) and node.tag.endswith(":null")):
                continue
            lines: dict[Path, int] = {}
            start = node.start_mark.line + 1
            last = [start]
            budget = [EXPANSION_ALLOWANCE + EXPANSION_FACTOR * _distinct_nodes(node)]
            data = _plain(node, (), lines, last, budget)
            end = _doc_end(text_lines, separators, start, last[0])
            docs.append(Doc(data=data, start=start, end=end, lines=lines))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlError(str(exc.problem or exc).strip(), line, docs) from exc
    except YamlError as exc:
        exc.docs = docs
        raise
    except YAMLError as exc:  # not marked: a character YAML forbids (NUL, control codes)
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else 1
        raise YamlError(str(exc).strip().splitlines()[0], line, docs) from exc
    except RecursionError as exc:  # an alias inside itself, or nesting deeper than Python's stack
        raise YamlError("document nests too deep (recursive alias?)", _line_of_doc(docs, separators), docs) from exc
    return docs


def _line_of_doc(docs: list[Doc], separators: list[int]) -> int:
    """First line of the document after `docs` (the one that failed)."""
    if not docs:
        return 1
    return next((sep + 1 for sep in separators if sep > docs[-1].end), docs[-1].end + 1)


def _doc_end(text_lines: list[str], separators: list[int], start: int, last_key: int) -> int:
    """Last meaningful line before the next `---` (block scalars run past their key's line)."""
    end = next((sep - 1 for sep in separators if sep > start), len(text_lines))
    while end > last_key:
        stripped = text_lines[end - 1].strip()
        if stripped and not stripped.startswith("#") and stripped != "...":
            break
        end -= 1
    return max(end, last_key)
