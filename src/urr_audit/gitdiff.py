"""The files changed since a git ref, for `scan --since REF`.

The only place urr-audit runs git, and never during a plain scan. A repository's own
`.git/config` can name programs git would run (fsmonitor hooks, external diff drivers,
textconv filters, a pager), so every call disables them, and nothing else from the
repository is ever run. That includes clean/smudge filter drivers (`filter.NAME.clean` in the
repository's config with `filter=NAME` in `.gitattributes`), which `git diff` would run on
work-tree files: every driver the configuration defines is blanked."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

SAFE_CONFIG = (
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.pager=cat",
    "-c",
    "diff.external=",
    "-c",
    "core.untrackedCache=false",
)


class GitError(Exception):
    """git is missing, the path is not in a work tree, or the ref is unknown: a usage error."""


def _git(root: Path, *args: str, extra: tuple[str, ...] = ()) -> str:
    git = shutil.which("git")
    if git is None:
        raise GitError("--since needs git, which is not installed (or not on PATH)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_PAGER": "cat", "PAGER": "cat", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"})
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    proc = subprocess.run(
        [git, "--no-pager", *SAFE_CONFIG, *extra, *args],
        cwd=root,
        capture_output=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise GitError(proc.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} failed")
    return proc.stdout.decode("utf-8", "surrogateescape")


def changed_files(root: Path, ref: str) -> list[str]:
    """Paths (relative to `root`, `/`-separated) added, modified, renamed or deleted since
    `ref` in the work tree, plus untracked files not ignored. Deleted paths are included: a
    module that lost a file has changed."""
    if ref.startswith("-"):
        raise GitError(f"--since {ref!r}: not a git ref")
    try:
        _git(root, "rev-parse", "--is-inside-work-tree")
    except GitError as exc:
        raise GitError(f"--since needs a git work tree: {root} is not in one ({exc})") from exc
    try:
        _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    except GitError as exc:
        raise GitError(f"--since {ref}: no such commit, branch or tag in this repository") from exc
    blank = _blank_filters(root)
    diff = _git(
        root,
        "diff",
        "--name-only",
        "--no-renames",
        "--no-ext-diff",
        "--no-textconv",
        "--relative",
        "-z",
        "--end-of-options",
        ref,
        "--",
        ".",
        extra=blank,
    )
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", ".", extra=blank)
    paths = {p for p in (diff + untracked).split("\0") if p}
    return sorted(p.replace(os.sep, "/") for p in paths)


def _blank_filters(root: Path) -> tuple[str, ...]:
    """`-c` options blanking every filter driver the configuration defines (reading the
    configuration runs nothing)."""
    try:
        listing = _git(root, "config", "--null", "--get-regexp", r"^filter\.")
    except GitError:  # no filter configured: git config exits 1
        return ()
    names = set()
    for entry in listing.split("\0"):
        key = entry.split("\n", 1)[0]
        if key.startswith("filter.") and key.count(".") >= 2:
            names.add(key[len("filter.") : key.rindex(".")])
    out: list[str] = []
    for name in sorted(names):
        for var, value in (("clean", ""), ("smudge", ""), ("process", ""), ("required", "false")):
            out += ["-c", f"filter.{name}.{var}={value}"]
    return tuple(out)
