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


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _yaml() -> YAML:
    y = YAML(typ="safe", pure=True)
    y.Representer = _Representer
    y.default_flow_style = False
    y.width = 1 << 16
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
