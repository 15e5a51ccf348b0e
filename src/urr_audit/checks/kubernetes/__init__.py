"""Kubernetes check templates (on rendered overlays)."""
