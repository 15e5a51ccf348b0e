"""Terraform files git must not commit: state, the `.terraform/` working directory, variable
files that hold secrets. What git ignores is read from the repository's `.gitignore` files
(`Project.gitignore`, git's own matching rules)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._roots import looks_deployed
from urr_audit.model.common import Severity, Span
from urr_audit.model.gitignore import GitIgnore
from urr_audit.model.project import Project
from urr_audit.model.terraform import Environment

UNKNOWN_ROOT = (
    "the scanned directory has no .git and no .gitignore, so .gitignore files above it (if it is inside a "
    "repository) are not read"
)


class IgnoreCoverageParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # paths relative to each deployed root that git must ignore ("/" at the end: a directory)
    required: list[str] = Field(
        default_factory=lambda: ["terraform.tfstate", "terraform.tfstate.backup", ".terraform/"]
    )
    # a variables file a developer creates next to a root whose inputs have no value in the
    # repository; probed only where it is not committed
    local_variables_file: str = "terraform.tfvars"
    # roots (regex on their directory) that demonstrate a module rather than deploy it
    skip_roots: str | None = None


def _join(root: str, rel: str) -> str:
    return rel if root in ("", ".") else f"{root}/{rel}"


def _anchor(gi: GitIgnore, env: Environment) -> Span:
    if any(f.path == ".gitignore" for f in gi.files):
        return Span(path=".gitignore", line=1, end_line=1)
    first = min(env.module.files) if env.module.files else env.path
    return Span(path=first, line=1, end_line=1)


# what `terraform init` puts in .terraform/: a pattern may ignore the contents rather than the
# directory (GitHub's template writes `**/.terraform/*`), which git treats the same
_INSIDE = (
    "terraform.tfstate",
    "providers/registry.terraform.io/hashicorp/aws/5.0.0/linux_amd64/p",
    "modules/modules.json",
)


def _covered(gi: GitIgnore, path: str, is_dir: bool) -> bool:
    if gi.ignored(path, is_dir):
        return True
    return is_dir and all(gi.ignored(f"{path}/{inside}") for inside in _INSIDE)


def _missing_inputs(env: Environment) -> list[str]:
    """Required variables of the root that no loaded variables file sets."""
    loaded = {n for t in env.module.tfvars if t.path in env.tfvars_loaded for n in t.values}
    return [n for n, v in env.module.variables.items() if v.required and n not in loaded]


@check("tf-gitignore-terraform", scope="project", params=IgnoreCoverageParams, subjects=("environment",))
def gitignore_terraform(ctx: Context, project: Project, params: IgnoreCoverageParams) -> Iterator[Hit]:
    """A deployed Terraform root whose state files and `.terraform/` directory no `.gitignore`
    covers (a `git add .` after a local apply commits the state, with every secret in it); and,
    where the root's inputs have no value in the repository, a local variables file that would
    not be ignored either (low severity: the values may come from `TF_VAR_` variables instead)."""
    gi = project.gitignore
    for env in project.terraform.environments:
        if not looks_deployed(env) or (params.skip_roots and re.search(params.skip_roots, env.path + "/")):
            continue
        if not gi.known:
            yield ctx.undecided(
                at=_anchor(gi, env),
                message=f"whether git ignores the Terraform state of {env.path} cannot be told: {UNKNOWN_ROOT}",
                address=env.path,
                environment=env.name,
            )
            continue
        at = _anchor(gi, env)
        where = ".gitignore" if at.path == ".gitignore" else "no .gitignore in the repository"
        missing = [p for p in params.required if not _covered(gi, _join(env.path, p.rstrip("/")), p.endswith("/"))]
        if missing:
            shown = ", ".join(f"`{p}`" for p in missing)
            yield ctx.finding(
                at=at,
                message=(
                    f"{where} ignores neither of {shown} in {env.path or '.'}: a `git add .` after a local init or "
                    "apply commits them, and state holds every secret Terraform manages"
                    if len(missing) > 1
                    else f"{where} does not ignore {shown} in {env.path or '.'}: a `git add .` after a local init "
                    "or apply commits it"
                ),
                address=env.path,
                environment=env.name,
            )
        inputs = _missing_inputs(env)
        local = _join(env.path, params.local_variables_file)
        committed = any(t.path == local for t in env.module.tfvars)
        if inputs and not committed and not gi.ignored(local):
            names = ", ".join(inputs[:3]) + (f" and {len(inputs) - 3} more" if len(inputs) > 3 else "")
            yield ctx.finding(
                at=at,
                message=(
                    f"{where} does not ignore {local}, while {env.path or '.'} takes inputs ({names}) no file in the "
                    "repository sets: a local variables file holding them would be committed by `git add .` "
                    "(if they come from TF_VAR_ variables only, this is moot)"
                ),
                address=env.path,
                environment=env.name,
                severity=Severity.LOW,
            )


class CommittedSecretParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret_name_pattern: str
    not_secret_name_pattern: str = r"(_arn|_arns|_id|_ids|_name|_names)$"
    # values that stand for "fill me in", not secrets
    placeholder_pattern: str = r"^$"


@check("tf-secret-in-committed-tfvars", scope="project", params=CommittedSecretParams, subjects=("tfvars",))
def secret_in_committed_tfvars(ctx: Context, project: Project, params: CommittedSecretParams) -> Iterator[Hit]:
    """A variables file in the repository (not an example) that git does not ignore, setting a
    variable its module marks sensitive (or one named like a secret, at lower severity) to a
    real value: the secret is in the repository's history."""
    gi = project.gitignore
    placeholder = re.compile(params.placeholder_pattern, re.IGNORECASE)
    for module in project.terraform.modules.values():
        for tfvars in module.tfvars:
            if tfvars.kind == "example":
                continue
            for name, attr in tfvars.values.items():
                var = module.variables.get(name)
                if re.search(params.not_secret_name_pattern, name, re.IGNORECASE):
                    continue  # names an identifier (an ARN, a user name), even when marked sensitive
                sensitive = var is not None and var.sensitive
                named = bool(re.search(params.secret_name_pattern, name, re.IGNORECASE))
                if not (sensitive or named):
                    continue
                v = attr.expr.literal
                if not v.is_known or v.value is None or isinstance(v.value, bool):
                    continue
                if isinstance(v.value, str) and placeholder.match(v.value.strip()):
                    continue
                why = "is marked sensitive" if sensitive else "is named like a secret"
                if not gi.known:
                    yield ctx.undecided(
                        at=attr,
                        message=f"{tfvars.path} sets `{name}` (its variable {why}); whether git ignores the file cannot be told: {UNKNOWN_ROOT}",
                        address=f"{tfvars.path}:{name}",
                    )
                    continue
                if gi.ignored(tfvars.path):
                    continue
                yield ctx.finding(
                    at=attr,
                    message=(
                        f"{tfvars.path} sets `{name}` (its variable {why}) to a literal value, and no .gitignore "
                        "ignores the file: the secret is committed"
                    ),
                    address=f"{tfvars.path}:{name}",
                    related=[var.span] if var is not None else [],
                    severity=None if sensitive else Severity.MEDIUM,
                )
