"""The only door to the scanned repository's files.

Every read goes through a `Workspace`, which refuses anything outside the scanned root:
`../` escapes, absolute paths and symlinks whose target lies outside. Nothing here executes,
fetches or writes.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path, PurePosixPath

SKIPPED_DIRS = frozenset({".git", ".terraform", "node_modules", ".venv", "__pycache__", ".tox"})


class OutsideRoot(Exception):
    """A path that resolves outside the scanned root."""


class FileTooLarge(OSError):
    """A file over MAX_FILE_BYTES: infrastructure sources are small; a huge one is data or an attack."""


MAX_FILE_BYTES = 16 * 1024 * 1024


class Workspace:
    def __init__(self, root: Path | str, exclude: Sequence[str] = ()):
        """`exclude`: gitignore-style globs (relative to the root) of paths never listed nor read."""
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise NotADirectoryError(str(root))
        self._exclude = None
        if exclude:
            import pathspec

            self._exclude = pathspec.PathSpec.from_lines("gitignore", exclude)
        # every file read through this workspace (repo-relative), for the report's inputs
        self.read_paths: set[str] = set()
        # `_real` of each path asked for: resolving follows every symlink of the path, a few
        # system calls per component, and the loaders ask about the same paths many times
        self._resolved: dict[str, Path] = {}

    def excluded(self, rel: str) -> bool:
        """Whether `rel` (a file or directory, repo-relative) is excluded by configuration."""
        if self._exclude is None or rel in ("", "."):
            return False
        return self._exclude.match_file(rel) or self._exclude.match_file(rel + "/")

    # --- paths -------------------------------------------------------------------------
    def rel(self, path: Path | str) -> str:
        """Relative '/'-separated path of a path inside the root."""
        p = Path(path)
        if not p.is_absolute():
            p = self.root / p
        return PurePosixPath(os.path.relpath(p, self.root)).as_posix()

    def join(self, base_dir: str, ref: str) -> str:
        """Resolve `ref` (relative to the repo-relative directory `base_dir`) lexically.

        Raises OutsideRoot when it climbs above the root or is absolute.
        """
        if ref.startswith("/") or (len(ref) > 1 and ref[1] == ":"):
            raise OutsideRoot(ref)
        parts: list[str] = [] if base_dir in ("", ".") else base_dir.split("/")
        for part in ref.replace("\\", "/").split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    raise OutsideRoot(ref)
                parts.pop()
            else:
                parts.append(part)
        return "/".join(parts) if parts else "."

    def _real(self, rel: str) -> Path:
        """Absolute path for `rel`, refusing symlinks that lead outside the root."""
        if self._exclude is not None and any(self.excluded(a) for a in _self_and_parents(rel)):
            raise FileNotFoundError(errno.ENOENT, "excluded by the urr-audit configuration (exclude)", rel)
        real = self._resolved.get(rel)
        if real is None:
            p = self.root / rel if rel not in ("", ".") else self.root
            real = p.resolve()
            if real != self.root and self.root not in real.parents:
                raise OutsideRoot(rel)
            self._resolved[rel] = real
        return real

    # --- queries -----------------------------------------------------------------------
    def escapes(self, rel: str) -> bool:
        """True when `rel` resolves outside the root (a symlink leading out, for instance)."""
        try:
            self._real(rel)
        except OutsideRoot:
            return True
        except FileNotFoundError:  # excluded: not there, so it leads nowhere
            return False
        return False

    # A name the OS refuses to look up (longer than NAME_MAX / PATH_MAX, ENAMETOOLONG) cannot
    # exist: the queries answer False instead of raising out of a loader.
    def exists(self, rel: str) -> bool:
        try:
            return self._real(rel).exists()
        except (OutsideRoot, OSError):
            return False

    def is_file(self, rel: str) -> bool:
        try:
            return self._real(rel).is_file()
        except (OutsideRoot, OSError):
            return False

    def is_dir(self, rel: str) -> bool:
        try:
            return self._real(rel).is_dir()
        except (OutsideRoot, OSError):
            return False

    def read_text(self, rel: str) -> str:
        return self.read_bytes(rel).decode("utf-8", errors="replace")

    def read_bytes(self, rel: str) -> bytes:
        path = self._real(rel)
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise FileTooLarge(27, f"file of {size} bytes is over the {MAX_FILE_BYTES} byte limit, not read")
        data = path.read_bytes()
        plain = rel and not rel.startswith(("/", "./", "../")) and "/." not in rel and "//" not in rel
        self.read_paths.add(rel if plain else self.rel(rel))
        return data

    def listdir(self, rel: str) -> list[str]:
        """Sorted entry names of a directory inside the root."""
        return sorted(os.listdir(self._real(rel)))

    @cached_property
    def files(self) -> list[str]:
        """Every regular file under the root (sorted, relative), symlinks escaping it excluded."""
        return self._walked[0]

    @cached_property
    def escaping_symlinks(self) -> list[str]:
        """Symlinks under the root whose target lies outside it (recorded, never followed)."""
        return self._walked[1]

    @cached_property
    def _walked(self) -> tuple[list[str], list[str]]:
        """(files, escaping symlinks), from one walk of the tree. Entries are named relative to
        the directory's own relative path (what `rel` of the joined path gives, without
        normalising every path again)."""
        files: list[str] = []
        escaping: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            here = self.rel(dirpath)
            dirnames[:] = sorted(
                d for d in dirnames if d not in SKIPPED_DIRS and not self.excluded(d if here == "." else f"{here}/{d}")
            )
            for name in filenames:
                rel = name if here == "." else f"{here}/{name}"
                if self.excluded(rel):
                    continue
                full = os.path.join(dirpath, name)
                if os.path.islink(full):
                    try:
                        self._real(rel)
                    except OutsideRoot:
                        escaping.append(rel)
                        continue
                if os.path.isfile(full):
                    files.append(rel)
            for name in dirnames:  # not excluded (filtered above); a link to a directory is not walked
                rel = name if here == "." else f"{here}/{name}"
                if os.path.islink(os.path.join(dirpath, name)):
                    try:
                        self._real(rel)
                    except OutsideRoot:
                        escaping.append(rel)
        return sorted(files), sorted(escaping)

    def glob(self, suffixes: tuple[str, ...]) -> list[str]:
        return [f for f in self.files if f.endswith(suffixes)]


def _self_and_parents(rel: str):
    parts = rel.replace("\\", "/").split("/")
    for n in range(len(parts), 0, -1):
        yield "/".join(parts[:n])
