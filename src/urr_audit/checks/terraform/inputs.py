"""Root-module inputs: does every required variable get a value the repository can show?"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._roots import looks_deployed
from urr_audit.model.terraform import Environment, TfvarsFile


class RequiredInputParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Mention a variable file of these kinds when it has the value but Terraform does not load it.
    hint_kinds: list[str] = ["example", "tfvars", "json"]
    # Only roots that show they are deployed (see _roots.py); a reusable module's required
    # variables are its callers' business.
    deployed_only: bool = True


def _loaded(env: Environment) -> list[TfvarsFile]:
    loaded = set(env.tfvars_loaded)
    return [t for t in env.module.tfvars if t.path in loaded]


@check(
    "tf-required-input-without-value",
    scope="terraform.environment",
    params=RequiredInputParams,
    subjects=("variable",),
)
def required_input_without_value(ctx: Context, env: Environment, params: RequiredInputParams) -> Iterator[Hit]:
    """A root-module variable with no default that no auto-loaded variable file sets.

    Values given on the command line (`-var`, `-var-file`) or as `TF_VAR_*` are invisible in
    the repository: the finding says the repository does not show where the value comes from.
    """
    if params.deployed_only and not looks_deployed(env):
        return
    loaded = _loaded(env)
    loaded_paths = {t.path for t in loaded}
    for var in sorted(env.module.variables.values(), key=lambda v: (v.span.path, v.span.line)):
        if not var.required:
            continue
        if any(var.name in t.values for t in loaded):
            continue
        hints = [
            t
            for t in sorted(env.module.tfvars, key=lambda t: t.path)
            if t.path not in loaded_paths and t.kind in params.hint_kinds and var.name in t.values
        ]
        if loaded:
            where = "none of the variable files Terraform loads here (" + ", ".join(sorted(loaded_paths)) + ") sets it"
        else:
            where = "no terraform.tfvars or *.auto.tfvars file sets it"
        hint = ""
        if hints:
            names = ", ".join(f"{t.path}:{t.values[var.name].span.line}" for t in hints)
            hint = f"; {names} has a value but is not loaded automatically (example or -var-file only)"
        yield ctx.finding(
            at=var,
            message=(
                f"required variable `{var.name}` of environment `{env.name}` has no default and {where}"
                f"{hint}; plan prompts or fails unless -var/-var-file/TF_VAR_{var.name} is passed"
            ),
            address=f"{env.path}/var.{var.name}",
            environment=env.name,
            related=[t.values[var.name].span for t in hints],
        )
