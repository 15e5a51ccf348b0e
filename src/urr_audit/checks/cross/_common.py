"""Params and helpers shared by the cross-artifact checks (no checks here)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.facts.pairing import DEFAULT_ALIASES, Pairing, pair_environments
from urr_audit.model.common import Span
from urr_audit.model.k8s_facts import Workload
from urr_audit.model.project import Project
from urr_audit.wording import listed


class PairingParams(BaseModel):
    """How Kubernetes environments are paired with the Terraform environment they run in."""

    model_config = ConfigDict(extra="forbid")

    # Kubernetes environment name or directory (regex, full match) -> Terraform environment name;
    # wins over Argo CD cluster names and environment names
    pairing: dict[str, str] = Field(default_factory=dict)
    # stage names taken as one when pairing by name
    aliases: dict[str, list[str]] = Field(default_factory=lambda: {k: list(v) for k, v in DEFAULT_ALIASES.items()})


def pairings(project: Project, params: PairingParams) -> list[Pairing]:
    return pair_environments(project, params.pairing, params.aliases)


def spans(items: Iterable[Span | None], exclude: Span | None = None, limit: int = 12) -> list[Span]:
    """Related locations: distinct and sorted, the anchor left out; every file involved keeps
    at least one location, further ones up to `limit` in all."""
    seen = sorted({s for s in items if s is not None and s != exclude}, key=lambda s: (s.path, s.line))
    firsts: dict[str, Span] = {}
    for s in seen:
        firsts.setdefault(s.path, s)
    chosen = set(firsts.values())
    for s in seen:
        if len(chosen) >= limit:
            break
        chosen.add(s)
    return sorted(chosen, key=lambda s: (s.path, s.line))


def workload_names(workloads: Iterable[Workload], limit: int = 4) -> str:
    """`Deployments a, b and StatefulSet c`."""
    by_kind: dict[str, list[str]] = {}
    for w in workloads:
        names = by_kind.setdefault(w.kind, [])
        if w.name not in names:
            names.append(w.name)
    return " and ".join(
        f"{k}{'s' if len(n) > 1 else ''} {listed(sorted(n), limit)}" for k, n in sorted(by_kind.items())
    )
