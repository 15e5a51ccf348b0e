"""What git would ignore in the scanned repository: its `.gitignore` files, read as git does.

Patterns are matched with `pathspec`'s `GitIgnoreSpec` (git's own wildmatch rules, negation,
directory patterns, anchoring), one spec per file, relative to the file's directory. Across
files, git's precedence: a deeper file's matching pattern overrides a shallower one's, the last
matching pattern of a file wins, and nothing inside an ignored directory can be re-included.

Only what the repository shares is read: `.git/info/exclude` and a user's global excludes file
differ from one clone to the next, so they are not.
"""

from __future__ import annotations

from typing import Any

import pathspec
from pydantic import BaseModel, Field, PrivateAttr


class IgnoreFile(BaseModel):
    path: str  # repo-relative path of the .gitignore file
    lines: list[str] = Field(default_factory=list)

    @property
    def directory(self) -> str:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else ""


class GitIgnore(BaseModel):
    files: list[IgnoreFile] = Field(default_factory=list)  # sorted by path
    # `.git` is at the scanned root: every ignore file that applies is inside it. Without it,
    # a .gitignore above the scanned directory may apply and is not read.
    repository_root: bool = False
    _specs: dict[str, Any] = PrivateAttr(default_factory=dict)

    def inventory(self) -> dict[str, int]:
        """What was read, for the scan summary."""
        return {".gitignore files": len(self.files)}

    @property
    def known(self) -> bool:
        """Whether what git ignores can be told from what was read."""
        return self.repository_root or any(f.path == ".gitignore" for f in self.files)

    def _spec(self, f: IgnoreFile) -> Any:
        spec = self._specs.get(f.path)
        if spec is None:
            spec = pathspec.GitIgnoreSpec.from_lines(f.lines)
            self._specs[f.path] = spec
        return spec

    def ignored(self, path: str, is_dir: bool = False) -> bool:
        """Whether git ignores `path` (repo-relative, `/` separators); `is_dir` for a directory."""
        parts = [p for p in path.strip("/").split("/") if p]
        for i in range(1, len(parts)):
            if self._decide("/".join(parts[:i]), True)[0]:
                return True  # inside an ignored directory: cannot be re-included
        return self._decide("/".join(parts), is_dir)[0]

    def deciding_file(self, path: str, is_dir: bool = False) -> str | None:
        """The .gitignore whose pattern last matches `path`, or None when none does."""
        return self._decide(path.strip("/"), is_dir)[1]

    def _decide(self, path: str, is_dir: bool) -> tuple[bool, str | None]:
        decided: bool | None = None
        by: str | None = None
        for f in sorted(self.files, key=lambda f: (f.directory.count("/") if f.directory else -1, f.path)):
            base = f.directory
            if base and not (path == base or path.startswith(base + "/")):
                continue
            rel = path[len(base) + 1 :] if base else path
            if not rel:
                continue
            result = self._spec(f).check_file(rel + "/" if is_dir else rel)
            if result.include is not None:
                decided, by = result.include, f.path
        return bool(decided), by
