"""Which findings are about some paths of the repository (`scan PATH...`, `--since REF`,
pre-commit's file names), the whole repository being loaded so that cross-file rules stay right.

A file (a changed or committed one: `--since`, pre-commit) is widened to the artifact it
belongs to (the Terraform module directory, the kustomization or directory of plain manifests
holding it) and to the environments that use that artifact. A directory is an area: the
artifacts in it, and the environments whose directory lies in it or holds it (`scan
terraform/environments/prod` reports prod with the findings of its modules that hold there;
`scan terraform/modules/s3` reports that module, not everything of the environments using it). A finding is kept when its path lies in a target or a widened artifact, or when
it is about one of those environments and lies in what that environment reads (so a Terraform
`prod` and a Kubernetes `prod` stay apart). Artifacts of other kinds (workflows, Dockerfiles,
...) are matched by path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from urr_audit.model.project import Project


def under(path: str, d: str) -> bool:
    """Whether repo-relative `path` is `d` or lies below it (`.` holds everything)."""
    return d in ("", ".") or path == d or path.startswith(d + "/")


def _parent(path: str) -> str:
    return path.rpartition("/")[0] or "."


def _in_dir(path: str, d: str) -> bool:
    """`under`, except that the root directory as an artifact holds only its own files (a
    Terraform module at the root does not own the whole repository)."""
    return _parent(path) == "." or path == "." if d in ("", ".") else under(path, d)


@dataclass
class _Env:
    framework: str
    name: str
    path: str
    dirs: set[str] = field(default_factory=set)  # directories it reads whole (modules, overlays)
    files: set[str] = field(default_factory=set)  # files it reads outside those

    def reads(self, path: str) -> bool:
        return path in self.files or any(_in_dir(path, d) for d in self.dirs)


def _overlay_chain(project: Project, start: str) -> set[str]:
    by_path = {o.path: o for o in project.kubernetes.overlays}
    seen: set[str] = set()
    todo = [start]
    while todo:
        d = todo.pop()
        if d in seen:
            continue
        seen.add(d)
        o = by_path.get(d)
        if o is not None:
            todo.extend(o.bases)
            todo.extend(r for r in o.resources if r in by_path)
    return seen


def environments(project: Project) -> list[_Env]:
    out = []
    for env in project.terraform.environments:
        e = _Env("terraform", env.name, env.path)
        e.dirs = {inst.module.path for inst in env.instances}
        out.append(e)
    for kenv in project.kubernetes.environments:
        e = _Env("kubernetes", kenv.name, kenv.path)
        if kenv.overlay is not None:
            e.dirs = _overlay_chain(project, kenv.overlay.path)
        else:
            e.dirs = {kenv.path} if kenv.source == "kustomize" else set()
        for obj in kenv.objects:
            e.files.add(obj.span.path)
            e.files.update(s.path for s in obj.field_origins.values())
        out.append(e)
    return out


def artifact_dirs(project: Project) -> list[str]:
    """Directories that are one artifact each: Terraform modules, kustomizations, directories
    of plain manifests."""
    dirs = set(project.terraform.modules)
    dirs.update(o.path for o in project.kubernetes.overlays)
    dirs.update(e.path for e in project.kubernetes.environments if e.source == "manifests")
    return sorted(dirs)


class Focus:
    """The targets, widened; `covers(path, environments)` says whether a finding is about them."""

    def __init__(self, project: Project, targets: Iterable[str], is_dir: Callable[[str], bool] | None = None):
        """`is_dir(target)`: whether a target is a directory (default: whether it is an
        artifact directory or holds one)."""
        self.targets = sorted({t.strip("/") or "." for t in targets})
        artifacts = artifact_dirs(project)
        if is_dir is None:

            def is_dir(t: str) -> bool:
                return any(under(a, t) for a in artifacts)

        areas = [t for t in self.targets if is_dir(t)]
        files = [t for t in self.targets if t not in areas]
        touched: set[str] = set()
        for t in self.targets:
            # the artifacts below a target directory, and the innermost one holding the target
            touched.update(a for a in artifacts if under(a, t))
            holders = [a for a in artifacts if under(t, a) and a not in ("", ".")]
            if holders:
                touched.add(max(holders, key=len))
            elif "." in artifacts and (t == "." or _parent(t) == "."):
                touched.add(".")
        self.artifacts = sorted(touched)
        changed = [a for a in self.artifacts if any(_in_dir(f, a) for f in files)]
        self.environments = [
            e
            for e in environments(project)
            if any(under(e.path, t) or under(t, e.path) for t in areas if e.path not in ("", "."))
            or any(_in_dir(d, a) or _in_dir(a, d) for d in e.dirs for a in changed)
            or any(f in e.files for f in files)
        ]

    @property
    def everything(self) -> bool:
        return "." in self.targets

    def covers(self, path: str, environments: Iterable[str] = ()) -> bool:
        if any(under(path, t) for t in self.targets) or any(_in_dir(path, a) for a in self.artifacts):
            return True
        names = set(environments)
        return any(e.name in names and e.reads(path) for e in self.environments)

    def covers_entry(self, entry: dict[str, Any]) -> bool:
        """For a recorded finding (a baseline entry)."""
        return self.covers(str(entry.get("path", "")), entry.get("environments") or [])

    def apply(self, result: Any) -> None:
        if self.everything:
            return
        result.findings = [f for f in result.findings if self.covers(f.path, f.environments)]
        result.undecided = [f for f in result.undecided if self.covers(f.path, f.environments)]
        result.errors = [e for e in result.errors if self.covers(e.path, [e.environment] if e.environment else [])]

    def describe(self) -> list[str]:
        """What the focus covers, for --verbose."""
        lines = [f"target: {t}" for t in self.targets]
        lines += [f"artifact: {a}" for a in self.artifacts if a not in self.targets]
        lines += [f"environment: {e.name} ({e.framework}, {e.path})" for e in self.environments]
        return lines
