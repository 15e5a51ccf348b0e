"""YAML output shaped like `kustomize build`: sorted keys, block style, `---` between documents."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.representer import SafeRepresenter

from urr_audit.model.kubernetes import K8sObject


class _Representer(SafeRepresenter):
    pass


def _str(representer: SafeRepresenter, data: str) -> Any:
    style = "|" if "\n" in data and not any(ch in data for ch in "\r\t") and data == data.rstrip(" ") else None
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
