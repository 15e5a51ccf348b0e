"""Write workflow files into a temporary repository and load them."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from urr_audit.loaders.workflows import load_workflows
from urr_audit.model.common import LoadError
from urr_audit.model.workflows import Workflow, WorkflowProject
from urr_audit.workspace import Workspace


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(dedent(text).lstrip("\n"), encoding="utf-8")


def load(root: Path, files: dict[str, str]) -> tuple[WorkflowProject, list[LoadError]]:
    write(root, files)
    return load_workflows(Workspace(root))


def one(root: Path, text: str, name: str = "ci.yml") -> Workflow:
    """The single workflow of `text`; fails on any load error."""
    project, errors = load(root, {f".github/workflows/{name}": text})
    assert [e for e in errors if e.level == "error"] == [], errors
    assert len(project.workflows) == 1
    return project.workflows[0]
