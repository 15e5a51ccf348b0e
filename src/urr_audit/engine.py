"""Select rules, dispatch each to the model nodes of its scope, merge, suppress, sort."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from urr_audit.catalog import CatalogError, Rule, applies_to, matches
from urr_audit.checks.api import CheckSpec, Context, Hit, iter_hits
from urr_audit.model.common import LoadError, Severity
from urr_audit.model.findings import Finding
from urr_audit.model.project import Project


def _k8s_objects(p: Project) -> Iterable[Any]:
    for env in p.kubernetes.environments:
        yield from env.objects


# scope name -> the nodes a check of that scope is called with
SCOPES: dict[str, Callable[[Project], Iterable[Any]]] = {
    "project": lambda p: [p],
    "terraform.module": lambda p: p.terraform.modules.values(),
    "terraform.environment": lambda p: p.terraform.environments,
    "terraform.resource": lambda p: (r for r in p.terraform.resources() if r.exists.known_or(True) is not False),
    "kubernetes.environment": lambda p: p.kubernetes.environments,
    "kubernetes.object": _k8s_objects,
    "github.workflow": lambda p: p.workflows.workflows,
    "github.action": lambda p: p.workflows.actions,
    "github.file": lambda p: [*p.workflows.workflows, *p.workflows.actions],
    "github.job": lambda p: (j for _, j in p.workflows.jobs()),
    "github.step": lambda p: p.workflows.steps(),
    "argocd.application": lambda p: p.argocd.applications,
    "argocd.applicationset": lambda p: p.argocd.application_sets,
    "argocd.appproject": lambda p: p.argocd.projects,
}


def _node_type(node: Any) -> str | None:
    for attr in ("type", "kind"):
        v = getattr(node, attr, None)
        if isinstance(v, str):
            return v
    return None


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    undecided: list[Finding] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    rules_run: list[str] = field(default_factory=list)


def select_rules(rules: list[Rule], select: list[str], ignore: list[str]) -> list[Rule]:
    """Rules matching `select` (all when empty) minus `ignore`; a pattern that matches no rule
    is a configuration error (a typo must not silently run nothing, or everything)."""
    for flag, patterns in (("--select", select), ("--ignore", ignore)):
        for p in patterns:
            if not any(matches(r, [p]) for r in rules):
                raise CatalogError(f"{flag} {p}: matches no rule id or prefix (see `urr-audit rules list`)")
    chosen = [r for r in rules if not select or matches(r, select)]
    return [r for r in chosen if not (ignore and matches(r, ignore))]


def bind(rule: Rule, checks: dict[str, CheckSpec]) -> tuple[CheckSpec, Any]:
    spec = checks.get(rule.check)
    if spec is None:
        raise CatalogError(f"{rule.source}: rule {rule.id} uses unknown check {rule.check!r}")
    if spec.scope not in SCOPES:
        raise CatalogError(f"check {spec.name} has unknown scope {spec.scope!r}")
    try:
        params = spec.params.model_validate(rule.params)
    except ValidationError as exc:
        raise CatalogError(f"{rule.source}: params of {rule.id} do not fit check {spec.name}: {exc}") from exc
    return spec, params


def _open_world(hit: Hit, incomplete: dict[str, list[str]]) -> Hit:
    """A conclusion from absence does not hold where the environment is not fully read."""
    reasons = incomplete.get(hit.environment or "", [])
    if hit.undecided or hit.settled or not reasons:
        return hit
    more = f" and {len(reasons) - 1} more" if len(reasons) > 1 else ""
    hit.undecided = True
    hit.message = f"{hit.message} (not decided: {reasons[0]}{more})"
    return hit


def _strip_env(address: str | None, env: str | None) -> str:
    if address and env and address.startswith(env + "/"):
        return address[len(env) + 1 :]
    return address or ""


def _fingerprint(rule_id: str, path: str, address: str, message: str) -> str:
    # Identified by address, not line, so baselines survive edits; without an address the
    # message stands in.
    key = "|".join((rule_id, path, address or message))
    return hashlib.sha256(key.encode()).hexdigest()[:20]


# `urr-audit: ignore` or `urr-audit: ignore=ID[,ID...]`, then anything (a justification).
_SUPPRESS = re.compile(r"urr-audit:\s*ignore(?:=([A-Za-z][\w-]*(?:\s*,\s*[A-Za-z][\w-]*)*))?")


def _suppressed(rule: Rule, path: str, line: int, read_line: Callable[[str, int], str] | None) -> bool:
    if read_line is None:
        return False
    for n in (line, line - 1):
        m = _SUPPRESS.search(read_line(path, n)) if n > 0 else None
        if m:
            ids = [s.strip() for s in (m.group(1) or "").split(",") if s.strip()]
            if not ids or rule.id in ids or any(a in ids for a in rule.aliases):
                return True
    return False


def run(
    project: Project,
    rules: list[Rule],
    checks: dict[str, CheckSpec],
    read_line: Callable[[str, int], str] | None = None,
) -> RunResult:
    result = RunResult(errors=list(project.errors))
    bound = [(rule, *bind(rule, checks)) for rule in rules]  # config errors surface before any work
    # Each scope is walked once per run (resource expansion evaluates count/for_each) and
    # indexed by type, so a rule about aws_eks_addon visits only those.
    by_scope: dict[str, dict[str | None, list[Any]]] = {}
    incomplete = {
        "terraform": {e.name: e.incomplete for e in project.terraform.environments},
        # what other Applications deploy into the same namespaces and is not read counts too
        "kubernetes": {e.name: e.incomplete + e.unread_beside for e in project.kubernetes.environments},
    }
    for rule, spec, params in bound:
        result.rules_run.append(rule.id)
        ctx = Context(rule.id)
        hits: list[Hit] = []
        if spec.scope not in by_scope:
            index: dict[str | None, list[Any]] = {None: []}
            for node in SCOPES[spec.scope](project):
                index[None].append(node)
                index.setdefault(_node_type(node), []).append(node)
            by_scope[spec.scope] = index
        index = by_scope[spec.scope]
        nodes = [n for t in spec.types for n in index.get(t, [])] if spec.types else index[None]
        for node in nodes:
            try:
                hits.extend(
                    h for h in iter_hits(spec.fn(ctx, node, params)) if applies_to(rule, h.environment, h.span.path)
                )
            except Exception as exc:  # noqa: BLE001 -- a crashing check must not end the scan
                span = getattr(node, "span", None)
                result.errors.append(
                    LoadError(
                        kind="check.crash",
                        path=getattr(span, "path", ""),
                        line=getattr(span, "line", 1),
                        message=f"{rule.id} ({spec.name}) failed: {type(exc).__name__}: {exc}",
                        address=getattr(node, "address", None),
                    )
                )
        if spec.closed_world:
            hits = [_open_world(h, incomplete.get(spec.closed_world, {})) for h in hits]
        for f, undecided in _merge(rule, hits):
            if _suppressed(rule, f.path, f.line, read_line):
                f.suppressed, f.suppressed_by = True, "comment"
            (result.undecided if undecided else result.findings).append(f)
    result.findings.sort(key=Finding.sort_key)
    result.undecided.sort(key=Finding.sort_key)
    return result


def _lowered(rule: Severity, hit: Severity | None) -> Severity:
    """A check may only lower a rule's severity (plausible intent), never raise it."""
    return hit if hit is not None and hit.rank < rule.rank else rule


def _merge(rule: Rule, hits: list[Hit]) -> list[tuple[Finding, bool]]:
    """One finding per place and message: a base object wrong in several environments is one
    finding listing them, even when overlays gave it different namespaces (and so addresses)."""
    groups: dict[tuple, list[Hit]] = {}
    for h in hits:
        groups.setdefault((h.span.path, h.span.line, h.message, h.undecided), []).append(h)
    out = []
    for (path, line, message, undecided), group in groups.items():
        envs = sorted({h.environment for h in group if h.environment})
        addresses = sorted({_strip_env(h.address, h.environment) for h in group})
        first = group[0]
        if len(envs) <= 1 and len({h.address for h in group}) == 1:
            address = first.address or ""
        else:
            address = addresses[0] if len(addresses) == 1 else ""
        finding = Finding(
            rule_id=rule.id,
            title=rule.title,
            severity=_lowered(rule.severity, first.severity),
            category=rule.category,
            path=path,
            line=line,
            end_line=max(first.span.end_line, line),
            address=address or None,
            environment=", ".join(envs) or None,
            environments=envs,
            message=message,
            fingerprint=_fingerprint(rule.id, path, address and _strip_env(address, first.environment), message),
            related=first.related,
        )
        out.append((finding, undecided))
    return out


def apply_baseline(result: RunResult, fingerprints: set[str]) -> int:
    """Mark findings recorded in a baseline as suppressed; returns how many were."""
    n = 0
    for f in result.findings:
        if not f.suppressed and f.fingerprint in fingerprints:
            f.suppressed, f.suppressed_by = True, "baseline"
            n += 1
    return n


def at_or_above(findings: Iterable[Finding], threshold: Severity | None) -> list[Finding]:
    if threshold is None:
        return []
    return [f for f in findings if not f.suppressed and f.severity.rank >= threshold.rank]
