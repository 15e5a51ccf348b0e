"""Secrets that end up where they should not: files Terraform writes or bundles (zip archives,
rendered configs), plaintext environment variables, files in the working tree git would commit."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._model import Reach, resource_exists, trace
from urr_audit.model.common import Severity, Value
from urr_audit.model.project import Project
from urr_audit.model.terraform import Attribute, Block, Environment, Expression, Resource, ResourceInstance


class SecretSources(BaseModel):
    """What counts as a secret value: sensitive variables and outputs, attributes of resources
    that hold secrets (generated passwords, Secrets Manager values), names that say so."""

    model_config = ConfigDict(extra="forbid")

    # names of variables, locals and outputs that hold secrets
    secret_name_pattern: str
    # names that match the pattern but hold identifiers of secrets, not secrets
    not_secret_name_pattern: str = r"(_arn|_arns|_id|_ids|_name|_names)$"
    # resource type -> attributes that are secret ([] = every attribute)
    secret_resources: dict[str, list[str]] = {}
    # resource type -> argument -> values it must have for the resource to hold a secret
    # (`aws_ssm_parameter: {type: [SecureString]}`); an argument not known counts as secret
    secret_resource_when: dict[str, dict[str, list[Any]]] = {}
    sensitive_is_secret: bool = True


class SecretInFileParams(SecretSources):
    model_config = ConfigDict(extra="forbid")

    # resource/data type -> attribute paths whose value becomes file content ("source.content"
    # means the `content` of every `source` block).
    content_attributes: dict[str, list[str]]


def _attrs_at(block: Block, path: str) -> list[Attribute]:
    head, _, rest = path.partition(".")
    if not rest:
        a = block.attr(head)
        return [a] if a else []
    return [a for child in block.blocks_of(head) for a in _attrs_at(child, rest)]


def _why_secret(r: Reach, p: SecretSources) -> str | None:
    def named(name: str) -> bool:
        return bool(re.search(p.secret_name_pattern, name, re.IGNORECASE)) and not re.search(
            p.not_secret_name_pattern, name, re.IGNORECASE
        )

    if r.kind == "var":
        if p.sensitive_is_secret and r.decl is not None and r.decl.sensitive:
            return f"variable `{r.name}` is marked sensitive"
        if named(r.name):
            return f"variable `{r.name}` is named like a secret"
    elif r.kind == "output":
        if p.sensitive_is_secret and r.decl is not None and r.decl.sensitive:
            return f"output `{r.name}` of {r.instance.address} is marked sensitive"
        if named(r.name):
            return f"output `{r.name}` of {r.instance.address} is named like a secret"
    elif r.kind == "local":
        if named(r.name):
            return f"local `{r.name}` is named like a secret"
    elif r.kind in ("resource", "data"):
        key = r.resource_type if r.kind == "resource" else f"data.{r.resource_type}"
        attrs = p.secret_resources.get(key or "")
        if attrs is None or not _holds_secret(r, p.secret_resource_when.get(key or "", {})):
            return None
        if not attrs or not r.attributes or any(a in attrs for a in r.attributes):
            read = f".{r.attributes[0]}" if r.attributes else ""
            return f"`{r.instance.prefixed(r.name)}{read}` is a secret value"
    return None


def _holds_secret(r: Reach, when: dict[str, list[Any]]) -> bool:
    decl = r.decl
    if not when or not isinstance(decl, Resource):
        return True
    for name, values in when.items():
        a = decl.body.attr(name)
        v = r.instance.eval(a.expr) if a is not None else Value.absent()
        if v.is_absent or (v.is_known and v.value not in values):
            return False
    return True


def _identifier(r: Reach, p: SecretSources) -> bool:
    """An ARN/ID/name of a secret derives from the secret but is not the secret: stop there."""
    return r.kind in ("var", "local", "output") and bool(re.search(p.not_secret_name_pattern, r.name, re.IGNORECASE))


@check(
    "tf-secret-in-bundled-file",
    scope="terraform.environment",
    params=SecretInFileParams,
    subjects=lambda p: p.content_attributes,
)
def secret_in_bundled_file(ctx: Context, env: Environment, params: SecretInFileParams) -> Iterator[Hit]:
    """File content (local_file, archive_file sources) built from a secret, directly or through
    locals, module arguments, outputs, jsonencode or templatefile: the secret is baked into an
    artifact and rotating it means rebuilding and redeploying the artifact."""
    for ri in env.resources(*params.content_attributes):
        if not resource_exists(ri):
            continue
        for path in params.content_attributes[ri.type]:
            for attr in _attrs_at(ri.resource.body, path):
                for reach in trace(env, ri.instance, attr.expr, prune=lambda r: _identifier(r, params)):
                    why = _why_secret(reach, params)
                    if why is None:
                        continue
                    chain = " -> ".join(reach.chain)
                    yield ctx.finding(
                        at=attr,
                        node=ri,
                        address=ri.resource_address,  # traced in the source: the same for every instance
                        message=(
                            f"{ri.resource_address}: `{path}` writes a secret into a file ({chain}: {why}); "
                            "the secret is baked into the artifact"
                        ),
                        related=[reach.span],
                    )
                    break


def _secret_reaches(
    env: Environment, ri: ResourceInstance, expr: Expression, p: SecretSources
) -> Iterator[tuple[Reach, str]]:
    """(declaration, why it is a secret) for each secret value an expression is built from. A
    value only named like a secret (`var.secrets`) whose every source is an identifier of a
    secret (an ARN, a name) holds references, not secrets, and is left out."""

    # a declared secret is not followed further: where it comes from is the same secret
    def stop(r: Reach) -> bool:
        why = _why_secret(r, p)
        return _identifier(r, p) or (why is not None and not _named_only(why))

    reaches = list(trace(env, ri.instance, expr, prune=stop))
    for reach in reaches:
        why = _why_secret(reach, p)
        if why is None or (_named_only(why) and _built_from_identifiers(reach, reaches, p)):
            continue
        yield reach, why


def _built_from_identifiers(named: Reach, reaches: list[Reach], p: SecretSources) -> bool:
    n = len(named.chain)
    below = [r for r in reaches if len(r.chain) > n and r.chain[:n] == named.chain]
    leaves = [
        r for r in below if not any(len(o.chain) > len(r.chain) and o.chain[: len(r.chain)] == r.chain for o in below)
    ]

    def identifier(r: Reach) -> bool:
        if _identifier(r, p):
            return True
        return (
            r.kind in ("resource", "data")
            and bool(r.attributes)
            and all(re.search(p.not_secret_name_pattern, "_" + a, re.IGNORECASE) for a in r.attributes)
        )

    return bool(leaves) and all(identifier(r) for r in leaves)


def _named_only(why: str) -> bool:
    return why.endswith("is named like a secret")


class PlaintextEnvParams(SecretSources):
    model_config = ConfigDict(extra="forbid")

    # resource type -> attribute paths that become plaintext configuration of the running
    # service (environment variables, container definitions)
    plaintext_attributes: dict[str, list[str]]


@check(
    "tf-secret-in-plaintext-env",
    scope="terraform.environment",
    params=PlaintextEnvParams,
    subjects=lambda p: list(p.plaintext_attributes),
)
def secret_in_plaintext_env(ctx: Context, env: Environment, params: PlaintextEnvParams) -> Iterator[Hit]:
    """A secret value (sensitive variable or output, generated password, Secrets Manager or
    SecureString value) written into a Lambda's environment variables or an ECS container
    definition: it is stored in plaintext in the function or task definition, shown to anyone
    who may describe it, and in the plan. A value only named like a secret is reported at a
    lower severity, saying so."""
    for ri in env.resources(*params.plaintext_attributes):
        if not resource_exists(ri) or ri.resource.mode != "managed":
            continue
        for path in params.plaintext_attributes[ri.type]:
            for attr in _attrs_at(ri.resource.body, path):
                found = list(_secret_reaches(env, ri, attr.expr, params))
                if not found:
                    continue
                # a declared secret decides; a name alone says less
                found.sort(key=lambda rw: _named_only(rw[1]))
                shown = "; ".join(f"{' -> '.join(r.chain)}: {w}" for r, w in found[:3])
                more = f"; and {len(found) - 3} more" if len(found) > 3 else ""
                yield ctx.finding(
                    at=attr,
                    node=ri,
                    address=ri.resource_address,
                    message=(
                        f"{ri.resource_address}: `{path}` holds a secret in plaintext ({shown}{more}); anyone "
                        "who can describe the resource reads it"
                    ),
                    related=[r.span for r, _ in found],
                    severity=Severity.MEDIUM if all(_named_only(w) for _, w in found) else None,
                )


class SecretLocalFileParams(SecretSources):
    model_config = ConfigDict(extra="forbid")

    # resource type -> (content attributes, the attribute naming the file)
    file_resources: dict[str, list[str]]
    filename_attribute: str = "filename"
    # types that keep their content out of the plan output
    sensitive_types: list[str] = Field(default_factory=list)


def _repo_path(env: Environment, name: str) -> str | None:
    """The repo-relative path a relative `filename` lands on (Terraform runs in the root module
    directory); None when it is absolute or leaves the repository."""
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    joined = posixpath.normpath(posixpath.join(env.path or ".", name.replace("\\", "/")))
    return None if joined == ".." or joined.startswith("../") else joined


@check(
    "tf-secret-local-file-not-ignored",
    scope="project",
    params=SecretLocalFileParams,
    subjects=lambda p: list(p.file_resources),
)
def secret_local_file_not_ignored(ctx: Context, project: Project, params: SecretLocalFileParams) -> Iterator[Hit]:
    """A secret written by `local_file` (or a sensitive file resource) into the repository's
    working tree, at a path git does not ignore: the next `git add .` commits it."""
    gi = project.gitignore
    for env in project.terraform.environments:
        for ri in env.resources(*params.file_resources):
            if not resource_exists(ri) or ri.resource.mode != "managed":
                continue
            found = [
                (attr, r, w)
                for path in params.file_resources[ri.type]
                for attr in _attrs_at(ri.resource.body, path)
                for r, w in _secret_reaches(env, ri, attr.expr, params)
            ]
            if not found:
                continue
            found.sort(key=lambda f: _named_only(f[2]))
            attr, reach, why = found[0]
            name = ri.get(params.filename_attribute)
            at = ri.attribute(params.filename_attribute) or ri
            who = ri.address_for(params.filename_attribute)
            if not (name.is_known and isinstance(name.value, str)):
                if name.is_unknown:
                    yield ctx.undecided(
                        at=at,
                        node=ri,
                        address=who,
                        message=f"{who}: where the secret file is written cannot be resolved ({name.reason})",
                    )
                continue
            target = _repo_path(env, name.value)
            if target is None:
                continue  # outside the repository
            if not gi.known:
                yield ctx.undecided(
                    at=at,
                    node=ri,
                    address=who,
                    message=f"{who}: writes a secret to {target}; whether git ignores it cannot be told (the scanned directory has no .git and no .gitignore: ignore files above it are not read)",
                )
                continue
            if gi.ignored(target):
                continue
            shown = "" if ri.type in params.sensitive_types else "; `local_file` also prints it in the plan"
            yield ctx.finding(
                at=at,
                node=ri,
                address=who,
                message=(
                    f"{who}: writes a secret ({' -> '.join(reach.chain)}: {why}) to {target}, which no .gitignore "
                    f"ignores: the next `git add .` commits it{shown}"
                ),
                related=[attr.span],
                severity=Severity.MEDIUM if _named_only(why) else None,
            )
