"""What an environment builds, by AWS service, with the settings a reviewer reads first; and
how generated secrets travel (generated -> stored -> consumed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from urr_audit.checks.terraform._model import iter_attributes, trace
from urr_audit.facts import aws_catalog
from urr_audit.facts.tf import Setting, existing, setting, targets
from urr_audit.model.common import Span
from urr_audit.model.terraform import Environment


@dataclass
class ServiceUse:
    service: str
    types: dict[str, int] = field(default_factory=dict)  # resource type -> instances
    uncounted: set[str] = field(default_factory=set)  # types with a count/for_each not resolved
    modules: dict[str, Span] = field(default_factory=dict)  # module directory -> first resource span
    settings: list[tuple[str, str, Setting]] = field(default_factory=list)  # (resource address, label, setting)


def inventory(env: Environment) -> dict[str, ServiceUse]:
    """Services used by the environment's managed resources, by service name."""
    out: dict[str, ServiceUse] = {}
    described: set[str] = set()
    for ri in existing(env):
        if ri.resource.mode != "managed":
            continue
        use = out.setdefault(aws_catalog.service_of(ri.type), ServiceUse(aws_catalog.service_of(ri.type)))
        use.types[ri.type] = use.types.get(ri.type, 0) + 1
        if ri.key is None and (ri.resource.count is not None or ri.resource.for_each is not None):
            use.uncounted.add(ri.type)
        use.modules.setdefault(ri.instance.module.path, ri.span)
        if ri.resource_address in described:
            continue  # settings of the first instance stand for the others
        described.add(ri.resource_address)
        for label, path in aws_catalog.KEY_SETTINGS.get(ri.type, ()):
            s = setting(ri, path)
            if s is not None:
                use.settings.append((ri.resource_address, label, s))
    return out


@dataclass(frozen=True)
class SecretUse:
    """A resource attribute whose value comes from a generated secret (through any chain of
    variables, outputs and stores)."""

    generator: str  # address of the generator (random_password...)
    consumer: str  # address of the resource reading it
    attribute: str
    span: Span
    via_store: str | None = None  # the secret store it is read from, when it goes through one
    chain: tuple[str, ...] = ()


@dataclass
class SecretFlow:
    generators: dict[str, Span] = field(default_factory=dict)
    stores: dict[str, tuple[str, Span]] = field(default_factory=dict)  # store address -> (generator, span)
    uses: list[SecretUse] = field(default_factory=list)


def secret_flow(env: Environment) -> SecretFlow:
    """Generators, the stores their values are written to, and every attribute reading either
    (the generated value itself, or the store's secret by reference: an ARN, a name)."""
    out = SecretFlow()
    for ri in existing(env, *aws_catalog.SECRET_GENERATORS):
        out.generators[ri.resource_address] = ri.span
    if not out.generators:
        return out
    store_types = aws_catalog.SECRET_STORES
    holders: dict[str, str] = {}  # secret resource (or store) address -> generator
    candidates = [
        ri
        for ri in existing(env)
        if ri.type not in aws_catalog.SECRET_GENERATORS
        and (ri.resource.mode == "managed" or ri.type in ("archive_file", "local_file"))
    ]
    for ri in candidates:
        if ri.type not in store_types:
            continue
        attr = ri.attribute(store_types[ri.type])
        if attr is None:
            continue
        reached = [r.address for r in trace(env, ri.instance, attr.expr) if r.address in out.generators]
        if reached:
            out.stores[ri.resource_address] = (reached[0], attr.span)
            holders[ri.resource_address] = reached[0]
            for secret in targets(env, ri, "secret_id") or targets(env, ri, "name"):
                holders.setdefault(secret, reached[0])
    for ri in candidates:
        if ri.resource_address in out.stores:
            continue
        for path, attr in iter_attributes(ri.resource.body):
            if not attr.expr.references:
                continue
            found: set[str] = set()
            for reach in trace(env, ri.instance, attr.expr):
                if reach.kind != "resource":
                    continue
                if reach.address in out.generators and reach.address not in found:
                    found.add(reach.address)
                    out.uses.append(SecretUse(reach.address, ri.resource_address, path, attr.span, None, reach.chain))
                elif reach.address in holders and holders[reach.address] not in found:
                    found.add(holders[reach.address])
                    out.uses.append(
                        SecretUse(
                            holders[reach.address], ri.resource_address, path, attr.span, reach.address, reach.chain
                        )
                    )
    return out
