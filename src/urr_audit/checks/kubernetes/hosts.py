"""Configuration that names in-cluster hosts no Service of the environment provides, such
as a local stand-in's Service name left in a production patch."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.model.k8s_facts import (
    DEFAULT_HOST_KEYS,
    WORKLOAD_KINDS,
    EnvironmentFacts,
    HostTarget,
    facts,
    parse_endpoints,
)
from urr_audit.model.project import Project


class UnknownHostParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host_keys: str = DEFAULT_HOST_KEYS  # variables / keys whose bare value is a host name
    scheme_ports: dict[str, int] = Field(default_factory=dict)
    cluster_domain: str = "cluster.local"
    ignore_hosts: list[str] = Field(default_factory=list)  # regexes (full match) of names never reported
    config_maps: bool = True  # also read single-line ConfigMap values


def _others(name: str, env_name: str, all_facts: list[EnvironmentFacts]) -> list[str]:
    return sorted(
        {f.environment for f in all_facts if f.environment != env_name and any(s.name == name for s in f.services)}
    )


@check(
    "k8s-unknown-service-host",
    scope="project",
    params=UnknownHostParams,
    closed_world="kubernetes",
    subjects=("ConfigMap", *WORKLOAD_KINDS),
)
def unknown_service_host(ctx: Context, project: Project, params: UnknownHostParams) -> Iterator[Hit]:
    """Env values and ConfigMap entries naming a cluster host (`name`, `name:port`,
    `name.ns.svc.cluster.local`, inside URLs or bootstrap lists) that no Service of that
    environment provides. Names with dots that are not cluster-local are external: skipped."""
    ignore = [re.compile(p) for p in params.ignore_hosts]
    all_facts = [facts(env) for env in project.kubernetes.environments]

    def unknown(f: EnvironmentFacts, namespace: str, variable: str, value: str) -> Iterator[HostTarget]:
        seen = set()
        for host, _, _ in parse_endpoints(
            variable, value, host_keys=params.host_keys, scheme_ports=params.scheme_ports
        ):
            if host in seen or any(p.fullmatch(host) for p in ignore):
                continue
            seen.add(host)
            target = f.resolve_host(host, namespace, params.cluster_domain)
            if target.kind == "unknown-service":
                yield target

    def message(subject: str, target: HostTarget, f: EnvironmentFacts) -> str:
        others = _others(target.name or "", f.environment, all_facts)
        where = f"; a Service of that name exists only in {', '.join(others)}" if others else ""
        return (
            f"{subject} names host {target.host}, but no Service {target.name} exists in namespace "
            f"{target.namespace}{where}"
        )

    for f in all_facts:
        for w in f.pod_workloads():
            for c in w.all_containers:
                for e in c.env:
                    if e.value_from is not None or not e.value:
                        continue
                    for target in unknown(f, w.namespace, e.name, e.value):
                        yield ctx.finding(
                            at=c.origin(f"env[name={e.name}].value"),
                            node=w,
                            message=message(f"{w.kind} {w.name}, container {c.name}: {e.name}", target, f),
                        )
        if not params.config_maps:
            continue
        for cm in f.config_maps:
            for key, value in cm.data.items():
                for target in unknown(f, cm.namespace, key, value):
                    yield ctx.finding(
                        at=cm.origin(key),
                        node=cm,
                        message=message(f"ConfigMap {cm.name}: {key}", target, f),
                    )
