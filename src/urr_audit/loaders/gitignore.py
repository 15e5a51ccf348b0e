"""`.gitignore` files of the scanned repository (read through the Workspace, never run git)."""

from __future__ import annotations

from urr_audit.model.common import LoadError
from urr_audit.model.gitignore import GitIgnore, IgnoreFile
from urr_audit.workspace import OutsideRoot, Workspace


def read_gitignore(ws: Workspace) -> tuple[GitIgnore, list[LoadError]]:
    files: list[IgnoreFile] = []
    errors: list[LoadError] = []
    for rel in ws.files:
        if rel != ".gitignore" and not rel.endswith("/.gitignore"):
            continue
        try:
            text = ws.read_text(rel)
        except (OSError, OutsideRoot) as exc:
            errors.append(LoadError(kind="git.ignore-file", path=rel, message=f"cannot read: {exc}"))
            continue
        files.append(IgnoreFile(path=rel, lines=text.splitlines()))
    return GitIgnore(files=files, repository_root=ws.exists(".git")), errors
