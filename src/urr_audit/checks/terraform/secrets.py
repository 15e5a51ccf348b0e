"""Secrets that end up in files Terraform writes or bundles (zip archives, rendered configs)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._model import Reach, resource_exists, trace
from urr_audit.model.terraform import Attribute, Block, Environment


class SecretInFileParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # resource/data type -> attribute paths whose value becomes file content ("source.content"
    # means the `content` of every `source` block).
    content_attributes: dict[str, list[str]]
    # names of variables, locals and outputs that hold secrets
    secret_name_pattern: str
    # names that match the pattern but hold identifiers of secrets, not secrets
    not_secret_name_pattern: str = r"(_arn|_arns|_id|_ids|_name|_names)$"
    # resource type -> attributes that are secret ([] = every attribute)
    secret_resources: dict[str, list[str]] = {}
    sensitive_is_secret: bool = True


def _attrs_at(block: Block, path: str) -> list[Attribute]:
    head, _, rest = path.partition(".")
    if not rest:
        a = block.attr(head)
        return [a] if a else []
    return [a for child in block.blocks_of(head) for a in _attrs_at(child, rest)]


def _why_secret(r: Reach, p: SecretInFileParams) -> str | None:
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
        if attrs is None:
            return None
        if not attrs or not r.attributes or any(a in attrs for a in r.attributes):
            read = f".{r.attributes[0]}" if r.attributes else ""
            return f"`{r.instance.prefixed(r.name)}{read}` is a secret value"
    return None


def _identifier(r: Reach, p: SecretInFileParams) -> bool:
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
