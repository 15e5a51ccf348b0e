"""`permissions:` blocks and the GITHUB_TOKEN a job gets (re-exported by `model.workflows`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.model.common import Span

if TYPE_CHECKING:
    from urr_audit.model.workflows import Job, Workflow

_FROZEN = ConfigDict(frozen=True)

Level = Literal["read", "write", "none"]
SCOPES = (
    "actions",
    "attestations",
    "checks",
    "contents",
    "deployments",
    "discussions",
    "id-token",
    "issues",
    "models",
    "packages",
    "pages",
    "pull-requests",
    "repository-projects",
    "security-events",
    "statuses",
)


class Permissions(BaseModel):
    """A `permissions:` block. `preset` for `read-all`/`write-all`; `{}` is an empty `scopes`
    (every scope none). Scopes not written are none once a block is written."""

    model_config = _FROZEN

    span: Span
    preset: Literal["read-all", "write-all"] | None = None
    scopes: dict[str, Level] = Field(default_factory=dict)
    scope_spans: dict[str, Span] = Field(default_factory=dict)

    def level(self, scope: str) -> Level:
        if self.preset == "write-all":
            return "write"
        if self.preset == "read-all":
            return "read" if scope != "id-token" else "none"
        return self.scopes.get(scope, "none")

    def writes(self) -> list[str]:
        """Scopes granted write (every scope for `write-all`)."""
        return [s for s in SCOPES if self.level(s) == "write"]


class EffectivePermissions(BaseModel):
    model_config = _FROZEN

    levels: dict[str, Level]  # every scope of SCOPES
    source: Literal["job", "workflow", "default"]
    span: Span | None = None  # the block that decided, None for the repository default
    default: Literal["permissive", "restricted"] | None = None  # set when source == "default"

    def level(self, scope: str) -> Level:
        return self.levels.get(scope, "none")

    def writes(self) -> list[str]:
        return [s for s, v in self.levels.items() if v == "write"]


def default_permissions(default: Literal["permissive", "restricted"]) -> dict[str, Level]:
    """The GITHUB_TOKEN a repository grants when no `permissions:` applies."""
    if default == "permissive":
        return {s: ("none" if s == "id-token" else "write") for s in SCOPES}
    return {s: ("read" if s in ("contents", "packages") else "none") for s in SCOPES}


def effective_permissions(
    workflow: Workflow, job: Job, default: Literal["permissive", "restricted"]
) -> EffectivePermissions:
    """The job's token: its own `permissions:`, else the workflow's, else the repository default.
    (In a called reusable workflow the caller's grant is a ceiling on top of this: see
    `Workflow.callers`.)"""
    block = job.permissions or workflow.permissions
    if block is None:
        return EffectivePermissions(levels=default_permissions(default), source="default", default=default)
    return EffectivePermissions(
        levels={s: block.level(s) for s in SCOPES},
        source="job" if job.permissions is not None else "workflow",
        span=block.span,
    )
