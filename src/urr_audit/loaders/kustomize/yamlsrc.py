"""YAML documents as plain data plus the line of every mapping key and sequence item.

ruamel's round-trip loader is the only parser that keeps positions; its output is converted
at once to plain dicts/lists so that nothing past this module sees ruamel types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

Path = tuple  # of str keys and int indices

_YAML = YAML(typ="rt")
_YAML.allow_duplicate_keys = False


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
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


def _plain(node: Any, path: Path, lines: dict[Path, int], last: list[int]) -> Any:
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            try:
                ln = node.lc.key(key)[0] + 1
            except (KeyError, TypeError):
                ln = None
            k = key if isinstance(key, str) else _scalar(key)
            sub = path + (k,)
            if ln is not None:
                lines[sub] = ln
                last[0] = max(last[0], ln)
            out[k] = _plain(value, sub, lines, last)
        return out
    if isinstance(node, CommentedSeq):
        out_l = []
        for i, value in enumerate(node):
            try:
                ln = node.lc.item(i)[0] + 1
            except (KeyError, TypeError, IndexError):
                ln = None
            sub = path + (i,)
            if ln is not None:
                lines[sub] = ln
                last[0] = max(last[0], ln)
            out_l.append(_plain(value, sub, lines, last))
        return out_l
    return _scalar(node)


def _scalar(v: Any) -> Any:
    # ruamel's scalar subclasses (ScalarFloat, LiteralScalarString, ...) -> builtins
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, str):
        return str(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v)
    return str(v) if not isinstance(v, (list, dict)) else v


def load_docs(text: str) -> list[Doc]:
    """All non-empty documents of a YAML stream. Raises YamlError with the offending line."""
    docs: list[Doc] = []
    text_lines = text.splitlines()
    separators = [i + 1 for i, ln in enumerate(text_lines) if ln.startswith("---") and ln[3:4] in ("", " ", "\t")]
    try:
        for raw in _YAML.load_all(text):
            if raw is None:
                continue
            lines: dict[Path, int] = {}
            start = _first_line(raw)
            last = [start]
            data = _plain(raw, (), lines, last)
            end = _doc_end(text_lines, separators, start, last[0])
            docs.append(Doc(data=data, start=start, end=end, lines=lines))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlError(str(exc.problem or exc).strip(), line) from exc
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. DuplicateKeyFutureWarning)
        raise YamlError(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, 1) from exc
    return docs


def _first_line(raw: Any) -> int:
    lc = getattr(raw, "lc", None)
    if lc is not None and lc.line is not None:
        return lc.line + 1
    return 1


def _doc_end(text_lines: list[str], separators: list[int], start: int, last_key: int) -> int:
    """Last meaningful line before the next `---` (block scalars run past their key's line)."""
    end = next((sep - 1 for sep in separators if sep > start), len(text_lines))
    while end > last_key:
        stripped = text_lines[end - 1].strip()
        if stripped and not stripped.startswith("#") and stripped != "...":
            break
        end -= 1
    return max(end, last_key)
