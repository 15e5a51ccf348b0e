"""Secrets in build arguments and environment variables, where the image keeps them."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.model.docker import ArgInstruction, Dockerfile, EnvInstruction


class SecretParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    names: str  # regex searched in the variable name
    values: dict[str, str] = {}  # credential kind -> regex searched in a known value
    placeholders: str = "^$"  # regex (full match) of values that hold no secret


def _credential(value: str, params: SecretParams) -> str | None:
    for kind, pattern in params.values.items():
        if re.search(pattern, value):
            return kind
    return None


@check("docker-secret-arg", scope="docker.instruction", types=("ARG",), params=SecretParams)
def secret_arg(ctx: Context, inst: ArgInstruction, params: SecretParams) -> Iterator[Hit]:
    """Build arguments named like secrets (with or without a default: the value given with
    --build-arg is recorded too), or whose default looks like a credential."""
    names = re.compile(params.names)
    for arg in inst.args:
        default = arg.default.value if arg.default.is_known else None
        kind = _credential(default, params) if default else None
        literal = default is not None and not re.fullmatch(params.placeholders, default)
        if kind:
            yield ctx.finding(
                at=inst,
                message=f"ARG {arg.name}: its default looks like a credential ({kind}), written in the Dockerfile",
            )
        elif names.search(arg.name):
            extra = " and its default is written in the Dockerfile" if literal else ""
            yield ctx.finding(
                at=inst,
                message=f"ARG {arg.name} is named like a secret{extra}: build arguments are visible in "
                "`docker history` and in provenance attestations; pass it with RUN --mount=type=secret",
            )


@check("docker-secret-env", scope="docker.file", params=SecretParams, subjects=("ENV",))
def secret_env(ctx: Context, df: Dockerfile, params: SecretParams) -> Iterator[Hit]:
    """ENV holding a secret: a credential-looking value anywhere, a literal value under a
    secret-like name anywhere (it is written in the Dockerfile), or a build argument copied
    into the environment of the final image (anyone who can pull it reads it)."""
    names = re.compile(params.names)
    final = df.final_stage
    in_image = {s.index for s in df.lineage(final)} if final is not None else set()
    for stage in df.stages:
        for inst in stage.instructions:
            if not isinstance(inst, EnvInstruction) or inst.kind != "ENV":
                continue
            for pair in inst.pairs:
                known = pair.value.value if pair.value.is_known else None
                kind = _credential(known, params) if known else None
                if kind:
                    yield ctx.finding(at=inst, message=f"ENV {pair.name}: the value looks like a credential ({kind})")
                    continue
                if not names.search(pair.name):
                    continue
                if pair.variables:
                    if stage.index in in_image and (known is None or not re.fullmatch(params.placeholders, known)):
                        yield ctx.finding(
                            at=inst,
                            message=f"ENV {pair.name}={pair.written} keeps a secret-like value in the final "
                            "image's configuration (`docker inspect` shows it); use RUN --mount=type=secret "
                            "at build time or inject it when the container starts",
                        )
                elif known is not None and not re.fullmatch(params.placeholders, known):
                    yield ctx.finding(
                        at=inst,
                        message=f"ENV {pair.name} sets a literal secret-like value: it is written in the "
                        "Dockerfile and kept in the image configuration",
                    )
