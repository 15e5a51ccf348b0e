"""YAML output shaped like `kustomize build`: sorted keys, block style, `---` between documents."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.emitter import Emitter
from ruamel.yaml.representer import SafeRepresenter

from urr_audit.model.kubernetes import K8sObject


class _Representer(SafeRepresenter):
    pass


# go-yaml v3 (what kustomize prints with) quotes a string whose plain form would read as
# another type under its resolver: YAML 1.2 core types, timestamps, and YAML 1.1's extra
# booleans and base-60 floats; it uses double quotes for those, a literal block for multi-line
# strings, and plain style otherwise (the emitter falls back to single quotes where plain
# style is impossible, as ruamel's does).
_GO_OLD_BOOL = frozenset(
    [
        "y",
        "Y",
        "yes",
        "Yes",
        "YES",
        "n",
        "N",
        "no",
        "No",
        "NO",
        "on",
        "On",
        "ON",
        "off",
        "Off",
        "OFF",
        "true",
        "True",
        "TRUE",
        "false",
        "False",
        "FALSE",
    ]
)
_GO_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_GO_SPECIAL_FLOAT = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$")
_GO_BASE60 = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_GO_INT = re.compile(r"^[-+]?(?:0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)$")
_GO_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?$")
_GO_TIMESTAMP = re.compile(
    r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
    r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$"
)


def _go_needs_quotes(s: str) -> bool:
    return bool(
        s in _GO_NULL
        or s in _GO_OLD_BOOL
        or _GO_SPECIAL_FLOAT.match(s)
        or _GO_BASE60.match(s)
        or _GO_INT.match(s)
        or _GO_FLOAT.match(s)
        or _GO_TIMESTAMP.match(s)
    )


def _str(representer: SafeRepresenter, data: str) -> Any:
    # libyaml's choice (go-yaml's emitter), decided here: ruamel's own differs in two places
    # (it prefers double quotes for a string holding `'`, and always allows a literal block).
    emitter: Emitter = representer.dumper.emitter  # type: ignore[attr-defined]
    analysis = emitter.analyze_scalar(data)
    style: str | None
    if "\n" in data:
        style = "|" if analysis.allow_block else '"'
    elif _go_needs_quotes(data):
        style = '"'
    elif analysis.allow_block_plain:
        style = None
    else:
        style = "'" if analysis.allow_single_quoted else '"'
    return representer.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Representer.add_representer(str, _str)


class _GoEmitter(Emitter):
    """ruamel's emitter with libyaml's folding of plain scalars (go-yaml's too): break at a
    single space once the column is past the width. ruamel breaks one word earlier when the
    next word would cross it, and leaves the space at the end of the line."""

    def write_plain(self, text: Any, split: Any = True) -> None:
        if self.root_context:
            self.open_ended = True
        if not text:
            return
        if not self.whitespace:
            self.column += 1
            self.stream.write(" ")
        self.whitespace = False
        self.indention = False
        spaces = breaks = False
        start = end = 0
        while end <= len(text):
            ch = text[end] if end < len(text) else None
            if spaces:
                if ch != " ":
                    if start + 1 == end and self.column > self.best_width and split:
                        self.write_indent()
                        self.whitespace = False
                        self.indention = False
                    else:
                        self.column += end - start
                        self.stream.write(text[start:end])
                    start = end
            elif breaks:
                if ch not in "\n\x85\u2028\u2029":
                    if text[start] == "\n":
                        self.write_line_break()
                    for br in text[start:end]:
                        self.write_line_break(None if br == "\n" else br)
                    self.write_indent()
                    self.whitespace = False
                    self.indention = False
                    start = end
            elif ch is None or ch in " \n\x85\u2028\u2029":
                self.column += end - start
                self.stream.write(text[start:end])
                start = end
            if ch is not None:
                spaces = ch == " "
                breaks = ch in "\n\x85\u2028\u2029"
            end += 1


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _yaml() -> YAML:
    y = YAML(typ="safe", pure=True)
    y.Representer = _Representer
    y.Emitter = _GoEmitter
    y.default_flow_style = False
    y.width = 80  # go-yaml's best_width: kustomize folds long plain and quoted strings there
    y.indent(mapping=2, sequence=2, offset=0)
    return y


def to_yaml_stream(objects: Iterable[K8sObject | dict]) -> str:
    y = _yaml()
    parts = []
    for obj in objects:
        body = obj.body if isinstance(obj, K8sObject) else obj
        buf = io.StringIO()
        y.dump(_sorted(body), buf)
        parts.append(buf.getvalue())
    return "---\n".join(parts)
