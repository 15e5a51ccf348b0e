"""kind cluster configurations: nodes and host port mappings, located; other YAML ignored."""

from __future__ import annotations

import textwrap

from urr_audit.loaders import load_project
from urr_audit.loaders.localcluster import load_local_clusters
from urr_audit.workspace import Workspace


def test_kind_configurations_with_and_without_nodes(tmp_path):
    files = {
        "dev/kind.yaml": """
        # comment
        kind: Cluster
        apiVersion: kind.x-k8s.io/v1alpha4
        name: shop
        nodes:
          - role: control-plane
            extraPortMappings:
              - containerPort: 30080
                hostPort: 8080
                listenAddress: 127.0.0.1
              - containerPort: 30443
                hostPort: 8443
                protocol: TCP
          - role: worker
        """,
        "ci/kind.yml": "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n",
        "docs/notes.yaml": "text: see kind.x-k8s.io for the schema\n",
        "broken.yaml": "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes: [\n",
        "k8s/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: kind.x-k8s.io}\n",
    }
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"))
    clusters = load_local_clusters(Workspace(tmp_path)).clusters
    assert [(c.path, c.name, c.tool) for c in clusters] == [
        ("ci/kind.yml", None, "kind"),
        ("dev/kind.yaml", "shop", "kind"),
    ]
    assert clusters[0].nodes == []  # kind then creates one control-plane node
    dev = clusters[1]
    assert [n.role for n in dev.nodes] == ["control-plane", "worker"]
    first, second = dev.nodes[0].port_mappings
    assert (first.host_port, first.container_port, first.listen_address, first.span.line) == (
        8080,
        30080,
        "127.0.0.1",
        8,
    )
    assert (second.host_port, second.container_port, second.protocol, second.span.line) == (8443, 30443, "TCP", 11)
    assert dev.span.line == 2
    project = load_project(tmp_path)
    assert project.local_clusters.inventory() == {"local cluster configurations": 2}
