"""Objects written in API versions that Kubernetes no longer serves."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.model.kubernetes import K8sEnvironment


class RemovedApi(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_version: str  # e.g. extensions/v1beta1
    kinds: list[str] = Field(default_factory=list)  # empty: every kind of that version
    removed_in: str  # the Kubernetes release that stopped serving it, e.g. "1.16"
    use: str = ""  # what to write instead, e.g. apps/v1


class RemovedApiParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    removed: list[RemovedApi]
    # Report only versions removed at or before this release (the oldest cluster the
    # repository deploys to); None: every version in the table.
    cluster_version: str | None = None


def _release(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.lstrip("v").split(".") if p.isdigit())


@check("k8s-removed-api-version", scope="kubernetes.environment", params=RemovedApiParams, subjects=("*",))
def removed_api_version(ctx: Context, env: K8sEnvironment, params: RemovedApiParams) -> Iterator[Hit]:
    """Objects whose apiVersion (for their kind) a Kubernetes release has stopped serving:
    the API server rejects them, so the apply fails (or Argo CD reports the sync failed).
    Reported at the apiVersion line."""
    limit = _release(params.cluster_version) if params.cluster_version else None
    table = [r for r in params.removed if limit is None or _release(r.removed_in) <= limit]
    for obj in env.objects:
        hit = next(
            (r for r in table if r.api_version == obj.api_version and (not r.kinds or obj.kind in r.kinds)),
            None,
        )
        if hit is None:
            continue
        instead = f": use {hit.use}" if hit.use else ""
        yield ctx.finding(
            at=obj.origin("apiVersion"),
            node=obj,
            message=f"{obj.kind} {obj.name} uses {obj.api_version}, which Kubernetes {hit.removed_in} stopped "
            f"serving: clusters from {hit.removed_in} on reject it{instead}",
        )
