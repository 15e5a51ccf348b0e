"""The dependency graph of a repository (networkx), and its exports (json, dot, mermaid)."""

from urr_audit.graph.build import build_graph, restrict
from urr_audit.graph.export import export

__all__ = ["build_graph", "export", "restrict"]
