"""`.dockerignore` files -> `DockerIgnore` (patterns read as moby's ignorefile.ReadAll does)."""

from __future__ import annotations

import posixpath
import re

from urr_audit.model.dockerignore import DockerIgnore, IgnorePattern


def parse_dockerignore(path: str, text: str) -> DockerIgnore:
    """Patterns of a `.dockerignore` file, read as moby's ignorefile.ReadAll does."""
    patterns: list[IgnorePattern] = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.removeprefix("\ufeff") if number == 1 else raw
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        if line:
            # Go's filepath.Clean, then one leading "/" dropped (the context root)
            line = re.sub("^/+", "/", posixpath.normpath(line))
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        patterns.append(IgnorePattern(pattern=line, exclusion=exclusion, line=number))
    return DockerIgnore(path=path, patterns=patterns)
