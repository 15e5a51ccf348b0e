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

    Provider defaults: `endpoint_public_access` true, `public_access_cidrs` ["0.0.0.0/0"]. An
    empty `public_access_cidrs` is no restriction: AWS applies 0.0.0.0/0 when none is given.
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
    at_cidrs = ri.attribute("vpc_config.public_access_cidrs")
    items = cidrs.parts()
    if cidrs.is_absent or items is None or items == []:
        # AWS applies 0.0.0.0/0 when no CIDR is given: an empty list is no restriction
        why = (
            "public_access_cidrs not set (defaults to 0.0.0.0/0)"
            if at_cidrs is None or cidrs.is_absent or items is None
            else "public_access_cidrs is empty, which AWS reads as 0.0.0.0/0"
        )
        anchor = at_cidrs or anchor
    else:
        listed = items if isinstance(items, list) else [items]
        open_to = [c for c in listed if isinstance(c, str) and c in params.world_cidrs]
        if not open_to:
            if cidrs.is_known:
                return
            yield ctx.undecided(
                at=at_cidrs or anchor,
                node=ri,
                address=who,
                message=f"{who}: public_access_cidrs cannot be resolved ({cidrs.reason})",
            )
            return
        why = f"public_access_cidrs includes {open_to[0]}"
        anchor = at_cidrs or anchor
    state = "not set (defaults to true)" if public.is_absent else "true"
    yield ctx.finding(
        at=anchor,
        node=ri,
        address=who,
        message=f"{who}: endpoint_public_access {state} and {why}: the Kubernetes API is reachable from the whole internet",
    )
