"""Checks that apply to the whole repository, whatever its frameworks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.model.common import Span
from urr_audit.model.project import Project


class LoadErrorParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kinds: list[str]  # LoadError kind prefixes, e.g. ["terraform."]
    levels: list[Literal["error", "note"]] = ["error"]  # notes: input deliberately not read (remote URLs)


@check(
    "load-errors",
    scope="project",
    params=LoadErrorParams,
    no_subjects="a meta-rule over what the loaders could not read (Project.errors), not over artifacts",
)
def load_errors(ctx: Context, project: Project, params: LoadErrorParams) -> Iterator[Hit]:
    """Input a loader could not read (parse errors, missing files, refused paths) as findings;
    with `levels: [note]`, input it deliberately did not read (remote URLs, unrendered fields)."""
    for err in project.errors:
        if err.level in params.levels and any(
            err.kind == k.rstrip(".") or err.kind.startswith(k) for k in params.kinds
        ):
            yield ctx.finding(
                at=Span(path=err.path, line=err.line, end_line=err.line),
                message=err.message,
                address=err.address,
                environment=err.environment,
            )
