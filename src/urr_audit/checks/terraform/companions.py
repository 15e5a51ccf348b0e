"""A resource that needs a companion resource pointing at it (public access block, flow log,
rotation, encryption configuration...)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._model import attribute_targets, fmt, live_resources, picks_instance, resource_targets
from urr_audit.model.terraform import Environment, ResourceInstance


class Companion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    attribute: str  # the companion's attribute that names the target, e.g. `bucket`, `vpc_id`
    # match by value too: the target attribute whose known value the companion's may equal
    # (a bucket named by a string instead of a reference)
    target_attribute: str | None = None
    require: dict[str, Any] = {}  # attribute -> value the companion must have (absent = wrong)


class CompanionParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource_types: list[str]
    companions: list[Companion]
    inline_blocks: list[str] = []  # a block on the target itself that does the same job
    # companions of these types exempt every target of the environment (account-level settings)
    account_level: list[Companion] = []
    problem: str


# a companion of the target's resource that indexes another instance of it
OTHER_INSTANCE = "other instance"


def _points_at(
    env: Environment, comp: ResourceInstance, spec: Companion, target: ResourceInstance
) -> bool | str | None:
    """True/False, OTHER_INSTANCE, or None when the companion names something that cannot be resolved."""
    targets = attribute_targets(env, comp, spec.attribute)
    if targets is None:
        return False
    if target.resource_address in targets:
        return True if picks_instance(comp, spec.attribute, target) else OTHER_INSTANCE
    if spec.target_attribute:
        mine, theirs = comp.get(spec.attribute), target.get(spec.target_attribute)
        if mine.is_known and theirs.is_known:
            return bool(mine.value == theirs.value)
    return None if not targets else False


def _unmet(comp: ResourceInstance, spec: Companion) -> list[tuple[str, Any, Any]]:
    """(attribute, wanted, the companion's value) for each requirement not known to hold."""
    out = []
    for name, wanted in spec.require.items():
        v = comp.get(name)
        if not (v.is_known and v.value == wanted):
            out.append((name, wanted, v))
    return out


def _remote_calls_given(env: Environment, target: ResourceInstance) -> list[str]:
    """Module calls that are not read (remote sources) and receive `target` in an argument:
    only those could hold the companion, which must reference the target to cover it."""
    out = []
    for inst in env.instances:
        for call in inst.module.module_calls.values():
            if call.resolved_dir is not None:
                continue
            if any(target.resource_address in resource_targets(env, inst, arg.expr) for arg in call.arguments.values()):
                out.append(inst.prefixed(f"module.{call.name}"))
    return out


@check(
    "tf-companion-resource",
    scope="terraform.environment",
    params=CompanionParams,
    closed_world="terraform",
    subjects=lambda p: p.resource_types,
)
def companion_resource(ctx: Context, env: Environment, params: CompanionParams) -> Iterator[Hit]:
    """Each target resource needs a companion that references it, in any module instance of the
    environment. References are followed through locals, module arguments and outputs (and
    `for_each` when the companion uses `each.value`); a string attribute matches by value when
    `target_attribute` says which of the target's attributes it names. A companion that indexes
    an expanded target with a key known in its own instance (`aws_x.y[each.key]`) covers that
    instance only; otherwise it covers every instance of the target resource."""
    for spec in params.account_level:
        for comp in live_resources(env, spec.type):
            if not _unmet(comp, spec):
                return
    candidates = [(c, spec) for spec in params.companions for c in live_resources(env, spec.type)]
    for target in live_resources(env, *params.resource_types):
        if target.resource.mode != "managed":  # a data source reads an object managed elsewhere
            continue
        if any(target.has_block(b) for b in params.inline_blocks):
            continue
        found, unresolved, keyed = [], [], False
        for comp, spec in candidates:
            hit = _points_at(env, comp, spec, target)
            if hit is OTHER_INSTANCE:
                keyed = True
            elif hit:
                found.append((comp, spec))
            elif hit is None:
                unresolved.append(comp)
        if any(not _unmet(c, s) for c, s in found):
            continue
        if found:
            comp, spec = found[0]
            name, wanted, got = _unmet(comp, spec)[0]
            at = comp.attribute(name) or comp
            who = comp.address_for(name)
            if got.is_unknown:
                yield ctx.undecided(
                    at=at, node=comp, address=who, message=f"{who}: {name} cannot be resolved ({got.reason})"
                )
                continue
            shown = "not set" if got.is_absent else f"= {fmt(got.value)}"
            yield ctx.finding(
                at=at,
                node=comp,
                address=who,
                message=f"{who} (for {target.resource_address}): {name} {shown}, expected {fmt(wanted)}: {params.problem}",
                related=[target.span],
            )
            continue
        if unresolved:
            yield ctx.undecided(
                at=target,
                node=target,
                address=target.resource_address,
                message=f"{target.resource_address}: {unresolved[0].resource_address} may cover it but what it references cannot be resolved",
            )
            continue
        kinds = " / ".join(sorted({s.type for s in params.companions}))
        # companions of other instances of the resource: this instance is the one uncovered
        who = target.address if keyed else target.resource_address
        yield ctx.finding(
            at=target,
            node=target,
            address=who,
            message=f"{who} has no {kinds} referencing it: {params.problem}",
            settled=not _remote_calls_given(env, target),
        )
