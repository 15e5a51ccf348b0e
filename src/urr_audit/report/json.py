"""JSON report. Its shape is documented in README.md and versioned by `schema_version`."""

from __future__ import annotations

import json
from collections import Counter

from urr_audit import __version__
from urr_audit.model.common import Severity

SCHEMA_VERSION = 1


def summary(report) -> dict:
    findings = [f for f in report.result.findings if not f.suppressed]
    by_sev = Counter(f.severity.value for f in findings)
    return {
        "findings": len(findings),
        "suppressed": sum(1 for f in report.result.findings if f.suppressed),
        "undecided": len(report.result.undecided),
        "errors": sum(1 for e in report.result.errors if e.level == "error"),
        "notes": sum(1 for e in report.result.errors if e.level == "note"),
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
        "summary": summary(report),
    }


def render_json(report) -> str:
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"


def read_fingerprints(path) -> set[str]:
    """Fingerprints of the findings of a JSON report written by `scan -f json` (a baseline)."""
    from pathlib import Path

    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"not a urr-audit JSON report (schema_version {SCHEMA_VERSION})")
    return {f["fingerprint"] for f in data.get("findings", []) if isinstance(f, dict) and "fingerprint" in f}
