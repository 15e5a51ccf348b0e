"""Local clusters: kind configurations mapping a data store's port to the host."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.cross._common import spans
from urr_audit.facts.kubernetes import host_ports
from urr_audit.model.k8s_facts import EnvironmentFacts, facts
from urr_audit.model.project import Project
from urr_audit.wording import listed

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class LocalPortParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ports: dict[int, str]  # data-store port -> what listens there
    images: dict[str, str] = Field(default_factory=dict)  # regex searched in an image -> what it is


@check("cross-local-datastore-port", scope="project", params=LocalPortParams, subjects=("local:cluster",))
def local_datastore_port(ctx: Context, project: Project, params: LocalPortParams) -> Iterator[Hit]:
    """Port mappings of local cluster configurations (kind `extraPortMappings`) that publish a
    data store on the host's every interface: the host or node port is a data store's, or the
    NodePort Service listening on the node port sends it to a workload whose container port or
    image is one. Anyone on the network the machine is on (an office, a café) reaches the
    database with the local stand-in's weak password. A mapping bound to 127.0.0.1 is left alone."""
    clusters = project.local_clusters.clusters
    if not clusters:
        return
    images = [(re.compile(p), what) for p, what in params.images.items()]
    envs = [facts(e) for e in project.kubernetes.environments]
    for hp in host_ports(clusters, envs):
        m = hp.mapping
        if m.listen_address is not None and m.listen_address.strip() in LOOPBACK:
            continue
        what: list[str] = []
        related = []
        for port in (m.host_port, m.container_port):
            if port in params.ports:
                what.append(f"{params.ports[port]} port {port}")
        for t in hp.targets:
            f = next((x for x in envs if x.environment == t.environment), None)
            svc = f.service(_ns(f, t.service), t.service) if f is not None else None
            related.append(t.span)
            for w in f.service_workloads(svc) if f is not None and svc is not None else []:
                related.append(w.span)
                named = [params.ports[cp.number] for c in w.containers for cp in c.ports if cp.number in params.ports]
                named += [
                    name
                    for c in w.containers
                    for pattern, name in images
                    if c.image is not None and pattern.search(c.image.raw)
                ]
                if named:
                    what.append(f"{named[0]} ({w.kind} {w.name} in {t.environment})")
        if not what:
            continue
        via = (
            f" to node port {m.container_port}, the NodePort of {listed(sorted({t.service for t in hp.targets}), 2)}"
            if hp.targets
            else f" to node port {m.container_port}"
        )
        yield ctx.finding(
            at=m.span,
            environment=", ".join(sorted({t.environment for t in hp.targets})) or None,
            address=f"{hp.cluster.path}/{hp.cluster.name or 'kind'}/{m.host_port}",
            related=spans(related, exclude=m.span),
            message=f"{hp.cluster.tool} cluster {hp.cluster.name or '(default name)'} maps host port {m.host_port} on "
            f"every interface{via}: {listed(list(dict.fromkeys(what)), 2)}; anyone on the machine's network "
            "reaches the data store (bind it to 127.0.0.1 with listenAddress, or use kubectl port-forward)",
        )


def _ns(f: EnvironmentFacts, service: str) -> str:
    """The namespace of the environment's Service of that name (NodePort targets carry none)."""
    return next((s.namespace for s in f.services if s.name == service), "default")
