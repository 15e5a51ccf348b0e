"""Data stores run in the cluster without authentication (Redis without a password, Kafka
with only PLAINTEXT listeners, PostgreSQL trusting every connection...)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.model.common import Span
from urr_audit.model.k8s_facts import Container, EnvironmentFacts, ResolvedEnv, Workload, facts
from urr_audit.model.kubernetes import K8sEnvironment


class Evidence(BaseModel):
    """One sign of how the store authenticates; exactly one of env / arg / config."""

    model_config = ConfigDict(extra="forbid")

    env: str | None = None  # regex (full match) of an environment variable the container sees
    value: str | None = None  # regex searched in that variable's value; None: any non-empty value
    arg: str | None = None  # regex searched in the container's command and args
    config: str | None = None  # regex searched in the ConfigMaps the pod mounts (config files)


class DataStore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str  # how the message names it
    images: list[str]  # regexes searched in the image's registry/repository (no tag)
    # Any of these present: the store asks for credentials. Empty: the image asks for them by
    # default (its entrypoint refuses to start without a password) unless `open` says otherwise.
    auth: list[Evidence] = Field(default_factory=list)
    open: list[Evidence] = Field(default_factory=list)  # any present: explicitly no authentication
    missing: str = "authentication"  # what the message says is missing
    # A container of the store's image whose command or args match this runs a client (a
    # backup, a cache flush, a topic creation), not the server.
    clients: str | None = None


class DataStoreParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stores: list[DataStore]  # first store whose images match a container wins
    # Kinds that run servers; a Job or CronJob with a store's image runs its client tools.
    kinds: list[str] = [
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Rollout",
        "Pod",
    ]


@dataclass
class _Seen:
    env: dict[str, ResolvedEnv]
    command: str
    configs: list[tuple[str, str, Span]]  # (ConfigMap, data, where)
    unread: list[str]  # configuration sources this environment does not render


def _seen(f: EnvironmentFacts, w: Workload, c: Container) -> _Seen:
    env = {e.name: e for e in f.resolved_env(w, c)}
    configs = []
    unread = []
    for name in w.volume_config_maps:
        cm = f.config_map(w.namespace, name)
        if cm is None:
            unread.append(f"ConfigMap {name}")
            continue
        configs += [(name, data, cm.origin(key)) for key, data in cm.data.items()]
    unread += [f"Secret {name} (mounted)" for name in w.volume_secrets]
    for ref in c.env_from:
        known = f.config_map(w.namespace, ref.name) if ref.kind == "ConfigMap" else f.secret(w.namespace, ref.name)
        if known is None:
            unread.append(f"{ref.kind} {ref.name} (envFrom)")
    return _Seen(env=env, command=" ".join((*c.command, *c.args)), configs=configs, unread=unread)


def _present(ev: Evidence, seen: _Seen, c: Container) -> tuple[bool | None, Span | None, str]:
    """(True/False/None when unknown, where, what) for one piece of evidence."""
    if ev.env is not None:
        pattern = re.compile(ev.env)
        for e in seen.env.values():
            if not pattern.fullmatch(e.name):
                continue
            if e.value is None:  # from a Secret: the value is not known here
                return (None if ev.value else True), e.span, e.name
            if ev.value is None and e.value.strip():
                return True, e.span, f"{e.name}"
            if ev.value is not None and re.search(ev.value, e.value):
                return True, e.span, f"{e.name}={e.value}"
        return False, None, ""
    if ev.arg is not None:
        m = re.search(ev.arg, seen.command)
        field = "args" if c.args else "command"
        return (True, c.origin(field), m.group(0)) if m else (False, None, "")
    if ev.config is not None:
        for name, data, where in seen.configs:
            m = re.search(ev.config, data)
            if m:
                return True, where, f"{m.group(0).strip()} in ConfigMap {name}"
    return False, None, ""


@check(
    "k8s-datastore-auth",
    scope="kubernetes.environment",
    params=DataStoreParams,
    subjects=lambda p: [f"image:{i}" for s in p.stores for i in s.images],
)
def datastore_auth(ctx: Context, env: K8sEnvironment, params: DataStoreParams) -> Iterator[Hit]:
    """Containers running a known data store image with authentication switched off
    (`open`: POSTGRES_HOST_AUTH_METHOD=trust, ALLOW_EMPTY_PASSWORD=yes) or with none of the
    settings that turn it on (`auth`: --requirepass, SASL listeners). Where the setting could
    come from configuration this environment does not render, undecided."""
    f = facts(env)
    compiled = [(s, [re.compile(p) for p in s.images]) for s in params.stores]
    for w in f.pod_workloads():
        if w.kind not in params.kinds:
            continue
        for c in w.containers:
            if c.image is None:
                continue
            image = f"{c.image.registry}/{c.image.repository}" if c.image.registry else c.image.repository
            store = next((s for s, pats in compiled if any(p.search(image) for p in pats)), None)
            if store is None:
                continue
            seen = _seen(f, w, c)
            if store.clients and re.search(store.clients, seen.command):
                continue
            who = f"{w.kind} {w.name}, container {c.name}"
            opened = next(
                ((at, what) for ev in store.open for ok, at, what in [_present(ev, seen, c)] if ok and at is not None),
                None,
            )
            if opened is not None:
                yield ctx.finding(
                    at=opened[0],
                    node=w,
                    message=f"{who} runs {store.name} (image {c.image.raw}) with authentication switched off ({opened[1]}): "
                    "any pod that can reach it reads and writes its data",
                )
                continue
            if not store.auth:
                continue
            results = [_present(ev, seen, c) for ev in store.auth]
            if any(ok for ok, _, _ in results):
                continue
            if any(ok is None for ok, _, _ in results) or seen.unread:
                reason = ", ".join(seen.unread) or "a setting read from a Secret"
                yield ctx.undecided(
                    at=c.origin(),
                    node=w,
                    message=f"{who} runs {store.name} (image {c.image.raw}) with no {store.missing} in what this "
                    f"environment renders (not decided: its configuration may come from {reason})",
                )
                continue
            yield ctx.finding(
                at=c.origin(),
                node=w,
                message=f"{who} runs {store.name} (image {c.image.raw}) without {store.missing}: "
                "any pod that can reach it reads and writes its data",
            )
