"""Helpers shared by the workflow security checks: walking steps with their job, matching
action names against patterns, locating a line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fnmatch import fnmatchcase
from functools import lru_cache

from urr_audit.model.common import Span
from urr_audit.model.workflows import Action, Job, Scalar, Step, Workflow


def steps_of(node: Workflow | Action) -> Iterator[tuple[Job | None, Step]]:
    """Every step of a workflow (with its job) or of a composite action (job None)."""
    if isinstance(node, Action):
        for step in node.steps:
            yield None, step
        return
    for job in node.jobs.values():
        for step in job.steps:
            yield job, step


def line(path: str, n: int) -> Span:
    return Span(path=path, line=n, end_line=n)


def matches(name: str, patterns: Iterable[str]) -> bool:
    """`owner/repo[/path]` (lower-cased) against patterns: `owner/*`, `owner/repo`, `*`; an
    owner alone (`actions`) matches all its repositories."""
    return _matches(name.lower(), tuple(patterns))


@lru_cache(maxsize=8192)
def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    owner = name.split("/", 1)[0]
    for p in patterns:
        p = p.lower().strip()
        if fnmatchcase(name, p) or p == owner or (p.endswith("/*") and owner == p[:-2]):
            return True
    return False


def first_match(name: str, table: dict[str, list[str]]) -> list[str] | None:
    """The value of the first pattern of `table` that `name` matches."""
    return next((v for pattern, v in table.items() if _matches(name.lower(), (pattern,))), None)


def literal_text(s: Scalar | None) -> str | None:
    """A value written without expressions, as text; None when absent or an expression."""
    if s is None or not s.is_literal:
        return None
    return s.text


def is_false(s: Scalar | None) -> bool:
    v = literal_text(s)
    return v is not None and v.strip().lower() == "false"


def is_true(s: Scalar | None) -> bool:
    v = literal_text(s)
    return v is not None and v.strip().lower() == "true"
