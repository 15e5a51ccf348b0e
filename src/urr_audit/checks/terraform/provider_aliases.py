"""Provider configurations a module refers to but does not have (Terraform's "Provider
configuration not present" and "Missing required provider configuration").

A module may use an aliased provider configuration (`provider = aws.us_east_1`) only when it
declares it: a `provider "aws" { alias = "us_east_1" }` block of its own, or, for a module
meant to be called, `configuration_aliases = [aws.us_east_1]` in `required_providers`, which
every caller must then fill with `providers = { aws.us_east_1 = ... }`.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._providers import each_root, roots_of
from urr_audit.model.project import Project
from urr_audit.model.terraform import ModuleDir


def _norm(ref: str) -> str:
    return "".join(ref.split())


def configuration_aliases(mod: ModuleDir) -> set[str]:
    """`aws.us_east_1` for each alias the module asks its callers to pass."""
    out: set[str] = set()
    for s in mod.settings:
        for entry in s.required_providers.values():
            aliases = entry.get("configuration_aliases")
            if isinstance(aliases, list):
                out.update(_norm(a) for a in aliases if isinstance(a, str))
    return out


def declared_aliases(mod: ModuleDir) -> set[str]:
    """Aliased configurations the module can refer to: its own provider blocks' and the ones
    it asks callers for."""
    return {f"{p.name}.{p.alias}" for p in mod.providers if p.alias} | configuration_aliases(mod)


class ProviderAliasParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


@check("tf-provider-alias", scope="project", params=ProviderAliasParams, subjects=("provider-alias",))
def provider_alias(ctx: Context, project: Project, params: ProviderAliasParams) -> Iterator[Hit]:
    """A resource, data source or module call referring to an aliased provider configuration
    the module does not declare (no `provider` block with that alias, not in
    `configuration_aliases`), and a module call that does not pass an alias its module asks
    for in `configuration_aliases`."""
    tf = project.terraform
    roots = roots_of(tf)
    for path in sorted(tf.modules):
        mod = tf.modules[path]
        declared = declared_aliases(mod)
        where = roots.get(path, [])
        for r in mod.resources:
            ref = _norm(r.provider or "")
            if "." not in ref or ref in declared:
                continue
            attr = r.body.attr("provider")
            yield from each_root(
                ctx,
                where,
                mod,
                r.address,
                attr.span if attr is not None else r.span,
                f"`provider = {ref}` but {_name(mod)} declares no `{ref}`: add it to "
                f"`configuration_aliases` in required_providers (callers then pass it with `providers`), or "
                f'configure it here; Terraform stops with "Provider configuration not present"',
            )
        for call in mod.module_calls.values():
            for child_side, ours in sorted(call.providers.items()):
                ref = _norm(ours)
                if "." in ref and ref not in declared:
                    yield from each_root(
                        ctx,
                        where,
                        mod,
                        f"module.{call.name}",
                        call.providers_span or call.span,
                        f"passes `{ref}` to module.{call.name} as `{child_side}`, but {_name(mod)} declares no "
                        f"`{ref}` (no provider block with that alias, not in configuration_aliases)",
                    )
            child = tf.modules.get(call.resolved_dir or "")
            if child is None:
                continue
            passed = {_norm(k) for k in call.providers}
            for alias in sorted(configuration_aliases(child) - passed):
                yield from each_root(
                    ctx,
                    where,
                    mod,
                    f"module.{call.name}",
                    call.span,
                    f"{child.path} requires the provider configuration `{alias}` (configuration_aliases) and "
                    f"module.{call.name} does not pass it: add `providers = {{ {alias} = ... }}`; Terraform "
                    'stops with "Missing required provider configuration"',
                )


def _name(mod: ModuleDir) -> str:
    return f"module {mod.path}" if mod.path != "." else "the root module"
