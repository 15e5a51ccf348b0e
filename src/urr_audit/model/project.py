"""The whole scanned repository, as one typed model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, Field, PrivateAttr

from urr_audit.model.argocd import ArgoCDProject
from urr_audit.model.common import LoadError
from urr_audit.model.docker import DockerProject
from urr_audit.model.gitignore import GitIgnore
from urr_audit.model.kubernetes import KubernetesProject
from urr_audit.model.localcluster import LocalClusters
from urr_audit.model.terraform import TerraformProject
from urr_audit.model.workflows import WorkflowProject

_T = TypeVar("_T")


class GitMeta(BaseModel):
    """What `.git` in the scanned root says (read as files, git is never run); empty when absent."""

    remotes: dict[str, str] = Field(default_factory=dict)  # name -> URL as written in .git/config
    branch: str | None = None  # the checked-out branch; None when detached or unknown
    commit: str | None = None  # the checked-out commit (40 hex); None when unknown
    # ref names known locally (refs/heads, refs/remotes/<remote>/ without the remote, refs/tags),
    # loose and packed: tell an Argo CD targetRevision naming a branch from one naming a tag
    branches: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    # the remote's default branch, from `refs/remotes/<origin or the only remote>/HEAD` (set by
    # `git clone`); None when not recorded
    default_branch: str | None = None


class Project(BaseModel):
    root: str  # absolute path of the scanned root, for display only
    git: GitMeta = Field(default_factory=GitMeta)
    gitignore: GitIgnore = Field(default_factory=GitIgnore)  # what git would ignore (.gitignore files)
    terraform: TerraformProject = Field(default_factory=TerraformProject)
    kubernetes: KubernetesProject = Field(default_factory=KubernetesProject)
    local_clusters: LocalClusters = Field(default_factory=LocalClusters)
    workflows: WorkflowProject = Field(default_factory=WorkflowProject)  # GitHub Actions
    argocd: ArgoCDProject = Field(default_factory=ArgoCDProject)
    docker: DockerProject = Field(default_factory=DockerProject)
    errors: list[LoadError] = Field(default_factory=list)
    # every regular file under the root (repo-relative, sorted), for rules asking whether a path a
    # build or a script names is in the repository; None when the project was not listed
    files: list[str] | None = None

    _facts: dict[Any, Any] = PrivateAttr(default_factory=dict)

    def fact(self, key: Any, build: Callable[[], _T]) -> _T:
        """What `build` derives from the whole project, built on the first call with `key` and
        kept with the project: every rule of a scan that asks shares it. The model is not
        changed once loaded, so a fact never goes stale; callers must not mutate what they get."""
        if key not in self._facts:
            self._facts[key] = build()
        value: _T = self._facts[key]
        return value
