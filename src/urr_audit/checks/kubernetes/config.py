"""ConfigMaps carrying values that belong in Secrets."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.model.k8s_facts import facts
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
