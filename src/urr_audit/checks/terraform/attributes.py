"""Generic resource-attribute checks: a value that must (not) be set, a block that must exist."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._model import EnvironmentFilter, fmt
from urr_audit.model.terraform import ResourceInstance


class AttributeValueParams(EnvironmentFilter):
    model_config = ConfigDict(extra="forbid")

    resource_types: list[str]
    attribute: str  # dotted for nested blocks: "vpc_config.endpoint_public_access"
    bad_values: list[Any] = Field(default_factory=list)  # known values that fail
    absent_is_bad: bool = False  # the provider default is the bad value
    below: float | None = None  # known numbers below this fail too
    except_values: list[Any] = Field(default_factory=list)  # known values never reported (another rule's)
    unless_set: list[str] = Field(default_factory=list)  # skip resources where one of these is written (e.g. replicas)
    # attribute -> values (null: not set) the resource must have for the rule to apply
    # (`protocol: [HTTPS, TLS]`), and values for which it does not (`engine_mode: [serverless]`)
    only_when: dict[str, list[Any]] = Field(default_factory=dict)
    skip_when: dict[str, list[Any]] = Field(default_factory=dict)
    # a value only known at apply time (e.g. the ARN of a resource) counts as set, not undecided
    unknown_is_set: bool = False
    problem: str  # what is wrong, for the message


def _condition(ri: ResourceInstance, only_when: dict[str, list[Any]], skip_when: dict[str, list[Any]]) -> bool | str:
    """Whether the rule applies to the resource: True, False, or why it cannot be told."""
    for conditions, wanted in ((only_when, True), (skip_when, False)):
        for path, values in conditions.items():
            v = ri.get(path)
            if v.is_unknown:
                return f"{path} cannot be resolved ({v.reason or 'unknown'})"
            got = None if v.is_absent else v.value
            if (got in values) is not wanted:
                return False
    return True


def _nearest_block(ri: ResourceInstance, path: str) -> Any:
    """Where an absent nested attribute belongs: the deepest block on its path that is written
    (`viewer_certificate` for `viewer_certificate.minimum_protocol_version`), else the resource."""
    steps = path.split(".")[:-1]
    views = ri.blocks(steps[0]) if steps else []
    at: Any = views[0] if views else ri
    for step in steps[1:]:
        if not views:
            break
        views = views[0].blocks(step)
        if views:
            at = views[0]
    return at


@check(
    "tf-attribute-value", scope="terraform.resource", params=AttributeValueParams, subjects=lambda p: p.resource_types
)
def attribute_value(ctx: Context, ri: ResourceInstance, params: AttributeValueParams) -> Iterator[Hit]:
    """An attribute whose value (resolved in the environment) is a known-bad one, or absent when the
    provider default is bad. Values that cannot be resolved are undecided."""
    if ri.type not in params.resource_types or ri.resource.mode != "managed" or not params.applies_to(ri.environment):
        return  # a data source reads an object configured elsewhere
    if any(not ri.get(u).is_absent for u in params.unless_set):
        return
    applies = _condition(ri, params.only_when, params.skip_when)
    if applies is False:
        return
    value = ri.get(params.attribute)
    attr = ri.attribute(params.attribute)
    who = ri.address_for(params.attribute)
    if isinstance(applies, str):
        bad = (value.is_absent or (value.is_known and value.value is None)) and params.absent_is_bad
        bad = bad or (value.is_known and value.value in params.bad_values)
        if bad:
            yield ctx.undecided(
                at=attr or ri, node=ri, address=who, message=f"{who}: whether the rule applies: {applies}"
            )
        return
    if value.is_absent or (value.is_known and value.value is None):
        if params.absent_is_bad:
            how = "not set (provider default)" if attr is None else "null (provider default)"
            yield ctx.finding(
                at=attr or _nearest_block(ri, params.attribute),
                node=ri,
                address=who,
                message=f"{who}: {params.attribute} {how}: {params.problem}",
            )
        return
    if value.is_unknown and params.unknown_is_set:
        return
    if value.is_unknown:
        yield ctx.undecided(
            at=attr or ri,
            node=ri,
            address=who,
            message=f"{who}: {params.attribute} cannot be resolved ({value.reason or 'unknown'})",
        )
        return
    v = value.value
    if v in params.except_values:
        return
    numeric = isinstance(v, (int, float)) and not isinstance(v, bool)
    if v in params.bad_values or (params.below is not None and numeric and v < params.below):
        where = f" (via {attr.expr.text.strip()})" if attr and not attr.expr.literal.is_known else ""
        yield ctx.finding(
            at=attr or ri,
            node=ri,
            address=who,
            message=f"{who}: {params.attribute} = {fmt(v)}{where}: {params.problem}",
        )


class BlockRequiredParams(EnvironmentFilter):
    model_config = ConfigDict(extra="forbid")

    resource_types: list[str]
    block: str
    enabled_attribute: str | None = None  # inside the block; must be known true
    skip_when: dict[str, list[Any]] = Field(
        default_factory=dict
    )  # attribute -> values for which the block does not apply
    problem: str


@check("tf-block-required", scope="terraform.resource", params=BlockRequiredParams, subjects=lambda p: p.resource_types)
def block_required(ctx: Context, ri: ResourceInstance, params: BlockRequiredParams) -> Iterator[Hit]:
    """A nested block that must be written (and enabled) on a resource."""
    if ri.type not in params.resource_types or ri.resource.mode != "managed" or not params.applies_to(ri.environment):
        return
    for attr, values in params.skip_when.items():
        v = ri.get(attr)
        if v.is_known and v.value in values:
            return
    blocks = ri.blocks(params.block)
    if not ri.has_block(params.block):
        who = ri.resource_address
        yield ctx.finding(at=ri, node=ri, address=who, message=f"{who}: no `{params.block}` block: {params.problem}")
        return
    if params.enabled_attribute is None or not blocks:
        return  # only a dynamic block over an empty collection: left to apply time as before
    path = f"{params.block}.{params.enabled_attribute}"
    who = ri.address_for(path)
    v = ri.get(path)
    at = ri.attribute(path) or blocks[0]
    if v.is_unknown:
        yield ctx.undecided(at=at, node=ri, address=who, message=f"{who}: {path} cannot be resolved ({v.reason})")
    elif not (v.is_known and v.value is True):
        shown = "not set (defaults to false)" if v.is_absent else f"= {fmt(v.value)}"
        yield ctx.finding(at=at, node=ri, address=who, message=f"{who}: {path} {shown}: {params.problem}")
