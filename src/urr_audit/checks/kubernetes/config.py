"""Credentials outside Secrets: ConfigMap entries and literal env values of workloads."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.model.k8s_facts import WORKLOAD_KINDS, facts
from urr_audit.model.kubernetes import K8sEnvironment


class SecretKeyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key_pattern: str  # regex searched in each key
    ignore_keys: list[str] = Field(default_factory=list)  # regexes (full match) of keys that only look secret
    ignore_values: list[str] = Field(default_factory=list)  # regexes (full match): references, not secrets


@check("k8s-configmap-secret-key", scope="kubernetes.environment", params=SecretKeyParams, subjects=("ConfigMap",))
def configmap_secret_key(ctx: Context, env: K8sEnvironment, params: SecretKeyParams) -> Iterator[Hit]:
    """ConfigMap keys that look like credentials (password, token, secret, key...) with a
    non-empty value: ConfigMaps are not encrypted at rest nor access-restricted like Secrets."""
    key_re = re.compile(params.key_pattern)
    ignore_keys = [re.compile(p) for p in params.ignore_keys]
    ignore_values = [re.compile(p) for p in params.ignore_values]
    for cm in facts(env).config_maps:
        for key, value in cm.data.items():
            if not value.strip() or not key_re.search(key):
                continue
            if any(p.fullmatch(key) for p in ignore_keys) or any(p.fullmatch(value.strip()) for p in ignore_values):
                continue
            yield ctx.finding(
                at=cm.origin(key),
                node=cm,
                message=f"ConfigMap {cm.name}: key {key} looks like a credential and holds a value; "
                "move it to a Secret",
            )


class EnvCredentialParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_pattern: str  # regex searched in the variable name
    ignore_names: list[str] = Field(default_factory=list)  # regexes (full match): names that only look secret
    # Value shapes that are credentials whatever the variable is called (cloud keys, tokens,
    # private keys, a password inside a URL).
    value_patterns: list[str] = Field(default_factory=list)
    # Values that hold no credential: placeholders, references (`$(VAR)`, `${VAR}`), booleans.
    ignore_values: list[str] = Field(default_factory=list)  # regexes, full match, case-insensitive
    min_length: int = 6  # shorter values under a secret-looking name are settings, not secrets


@check("k8s-env-credential", scope="kubernetes.environment", params=EnvCredentialParams, subjects=WORKLOAD_KINDS)
def env_credential(ctx: Context, env: K8sEnvironment, params: EnvCredentialParams) -> Iterator[Hit]:
    """Containers given a credential as a literal `env` value (not `valueFrom` a Secret): a
    secret-looking name with a real value, or a value shaped like a credential (a cloud key, a
    token, a private key, a password inside a URL). The value is never repeated in the message."""
    name_re = re.compile(params.name_pattern)
    ignore_names = [re.compile(p) for p in params.ignore_names]
    shapes = [re.compile(p) for p in params.value_patterns]
    ignore_values = [re.compile(p, re.IGNORECASE) for p in params.ignore_values]
    for w in facts(env).pod_workloads():
        for c in w.all_containers:
            for e in c.env:
                if e.value_from is not None or e.value is None:
                    continue
                value = e.value.strip()
                if not value or any(p.fullmatch(value) for p in ignore_values):
                    continue
                shape = next((p for p in shapes if p.search(value)), None)
                named = (
                    name_re.search(e.name)
                    and not any(p.fullmatch(e.name) for p in ignore_names)
                    and len(value) >= params.min_length
                    and not value.isdigit()
                )
                if shape is None and not named:
                    continue
                why = "is shaped like a credential" if shape is not None else "names a credential"
                yield ctx.finding(
                    at=c.origin(f"env[name={e.name}].value"),
                    node=w,
                    message=f"{w.kind} {w.name}, container {c.name}: env {e.name} {why} and holds it as a literal "
                    f"value ({len(value)} characters): anyone who can read the {w.kind} (or its manifest) has it; "
                    "read it from a Secret (valueFrom.secretKeyRef)",
                )
