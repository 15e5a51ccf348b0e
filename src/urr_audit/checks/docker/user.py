"""The user the final stage runs as: root written last, or no USER in the Dockerfile at all."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.model.docker import Dockerfile, Stage, UserInstruction


class RootUserParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    root_users: list[str] = ["root", "0"]  # the user part of `USER user[:group]`


class MissingUserParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # base images known to run as a non-root user by default (regexes, full match on the
    # reference as pulled, e.g. `gcr.io/distroless/java21-debian12:nonroot`)
    nonroot_images: list[str] = []


def _last_user(df: Dockerfile, final: Stage) -> tuple[UserInstruction | None, list[Stage]]:
    """The USER in effect at the end of the final stage (a stage inherits its parent stage's),
    and the stages searched, nearest first."""
    return df.effective_user(final), df.lineage(final)


def _resolved(user: UserInstruction) -> str:
    return f" (= {user.user.value})" if user.user.is_known and user.user.value != user.text else ""


@check("docker-final-user-root", scope="docker.file", params=RootUserParams, subjects=("final-stage",))
def final_user_root(ctx: Context, df: Dockerfile, params: RootUserParams) -> Iterator[Hit]:
    """The final stage runs as root for certain: its last USER is root (or uid 0), or it builds
    on `scratch` and sets no USER."""
    final = df.final_stage
    if final is None:
        return
    user, lineage = _last_user(df, final)
    if user is not None:
        if user.user.is_unknown:
            yield ctx.undecided(
                at=user, message=f"USER {user.text}: the user is not known before the build ({user.user.reason})"
            )
            return
        name = user.user_part
        if name is not None and name in params.root_users:
            yield ctx.finding(
                at=user,
                related=[final.from_] if user.stage_index != final.index else [],
                message=f"the last USER of the final stage is `{user.text}`{_resolved(user)}: the container runs as root "
                "(an entrypoint may still drop privileges, which cannot be seen here)",
            )
        return
    if lineage[-1].base.kind == "scratch":
        yield ctx.finding(
            at=final.from_,
            message="the final stage builds on `scratch` and sets no USER: the container runs as uid 0 (root)",
        )


@check("docker-final-user-missing", scope="docker.file", params=MissingUserParams, subjects=("final-stage",))
def final_user_missing(ctx: Context, df: Dockerfile, params: MissingUserParams) -> Iterator[Hit]:
    """No USER anywhere in the final stage (or the stages it builds on): the container runs as
    the base image's user, which is root unless the base image sets another."""
    final = df.final_stage
    if final is None:
        return
    user, lineage = _last_user(df, final)
    base = lineage[-1].base
    if user is not None or base.kind in ("scratch", "stage"):
        return  # scratch without USER is certain root: the other rule
    if base.kind == "unknown":
        yield ctx.undecided(
            at=final.from_,
            message=f"the final stage sets no USER and its base image {base.written} is not known before the "
            f"build ({base.reason})",
        )
        return
    image = base.resolved or base.written
    if any(re.fullmatch(p, image) for p in params.nonroot_images):
        return
    yield ctx.finding(
        at=final.from_,
        message=f"no USER in this Dockerfile for the final stage (FROM {image}): the container runs as the base "
        "image's user, root unless that image sets another",
    )
