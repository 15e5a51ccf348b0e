"""Security groups as a graph: groups attached to nothing, resources given no group, ingress
that exists only under an input nobody sets. All read the one model of `_network`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, NoParams, check
from urr_audit.checks.terraform._model import iter_attributes, live_resources, trace
from urr_audit.checks.terraform._network import RULE_TYPES, Network, SgRule, network, targets, unread_module_groups
from urr_audit.model.common import Severity, UnknownElements, Value
from urr_audit.model.project import Project
from urr_audit.model.terraform import Environment, Expression, ModuleInstance, Resource, ResourceInstance

# --- attached to nothing -------------------------------------------------------------------


class UnattachedParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # an attribute whose dotted path matches this takes security groups (vpc_security_group_ids,
    # vpc_config.security_group_ids, network_configuration.security_groups, ...)
    attach_attribute_pattern: str = r"security_group"
    # resources that hand a value to something outside the Terraform model (Helm values,
    # Kubernetes manifests, SSM parameters read by other stacks): a group id given to them may
    # be attached there
    publishing_types: list[str] = Field(default_factory=list)
    # tag keys (regexes) by which controllers find groups to attach (Karpenter, ...)
    discovery_tags: list[str] = Field(default_factory=list)
    # roots (regex on their directory) that demonstrate a module rather than deploy it
    skip_roots: str | None = None


def _flows(env: Environment, resources: list[ResourceInstance], skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Group address -> where a group id flows, for every attribute of these resources."""
    out: dict[str, str] = {}
    for ri in resources:
        for path, attr in iter_attributes(ri.resource.body):
            if path in skip:
                continue
            exprs = [attr.expr, *([ri.resource.for_each] if ri.resource.for_each is not None else [])]
            for g in targets(env, ri.instance, exprs):
                out.setdefault(g, f"{ri.resource_address}.{path}")
    return out


def _root_outputs(env: Environment) -> dict[str, str]:
    out: dict[str, str] = {}
    root = env.root
    for name, o in root.module.outputs.items():
        for g in targets(env, root, [o.expr]):
            out.setdefault(g, f"output `{name}`")
    return out


def _tag_keys(ri: ResourceInstance) -> list[str]:
    v = ri.get("tags")
    x = v.parts()
    return [k for k in x if isinstance(k, str)] if isinstance(x, dict) else []


def peer_rules(net: Network, address: str) -> list[SgRule]:
    """Rules of other groups that name this group as their peer."""
    return [
        r
        for r in net.rules
        if address not in net.owner_of(r)
        and any(p.kind == "group" and address in net.peer_groups(r, p) for p in r.peers)
    ]


@check(
    "tf-sg-unattached",
    scope="terraform.environment",
    params=UnattachedParams,
    closed_world="terraform",
    subjects=("aws_security_group",),
)
def sg_unattached(ctx: Context, env: Environment, params: UnattachedParams) -> Iterator[Hit]:
    """A security group no resource of the environment takes. Its rules decide nothing, and
    rules of other groups that admit it as a peer admit nobody. Any attribute matching
    `attach_attribute_pattern` of any resource counts as taking it (so a type missing from a
    table cannot make a false finding). A group handed to a module that is not read is
    undecided; one published (a root output, a `publishing_types` resource, a discovery tag)
    may be attached outside Terraform: reported at low severity, saying so."""
    net = network(env)
    if not net.groups or (params.skip_roots and re.search(params.skip_roots, env.path + "/")):
        return
    pattern = re.compile(params.attach_attribute_pattern)
    takers: set[str] = set()
    for ri in live_resources(env):
        if ri.resource.mode != "managed" or ri.type in RULE_TYPES or ri.type in params.publishing_types:
            continue
        for path, attr in iter_attributes(ri.resource.body):
            if pattern.search(path):
                exprs = [attr.expr, *([ri.resource.for_each] if ri.resource.for_each is not None else [])]
                takers |= targets(env, ri.instance, exprs)
    published = _flows(env, [r for r in live_resources(env, *params.publishing_types) if params.publishing_types])
    exported = _root_outputs(env)
    unread = unread_module_groups(env)
    discovery = [re.compile(p) for p in params.discovery_tags]
    for address, instances in sorted(net.groups.items()):
        if address in takers:
            continue
        ri = instances[0]
        if address in unread:
            yield ctx.undecided(
                at=ri,
                node=ri,
                address=address,
                message=f"{address}: attached to nothing here, but passed to {unread[address]}, which is not read",
            )
            continue
        admitted = peer_rules(net, address)
        named = ""
        if admitted:
            shown = ", ".join(f"{r.subject} ({r.traffic or 'traffic unresolved'})" for r in admitted[:3])
            more = f" and {len(admitted) - 3} more" if len(admitted) > 3 else ""
            named = f"; rules naming it as their peer match no one: {shown}{more}"
        tag = next((k for k in _tag_keys(ri) for d in discovery if d.search(k)), None)
        outside = published.get(address) or exported.get(address) or (f"tag `{tag}`" if tag else None)
        if outside:
            yield ctx.finding(
                at=ri,
                node=ri,
                address=address,
                message=(
                    f"{address}: no resource in this configuration takes this security group{named}; it may be "
                    f"attached outside Terraform (through {outside}): if so, say so with a suppression"
                ),
                related=[r.span for r in admitted],
                severity=Severity.LOW,
                settled=True,
            )
        elif admitted:
            yield ctx.finding(
                at=ri,
                node=ri,
                address=address,
                message=(
                    f"{address}: no resource in this configuration takes this security group, so its rules "
                    f"decide nothing{named}"
                ),
                related=[r.span for r in admitted],
                settled=True,
            )
        else:
            # nothing here depends on its members: dead, or used by something outside Terraform
            yield ctx.finding(
                at=ri,
                node=ri,
                address=address,
                message=(
                    f"{address}: no resource in this configuration takes this security group and no rule names "
                    "it as a peer: it is unused, or attached outside Terraform (then say so with a suppression)"
                ),
                severity=Severity.LOW,
                settled=True,
            )


# --- given no security group ---------------------------------------------------------------


class NoGroupTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attributes: list[str]  # where the type takes groups; one non-empty is enough
    when: dict[str, list[Any]] = Field(default_factory=dict)  # attribute -> values (null = absent) it applies to
    when_set: list[str] = Field(default_factory=list)  # attributes or blocks that must be written
    unless_set: list[str] = Field(default_factory=list)  # written: groups come from elsewhere


class NoGroupParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource_types: dict[str, NoGroupTarget]


def _written(ri: ResourceInstance, path: str) -> bool:
    if "." not in path and ri.has_block(path):
        return True
    v = ri.get(path)
    return not v.is_absent and not (v.is_known and v.value is None)


def _empty(v: Value) -> bool | None:
    """True when no group is given (absent, null, []), None when it cannot be told."""
    if v.is_absent or (v.is_known and v.value in (None, [], "")):
        return True
    if v.is_known:
        return False
    x = v.parts()
    if isinstance(x, list) and any(not _unknown_run(e) for e in x):
        return False
    return None


def _unknown_run(x: Any) -> bool:
    return isinstance(x, UnknownElements)


@check(
    "tf-sg-none-given",
    scope="terraform.resource",
    params=NoGroupParams,
    subjects=lambda p: list(p.resource_types),
)
def sg_none_given(ctx: Context, ri: ResourceInstance, params: NoGroupParams) -> Iterator[Hit]:
    """A resource that takes security groups but is given none: AWS then attaches the VPC's
    default security group, shared with everything else given none."""
    spec = params.resource_types.get(ri.type)
    if spec is None or ri.resource.mode != "managed":
        return
    for path, values in spec.when.items():
        v = ri.get(path)
        got = None if v.is_absent else v.value if v.is_known else v
        if isinstance(got, Value):
            return  # not known whether it applies: the type's condition decides nothing here
        if got not in values:
            return
    if any(not _written(ri, p) for p in spec.when_set) or any(_written(ri, p) for p in spec.unless_set):
        return
    states = [_empty(ri.get(a)) for a in spec.attributes]
    if any(s is False for s in states):
        return
    who = ri.address_for(*spec.attributes)
    written = [a for a in map(ri.attribute, spec.attributes) if a is not None]
    at: Any = written[0] if written else _nearest_block(ri, spec.attributes[0])
    if any(s is None for s in states):
        reason = next((ri.get(a).reason for a, s in zip(spec.attributes, states, strict=True) if s is None), "")
        yield ctx.undecided(
            at=at, node=ri, address=who, message=f"{who}: security groups cannot be resolved ({reason})"
        )
        return
    how = (
        f"`{written[0].name}` is empty ({' '.join(written[0].expr.text.split())})"
        if written
        else f"{' / '.join(spec.attributes)} not set"
    )
    yield ctx.finding(
        at=at,
        node=ri,
        address=who,
        message=(
            f"{who}: no security group given ({how}): AWS attaches the VPC's default security group, "
            "shared with every other resource given none and not managed here"
        ),
    )


def _nearest_block(ri: ResourceInstance, path: str) -> Any:
    """The block an absent nested attribute belongs in, or the resource."""
    head, _, rest = path.partition(".")
    if rest:
        blocks = ri.blocks(head)
        if blocks:
            return blocks[0]
    return ri


# --- ingress only under an input nobody sets -----------------------------------------------


def _inputs(env: Environment, inst: ModuleInstance, exprs: list[Expression]) -> list[str]:
    """Variables of `inst` the expressions depend on (directly or through locals)."""
    names: list[str] = []
    for e in exprs:
        for r in trace(env, inst, e, prune=lambda r: r.kind == "var"):
            if r.kind == "var" and r.instance is inst and r.name not in names:
                names.append(r.name)
    return names


def _set_by(env: Environment, inst: ModuleInstance, name: str) -> bool:
    """Whether the variable gets a value other than its default in this instance: an argument
    of the module call, or (at the root) a variables file."""
    if inst.call is not None:
        return name in inst.call.arguments
    return any(name in t.values for t in env.module.tfvars if t.path in env.tfvars_loaded)


def _ingress_conditions(ri: ResourceInstance) -> list[tuple[Expression, str]]:
    """(count/for_each expression, what exists only through it) for ingress written under a
    condition: a rule resource with count/for_each, a dynamic ingress block."""
    r = ri.resource
    out: list[tuple[Expression, str]] = []
    if r.type in ("aws_security_group_rule", "aws_vpc_security_group_ingress_rule"):
        t = ri.get("type")
        if r.type == "aws_vpc_security_group_ingress_rule" or (t.is_known and t.value == "ingress"):
            for e in (r.count, r.for_each):
                if e is not None:
                    out.append((e, "the ingress rule"))
    elif r.type == "aws_security_group":
        for b in r.body.blocks_of("dynamic"):
            fe = b.attr("for_each")
            if b.labels == ["ingress"] and fe is not None:
                out.append((fe.expr, 'the dynamic "ingress" block'))
    return out


def _absent_everywhere(ri: ResourceInstance, expr: Expression) -> bool:
    r = ri.resource
    if expr is r.count or expr is r.for_each:
        v = ri.exists
        return v.is_known and v.value is False
    v = ri.instance.eval(expr)
    return v.is_known and v.value in ([], {}, None)


@check("tf-sg-ingress-unset-input", scope="project", subjects=RULE_TYPES)
def sg_ingress_unset_input(ctx: Context, project: Project, params: NoParams) -> Iterator[Hit]:
    """Ingress written to exist only when a module input is set, and no environment sets it
    (every caller leaves the default): in every environment the rule does not exist. A reader
    takes it for live access; setting the input one day opens it unreviewed."""
    by_resource: dict[int, tuple[Resource, list[tuple[Environment, ResourceInstance]]]] = {}
    for env in project.terraform.environments:
        for ri in env.resources(*RULE_TYPES):
            if ri.resource.mode == "managed" and _ingress_conditions(ri):
                by_resource.setdefault(id(ri.resource), (ri.resource, []))[1].append((env, ri))
    for resource, seen in by_resource.values():
        for expr, what in _ingress_conditions(seen[0][1]):
            if not all(_absent_everywhere(ri, expr) for _, ri in seen):
                continue
            inputs = list(dict.fromkeys(n for env, ri in seen for n in _inputs(env, ri.instance, [expr])))
            if not inputs or any(_set_by(env, ri.instance, n) for env, ri in seen for n in inputs):
                continue
            envs = sorted({env.name for env, _ in seen})
            shown = ", ".join(f"var.{n}" for n in inputs)
            for env, ri in seen:
                default = ri.instance.module.variables.get(inputs[0])
                yield ctx.finding(
                    at=expr,
                    node=ri,
                    address=ri.resource_address,
                    message=(
                        f"{ri.resource_address}: {what} exists only when {shown} is set to other than its default, "
                        f"and no environment sets it ({', '.join(envs)}): the ingress is created nowhere"
                    ),
                    related=[default.span] if default is not None else [],
                )
