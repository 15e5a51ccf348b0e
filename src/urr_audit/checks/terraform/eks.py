"""EKS control plane exposure."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.model.terraform import ResourceInstance


class PublicEndpointParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    world_cidrs: list[str] = ["0.0.0.0/0", "::/0"]


@check("tf-eks-public-endpoint", scope="terraform.resource", params=PublicEndpointParams, types=("aws_eks_cluster",))
def eks_public_endpoint(ctx: Context, ri: ResourceInstance, params: PublicEndpointParams) -> Iterator[Hit]:
    """The Kubernetes API endpoint reachable from the whole internet.

    Provider defaults: `endpoint_public_access` true, `public_access_cidrs` ["0.0.0.0/0"].
    """
    who = ri.address_for("vpc_config.endpoint_public_access", "vpc_config.public_access_cidrs")
    public = ri.get("vpc_config.endpoint_public_access")
    at_public = ri.attribute("vpc_config.endpoint_public_access")
    anchor = at_public or (ri.blocks("vpc_config")[0] if ri.blocks("vpc_config") else ri)
    if public.is_unknown:
        yield ctx.undecided(
            at=anchor,
            node=ri,
            address=who,
            message=f"{who}: endpoint_public_access cannot be resolved ({public.reason})",
        )
        return
    if public.is_known and public.value is False:
        return
    cidrs = ri.get("vpc_config.public_access_cidrs")
    if cidrs.is_unknown:
        yield ctx.undecided(
            at=anchor, node=ri, address=who, message=f"{who}: public_access_cidrs cannot be resolved ({cidrs.reason})"
        )
        return
    values = cidrs.known_or(None)
    if values is None:
        why = "public_access_cidrs not set (defaults to 0.0.0.0/0)"
    else:
        open_to = [c for c in values if c in params.world_cidrs]
        if not open_to:
            return
        why = f"public_access_cidrs includes {open_to[0]}"
        anchor = ri.attribute("vpc_config.public_access_cidrs") or anchor
    state = "not set (defaults to true)" if public.is_absent else "true"
    yield ctx.finding(
        at=anchor,
        node=ri,
        address=who,
        message=f"{who}: endpoint_public_access {state} and {why}: the Kubernetes API is reachable from the whole internet",
    )
