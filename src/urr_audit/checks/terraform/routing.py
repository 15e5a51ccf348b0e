"""Route tables: which subnets have no way out of the VPC."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._model import attribute_targets, live_resources, picks_instance
from urr_audit.model.common import Value
from urr_audit.model.terraform import Environment


class IsolatedRouteTableParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Route targets that leave the VPC (internet, NAT, transit, ...). A route with one of them
    # written (known non-null, or not known until apply) is an exit.
    exit_targets: list[str] = [
        "gateway_id",
        "nat_gateway_id",
        "transit_gateway_id",
        "egress_only_gateway_id",
        "network_interface_id",
        "carrier_gateway_id",
        "core_network_arn",
        "local_gateway_id",
    ]
    # Report a table only when this many distinct subnet resources (tiers) are associated with
    # it, and (when set) no more: one rule states the fact per tier, another the shared table.
    min_subnet_groups: int = 1
    max_subnet_groups: int | None = None


def _is_exit(v: Value) -> bool:
    return v.is_unknown or (v.is_known and v.value not in (None, ""))


@check(
    "tf-isolated-route-table",
    scope="terraform.environment",
    params=IsolatedRouteTableParams,
    closed_world="terraform",
    subjects=("aws_route_table",),
)
def isolated_route_table(ctx: Context, env: Environment, params: IsolatedRouteTableParams) -> Iterator[Hit]:
    """Route tables with only the VPC-local route, and the subnet tiers associated with them.

    Routes and associations are matched to tables by what their `route_table_id` refers to
    (followed through locals, module arguments and outputs), in any module instance of the
    environment. Subnets associated with no table use the VPC main route table, which is not
    modelled here (`aws_main_route_table_association` / `aws_default_route_table` are not read).
    """
    tables = list(live_resources(env, "aws_route_table"))
    if not tables:
        return
    routes = list(live_resources(env, "aws_route"))
    assocs = list(live_resources(env, "aws_route_table_association"))
    # which table resource a route/association points at; which instance of an expanded table,
    # when it indexes the table with a key known in its own instance (`picks_instance`)
    table_of = {id(r): attribute_targets(env, r, "route_table_id") or set() for r in routes + assocs}
    unresolved_routes = [r for r in routes if not table_of[id(r)]]
    for table in tables:
        route_blocks = table.blocks("route")
        if any(b.dynamic is not None and b.key is None for b in route_blocks):
            continue  # dynamic routes over an unresolved collection: not worth an undecided per table
        if any(_is_exit(b.get(t)) for b in route_blocks for t in params.exit_targets):
            continue
        to_table = [r for r in routes + assocs if table.resource_address in table_of[id(r)]]
        to_this = [r for r in to_table if picks_instance(r, "route_table_id", table)]
        # the instances of an expanded table are reported together unless told apart by key
        who = table.address if len(to_this) < len(to_table) else table.resource_address
        mine = [r for r in to_this if r.type == "aws_route"]
        if any(_is_exit(r.get(t)) for r in mine for t in params.exit_targets):
            continue
        subnet_assocs = [a for a in to_this if a.type == "aws_route_table_association"]
        subnets: dict[str, list[Any]] = {}
        for a in subnet_assocs:
            for target in sorted(attribute_targets(env, a, "subnet_id") or ()):
                if ".aws_subnet." in f".{target}":
                    subnets.setdefault(target, []).append(a)
        if len(subnets) < max(params.min_subnet_groups, 1):
            continue
        if params.max_subnet_groups is not None and len(subnets) > params.max_subnet_groups:
            continue
        if unresolved_routes:
            yield ctx.undecided(
                at=table,
                node=table,
                address=who,
                message=(
                    f"{who} has no exit route of its own, but "
                    f"{unresolved_routes[0].resource_address} adds a route to a table that cannot be resolved"
                ),
            )
            continue
        names = ", ".join(sorted(subnets))
        shared = (
            f"; {len(subnets)} subnet tiers share this one table, so none can get an exit route alone"
            if len(subnets) > 1
            else ""
        )
        yield ctx.finding(
            at=table,
            node=table,
            address=who,
            message=(
                f"{who} has no route out of the VPC (no internet, NAT or transit gateway "
                f"route): subnets {names} are isolated{shared}"
            ),
            related=[a.span for group in subnets.values() for a in group],
        )
