"""`.dockerignore` files: which paths of a build context the builder never sees.

Matching follows moby/patternmatcher (what `docker build` and BuildKit use): patterns are
cleaned paths relative to the context root (a leading `/` dropped), `*` and `?` never match
`/`, `**` matches any number of directories, `[...]` are classes, `\\` escapes; a pattern that
matches a directory excludes everything below it; `!pattern` re-includes; the last matching
pattern wins. Docker reads `<Dockerfile name>.dockerignore` next to the Dockerfile first, else
`.dockerignore` at the context root (`DockerProject.ignore_for`).
"""

from __future__ import annotations

import posixpath
import re
from functools import cached_property

from pydantic import BaseModel, ConfigDict

_ESCAPE = frozenset(".+()|{}$^")


class IgnorePattern(BaseModel):
    model_config = ConfigDict(frozen=True)

    pattern: str  # cleaned, without the `!`
    exclusion: bool  # True for `!pattern` (re-include)
    line: int


def _regex(pattern: str) -> re.Pattern[str] | None:
    out = ["^"]
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 1
                if i + 1 < n and pattern[i + 1] == "/":
                    i += 1
                out.append(".*" if i + 1 >= n else "(.*/)?")
            else:
                out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch in _ESCAPE:
            out.append("\\" + ch)
        elif ch == "\\":
            if i + 1 < n:
                i += 1
                out.append(re.escape(pattern[i]))
            else:
                out.append("\\\\")
        else:
            out.append(ch)
        i += 1
    out.append("$")
    try:
        return re.compile("".join(out))
    except re.error:
        return None  # a malformed class: Docker reports the pattern as invalid; it matches nothing here


class DockerIgnore(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str  # repo-relative path of the .dockerignore file
    patterns: list[IgnorePattern]

    @property
    def directory(self) -> str:
        return posixpath.dirname(self.path) or "."

    @cached_property
    def _compiled(self) -> list[tuple[IgnorePattern, re.Pattern[str] | None]]:
        return [(p, _regex(p.pattern)) for p in self.patterns]

    def excludes(self, path: str) -> bool:
        """Whether `path` (relative to the build context, `/` separators) is left out of it."""
        path = posixpath.normpath(path.lstrip("/")) if path.strip("/") else "."
        parent = posixpath.dirname(path)
        parents = parent.split("/") if parent else []
        matched = False
        for pat, regex in self._compiled:
            if pat.exclusion != matched or regex is None:
                continue
            hit = bool(regex.match(path))
            if not hit and parents:
                hit = any(regex.match("/".join(parents[: i + 1])) for i in range(len(parents)))
            if hit:
                matched = not pat.exclusion
        return matched
