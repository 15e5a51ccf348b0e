"""Terraform loader: tree-sitter-hcl (and JSON syntax) -> `TerraformProject`.

Modules: `parse` (HCL syntax -> generic blocks), `jsonsyntax` (`.tf.json`), `module` (blocks ->
typed `ModuleDir`), `evaluate` + `functions` (three-state evaluator), `project` (directories,
root modules, tfvars, environments). Nothing here executes, fetches or reads outside the root.
"""

from __future__ import annotations

from urr_audit.loaders.terraform.project import load
from urr_audit.model.common import LoadError
from urr_audit.model.terraform import TerraformProject
from urr_audit.workspace import Workspace


def load_terraform(ws: Workspace) -> tuple[TerraformProject, list[LoadError]]:
    return load(ws)
