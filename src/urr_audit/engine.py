"""Select rules, dispatch each to the model nodes of its scope, merge, suppress, sort.

Then what a configuration asks of the result: per-path ignores, a baseline (and the findings
fixed since it), a minimum severity."""

from __future__ import annotations

import difflib
import hashlib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from urr_audit.catalog import CatalogError, Rule, applies_to, matches
from urr_audit.checks.api import CheckSpec, Context, Hit, iter_hits
from urr_audit.model.common import LoadError, Severity, Span
from urr_audit.model.findings import Finding, SuppressionComment
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
    "docker.file": lambda p: p.docker.files,
    "docker.instruction": lambda p: p.docker.instructions(),
}

# Scopes whose nodes exist only after the other rules ran: the inline suppression comments,
# with what each suppressed (URR-SUP rules). Their rules run last.
LATE_SCOPES = frozenset({"suppression"})


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
    comments: list[SuppressionComment] = field(default_factory=list)
    # baseline entries (as recorded) whose finding is gone: fixed since the baseline
    fixed: list[dict[str, Any]] = field(default_factory=list)


def check_patterns(rules: list[Rule], patterns: list[str], where: str) -> None:
    """Every pattern must match a rule: a typo must not silently run nothing, or everything."""
    for p in patterns:
        if p.upper() == "ALL" or any(matches(r, [p]) for r in rules):
            continue
        hint = ""
        if "*" in p or "?" in p:
            hint = f"; patterns are ids or prefixes, not globs: write {p.rstrip('*?-').upper() or 'ALL'!r}"
        else:
            close = difflib.get_close_matches(p.upper(), [r.id for r in rules], n=1, cutoff=0.7)
            if close:
                hint = f" (did you mean {close[0]}?)"
        raise CatalogError(f"{where} {p}: matches no rule id or prefix{hint} (see `urr-audit rules list`)")


def select_rules(
    rules: list[Rule], select: list[str], ignore: list[str], where: tuple[str, str] = ("--select", "--ignore")
) -> list[Rule]:
    """Rules matching `select` (all when empty) minus `ignore`, ids and prefixes compared
    without case; a pattern that matches no rule is a configuration error."""
    check_patterns(rules, select, where[0])
    check_patterns(rules, ignore, where[1])
    chosen = [r for r in rules if not select or _matches(r, select)]
    return [r for r in chosen if not (ignore and _matches(r, ignore))]


def _matches(rule: Rule, patterns: list[str]) -> bool:
    return any(p.upper() == "ALL" for p in patterns) or matches(rule, patterns)


def bind(rule: Rule, checks: dict[str, CheckSpec]) -> tuple[CheckSpec, Any]:
    spec = checks.get(rule.check)
    if spec is None:
        hint = ""
        close = difflib.get_close_matches(rule.check, sorted(checks), n=1, cutoff=0.6)
        if close:
            hint = f" (did you mean {close[0]!r}? `urr-audit checks list` shows them all)"
        raise CatalogError(f"{rule.source}: check: rule {rule.id} uses unknown check {rule.check!r}{hint}")
    if spec.scope not in SCOPES and spec.scope not in LATE_SCOPES:
        raise CatalogError(f"check {spec.name} has unknown scope {spec.scope!r}")
    try:
        params = spec.params.model_validate(rule.params)
    except ValidationError as exc:
        raise CatalogError(params_problems(rule, spec, exc)) from exc
    return spec, params


def bind_all(rules: list[Rule], checks: dict[str, CheckSpec]) -> list[tuple[Rule, CheckSpec, Any]]:
    """Bind every rule, reporting every rule that cannot be bound at once (one line each)."""
    out, problems = [], []
    for rule in rules:
        try:
            out.append((rule, *bind(rule, checks)))
        except CatalogError as exc:
            problems.append(str(exc))
    if problems:
        raise CatalogError("\n".join(problems))
    return out


def params_problems(rule: Rule, spec: CheckSpec, exc: ValidationError) -> str:
    """One line per problem: file, key, what is wrong and, for an unknown key, the closest known."""
    fields = sorted(spec.params.model_fields)
    lines = []
    for err in exc.errors():
        key = ".".join(str(x) for x in err["loc"])
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(err["loc"][0]), fields, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            what = f"unknown param{hint}; check {spec.name} takes: {', '.join(fields) or 'no params'}"
        else:
            what = err["msg"]
        lines.append(f"{rule.source}: params.{key}: {rule.id}: {what}")
    return "\n".join(lines)


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
_SUPPRESS = re.compile(r"urr-audit:\s*ignore(?:=([A-Za-z][\w-]*(?:\s*,\s*[A-Za-z][\w-]*)*))?(.*)")


def parse_suppression(path: str, n: int, text: str) -> SuppressionComment | None:
    m = _SUPPRESS.search(text)
    if m is None:
        return None
    ids = [s.strip().upper() for s in (m.group(1) or "").split(",") if s.strip()]
    why = m.group(2).strip().lstrip("-#:/ ").strip()
    return SuppressionComment(span=Span(path=path, line=n, end_line=n), ids=ids, justification=why)


def suppression_comments(read_bytes: Callable[[str], bytes], paths: Iterable[str]) -> list[SuppressionComment]:
    """Every inline suppression comment in these files (the ones the loaders read)."""
    out = []
    for path in sorted(paths):
        try:
            data = read_bytes(path)
        except Exception:  # noqa: BLE001 -- unreadable now: its comments suppress nothing
            data = b""
        if b"urr-audit:" not in data:
            continue
        text = data.decode("utf-8", errors="replace")
        for n, line in enumerate(text.splitlines(), 1):
            c = parse_suppression(path, n, line)
            if c is not None:
                out.append(c)
    return out


class _Suppressions:
    """Which finding each comment suppresses, and which ids were used."""

    def __init__(self, comments: list[SuppressionComment] | None, read_line: Callable[[str, int], str] | None):
        self.read_line = read_line
        self.by_line: dict[tuple[str, int], SuppressionComment] | None = None
        if comments is not None:
            self.by_line = {(c.span.path, c.span.line): c for c in comments}
        self.used: dict[tuple[str, int], set[str]] = {}

    def _at(self, path: str, n: int) -> SuppressionComment | None:
        if self.by_line is not None:
            return self.by_line.get((path, n))
        return parse_suppression(path, n, self.read_line(path, n)) if self.read_line else None

    def match(self, rule: Rule, path: str, line: int) -> SuppressionComment | None:
        keys = {rule.id.upper(), *(a.upper() for a in rule.aliases)}
        for n in (line, line - 1):
            c = self._at(path, n) if n > 0 else None
            if c is None:
                continue
            hit = "*" if not c.ids else next((i for i in c.ids if i in keys), None)
            if hit:
                self.used.setdefault((path, n), set()).add(hit)
                return c
        return None


def _close_id(rule_id: str, known: list[str]) -> str | None:
    close = difflib.get_close_matches(rule_id, known, n=1, cutoff=0.8)
    return close[0] if close else None


def _judge_comments(
    comments: list[SuppressionComment], used: dict[tuple[str, int], set[str]], catalog: list[Rule], ran: list[Rule]
) -> None:
    known = {k.upper(): r.id for r in catalog for k in (r.id, *r.aliases)}
    ran_keys = {k.upper() for r in ran for k in (r.id, *r.aliases)}
    for c in comments:
        got = used.get((c.span.path, c.span.line), set())
        c.unknown = [i for i in c.ids if i not in known]
        c.suggestions = {i: s for i in c.unknown if (s := _close_id(i, sorted(known))) is not None}
        if not c.ids:
            c.unused = [] if got else ["*"]
        else:
            c.unused = [i for i in c.ids if i in ran_keys and i not in got]


def run(
    project: Project,
    rules: list[Rule],
    checks: dict[str, CheckSpec],
    read_line: Callable[[str, int], str] | None = None,
    *,
    catalog: list[Rule] | None = None,
    comments: list[SuppressionComment] | None = None,
    timings: dict[str, float] | None = None,
) -> RunResult:
    """Run `rules` over `project`. `catalog`: every rule loaded (default: `rules`), for the
    catch-all input rule and unknown ids in suppressions; `comments`: the suppression comments
    of the files read (else suppressions are looked up with `read_line`, and not judged);
    `timings`: filled with each rule's CPU seconds (benchmarks/bench_rules.py prints them)."""
    catalog = rules if catalog is None else catalog
    result = RunResult(errors=list(project.errors), comments=list(comments or []))
    bound = bind_all(rules, checks)  # configuration errors surface before any work
    suppressions = _Suppressions(comments, read_line)
    late = [b for b in bound if b[1].scope in LATE_SCOPES]
    bound = [b for b in bound if b[1].scope not in LATE_SCOPES]
    # Each scope is walked once per run (resource expansion evaluates count/for_each) and
    # indexed by type, so a rule about aws_eks_addon visits only those.
    by_scope: dict[str, dict[str | None, list[Any]]] = {}
    incomplete = {
        "terraform": {e.name: e.incomplete for e in project.terraform.environments},
        # what other Applications deploy into the same namespaces and is not read counts too
        "kubernetes": {e.name: e.incomplete + e.unread_beside for e in project.kubernetes.environments},
    }

    def run_rule(rule: Rule, spec: CheckSpec, params: Any) -> None:
        started = time.process_time()
        result.rules_run.append(rule.id)
        ctx = Context(rule.id, catalog)
        hits: list[Hit] = []
        if spec.scope not in by_scope:
            index: dict[str | None, list[Any]] = {None: []}
            for node in result.comments if spec.scope in LATE_SCOPES else SCOPES[spec.scope](project):
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
            comment = suppressions.match(rule, f.path, f.line)
            if comment is not None:
                f.suppressed, f.suppressed_by = True, "comment"
                f.justification = comment.justification or None
            (result.undecided if undecided else result.findings).append(f)
        if timings is not None:
            timings[rule.id] = time.process_time() - started

    for rule, spec, params in bound:
        run_rule(rule, spec, params)
    _judge_comments(result.comments, suppressions.used, catalog, [r for r, _, _ in bound])
    for rule, spec, params in late:
        run_rule(rule, spec, params)
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
        groups.setdefault((h.span.path, h.span.line, h.column, h.message, h.undecided), []).append(h)
    out = []
    for (path, line, column, message, undecided), group in groups.items():
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
            column=column,
            confidence=first.confidence or rule.confidence,
        )
        out.append((finding, undecided))
    return _distinct_fingerprints(out)


def _distinct_fingerprints(found: list[tuple[Finding, bool]]) -> list[tuple[Finding, bool]]:
    """Two findings of a rule at different places with one address and message (the same
    expression written twice on a line) would share a fingerprint, and a baseline or code
    scanning would take them for one: the second and later, in file order, get their
    occurrence number in the key."""
    by_print: dict[str, list[Finding]] = {}
    for f, _ in found:
        by_print.setdefault(f.fingerprint, []).append(f)
    for group in by_print.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda f: (f.line, f.column or 0))
        for n, f in enumerate(group[1:], 2):
            f.fingerprint = _fingerprint(f.rule_id, f.path, f"{f.address or f.message}#{n}", f.message)
    return found


def apply_baseline(
    result: RunResult,
    fingerprints: set[str] | dict[str, dict[str, Any]],
    in_scope: Callable[[dict[str, Any]], bool] | None = None,
) -> int:
    """Mark findings (and undecided items) recorded in a baseline as suppressed; returns how
    many were. With the recorded entries (fingerprint -> entry), those of a rule that ran,
    `in_scope` (default: all), and no longer found are listed in `result.fixed`."""
    n = 0
    for f in [*result.findings, *result.undecided]:
        if f.fingerprint in fingerprints and not f.suppressed:
            f.suppressed, f.suppressed_by = True, "baseline"
            n += 1
    if isinstance(fingerprints, dict):
        present = {f.fingerprint for f in [*result.findings, *result.undecided]}
        ran = set(result.rules_run)
        result.fixed = sorted(
            (
                e
                for fp, e in fingerprints.items()
                if fp not in present and e.get("rule_id") in ran and (in_scope is None or in_scope(e))
            ),
            key=lambda e: (str(e.get("path", "")), int(e.get("line", 0) or 0), str(e.get("rule_id", ""))),
        )
    return n


def apply_per_path_ignores(
    result: RunResult, ignores: dict[str, list[str]], catalog: list[Rule], claimant: Callable[[LoadError], str | None]
) -> None:
    """Drop findings, undecided items and input errors whose path matches a glob (gitignore
    style, relative to the root) listing their rule (id, prefix or ALL)."""
    if not ignores:
        return
    import pathspec

    by_id = {r.id: r for r in catalog}
    specs = [(pathspec.PathSpec.from_lines("gitignore", [glob]), ids) for glob, ids in ignores.items()]

    def ignored(rule_id: str | None, path: str) -> bool:
        for spec, ids in specs:
            if not spec.match_file(path):
                continue
            if any(i.upper() == "ALL" for i in ids):
                return True
            rule = by_id.get(rule_id or "")
            if rule is not None and matches(rule, ids):
                return True
        return False

    result.findings = [f for f in result.findings if not ignored(f.rule_id, f.path)]
    result.undecided = [f for f in result.undecided if not ignored(f.rule_id, f.path)]
    result.errors = [e for e in result.errors if not ignored(claimant(e), e.path)]


def apply_min_severity(result: RunResult, minimum: Severity | None) -> None:
    if minimum is None:
        return
    result.findings = [f for f in result.findings if f.severity.rank >= minimum.rank]
    result.undecided = [f for f in result.undecided if f.severity.rank >= minimum.rank]


def at_or_above(findings: Iterable[Finding], threshold: Severity | None) -> list[Finding]:
    if threshold is None:
        return []
    return [f for f in findings if not f.suppressed and f.severity.rank >= threshold.rank]
