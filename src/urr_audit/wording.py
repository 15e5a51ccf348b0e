"""Values written as people write them in messages and docs: `v*`, `prod, production`, `true`,
never a Python repr (`['v*']`, `True`)."""

from __future__ import annotations

from collections.abc import Iterable


def listed(names: Iterable[str], limit: int = 4) -> str:
    """`a, b, c and 2 more`, in the order given, duplicates dropped."""
    items = list(dict.fromkeys(names))
    if len(items) <= limit:
        return ", ".join(items)
    return f"{', '.join(items[:limit])} and {len(items) - limit} more"


def flow(value: object) -> str:
    """A scalar, list or mapping in YAML flow style: `true`, `null`, `[a, b]`, `{k: v}`; a string
    as it is (quoted only when empty)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{flow(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return str(value)


def value_text(value: object, code: bool = False) -> str:
    """A param value in a sentence: a list as its items (`prod, production`), a mapping as
    `key: value` pairs, `none` when empty; `code` puts each item in backticks (markdown)."""

    def item(text: str) -> str:
        return f"`{text}`" if code else text

    if isinstance(value, dict):
        return ", ".join(item(f"{flow(k)}: {flow(v)}") for k, v in value.items()) or "none"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(item(flow(v)) for v in value) or "none"
    return item(flow(value))
