"""SARIF 2.1.0 for GitHub code scanning (and any SARIF viewer).

- Rules: id, name, short and full description, `help` (text and markdown: the rule's page),
  `helpUri` (the rule's page in `docs/rules/`), default level, `properties.tags` and
  `properties.security-severity` (GitHub's severity for security results).
- Results: level from severity (critical/high: error, medium: warning, low/info: note),
  `%SRCROOT%`-relative URIs, regions, `relatedLocations` for the other places a finding
  involves, the address as a logical location, `partialFingerprints` from the finding's
  fingerprint (rule, path and address, never the line: alerts survive edits), suppressions
  (`inSource` for an inline comment, `external` for the baseline).
- Undecided items are results of level `note` with `properties.undecided: true` and a message
  saying why (so code scanning shows them without failing a check); input errors and notes are
  also tool execution notifications.
- GitHub's limits: at most 25,000 results per run and 1,000 related locations per result; the
  rest is cut and a notification says so.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from urr_audit import __version__
from urr_audit.catalog import Rule
from urr_audit.model.common import Severity
from urr_audit.model.findings import Finding
from urr_audit.report.docs import rule_markdown

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_RESULTS = 25_000
MAX_RELATED = 1_000
FINGERPRINT_KEY = "urrAudit/v1"

LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub: over 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.0",
    Severity.INFO: "0.1",
}


def project_url(label: str, default: str) -> str:
    """A URL of the package metadata (pyproject `[project.urls]`), without a trailing `/`."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        for entry in metadata("urr-audit").get_all("Project-URL") or []:
            name, _, url = entry.partition(",")
            if name.strip().lower() == label.lower():
                return url.strip().rstrip("/")
    except PackageNotFoundError:
        pass
    return default


def docs_url() -> str:
    """Where rule pages live online (`Documentation`), ending with `/`."""
    return project_url("Documentation", "https://github.com/urr-audit/urr-audit/blob/main/docs/rules") + "/"


def _pascal(title: str) -> str:
    """`Image uses the latest tag` -> `ImageUsesTheLatestTag` (acronyms as words: `Hpa`)."""
    return "".join(w.capitalize() for w in re.findall(r"[A-Za-z0-9]+", title) if len(w) > 1 or w.isdigit())


def _text(s: str) -> str:
    s = s.strip()
    return s if s.endswith((".", "?", "!")) else s + "."


def _rule(rule: Rule, base: str) -> dict[str, Any]:
    first_paragraph = rule.rationale.strip().split("\n\n")[0].replace("\n", " ")
    md = rule_markdown(rule)
    tags = ["security" if rule.category != "suppression" else "maintainability", rule.category]
    tags += rule.id.split("-")[1:2]  # TF, K8S, GHA...
    out: dict[str, Any] = {
        "id": rule.id,
        "name": _pascal(rule.title),
        "shortDescription": {"text": _text(rule.title)},
        "fullDescription": {"text": _text(first_paragraph)},
        "help": {"text": md, "markdown": md},
        "helpUri": f"{base}{quote(rule.id)}.md",
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {
            "tags": sorted(set(tags))[:20],
            "precision": "high",
            "problem.severity": {"error": "error", "warning": "warning", "note": "recommendation"}[
                LEVEL[rule.severity]
            ],
            "security-severity": SECURITY_SEVERITY[rule.severity],
        },
    }
    if rule.aliases:
        out["deprecatedIds"] = list(rule.aliases)
    return out


class _Source:
    """Lines of the scanned files, for snippets (read through the Workspace: never outside the root)."""

    def __init__(self, root: Any, prefix: str = ""):
        from urr_audit.workspace import Workspace

        self.ws = Workspace(root) if root is not None else None
        self.cache: dict[str, list[str]] = {}
        # the scan root's path inside the repository checkout, when it is a sub-directory:
        # code scanning resolves URIs against the checkout, not the scan root
        self.prefix = prefix

    def lines(self, path: str) -> list[str]:
        if path not in self.cache:
            try:
                self.cache[path] = self.ws.read_text(path).splitlines() if self.ws else []
            except Exception:  # noqa: BLE001 -- gone or unreadable now: no snippet
                self.cache[path] = []
        return self.cache[path]


SNIPPET_LINES = 12
CONTEXT_LINES = 2


def _location(path: str, line: int, end_line: int | None = None, source: _Source | None = None) -> dict[str, Any]:
    start = max(line, 1)
    end = end_line if end_line and end_line > start else start
    region: dict[str, Any] = {"startLine": start}
    if end > start:
        region["endLine"] = end
    uri = quote((source.prefix if source else "") + path)
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}, "region": region}
    lines = source.lines(path) if source else []
    if lines and end <= len(lines) and end - start < SNIPPET_LINES:
        region["snippet"] = {"text": "\n".join(lines[start - 1 : end]) + "\n"}
        c0, c1 = max(start - CONTEXT_LINES, 1), min(end + CONTEXT_LINES, len(lines))
        physical["contextRegion"] = {
            "startLine": c0,
            "endLine": c1,
            "snippet": {"text": "\n".join(lines[c0 - 1 : c1]) + "\n"},
        }
    return {"physicalLocation": physical}


def _result(
    f: Finding, rule_index: dict[str, int], undecided: bool, notes: list[dict], source: _Source
) -> dict[str, Any]:
    message = f.message if not undecided else f"Undecided: {f.message}"
    loc = _location(f.path, f.line, f.end_line, source)
    if f.address:
        loc["logicalLocations"] = [{"fullyQualifiedName": f.address, "kind": "resource"}]
    out: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index[f.rule_id],
        "level": "note" if undecided else LEVEL[f.severity],
        "message": {"text": _text(message)},
        "locations": [loc],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint + ("/undecided" if undecided else "")},
        "properties": {"severity": f.severity.value, "environments": f.environments, "undecided": undecided},
    }
    related = [s for s in f.related if (s.path, s.line) != (f.path, f.line)]
    if len(related) > MAX_RELATED:
        notes.append(_notification(f"{f.path}: {len(related) - MAX_RELATED} related locations cut", "note"))
        related = related[:MAX_RELATED]
    if related:
        out["relatedLocations"] = [
            {"id": i, **_location(s.path, s.line, s.end_line, source), "message": {"text": f"{s.path}:{s.line}"}}
            for i, s in enumerate(related, 1)
        ]
    if f.suppressed:
        if f.suppressed_by == "baseline":
            out["suppressions"] = [{"kind": "external", "justification": "recorded in the baseline"}]
        else:
            out["suppressions"] = [{"kind": "inSource", "justification": f.justification or "urr-audit: ignore"}]
    return out


def _notification(
    text: str, level: str, path: str | None = None, line: int = 1, rule: str | None = None, prefix: str = ""
) -> dict:
    n: dict[str, Any] = {"message": {"text": _text(text)}, "level": level}
    if path:
        n["locations"] = [_location(prefix + path, line)]
    if rule:
        n["associatedRule"] = {"id": rule}
    return n


def to_sarif(report: Any) -> dict[str, Any]:
    from urr_audit.checks.common import claimant

    base = docs_url()
    result = report.result
    ran = {r.id: r for r in report.rules}
    for f in [*result.findings, *result.undecided]:  # a rule a baseline or test added by hand
        if f.rule_id not in ran:
            ran.update({r.id: r for r in getattr(report, "catalog", []) if r.id == f.rule_id})
    rules = sorted(ran.values(), key=lambda r: r.id)
    rule_index = {r.id: i for i, r in enumerate(rules)}
    notes: list[dict] = []
    from urr_audit.config import git_work_tree

    top = git_work_tree(report.root.resolve()) or report.root.resolve()
    prefix = "" if top == report.root.resolve() else report.root.resolve().relative_to(top).as_posix() + "/"
    source = _Source(report.root, prefix)
    results = [_result(f, rule_index, False, notes, source) for f in result.findings if f.rule_id in rule_index]
    results += [_result(f, rule_index, True, notes, source) for f in result.undecided if f.rule_id in rule_index]
    if len(results) > MAX_RESULTS:
        notes.append(_notification(f"{len(results) - MAX_RESULTS} results cut (GitHub takes 25000 per run)", "warning"))
        results = results[:MAX_RESULTS]
    catalog = getattr(report, "catalog", None) or report.rules
    for e in result.errors:
        level = "note" if e.level == "note" else ("error" if e.kind == "check.crash" else "warning")
        notes.append(_notification(f"{e.kind}: {e.message}", level, e.path, e.line, claimant(e, catalog), prefix))
    root_uri = top.as_uri().rstrip("/") + "/"
    run = {
        "tool": {
            "driver": {
                "name": "urr-audit",
                "fullName": "urr-audit infrastructure repository auditor",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": project_url("Homepage", "https://github.com/urr-audit/urr-audit"),
                "rules": [_rule(r, base) for r in rules],
            }
        },
        "automationDetails": {"id": "urr-audit/"},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": root_uri}},
        "invocations": [
            {
                "executionSuccessful": not any(e.kind == "check.crash" for e in result.errors),
                "toolExecutionNotifications": notes,
            }
        ],
        "columnKind": "utf16CodeUnits",
        "results": results,
    }
    provenance = _provenance(report)
    if provenance:
        run["versionControlProvenance"] = provenance
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _provenance(report: Any) -> list[dict[str, Any]]:
    """The repository and commit scanned, from `.git` as read by the loader (never git run)."""
    from urr_audit.loaders.gitmeta import web_url

    git = getattr(report.project, "git", None)
    if git is None or not git.commit or not git.remotes:
        return []
    remote = git.remotes.get("origin") or next(iter(sorted(git.remotes.values())))
    uri = web_url(remote)
    if not uri:
        return []
    out: dict[str, Any] = {"repositoryUri": uri, "revisionId": git.commit, "mappedTo": {"uriBaseId": "%SRCROOT%"}}
    if git.branch:
        out["branch"] = git.branch
    return [out]


def render_sarif(report: Any) -> str:
    return json.dumps(to_sarif(report), indent=2, ensure_ascii=False) + "\n"
