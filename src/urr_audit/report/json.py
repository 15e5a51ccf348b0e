"""JSON report. Its shape is documented in README.md and versioned by `schema_version`."""

from __future__ import annotations

import json
from collections import Counter

from urr_audit import __version__
from urr_audit.model.common import Severity
from urr_audit.report.inputs import inputs

SCHEMA_VERSION = 1


def summary(report) -> dict:
    """The counts every output states: `findings` are the unsuppressed findings above `info`,
    `notes` the unsuppressed `info` ones (facts for the record, and input deliberately not read),
    `errors` the inputs that could not be read."""
    findings = [f for f in report.result.findings if not f.suppressed]
    by_sev = Counter(f.severity.value for f in findings)
    return {
        "findings": len(findings) - by_sev.get(Severity.INFO.value, 0),
        "suppressed": sum(1 for f in [*report.result.findings, *report.result.undecided] if f.suppressed),
        "undecided": sum(1 for f in report.result.undecided if not f.suppressed),
        "errors": sum(1 for e in report.result.errors if e.level == "error"),
        "notes": by_sev.get(Severity.INFO.value, 0),
        "fixed": len(getattr(report.result, "fixed", [])),
        "by_severity": {s.value: by_sev.get(s.value, 0) for s in Severity},
        "rules_run": len(report.rules),
        "terraform_environments": sorted(e.name for e in report.project.terraform.environments),
        "kubernetes_environments": sorted(e.name for e in report.project.kubernetes.environments),
        "seconds": round(report.seconds, 3),
    }


def _finding(f) -> dict:
    return {
        "rule_id": f.rule_id,
        "title": f.title,
        "severity": f.severity.value,
        "confidence": f.confidence,
        "category": f.category,
        "path": f.path,
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line,
        "address": f.address,
        "environment": f.environment,
        "environments": f.environments,
        "message": f.message,
        "fingerprint": f.fingerprint,
        "suppressed": f.suppressed,
        "suppressed_by": f.suppressed_by,
        "justification": f.justification,
        "related": [{"path": s.path, "line": s.line} for s in f.related],
    }


def to_dict(report) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "urr-audit", "version": __version__},
        "root": report.root.name,
        "findings": [_finding(f) for f in report.result.findings],
        "undecided": [_finding(f) for f in report.result.undecided],
        "errors": [e.model_dump(mode="json") for e in report.result.errors],
        "fixed": list(getattr(report.result, "fixed", [])),
        "inputs": inputs(report),
        "summary": summary(report),
    }


def render_json(report) -> str:
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"


def read_fingerprints(path) -> set[str]:
    """Fingerprints of the findings of a JSON report written by `scan -f json` (a baseline)."""
    return set(read_baseline(path))


def read_baseline(path) -> dict[str, dict]:
    """fingerprint -> recorded finding, from a baseline (`urr-audit baseline`) or a JSON report."""
    from pathlib import Path

    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"not a urr-audit JSON report or baseline (schema_version {SCHEMA_VERSION})")
    entries = [*data.get("findings", []), *data.get("undecided", [])]
    return {f["fingerprint"]: f for f in entries if isinstance(f, dict) and isinstance(f.get("fingerprint"), str)}


_BASELINE_KEYS = ("rule_id", "title", "severity", "path", "line", "address", "environments", "message", "fingerprint")


def render_baseline(report) -> str:
    """Today's findings and undecided items (suppressed ones too: a baseline records what is
    accepted), in the JSON report's shape, with only what matching and `fixed` need."""
    entries = [{k: _finding(f)[k] for k in _BASELINE_KEYS} for f in [*report.result.findings, *report.result.undecided]]
    data = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "urr-audit", "version": __version__},
        "kind": "baseline",
        "findings": sorted(entries, key=lambda e: (e["path"], e["line"], e["rule_id"], e["fingerprint"])),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
