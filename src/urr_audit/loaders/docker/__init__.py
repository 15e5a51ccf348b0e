"""Dockerfile loader: every `Dockerfile`, `Dockerfile.*`, `*.Dockerfile` (and `Containerfile`)
under the root -> `DockerProject`.

`parse` reads the syntax as BuildKit does (directives, continuations, heredocs, flags),
`shellwords` expands variables as the builder does, `build` makes the typed model, `ignore`
reads `.dockerignore` files (what a build context leaves out). A file
Docker would refuse is a `docker.parse` LoadError at its line, left out of the model; the
other files are read on.
"""

from __future__ import annotations

from urr_audit.loaders.docker.build import build_dockerfile
from urr_audit.loaders.docker.ignore import parse_dockerignore
from urr_audit.loaders.docker.parse import DockerfileSyntaxError, parse_dockerfile
from urr_audit.model.common import LoadError
from urr_audit.model.docker import Dockerfile, DockerProject, is_dockerfile_name
from urr_audit.model.dockerignore import DockerIgnore
from urr_audit.workspace import OutsideRoot, Workspace


def load_dockerfile(path: str, text: str) -> tuple[Dockerfile | None, LoadError | None]:
    """One Dockerfile from its text: the model, or the error Docker would stop at."""
    try:
        parsed = parse_dockerfile(text)
        return build_dockerfile(path, parsed, text.count("\n") + (not text.endswith("\n"))), None
    except DockerfileSyntaxError as exc:
        return None, LoadError(kind="docker.parse", path=path, line=max(exc.line, 1), message=exc.message)
    except RecursionError:
        return None, LoadError(kind="docker.parse", path=path, line=1, message="nested too deeply to read")


def load_docker(ws: Workspace) -> tuple[DockerProject, list[LoadError]]:
    files: list[Dockerfile] = []
    errors: list[LoadError] = []
    unreadable: list[str] = []
    ignore_files: list[DockerIgnore] = []
    for rel in ws.files:
        name = rel.rsplit("/", 1)[-1]
        if name.endswith(".dockerignore"):
            try:
                ignore_files.append(parse_dockerignore(rel, ws.read_text(rel)))
            except (OSError, OutsideRoot) as exc:
                errors.append(LoadError(kind="docker.read", path=rel, message=f"could not read: {exc}"))
            continue
        if not is_dockerfile_name(name):
            continue
        try:
            text = ws.read_text(rel)
        except (OSError, OutsideRoot) as exc:
            errors.append(LoadError(kind="docker.read", path=rel, message=f"could not read: {exc}"))
            unreadable.append(rel)
            continue
        dockerfile, error = load_dockerfile(rel, text)
        if dockerfile is not None:
            files.append(dockerfile)
        if error is not None:
            errors.append(error)
            unreadable.append(rel)
    return DockerProject(files=files, unreadable=unreadable, ignore_files=ignore_files), errors
