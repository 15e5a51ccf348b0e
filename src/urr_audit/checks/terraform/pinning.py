"""Versions pinned to a literal that the platform would otherwise keep current."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._model import fmt, resource_exists, trace, value_source
from urr_audit.model.terraform import Environment


class PinnedAttributeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource_types: list[str]
    attribute: str
    # A value read from one of these (data source types) floats with the platform: not a pin.
    floating_sources: list[str] = []
    name_attribute: str | None = None  # shown in the message, e.g. addon_name


@check(
    "tf-pinned-attribute",
    scope="terraform.environment",
    params=PinnedAttributeParams,
    subjects=lambda p: p.resource_types,
)
def pinned_attribute(ctx: Context, env: Environment, params: PinnedAttributeParams) -> Iterator[Hit]:
    """An attribute (e.g. `aws_eks_addon.addon_version`) that resolves to a literal in this environment.

    Absent or null means the provider/platform default, which floats: silent. A value read from
    a floating source (e.g. `data.aws_eks_addon_version` with `most_recent`) is silent too; any
    other value that cannot be resolved is undecided.
    """
    for ri in env.resources(*params.resource_types):
        if not resource_exists(ri):
            continue
        attr = ri.attribute(params.attribute)
        if attr is None:
            continue
        value = ri.get(params.attribute)
        who = ri.address_for(params.attribute, *filter(None, [params.name_attribute]))
        label = who
        if params.name_attribute:
            name = ri.get(params.name_attribute)
            if name.is_known and isinstance(name.value, str):
                label = f"{who} ({name.value})"
        reached = list(trace(env, ri.instance, attr.expr))
        floating = [r for r in reached if r.kind == "data" and r.resource_type in params.floating_sources]
        if value.is_known:
            if value.value in (None, ""):
                continue
            chain = [r for r in reached if r.kind in ("var", "local", "output")]
            via = f" via {' -> '.join(chain[-1].chain)}" if chain else ""
            source = value_source(env, ri.instance, attr.expr)
            if source:
                via += f" ({source})"
            yield ctx.finding(
                at=attr,
                node=ri,
                address=who,
                message=(
                    f"{label} pins {params.attribute} = {fmt(value.value)}{via}; it will not follow cluster upgrades"
                ),
            )
        elif value.is_unknown and not floating:
            yield ctx.undecided(
                at=attr,
                node=ri,
                address=who,
                message=f"{label}: {params.attribute} cannot be resolved ({value.reason or attr.expr.text})",
            )
