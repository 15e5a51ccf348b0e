"""What `.git` says about the scanned repository: its remotes and the commit checked out.

Read as files through the workspace (git is never run, nothing outside the root is read): a
`.git` *file* (a worktree or submodule pointing elsewhere) leaves everything unknown.
Used to tell whether an Argo CD `repoURL` is this repository and to write blob URLs at a commit.
"""

from __future__ import annotations

import re

from urr_audit.model.project import GitMeta
from urr_audit.workspace import OutsideRoot, Workspace

_SECTION = re.compile(r'^\s*\[\s*([^\]\s"]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]')
_KEY = re.compile(r"^\s*([A-Za-z][\w-]*)\s*=\s*(.*?)\s*$")
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def read_git_meta(ws: Workspace) -> GitMeta:
    if not ws.is_dir(".git"):
        return GitMeta()
    remotes: dict[str, str] = {}
    try:
        config = ws.read_text(".git/config")
    except (OSError, OutsideRoot):
        config = ""
    section: tuple[str, str | None] | None = None
    for line in config.splitlines():
        if m := _SECTION.match(line):
            section = (m.group(1).lower(), m.group(2))
            continue
        m = _KEY.match(line)
        if m and section and section[0] == "remote" and section[1] and m.group(1).lower() == "url":
            remotes[section[1]] = m.group(2).strip('"')
    branch, commit = _head(ws)
    branches, tags = _refs(ws, set(remotes))
    return GitMeta(
        remotes=remotes,
        branch=branch,
        commit=commit,
        branches=branches,
        tags=tags,
        default_branch=_remote_head(ws, remotes),
    )


def _remote_head(ws: Workspace, remotes: dict[str, str]) -> str | None:
    """The default branch `git clone` recorded: `refs/remotes/origin/HEAD` (a symbolic ref)."""
    name = "origin" if "origin" in remotes else (next(iter(remotes)) if len(remotes) == 1 else None)
    if name is None:
        return None
    head = (_read(ws, f".git/refs/remotes/{name}/HEAD") or "").strip()
    prefix = f"ref: refs/remotes/{name}/"
    return head[len(prefix) :] or None if head.startswith(prefix) else None


def _ref_files(ws: Workspace, rel: str, depth: int = 0) -> list[str]:
    """Files below `.git/<rel>` (ref names may hold `/`), relative to `.git/`."""
    if depth > 8 or not ws.is_dir(f".git/{rel}"):
        return []
    out = []
    try:
        names = ws.listdir(f".git/{rel}")
    except (OSError, OutsideRoot):
        return []
    for name in names:
        sub = f"{rel}/{name}"
        if ws.is_dir(f".git/{sub}"):
            out += _ref_files(ws, sub, depth + 1)
        else:
            out.append(sub)
    return out


def _refs(ws: Workspace, remotes: set[str]) -> tuple[list[str], list[str]]:
    names = set(_ref_files(ws, "refs/heads") + _ref_files(ws, "refs/remotes") + _ref_files(ws, "refs/tags"))
    for line in (_read(ws, ".git/packed-refs") or "").splitlines():
        sha, _, name = line.strip().partition(" ")
        if _SHA.match(sha) and name.startswith("refs/"):
            names.add(name)
    branches, tags = set(), set()
    for n in names:
        if n.startswith("refs/heads/"):
            branches.add(n.removeprefix("refs/heads/"))
        elif n.startswith("refs/tags/"):
            tags.add(n.removeprefix("refs/tags/"))
        elif n.startswith("refs/remotes/"):
            remote, _, branch = n.removeprefix("refs/remotes/").partition("/")
            if remote in remotes and branch and branch != "HEAD":
                branches.add(branch)
    return sorted(branches), sorted(tags)


def _read(ws: Workspace, rel: str) -> str | None:
    try:
        return ws.read_text(rel)
    except (OSError, OutsideRoot):
        return None


def _head(ws: Workspace) -> tuple[str | None, str | None]:
    head = (_read(ws, ".git/HEAD") or "").strip()
    if _SHA.match(head):
        return None, head  # detached
    if not head.startswith("ref:"):
        return None, None
    ref = head[4:].strip()
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
    if "/../" in f"/{ref}/":
        return branch, None
    loose = (_read(ws, f".git/{ref}") or "").strip()
    if _SHA.match(loose):
        return branch, loose
    for line in (_read(ws, ".git/packed-refs") or "").splitlines():
        sha, _, name = line.strip().partition(" ")
        if name == ref and _SHA.match(sha):
            return branch, sha
    return branch, None


_SCP = re.compile(r"^(?:[\w.-]+@)?([\w.-]+):(?!//)(.+)$")


def normalize_repo_url(url: str) -> str:
    """A comparable form of a git URL: `host/owner/repo`, lower-case host, no scheme, user,
    port or `.git`; `git@github.com:Org/App.git`, `https://github.com/Org/App` and
    `ssh://git@github.com/Org/App.git` all give `github.com/Org/App`."""
    u = url.strip()
    m = re.match(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?([^/:]+)(?::\d+)?/?(.*)$", u, re.IGNORECASE)
    if m or (m := _SCP.match(u)) is not None:
        host, path = m.group(1), m.group(2)
    else:
        return u.rstrip("/").removesuffix(".git")
    path = path.strip("/").removesuffix(".git").rstrip("/")
    return f"{host.lower()}/{path}" if path else host.lower()


def web_url(url: str) -> str | None:
    """`https://host/owner/repo` for a remote on a known forge (GitHub, GitLab, Bitbucket,
    or any https remote), None for a local path or an unrecognised form."""
    norm = normalize_repo_url(url)
    if "/" not in norm or norm.startswith((".", "/")) or "." not in norm.split("/", 1)[0]:
        return None
    return f"https://{norm}"
