"""Configuration: cluster host names nothing provides while Terraform creates the managed
service, placeholder values in workload configuration, and compute outside the cluster
configured with names only the cluster's DNS resolves."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.cross._common import PairingParams, pairings, spans
from urr_audit.facts.placement import outputs_reading, resource_for_host
from urr_audit.facts.tf import existing
from urr_audit.model.common import Span, Value
from urr_audit.model.k8s_facts import DEFAULT_HOST_KEYS, WORKLOAD_KINDS, facts, parse_endpoints
from urr_audit.model.kubernetes import K8sEnvironment
from urr_audit.model.project import Project
from urr_audit.model.terraform import Environment, ResourceInstance
from urr_audit.wording import listed

# what configures a workload: a ConfigMap, or a pod template's env
_CONFIG = "|".join(f"kubernetes:{k}" for k in ("ConfigMap", *WORKLOAD_KINDS))


class ManagedServiceParams(PairingParams):
    # resource type -> ports its clients use: what a configured port tells Terraform creates
    services: dict[str, list[int]]
    host_keys: str = DEFAULT_HOST_KEYS
    scheme_ports: dict[str, int] = Field(default_factory=dict)
    cluster_domain: str = "cluster.local"


_ENDPOINT_OUTPUT = re.compile(r"(?i)endpoint|address|host|broker|url|dns|connection")


def _managed(env: Environment, services: dict[str, list[int]], port: int) -> list[ResourceInstance]:
    types = [t for t, ports in services.items() if port in ports]
    if not types:
        return []
    seen: dict[str, ResourceInstance] = {}
    for ri in existing(env, *types):
        if ri.resource.mode == "managed":
            seen.setdefault(ri.resource_address, ri)
    return list(seen.values())


@check(
    "cross-managed-service-unused",
    scope="project",
    params=ManagedServiceParams,
    subjects=lambda p: (_CONFIG, "|".join(f"terraform:{t}" for t in p.services)),
)
def managed_service_unused(ctx: Context, project: Project, params: ManagedServiceParams) -> Iterator[Hit]:
    """Workload configuration naming, for a data store or broker port, a cluster host no
    Service of the environment provides (a local stand-in's name left in an environment patch),
    while the paired Terraform environment creates the managed service for that port: the
    connection fails, and the endpoint Terraform publishes for it goes unused by that workload.
    The finding names the resource and the outputs carrying its endpoint, and says whether any
    other workload of the environment dials it."""
    for pair in pairings(project, params):
        f = facts(pair.kubernetes)
        tf = pair.terraform
        used: dict[str, list[str]] = {}  # resource address -> workloads dialing it
        found: list[tuple[Any, Any]] = []
        for w in f.pod_workloads():
            for e in f.endpoints(w, host_keys=params.host_keys, scheme_ports=params.scheme_ports):
                target = f.resolve_host(e.host, w.namespace, params.cluster_domain)
                if target.kind == "external":
                    ri = resource_for_host(tf, e.host)
                    if ri is not None:
                        used.setdefault(ri.resource_address, []).append(w.name)
                elif target.kind == "unknown-service" and e.port is not None:
                    found.append((w, e))
        seen: set[tuple[Span, str]] = set()
        for w, e in found:
            key = (e.span, e.host)
            if key in seen:
                continue
            seen.add(key)
            services = _managed(tf, params.services, e.port)
            if not services:
                continue
            ri = services[0]
            outputs = [o for o in outputs_reading(tf, ri.resource_address) if _ENDPOINT_OUTPUT.search(o[0])]
            via = f", published as {listed([n for n, _ in outputs], 2)}" if outputs else ""
            others = sorted(set(used.get(ri.resource_address, [])))
            usage = (
                f"{listed(others, 3)} dial it by its endpoint"
                if others
                else f"no workload of {pair.kubernetes.name} uses its endpoint"
            )
            yield ctx.finding(
                at=e.span,
                node=w,
                related=spans([s.span for s in services] + [sp for _, sp in outputs[:3]]),
                message=f"{w.kind} {w.name}: {e.variable} names {e.host}:{e.port}, which no Service of "
                f"{pair.kubernetes.name} provides, while Terraform {tf.name} creates {listed([s.resource_address for s in services], 2)} "
                f"for that port{via}; {usage}",
            )


class ConfigPlaceholderParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patterns: list[str]  # regexes searched in each value (case-sensitive unless the pattern says otherwise)


@check(
    "cross-config-placeholder",
    scope="kubernetes.environment",
    params=ConfigPlaceholderParams,
    subjects=(_CONFIG,),
)
def config_placeholder(ctx: Context, env: K8sEnvironment, params: ConfigPlaceholderParams) -> Iterator[Hit]:
    """Environment variables and ConfigMap entries whose value is still a template placeholder
    (`CHANGE_ME`, `YOUR_ACCOUNT_ID`, `<your-domain>`): what the environment deploys, the
    workload reads verbatim. Images are URR-K8S-001's; Secret values are never read."""
    compiled = [re.compile(p) for p in params.patterns]

    def placeholder(value: str) -> str | None:
        return next((m.group(0) for p in compiled if (m := p.search(value))), None)

    f = facts(env)
    seen: set[Span] = set()
    for w in f.pod_workloads():
        for c in w.all_containers:
            for e in c.env:
                if e.value_from is not None or not e.value:
                    continue
                hit = placeholder(e.value)
                span = c.origin(f"env[name={e.name}].value")
                if hit and span not in seen:
                    seen.add(span)
                    yield ctx.finding(
                        at=span,
                        node=w,
                        message=f"{w.kind} {w.name}, container {c.name}: {e.name} is the placeholder "
                        f"{e.value!r} ({hit!r} not filled in)",
                    )
    for cm in f.config_maps:
        for key, value in cm.data.items():
            hit = placeholder(value)
            span = cm.origin(key)
            if hit and span not in seen:
                seen.add(span)
                shown = value if len(value) <= 80 else value[:77] + "..."
                yield ctx.finding(
                    at=span,
                    node=cm,
                    message=f"ConfigMap {cm.obj.generated_name or cm.name}: {key} is the placeholder {shown!r} ({hit!r} not filled in)",
                )


class ClusterDnsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # resource type -> attributes holding environment variables (a map), for compute that does
    # not run in the cluster
    compute: dict[str, list[str]]
    # resource type -> attribute holding ECS-style container definitions (JSON list with `environment`)
    container_definitions: dict[str, str] = Field(default_factory=dict)
    host_keys: str = DEFAULT_HOST_KEYS
    scheme_ports: dict[str, int] = Field(default_factory=dict)
    cluster_domain: str = "cluster.local"


def _cluster_only(host: str, domain: str, services: dict[str, list[Span]]) -> bool:
    h = host.lower().rstrip(".")
    if h.endswith((".svc", "." + domain)) or h == domain:
        return True
    return "." not in h and h in services


def _key_span(ri: ResourceInstance, path: str, key: str) -> Span:
    """The line of `KEY = ...` inside a map written literally (`variables = { ... }`), else
    the attribute's span."""
    attr = ri.attribute(path)
    if attr is None:
        return ri.span
    pattern = re.compile(rf'^\s*"?{re.escape(key)}"?\s*[=:]')
    for n, line in enumerate(attr.expr.text.splitlines()):
        if pattern.match(line):
            at = attr.expr.span.line + n
            return Span(path=attr.span.path, line=at, end_line=at)
    return attr.span


def _variables(v: Value) -> dict[str, Any]:
    parts = v.parts()
    return {str(k): x for k, x in parts.items()} if isinstance(parts, dict) else {}


@check(
    "cross-cluster-dns-outside",
    scope="project",
    params=ClusterDnsParams,
    subjects=lambda p: (
        "|".join(f"terraform:{t}" for t in (*p.compute, *p.container_definitions)),
        "kubernetes:Service",
    ),
)
def cluster_dns_outside(ctx: Context, project: Project, params: ClusterDnsParams) -> Iterator[Hit]:
    """Lambda functions, ECS tasks and other compute outside the cluster whose environment
    names a host only the cluster's DNS resolves: `<svc>.<ns>.svc.cluster.local`, `<svc>.<ns>.svc`,
    or a bare name that is a Service of one of the repository's Kubernetes environments. Outside
    the cluster the VPC resolver answers, and it knows none of these: every lookup fails."""
    services: dict[str, list[Span]] = {}
    for env in project.kubernetes.environments:
        for svc in facts(env).services:
            services.setdefault(svc.name.lower(), []).append(svc.span)
    for tf in project.terraform.environments:
        for ri in existing(tf, *params.compute, *params.container_definitions):
            if ri.resource.mode != "managed":
                continue
            entries: list[tuple[str, str, Span]] = []
            for path in params.compute.get(ri.type, []):
                v = ri.get(path)
                for name, value in _variables(v).items():
                    if isinstance(value, str):
                        entries.append((name, value, _key_span(ri, path, name)))
            cd = params.container_definitions.get(ri.type)
            if cd:
                doc = ri.get_structured(cd)
                parts = doc.parts()
                for i, container in enumerate(parts if isinstance(parts, list) else []):
                    env_list = container.get("environment") if isinstance(container, dict) else None
                    for j, item in enumerate(env_list if isinstance(env_list, list) else []):
                        if isinstance(item, dict) and isinstance(item.get("value"), str):
                            where = doc.span_at(i, "environment", j) or ri.span_of(cd)
                            entries.append((str(item.get("name", "")), item["value"], where))
            for name, value, span in entries:
                for host, _, _ in parse_endpoints(
                    name, value, host_keys=params.host_keys, scheme_ports=params.scheme_ports
                ):
                    if not _cluster_only(host, params.cluster_domain, services):
                        continue
                    yield ctx.finding(
                        at=span,
                        node=ri,
                        address=f"{ri.address}/{name}",
                        related=spans(services.get(host.split(".", 1)[0].lower(), [])),
                        message=f"{ri.type} {ri.address}: {name} names {host}, a name only a Kubernetes "
                        "cluster's DNS resolves; this runs outside the cluster, where the VPC resolver "
                        "answers and every lookup fails",
                    )
                    break
