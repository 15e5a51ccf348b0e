"""Terraform loader (placeholder until the tree-sitter loader lands)."""

from __future__ import annotations

from urr_audit.model.common import LoadError
from urr_audit.model.terraform import TerraformProject
from urr_audit.workspace import Workspace


def load_terraform(ws: Workspace) -> tuple[TerraformProject, list[LoadError]]:
    return TerraformProject(), []
