"""configMapGenerator / secretGenerator, and kustomize's content hash name suffix."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass
class KvSource:
    """One key=value pair and where it was written."""

    key: str
    value: str
    path: str
    line: int


@dataclass
class KvProblem:
    kind: str
    message: str
    path: str
    line: int
    level: Literal["error", "note"] = "error"


@dataclass
class KvResult:
    pairs: list[KvSource] = field(default_factory=list)
    problems: list[KvProblem] = field(default_factory=list)


def parse_env_file(text: str, path: str) -> KvResult:
    """KEY=VALUE lines as kustomize reads `envs:` files (no quote stripping, `#` comments).

    A line without `=` is a key whose value kustomize would take from its build environment:
    `kubectl kustomize` (kustomize v5.5) gives it an empty value whatever the environment
    holds, and so does this parser, with a note saying the value may differ elsewhere."""
    out = KvResult()
    seen: dict[str, int] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.lstrip()
        if n == 1:
            line = line.lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            key, value = line, ""
            if key.strip() and not any(c.isspace() for c in key) and key not in seen:
                out.problems.append(
                    KvProblem(
                        "kustomize.env-without-value",
                        f"{key!r} has no '=': kubectl kustomize renders it empty; a kustomize that reads "
                        "its build environment would take the value from there",
                        path,
                        n,
                        level="note",
                    )
                )
        else:
            key, value = line.split("=", 1)
        if key in seen:
            out.problems.append(
                KvProblem(
                    "kustomize.duplicate-key",
                    f"key {key!r} already defined on line {seen[key]}: kustomize refuses duplicate keys",
                    path,
                    n,
                )
            )
            continue
        if not key or any(c.isspace() for c in key):
            out.problems.append(KvProblem("kustomize.invalid", f"invalid key {key!r}", path, n))
            continue
        seen[key] = n
        out.pairs.append(KvSource(key, value, path, n))
    return out


def parse_literal(literal: str) -> tuple[str, str] | None:
    if "=" not in literal:
        return None
    key, value = literal.split("=", 1)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return key, value


def encode_secret_value(value: str) -> str:
    """kyaml's encodeBase64: wrapped at 70 columns, every line ending in \\n once wrapped."""
    enc = base64.b64encode(value.encode("utf-8")).decode("ascii")
    if len(enc) < 70:
        return enc
    return "".join(enc[i : i + 70] + "\n" for i in range(0, len(enc), 70))


def _go_json(value: Any) -> str:
    """json.Marshal's output: sorted keys, no spaces, HTML-safe escapes, lowercase \\u00xx."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
        .replace("\\b", "\\u0008")
        .replace("\\f", "\\u000c")
    )


def _encode_hash(hex_digest: str) -> str:
    # kustomize's encodeHash: drop vowels-ish characters that could spell words.
    table = str.maketrans({"0": "g", "1": "h", "3": "k", "a": "m", "e": "t"})
    return hex_digest[:10].translate(table)


def content_hash(body: dict) -> str:
    """kustomize's hasher.HashRNode.

    Its field lookup asks for a single field literally named "metadata/name", which never
    exists: the name always hashes as "" and absent maps as "". Reproduced on purpose so
    names agree with `kustomize build`.
    """
    kind = body.get("kind")

    def field_value(key: str) -> Any:
        v = body.get(key)
        if v is None:
            return ""
        return v if isinstance(v, dict) else str(v)

    if kind == "ConfigMap":
        m: dict[str, Any] = {"kind": "ConfigMap", "name": "", "data": field_value("data")}
        if isinstance(body.get("binaryData"), dict):
            m["binaryData"] = body["binaryData"]
    elif kind == "Secret":
        m = {"kind": "Secret", "type": field_value("type"), "name": "", "data": field_value("data")}
        if isinstance(body.get("stringData"), dict):
            m["stringData"] = body["stringData"]
    else:
        m = body
    return _encode_hash(hashlib.sha256(_go_json(m).encode("utf-8")).hexdigest())
