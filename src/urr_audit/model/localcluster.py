"""Local cluster configurations (kind): the clusters a team runs on a laptop or in CI, and the
ports they map from the host into the cluster's nodes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from urr_audit.model.common import Span


class PortMapping(BaseModel):
    container_port: int | None  # the node's port (a NodePort Service usually listens there)
    host_port: int | None  # the port on the machine running the cluster
    protocol: str = "TCP"
    listen_address: str | None = None
    span: Span


class ClusterNode(BaseModel):
    role: str
    span: Span
    port_mappings: list[PortMapping] = Field(default_factory=list)


class LocalCluster(BaseModel):
    tool: str  # "kind"
    name: str | None  # the cluster name the file sets; None: the tool's default
    path: str
    span: Span  # the configuration document
    nodes: list[ClusterNode] = Field(default_factory=list)


class LocalClusters(BaseModel):
    clusters: list[LocalCluster] = Field(default_factory=list)

    def inventory(self) -> dict[str, int]:
        return {"local cluster configurations": len(self.clusters)}
