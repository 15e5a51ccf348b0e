"""Markdown for a pull-request comment: findings only, grouped by severity in collapsible
sections (the most severe open), one table row per finding with its `path:line`."""

from __future__ import annotations

from typing import Any

from urr_audit.model.common import Severity
from urr_audit.model.findings import Finding
from urr_audit.report.json import summary


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _row(f: Finding) -> str:
    env = f" ({_cell(f.environment)})" if f.environment else ""
    return f"| `{f.rule_id}` | `{_cell(f.path)}:{f.line}` | {_cell(f.message)}{env} |"


def render_markdown(report: Any) -> str:
    s = summary(report)
    shown = [f for f in report.result.findings if not f.suppressed]
    lines = ["## urr-audit", ""]
    if not shown:
        lines.append("No findings.")
    else:
        counts = ", ".join(
            f"{s['by_severity'][sev.value]} {sev.value}"
            for sev in Severity
            if s["by_severity"][sev.value] and sev is not Severity.INFO
        )
        n = s["findings"]
        lines.append(f"**{n} finding{'s' if n != 1 else ''}**" + (f" ({counts})." if counts else "."))
    extra = [
        f"{s['undecided']} undecided",
        f"{s['suppressed']} suppressed",
        f"{s['notes']} note{'s' if s['notes'] != 1 else ''}",
    ]
    if s["fixed"]:
        extra.append(f"{s['fixed']} fixed since the baseline")
    lines += ["", " · ".join(extra), ""]
    opened = False
    for sev in Severity:
        group = sorted((f for f in shown if f.severity is sev), key=Finding.sort_key)
        if not group:
            continue
        attr = "" if opened else " open"
        opened = True
        lines += [
            f"<details{attr}><summary><b>{sev.value}</b> ({len(group)})</summary>",
            "",
            "| rule | location | message |",
            "|---|---|---|",
            *[_row(f) for f in group],
            "",
            "</details>",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"
