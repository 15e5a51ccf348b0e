"""NetworkPolicy coverage: pods whose egress allow-list does not reach what their
configuration talks to, and environments without a default-deny baseline."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.model.k8s_facts import DEFAULT_HOST_KEYS, WORKLOAD_KINDS, Endpoint, facts
from urr_audit.model.kubernetes import K8sEnvironment


class Destination(BaseModel):
    model_config = ConfigDict(extra="forbid")

    port: int
    label: str = ""
    protocol: str = "TCP"


class EgressParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ports: list[Destination]  # only destinations on these ports are checked
    scheme_ports: dict[str, int] = Field(default_factory=dict)  # URL scheme -> port when the URL has none
    host_keys: str = DEFAULT_HOST_KEYS  # variables whose bare value is a host name
    cluster_domain: str = "cluster.local"
    # Variables whose value the pod never dials itself: browser-side build variables, CORS and
    # other allow-lists, bind and advertised addresses. Regexes, full match, case-insensitive,
    # against the name as written and as Spring's relaxed binding reads it (`server.address`
    # and `SERVER_ADDRESS` are one setting).
    ignore_variables: list[str] = Field(default_factory=list)


def _describe(e: Endpoint) -> str:
    return f"{e.host}:{e.port} ({e.variable})"


def variable_matcher(patterns: list[str]) -> Callable[[str], bool]:
    """Whether a variable (env name or config key) matches one of `patterns`, as written or
    normalised (`spring.kafka.bootstrap-servers` -> `SPRING_KAFKA_BOOTSTRAP_SERVERS`)."""
    compiled = [re.compile(p, re.IGNORECASE) for p in patterns]

    def match(name: str) -> bool:
        normal = re.sub(r"[^A-Za-z0-9]+", "_", name).upper()
        return any(p.fullmatch(name) or p.fullmatch(normal) for p in compiled)

    return match


@check(
    "k8s-egress-coverage",
    scope="kubernetes.environment",
    params=EgressParams,
    closed_world="kubernetes",
    subjects=("NetworkPolicy",),
)
def egress_coverage(ctx: Context, env: K8sEnvironment, params: EgressParams) -> Iterator[Hit]:
    """Pods isolated for egress (some NetworkPolicy with Egress selects them) whose
    configuration names a host:port on a listed port that no egress rule allows. Only values
    the pod dials count: not allow-lists (CORS origins), bind or advertised addresses, nor
    URLs the browser calls (`ignore_variables`, and any `0.0.0.0` / `:port` value); a name no
    Service provides is URR-K8S-004's, not reported again here.

    Reported at the egress allow-list to extend (the first selecting policy that has egress
    rules, preferring one aimed at the workload over a namespace-wide baseline, else the
    deny-all one), one finding per workload listing what is unreachable."""
    f = facts(env)
    wanted = {d.port: d for d in params.ports}
    not_dialed = variable_matcher(params.ignore_variables)
    for w in f.pod_workloads():
        policies = f.policies_for(w, "Egress")
        if not policies:
            continue
        blocked: dict[tuple[str, int], Endpoint] = {}
        for e in f.endpoints(w, host_keys=params.host_keys, scheme_ports=params.scheme_ports):
            if e.port is None or e.port not in wanted or (e.host, e.port) in blocked:
                continue
            if not_dialed(e.variable):
                continue
            target = f.resolve_host(e.host, w.namespace, params.cluster_domain)
            if target.kind in ("local", "unknown-service") or (
                target.service is not None and w.key in {x.key for x in f.service_workloads(target.service)}
            ):
                # Loopback; a name no Service has (URR-K8S-004 reports it: the connection fails
                # before any policy applies); or the pod's own Service (an advertised listener).
                continue
            if not f.egress_allows(w, target, e.port, wanted[e.port].protocol):
                blocked[(e.host, e.port)] = e
        if not blocked:
            continue
        # Extend the workload's own allow-list, not a namespace baseline (`podSelector: {}`,
        # typically deny-all-but-DNS): widening that opens the port for every pod.
        anchor = next(
            (p for p in policies if p.egress and not p.pod_selector.is_empty),
            next((p for p in policies if p.egress), policies[0]),
        )
        by_port: dict[int, list[Endpoint]] = {}
        for e in blocked.values():
            by_port.setdefault(e.port, []).append(e)  # type: ignore[arg-type]
        parts = []
        for port in sorted(by_port):
            label = wanted[port].label
            parts.append(
                f"{wanted[port].protocol} {port}{f' ({label})' if label else ''} to "
                + ", ".join(_describe(e) for e in by_port[port])
            )
        names = ", ".join(sorted(p.name for p in policies))
        yield ctx.finding(
            at=anchor.obj.origin("spec.egress") if anchor.egress else anchor.obj.origin("spec.policyTypes"),
            node=w,
            related=sorted({e.span for e in blocked.values()}, key=lambda s: (s.path, s.line)),
            message=f"{w.kind} {w.name}: egress is restricted by NetworkPolicy {names}, which allow "
            f"none of: {'; '.join(parts)}",
        )


class DefaultDenyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    directions: list[Literal["Ingress", "Egress"]] = ["Ingress", "Egress"]


@check(
    "k8s-default-deny-missing",
    scope="kubernetes.environment",
    params=DefaultDenyParams,
    closed_world="kubernetes",
    subjects=WORKLOAD_KINDS,
)
def default_deny_missing(ctx: Context, env: K8sEnvironment, params: DefaultDenyParams) -> Iterator[Hit]:
    """Namespaces that run workloads without a default-deny NetworkPolicy for each required
    direction: empty podSelector, the direction in policyTypes, no rule open to everything
    (a deny-all-but-DNS egress baseline counts). Reported at the
    environment's kustomization file, where the policy would be added."""
    f = facts(env)
    # Host-network pods are outside NetworkPolicy's reach: a namespace of only those has nothing to isolate.
    for ns in sorted({w.namespace for w in f.pod_workloads() if not w.host_network}):
        policies = f.policies_in(ns)
        missing = [d for d in params.directions if not any(p.isolates_all_pods(d) for p in policies)]
        if not missing:
            continue
        yield ctx.finding(
            at=env,
            environment=env.name,
            address=f"{env.name}/networking.k8s.io/v1/NetworkPolicy/{ns}/*",
            message=f"namespace {ns} runs workloads but has no default-deny NetworkPolicy for "
            f"{' and '.join(missing)}: every pod accepts and opens any connection",
        )
