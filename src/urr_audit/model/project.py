"""The whole scanned repository, as one typed model."""

from __future__ import annotations

from pydantic import BaseModel, Field

from urr_audit.model.common import LoadError
from urr_audit.model.docker import DockerProject
from urr_audit.model.kubernetes import KubernetesProject
from urr_audit.model.terraform import TerraformProject


class GitMeta(BaseModel):
    """What `.git` in the scanned root says (read as files, git is never run); empty when absent."""

    remotes: dict[str, str] = Field(default_factory=dict)  # name -> URL as written in .git/config
    branch: str | None = None  # the checked-out branch; None when detached or unknown
    commit: str | None = None  # the checked-out commit (40 hex); None when unknown


class Project(BaseModel):
    root: str  # absolute path of the scanned root, for display only
    git: GitMeta = Field(default_factory=GitMeta)
    terraform: TerraformProject = Field(default_factory=TerraformProject)
    kubernetes: KubernetesProject = Field(default_factory=KubernetesProject)
    docker: DockerProject = Field(default_factory=DockerProject)
    errors: list[LoadError] = Field(default_factory=list)
