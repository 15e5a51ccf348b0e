"""Which provider schema table applies to a module's resources (no checks here).

Terraform installs one version of each provider for a whole configuration (the root module and
every module it calls): the version in the root's `.terraform.lock.hcl` when there is one, else
the newest that every module's `required_providers` constraint admits. A module reached from
several roots is checked once per root; roots that select the same tables give the same finding,
which the engine merges.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from urr_audit.checks.api import Context, Hit
from urr_audit.model.common import Span
from urr_audit.model.terraform import Environment, ModuleDir, Resource, TerraformProject
from urr_audit.providers import Constraint, Selection, normalize_source, select_majors


def module_closure(project: TerraformProject, root: ModuleDir) -> list[ModuleDir]:
    """The root and every module directory it calls, statically (whatever their count): the
    modules Terraform reads, and whose constraints it combines, for this configuration."""
    out: list[ModuleDir] = []
    seen: set[str] = set()
    stack = [root]
    while stack:
        mod = stack.pop()
        if mod.path in seen:
            continue
        seen.add(mod.path)
        out.append(mod)
        for call in sorted(mod.module_calls.values(), key=lambda c: c.name, reverse=True):
            child = project.modules.get(call.resolved_dir or "")
            if child is not None:
                stack.append(child)
    return out


def local_provider_name(resource: Resource) -> str:
    """The provider local name a resource uses: its `provider` meta-argument's name, else the
    prefix of its type (`aws_instance` -> `aws`)."""
    if resource.provider:
        return resource.provider.split(".", 1)[0].strip()
    return resource.type.split("_", 1)[0]


def provider_source(mod: ModuleDir, local: str) -> str | None:
    """`hashicorp/aws` for local name `aws` in this module: its `required_providers` entry, else
    the implied `hashicorp/<name>`; None when the entry names another registry or is not literal."""
    for s in mod.settings:
        entry = s.required_providers.get(local)
        if entry is None:
            continue
        src = entry.get("source")
        if isinstance(src, str):
            return normalize_source(src)
        if "expression" in entry:
            return None
    return normalize_source(local)


def constraints_for(modules: list[ModuleDir], source: str) -> list[Constraint]:
    out: list[Constraint] = []
    for mod in modules:
        for s in mod.settings:
            for local, entry in s.required_providers.items():
                src = entry.get("source")
                norm = normalize_source(src) if isinstance(src, str) else normalize_source(local)
                version = entry.get("version")
                if norm == source and isinstance(version, str) and version.strip():
                    out.append(Constraint(version.strip(), s.span))
    return out


def locked_version(root: ModuleDir, source: str) -> tuple[str, Span] | None:
    for written, entry in root.locked_providers.items():
        if normalize_source(written) == source:
            return entry.version, entry.span
    return None


@dataclass
class Root:
    """One root module (environment) and the module directories its configuration reads."""

    env: Environment
    modules: list[ModuleDir]
    _selections: dict[str, Selection] = field(default_factory=dict, repr=False)

    def selection(self, source: str) -> Selection:
        if source not in self._selections:  # one per provider: a rule asks for every resource
            self._selections[source] = select_majors(
                source, locked_version(self.env.module, source), constraints_for(self.modules, source)
            )
        return self._selections[source]


def roots_of(project: TerraformProject) -> dict[str, list[Root]]:
    """Module directory -> the roots whose configuration includes it."""
    out: dict[str, list[Root]] = {}
    for env in project.environments:
        root = Root(env, module_closure(project, env.module))
        for mod in root.modules:
            out.setdefault(mod.path, []).append(root)
    return out


def module_address(env: Environment, mod: ModuleDir) -> str:
    """How the environment addresses the module (`module.vpc`, "" for the root), keys removed;
    the directory when no instance of it exists there (a call with count = 0)."""
    for inst in env.instances:
        if inst.module.path == mod.path:
            return inst.static_address
    return mod.path


def prefixed(module_addr: str, address: str) -> str:
    return f"{module_addr}.{address}" if module_addr else address


def constraint_span(mod: ModuleDir, local: str) -> Span | None:
    for s in mod.settings:
        if local in s.required_providers:
            return s.span
    return None


def resources_by_source(mod: ModuleDir) -> Iterator[tuple[str | None, str, Resource]]:
    """(provider source or None, local name, resource) for every resource and data source."""
    for r in mod.resources:
        local = local_provider_name(r)
        yield provider_source(mod, local), local, r


def schema_coverage(project: TerraformProject) -> dict[str, dict[str, set[str]]]:
    """Resource and data source types by provider: `checked` (a table exists for the provider),
    `skipped` (no table: another provider, or a source from another registry), keyed by
    provider source (or local name when the source is not known)."""
    from urr_audit.providers import majors

    out: dict[str, dict[str, set[str]]] = {"checked": {}, "skipped": {}}
    for mod in project.modules.values():
        for source, local, r in resources_by_source(mod):
            kind = "checked" if source is not None and majors(source) else "skipped"
            label = ("data." if r.mode == "data" else "") + r.type
            out[kind].setdefault(source or local, set()).add(label)
    return out


def each_root(
    ctx: Context,
    roots: list[Root],
    mod: ModuleDir,
    address: str,
    at: Span,
    text: str,
    related: Iterable[Span] = (),
    undecided: bool = False,
) -> Iterator[Hit]:
    """One hit per root whose configuration includes `mod`, at the address the root gives the
    module-relative `address` (hits the roots agree on merge in the engine); one without an
    environment when no root calls the module: what is static in it is wrong everywhere."""
    made = ctx.undecided if undecided else ctx.finding
    if not roots:
        yield made(at=at, message=f"{address}: {text}", address=address, related=related)
        return
    for root in roots:
        full = prefixed(module_address(root.env, mod), address)
        yield made(at=at, message=f"{full}: {text}", address=full, environment=root.env.name, related=related)
