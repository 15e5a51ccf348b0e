"""Container image references: forbidden patterns (placeholders left in registries...), mutable tags."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.model.k8s_facts import WORKLOAD_KINDS, facts
from urr_audit.model.kubernetes import K8sEnvironment


class ImagePatternParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patterns: list[str]  # regexes searched in the whole image reference
    part: str = Field(default="any", pattern="^(any|registry|repository|tag)$")
    what: str = "forbidden pattern"  # how the message names a match, e.g. "placeholder"


@check("k8s-image-pattern", scope="kubernetes.environment", params=ImagePatternParams, subjects=WORKLOAD_KINDS)
def image_pattern(ctx: Context, env: K8sEnvironment, params: ImagePatternParams) -> Iterator[Hit]:
    """Images whose reference (or one part of it) matches a forbidden pattern, reported where
    the image is set: the overlay's `images:` entry when one rewrote it, else the manifest."""
    compiled = [re.compile(p) for p in params.patterns]
    f = facts(env)
    for w in f.pod_workloads():
        for c in w.all_containers:
            if c.image is None:
                continue
            text = c.image.raw if params.part == "any" else getattr(c.image, params.part) or ""
            hit = next((m for p in compiled if (m := p.search(text))), None)
            if hit:
                yield ctx.finding(
                    at=c.origin("image"),
                    node=w,
                    message=f"{w.kind} {w.name}, container {c.name}: image {c.image.raw} contains "
                    f"{params.what} {hit.group(0)!r}",
                )


class MutableTagParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mutable_tags: list[str] = ["latest"]
    allow_digest: bool = True  # an image pinned by digest is fine whatever its tag


@check("k8s-image-mutable-tag", scope="kubernetes.environment", params=MutableTagParams, subjects=WORKLOAD_KINDS)
def image_mutable_tag(ctx: Context, env: K8sEnvironment, params: MutableTagParams) -> Iterator[Hit]:
    """Images without a tag or with a moving tag such as `latest`."""
    f = facts(env)
    for w in f.pod_workloads():
        for c in w.all_containers:
            img = c.image
            if img is None or (params.allow_digest and img.digest):
                continue
            if img.tag is None:
                why = "has no tag (pulls `latest`)"
            elif img.tag in params.mutable_tags:
                why = f"uses the moving tag `{img.tag}`"
            else:
                continue
            yield ctx.finding(
                at=c.origin("image"),
                node=w,
                message=f"{w.kind} {w.name}, container {c.name}: image {img.raw} {why}",
            )
