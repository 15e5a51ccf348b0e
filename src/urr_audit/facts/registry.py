"""The container registry Terraform manages: Amazon ECR repositories with their names and tag
mutability, and the outputs that publish their URLs."""

from __future__ import annotations

from dataclasses import dataclass, field

from urr_audit.facts.tf import existing, setting
from urr_audit.model.common import Span
from urr_audit.model.terraform import Environment, ResourceInstance

REPOSITORY_TYPE = "aws_ecr_repository"


@dataclass(frozen=True)
class Repository:
    environment: str
    address: str  # the instance (`aws_ecr_repository.this["api"]`)
    resource_address: str  # the resource, without instance key
    name: str | None  # None: not known before apply (`reason`)
    span: Span  # where the name is set (the for_each entry's origin, else the attribute)
    resource_span: Span
    mutability: str  # MUTABLE (the default), IMMUTABLE, ... ; "" when not known
    mutability_span: Span
    reason: str = ""


@dataclass
class Registry:
    repositories: list[Repository] = field(default_factory=list)
    # why the set of repositories may be incomplete (a remote module, a name known at apply)
    unknown: list[str] = field(default_factory=list)

    @property
    def managed(self) -> bool:
        return bool(self.repositories)

    def named(self, name: str) -> list[Repository]:
        return [r for r in self.repositories if r.name == name]

    @property
    def names(self) -> set[str]:
        return {r.name for r in self.repositories if r.name}

    def closest(self, name: str) -> Repository | None:
        """The repository whose name shares the longest leading path with `name` (where a
        missing one would be added)."""

        def shared(r: Repository) -> int:
            a, b = (r.name or "").split("/"), name.split("/")
            n = 0
            while n < min(len(a), len(b)) - 1 and a[n] == b[n]:
                n += 1
            return n

        known = [r for r in self.repositories if r.name]
        return max(known, key=shared, default=self.repositories[0] if self.repositories else None)


def _name_span(ri: ResourceInstance) -> Span:
    """Where a repository would be added: the list a `for_each` iterates, at the module
    argument, tfvars entry or default that sets it; else the `name` attribute."""
    fe = ri.resource.for_each
    if fe is None:
        return ri.span_of("name")
    v = ri.instance.eval(fe)
    if v.origin is not None:
        return v.origin
    for t in fe.traversals:
        head, _, rest = t.partition(".")
        name = rest.split(".", 1)[0]
        var = ri.instance.variables.get(name) if head == "var" else None
        if var is not None and (var.origin or var.span) is not None:
            return var.origin or var.span  # type: ignore[return-value]
        local = ri.instance.module.locals.get(name) if head == "local" else None
        if local is not None:
            return local.span
    return fe.span


def registry(envs: list[Environment]) -> Registry:
    """The ECR repositories every Terraform environment creates (one entry per repository
    name and resource: a registry is often shared, created once)."""
    out = Registry()
    seen: set[tuple[str, str | None]] = set()
    for env in envs:
        for ri in existing(env, REPOSITORY_TYPE):
            if ri.resource.mode != "managed":
                continue
            v = ri.get("name")
            name = v.value if v.is_known and isinstance(v.value, str) else None
            key = (ri.address, name)
            if key in seen:
                continue
            seen.add(key)
            m = setting(ri, "image_tag_mutability")
            mutability = "MUTABLE" if m is None else (str(m.value.value) if m.known else "")
            reason = "" if name is not None else (v.reason or "name is not known")
            if name is None:
                out.unknown.append(f"{ri.address} ({env.name}): {reason}")
            out.repositories.append(
                Repository(
                    environment=env.name,
                    address=ri.address,
                    resource_address=ri.resource_address,
                    name=name,
                    span=_name_span(ri),
                    resource_span=ri.span,
                    mutability=mutability,
                    mutability_span=m.span if m is not None else ri.span,
                    reason=reason,
                )
            )
        for reason in env.incomplete:
            if reason not in out.unknown:
                out.unknown.append(reason)
    return out
