"""The whole scanned repository, as one typed model."""

from __future__ import annotations

from pydantic import BaseModel, Field

from urr_audit.model.common import LoadError
from urr_audit.model.kubernetes import KubernetesProject
from urr_audit.model.terraform import TerraformProject


class Project(BaseModel):
    root: str  # absolute path of the scanned root, for display only
    terraform: TerraformProject = Field(default_factory=TerraformProject)
    kubernetes: KubernetesProject = Field(default_factory=KubernetesProject)
    errors: list[LoadError] = Field(default_factory=list)
