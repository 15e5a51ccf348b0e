from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from urr_audit.loaders.terraform import load_terraform
from urr_audit.model.common import LoadError
from urr_audit.model.terraform import TerraformProject
from urr_audit.workspace import Workspace

Loaded = tuple[TerraformProject, list[LoadError]]


def write_tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))


@pytest.fixture
def load_tree(tmp_path: Path) -> Callable[[dict[str, str]], Loaded]:
    def load(files: dict[str, str]) -> Loaded:
        write_tree(tmp_path, files)
        return load_terraform(Workspace(tmp_path))

    return load
