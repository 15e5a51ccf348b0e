"""Terminal report: findings grouped by file, coloured by severity, with counts and timing."""

from __future__ import annotations

import io
from itertools import groupby

from rich.console import Console
from rich.table import Table
from rich.text import Text

from urr_audit.model.common import Severity
from urr_audit.report.json import summary

STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def render_text(report, color: bool = False) -> str:
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=color, no_color=not color, width=None if color else 120, highlight=False)
    findings = [f for f in report.result.findings if not f.suppressed]
    for path, group in groupby(findings, key=lambda f: f.path):
        con.print(Text(path, style="bold underline"))
        table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
        table.add_column(justify="right", width=6, no_wrap=True)
        table.add_column(width=8, no_wrap=True)
        table.add_column(width=12, no_wrap=True)
        table.add_column(ratio=1, overflow="fold")
        for f in group:
            message = Text(f.message)
            if f.environment:
                message.append(f"  [{f.environment}]", style="magenta")
            table.add_row(
                str(f.line), Text(f.severity.value, style=STYLE[f.severity]), Text(f.rule_id, style="bold"), message
            )
        con.print(table)
        con.print()
    if report.result.undecided:
        con.print(Text("Could not decide (values unknown before apply, or input not read):", style="bold"))
        for f in report.result.undecided:
            con.print(f"  {f.path}:{f.line}  {f.rule_id}  {f.message}")
        con.print()
    # Notes (remote modules and bases, Helm charts: recorded, not read) appear as info
    # findings of URR-TF-024 / URR-K8S-019; errors are listed again because they set the exit code.
    unreadable = [e for e in report.result.errors if e.level == "error"]
    if unreadable:
        con.print(Text("Input that could not be read:", style="bold red"))
        for e in unreadable:
            con.print(f"  {e.path}:{e.line}  {e.kind}  {e.message}")
        con.print()
    s = summary(report)
    counts = Text()
    for sev in Severity:
        n = s["by_severity"][sev.value]
        counts.append(f"{n} {sev.value}", style=STYLE[sev] if n else "dim")
        counts.append("  ")
    con.print(
        Text(f"{s['findings']} findings", style="bold"),
        counts,
        Text(
            f"| {s['rules_run']} rules, {len(report.project.terraform.environments)} Terraform and "
            f"{len(report.project.kubernetes.environments)} Kubernetes environments, {s['seconds']:.2f}s",
            style="dim",
        ),
    )
    return buf.getvalue()
