"""Log groups AWS services create on their own: a Lambda function's `/aws/lambda/<name>`, an
EKS cluster's control plane group, RDS log exports, API Gateway execution logs. Created by the
service, they never expire and are not in the configuration; a log group resource of the same
name, created first, takes them over."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._model import attribute_targets, literal_ends, live_resources
from urr_audit.model.terraform import Environment, Expression, ResourceInstance

_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.]+)\}")


class EnabledBy(BaseModel):
    """Another resource that turns the service's logging on (API Gateway method settings)."""

    model_config = ConfigDict(extra="forbid")

    type: str
    reference: str  # its attribute that names the service resource
    attribute: str  # its setting that enables logs
    values: list[Any]


class ImplicitGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    # the group's name, `{attr}` for the service's arguments; `{each}` for each element of
    # `for_each_element` (RDS log exports)
    name: str
    for_each_element: str | None = None
    when_nonempty: str | None = None  # logs exist only when this list has elements
    unless_set: list[str] = Field(default_factory=list)  # a log group named by the service itself
    skip_when: dict[str, list[Any]] = Field(default_factory=dict)
    enabled_by: EnabledBy | None = None


class ImplicitLogParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    services: list[ImplicitGroup]


@dataclass
class Expected:
    name: str  # as far as known: unknown placeholders stay `{attr}`
    unknown: dict[str, Expression | None]  # placeholder -> the service's expression for it
    keys: tuple[str, ...] = ()  # every argument of the service the name is made of

    @property
    def known(self) -> bool:
        return not self.unknown

    def pattern(self) -> re.Pattern[str]:
        parts = _PLACEHOLDER.split(self.name)
        rx = "".join(re.escape(p) if i % 2 == 0 else ".+" for i, p in enumerate(parts))
        return re.compile(f"^{rx}$")

    @property
    def prefix(self) -> str:
        return _PLACEHOLDER.split(self.name)[0]


def _expected(ri: ResourceInstance, spec: ImplicitGroup) -> list[Expected] | str:
    """The names the service writes to, or why they cannot be told."""
    elements: list[Any] = [None]
    if spec.for_each_element:
        v = ri.get(spec.for_each_element)
        if v.is_unknown:
            return f"{spec.for_each_element} cannot be resolved ({v.reason})"
        elements = list(v.value) if v.is_known and isinstance(v.value, list) else []
    out = []
    for el in elements:
        unknown: dict[str, Expression | None] = {}

        def fill(m: re.Match[str], el: Any = el, unknown: dict[str, Expression | None] = unknown) -> str:
            key = m.group(1)
            if key == "each":
                return str(el)
            v = ri.get(key)
            if v.is_known and isinstance(v.value, (str, int)):
                return str(v.value)
            a = ri.attribute(key)
            unknown[key] = a.expr if a is not None else None
            return m.group(0)

        keys = tuple(k for k in _PLACEHOLDER.findall(spec.name) if k != "each")
        out.append(Expected(_PLACEHOLDER.sub(fill, spec.name), unknown, keys))
    return out


def _enabled(env: Environment, ri: ResourceInstance, spec: ImplicitGroup) -> bool | None:
    if spec.when_nonempty:
        v = ri.get(spec.when_nonempty)
        if v.is_unknown:
            return None
        if not (v.is_known and v.value):
            return False
    for path, values in spec.skip_when.items():
        v = ri.get(path)
        if v.is_known and v.value in values:
            return False
    if any(not ri.get(p).is_absent for p in spec.unless_set):
        return False
    by = spec.enabled_by
    if by is None:
        return True
    unknown = False
    for other in live_resources(env, by.type):
        if ri.resource_address not in (attribute_targets(env, other, by.reference) or set()):
            continue
        v = other.get(by.attribute)
        if v.is_known and v.value in by.values:
            return True
        unknown = unknown or v.is_unknown
    return None if unknown else False


def _covers(group: ResourceInstance, want: Expected, service: ResourceInstance) -> bool | None:
    """True when the log group is the one the service writes to, None when it may be."""
    v = group.get("name")
    if v.is_known and isinstance(v.value, str):
        if want.known:
            return v.value == want.name
        return bool(want.pattern().match(v.value))
    a = group.attribute("name")
    if a is None or v.is_absent:
        return False  # a generated name (name_prefix or none) is never the service's
    head, tail = literal_ends(a.expr.text)
    if head is not None and not (want.name.startswith(head) or head.startswith(want.prefix)):
        return False  # the written start of the name already differs (`/ecs/...` is no `/aws/lambda/...`)
    if tail and want.known and not want.name.endswith(tail):
        return False
    # the name is built from the service itself, or from what its unknown parts are built from
    mine = set(a.expr.traversals)
    service_refs = {service.resource.address + "." + k for k in want.keys}
    theirs = {t for e in want.unknown.values() if e is not None for t in e.traversals}
    if group.instance is service.instance and (mine & service_refs or (theirs and theirs <= mine)):
        return True
    # built from another resource of the service's type: that resource's group, not this one's
    others = {
        f"{t.rsplit('.', 1)[0]}"
        for t in mine
        if t.startswith(service.type + ".") and t.count(".") == 2 and t.rsplit(".", 1)[1] in want.keys
    }
    if others and (group.instance is not service.instance or service.resource.address not in others):
        return False
    return None


def _strings(x: Any) -> Iterator[str]:
    if isinstance(x, str):
        yield x
    elif isinstance(x, dict):
        for v in x.values():
            yield from _strings(v)
    elif isinstance(x, list):
        for v in x:
            yield from _strings(v)


def _unread_may_create(env: Environment, service: ResourceInstance, names: list[str]) -> bool:
    """Whether a module that is not read could create the group: one of its arguments refers to
    the service or holds the group's name (an unread module only knows what it is given)."""
    from urr_audit.checks.terraform._model import resource_targets

    for inst in env.instances:
        for call in inst.module.module_calls.values():
            if call.resolved_dir is not None:
                continue
            for arg in call.arguments.values():
                if service.resource_address in resource_targets(env, inst, arg.expr):
                    return True
                v = inst.eval(arg.expr)
                if any(n in text for text in _strings(v.parts()) for n in names):
                    return True
    return False


@check(
    "tf-implicit-log-group",
    scope="terraform.environment",
    params=ImplicitLogParams,
    closed_world="terraform",
    subjects=lambda p: [s.type for s in p.services],
)
def implicit_log_group(ctx: Context, env: Environment, params: ImplicitLogParams) -> Iterator[Hit]:
    """A service that writes logs to a group it creates itself when none exists: that group
    never expires and nothing in the configuration manages it. A log group resource of the
    expected name (compared by value, or by what the name is built from) covers it."""
    groups = [g for g in live_resources(env, "aws_cloudwatch_log_group") if g.resource.mode == "managed"]
    for spec in params.services:
        for ri in live_resources(env, spec.type):
            if ri.resource.mode != "managed":
                continue
            on = _enabled(env, ri, spec)
            if on is False:
                continue
            who = ri.resource_address
            expected = _expected(ri, spec)
            if on is None or isinstance(expected, str):
                why = expected if isinstance(expected, str) else "whether it writes logs cannot be resolved"
                yield ctx.undecided(at=ri, node=ri, address=who, message=f"{who}: {why}")
                continue
            missing: list[str] = []
            maybe: str | None = None
            for want in expected:
                verdicts = [_covers(g, want, ri) for g in groups]
                if any(v is True for v in verdicts):
                    continue
                if any(v is None for v in verdicts):
                    g = groups[verdicts.index(None)]
                    maybe = (
                        maybe or f"{g.resource_address} may be the log group {want.name}, its name cannot be compared"
                    )
                    continue
                missing.append(want.name)
            if missing:
                settled = not _unread_may_create(env, ri, missing)
                names = ", ".join(missing)
                groups_word, it = ("log groups", "them") if len(missing) > 1 else ("log group", "it")
                yield ctx.finding(
                    at=ri,
                    node=ri,
                    address=who,
                    message=(
                        f"{who} writes to the {groups_word} {names}, which no aws_cloudwatch_log_group manages: the "
                        f"service creates {it} on first use, with no retention (kept forever) and outside the configuration"
                    ),
                    settled=settled,
                )
            elif maybe:
                yield ctx.undecided(at=ri, node=ri, address=who, message=f"{who}: {maybe}")
