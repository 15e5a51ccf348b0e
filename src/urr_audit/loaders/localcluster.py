"""kind cluster configurations (`kind: Cluster`, `apiVersion: kind.x-k8s.io/...`), read from
any YAML file of the repository. A file that is not valid YAML is left to the Kubernetes
loaders, which report it; here it is simply not a cluster configuration."""

from __future__ import annotations

from typing import Any

from urr_audit.loaders.kustomize.yamlsrc import Doc, YamlError, load_docs
from urr_audit.model.common import Span
from urr_audit.model.localcluster import ClusterNode, LocalCluster, LocalClusters, PortMapping
from urr_audit.workspace import OutsideRoot, Workspace

KIND_API = "kind.x-k8s.io/"


def load_local_clusters(ws: Workspace) -> LocalClusters:
    out = LocalClusters()
    for rel in ws.glob((".yaml", ".yml")):
        try:
            text = ws.read_text(rel)
        except (OSError, OutsideRoot, UnicodeDecodeError):
            continue
        if KIND_API not in text:
            continue  # cheap: most YAML files are not cluster configurations
        try:
            docs = load_docs(text)
        except YamlError:
            continue
        for doc in docs:
            data = doc.data
            if (
                isinstance(data, dict)
                and data.get("kind") == "Cluster"
                and str(data.get("apiVersion", "")).startswith(KIND_API)
            ):
                out.clusters.append(_kind(rel, doc, data))
    return out


def _span(rel: str, doc: Doc, path: tuple[Any, ...]) -> Span:
    line = doc.line(path)
    return Span(path=rel, line=line, end_line=line)


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _kind(rel: str, doc: Doc, data: dict[str, Any]) -> LocalCluster:
    nodes = []
    raw_nodes = data.get("nodes")
    # kind creates one control-plane node when `nodes` is not written
    for i, node in enumerate(raw_nodes if isinstance(raw_nodes, list) else []):
        if not isinstance(node, dict):
            continue
        mappings = []
        raw = node.get("extraPortMappings")
        for j, m in enumerate(raw if isinstance(raw, list) else []):
            if not isinstance(m, dict):
                continue
            mappings.append(
                PortMapping(
                    container_port=_int(m.get("containerPort")),
                    host_port=_int(m.get("hostPort")),
                    protocol=str(m.get("protocol") or "TCP"),
                    listen_address=str(m["listenAddress"]) if m.get("listenAddress") else None,
                    span=_span(rel, doc, ("nodes", i, "extraPortMappings", j)),
                )
            )
        nodes.append(
            ClusterNode(
                role=str(node.get("role") or "control-plane"),
                span=_span(rel, doc, ("nodes", i)),
                port_mappings=mappings,
            )
        )
    name = data.get("name")
    return LocalCluster(
        tool="kind",
        name=str(name) if name else None,
        path=rel,
        span=Span(path=rel, line=doc.start, end_line=doc.end),
        nodes=nodes,
    )
