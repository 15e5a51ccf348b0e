"""Images a Dockerfile pulls (FROM, `COPY --from`, `RUN --mount=from=`) by a moving tag or none."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.model.docker import CopyInstruction, Dockerfile, FromInstruction, ImageUse


class MutableBaseParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mutable_tags: list[str] = ["latest"]
    allow_digest: bool = True  # an image pinned by digest is fine whatever its tag


def _where(inst: object) -> str:
    if isinstance(inst, FromInstruction):
        return "FROM"
    if isinstance(inst, CopyInstruction):
        return f"{inst.kind} --from"
    return "RUN --mount from="


@check("docker-image-mutable-tag", scope="docker.file", params=MutableBaseParams, subjects=("image",))
def image_mutable_tag(ctx: Context, df: Dockerfile, params: MutableBaseParams) -> Iterator[Hit]:
    """Images pulled without a tag or by a moving tag such as `latest` (build stages, `scratch`
    and digests are fine; an image named by an ARG without a default is undecided)."""
    for inst, use in df.image_uses():
        where = _where(inst)
        if use.kind == "unknown":
            verdict = _partial_verdict(use, params)
            if verdict is None:
                yield ctx.undecided(
                    at=inst, message=f"{where} {use.written}: the image is not known before the build ({use.reason})"
                )
            elif verdict:
                yield ctx.finding(at=inst, message=f"{where} {use.written} {verdict}")
            continue
        if use.kind != "image" or use.image is None:
            continue
        img = use.image
        if params.allow_digest and img.digest:
            continue
        if img.tag is None:
            why = "has no tag, so Docker pulls `latest`"
        elif img.tag in params.mutable_tags:
            why = f"uses the moving tag `{img.tag}`"
        else:
            continue
        shown = use.written if use.written == use.resolved else f"{use.written} (= {use.resolved})"
        message = f"{where} {shown} {why}: each build may get a different image"
        if isinstance(inst, CopyInstruction) and img.tag is None and img.registry is None and "/" not in use.written:
            message += f"; no build stage is named {use.written!r}, so this is the image {img.full_name}"
        if use.args:
            message += f" (from the default of ARG {', '.join(use.args)}; a --build-arg may override it)"
        yield ctx.finding(at=inst, message=message)


def _partial_verdict(use: ImageUse, params: MutableBaseParams) -> str | None:
    """For an image whose name is unknown: decide on the tag or digest when they are written
    literally (`${REGISTRY}/app:1.4.2`); "" for fine, a reason for a finding, None: undecided."""
    written = use.written
    name_part, at, digest = written.partition("@")
    if at and "$" not in digest and params.allow_digest:
        return ""
    last = name_part.rsplit("/", 1)[-1]
    if ":" not in last:
        return None
    tag = last.rsplit(":", 1)[1]
    if "$" in tag or not tag:
        return None
    if tag in params.mutable_tags:
        return f"uses the moving tag `{tag}`: each build may get a different image"
    return ""
