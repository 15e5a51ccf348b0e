"""The configuration file and the scan root, found as ruff and git find theirs.

A configuration is `[tool.urr-audit]` in `pyproject.toml`, or the top level of
`.urr-audit.toml` / `urr-audit.toml`. The scan root is the nearest enclosing directory holding
one, else the git work tree, else the given path. Every key is validated: an unknown key or a
bad value is a `ConfigError` naming the file and line (exit code 2).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_FILES = (".urr-audit.toml", "urr-audit.toml", "pyproject.toml")
SEVERITIES = ("critical", "high", "medium", "low", "info")
FAIL_ON = (*SEVERITIES, "none")


class ConfigError(Exception):
    """A configuration that cannot be used: exit code 2."""


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass
class Config:
    """What a configuration file says; every field is optional (None / empty: not set)."""

    path: Path | None = None  # the file it came from
    select: list[str] | None = None
    ignore: list[str] | None = None
    per_path_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    fail_on: str | None = None
    min_severity: str | None = None
    rules: list[Path] = field(default_factory=list)  # resolved against the file's directory
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # rule id (upper case) -> params
    severity: dict[str, str] = field(default_factory=dict)  # rule id (upper case) -> severity
    baseline: Path | None = None
    _text: str = ""
    _prefix: tuple[str, ...] = ()

    def where(self, *keys: str) -> str:
        """`file:line` of a key (a path of table names then the key), for error messages."""
        if self.path is None:
            return "command line"
        return f"{self.path}:{_line_of(self._text, (*self._prefix, *keys))}"


# --- finding the root ------------------------------------------------------------------


def _has_config(d: Path) -> Path | None:
    for name in CONFIG_FILES:
        p = d / name
        if not p.is_file():
            continue
        if name != "pyproject.toml":
            return p
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            # A broken pyproject.toml of a Python project is not ours to judge; a broken
            # `[tool.urr-audit]` table is reported when the file is ours (see load_config).
            if "[tool.urr-audit" in p.read_text(encoding="utf-8", errors="replace"):
                return p
            continue
        if isinstance(data.get("tool"), dict) and "urr-audit" in data["tool"]:
            return p
    return None


def git_work_tree(start: Path) -> Path | None:
    """The nearest enclosing directory holding `.git` (a directory, or a file in a worktree or
    submodule). Found by looking, never by running git."""
    for d in (start, *start.parents):
        if (d / ".git").exists():
            return d
    return None


def find_root(start: Path) -> tuple[Path, Path | None]:
    """(root, config file or None) for a scan started at directory `start` (absolute)."""
    top = git_work_tree(start)
    # Within a git work tree, a configuration above it belongs to another project.
    for d in (start, *start.parents):
        found = _has_config(d)
        if found is not None:
            return d, found
        if top is not None and d == top:
            break
    return (top or start), None


# --- reading ----------------------------------------------------------------------------

_KNOWN = {
    "select": "list of rule ids or prefixes",
    "ignore": "list of rule ids or prefixes",
    "per-path-ignores": "table: glob -> list of rule ids or prefixes",
    "exclude": "list of globs",
    "fail-on": "one of " + ", ".join(FAIL_ON),
    "min-severity": "one of " + ", ".join(SEVERITIES),
    "rules": "list of directories of rule YAML files",
    "params": "table: rule id -> table of params",
    "severity": "table: rule id -> severity",
    "baseline": "path of a baseline file",
}


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = m.group(1) if m else (str(text.count("\n") + 1) if "end of document" in str(exc) else "1")
        reason = str(exc)[: m.start()].strip() if m else str(exc)
        raise ConfigError(f"{path}:{line}: not valid TOML: {reason}") from exc
    prefix: tuple[str, ...] = ()
    if path.name == "pyproject.toml":
        prefix = ("tool", "urr-audit")
        data = data.get("tool", {}).get("urr-audit", {})
    cfg = Config(path=path, _text=text, _prefix=prefix)
    if not isinstance(data, dict):
        raise ConfigError(f"{cfg.where()}: [tool.urr-audit] must be a table")
    for key, value in data.items():
        if key not in _KNOWN:
            hint = did_you_mean(key, list(_KNOWN))
            raise ConfigError(f"{cfg.where(key)}: unknown key {key!r}{hint}; known keys: {', '.join(_KNOWN)}")
        _set(cfg, key, value, path.parent)
    return cfg


def _bad(cfg: Config, key: str, value: Any, *sub: str) -> ConfigError:
    return ConfigError(f"{cfg.where(key, *sub)}: {key}: {value!r} is not a {_KNOWN[key]}")


def _strings(cfg: Config, key: str, value: Any, *sub: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _bad(cfg, key, value, *sub)
    return [v.strip() for v in value]


def _choice(cfg: Config, key: str, value: Any, choices: Sequence[str], *sub: str) -> str:
    if not isinstance(value, str) or value.lower() not in choices:
        hint = did_you_mean(str(value).lower(), choices)
        raise ConfigError(f"{cfg.where(key, *sub)}: {key}: {value!r} is not one of {', '.join(choices)}{hint}")
    return value.lower()


def _set(cfg: Config, key: str, value: Any, base: Path) -> None:
    if key in ("select", "ignore"):
        setattr(cfg, key, _strings(cfg, key, value))
    elif key == "exclude":
        cfg.exclude = _strings(cfg, key, value)
    elif key == "rules":
        cfg.rules = [(base / d).resolve() for d in _strings(cfg, key, value)]
    elif key == "baseline":
        if not isinstance(value, str) or not value:
            raise _bad(cfg, key, value)
        cfg.baseline = (base / value).resolve()
    elif key == "fail-on":
        cfg.fail_on = _choice(cfg, key, value, FAIL_ON)
    elif key == "min-severity":
        cfg.min_severity = _choice(cfg, key, value, SEVERITIES)
    elif key == "per-path-ignores":
        if not isinstance(value, dict):
            raise _bad(cfg, key, value)
        cfg.per_path_ignores = {glob: _strings(cfg, key, ids, glob) for glob, ids in value.items()}
    elif key == "severity":
        if not isinstance(value, dict):
            raise _bad(cfg, key, value)
        cfg.severity = {rid.upper(): _choice(cfg, key, sev, SEVERITIES, rid) for rid, sev in value.items()}
    elif key == "params":
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise _bad(cfg, key, value)
        cfg.params = {rid.upper(): dict(v) for rid, v in value.items()}


# --- line numbers -------------------------------------------------------------------------
# tomllib keeps no positions; configuration files are short, so the line of a key is found by
# reading the table headers and key names again.

_HEADER = re.compile(r"^\s*\[\[?\s*(.+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)""")


def _dotted(text: str) -> tuple[str, ...]:
    parts, cur, quote = [], "", ""
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
            else:
                cur += ch
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return tuple(parts)


def _line_of(text: str, keys: tuple[str, ...]) -> int:
    """Best line for `keys` (table names, then a key): the key's line in its table (or in a
    parent table as a dotted key), else the table header, else 1."""
    best = 1
    table: tuple[str, ...] = ()
    for n, line in enumerate(text.splitlines(), 1):
        h = _HEADER.match(line)
        if h and not line.lstrip().startswith("#"):
            table = _dotted(h.group(1))
            if table == keys or keys[: len(table)] == table and best == 1:
                best = n
            continue
        if keys[: len(table)] != table or len(keys) <= len(table):
            continue
        m = _KEY.match(line)
        if m and "=" in line[m.end() :].lstrip()[:1]:
            dotted = _dotted(line[: line.index("=")].strip())
            rest = keys[len(table) :]
            if dotted[: len(rest)] == rest or rest[: len(dotted)] == dotted:
                return n
    return best
