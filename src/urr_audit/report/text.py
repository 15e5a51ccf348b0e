"""Terminal report, laid out as ruff's: one line per finding with `path:line` as one token
(editors and terminals jump to it), most severe first, then the same layout for every section
(undecided, notes, suppressed, fixed since the baseline), a per-rule count table and a summary
that always counts findings, undecided, suppressed, input errors and notes.

Colour only when asked (`color=True`); never a trailing space; long messages wrap at `width`
when one is given (a terminal), never when piped."""

from __future__ import annotations

import os
import textwrap
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from urr_audit.model.common import Severity
from urr_audit.model.findings import Finding
from urr_audit.report.inputs import directories, inventories, nothing_read
from urr_audit.report.json import summary

_ANSI = {
    "bold": "1",
    "dim": "2",
    "underline": "4",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
    "bold red": "1;31",
    "critical": "1;97;41",
}
SEVERITY_STYLE = {
    Severity.CRITICAL: "critical",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"


def counted(n: int, label: str) -> str:
    """`1 Terraform module` / `2 Terraform modules` for an inventory label, which is plural."""
    if n != 1:
        return f"{n} {label}"
    head, _, last = label.rpartition(" ")
    one = (
        last[:-3] + "y"
        if last.endswith("ies")
        else last[:-1]
        if last.endswith("s") and not last.endswith("ss")
        else last
    )
    return f"{n} {head + ' ' if head else ''}{one}"


@dataclass
class _Paint:
    color: bool

    def __call__(self, text: str, style: str) -> str:
        if not self.color or not text or style not in _ANSI:
            return text
        return f"\x1b[{_ANSI[style]}m{text}\x1b[0m"


def _by_severity(f: Finding) -> tuple:
    return (-f.severity.rank, *f.sort_key())


class _Writer:
    def __init__(self, color: bool, width: int | None, root: str = "", cwd: str = ""):
        self.paint = _Paint(color)
        self.width = width
        self.lines: list[str] = []
        self.root, self.cwd = root, cwd

    def path(self, path: str) -> str:
        """Relative to the working directory, as ruff prints them, so `path:line` opens from the
        terminal wherever the scan was started; JSON and SARIF keep paths relative to the root."""
        if not self.root or self.root == self.cwd:
            return path
        try:
            return Path(os.path.relpath(os.path.join(self.root, path), self.cwd)).as_posix()
        except ValueError:  # another drive (Windows)
            return path

    def line(self, text: str = "") -> None:
        self.lines.append(text.rstrip())

    def heading(self, text: str) -> None:
        if self.lines and self.lines[-1]:
            self.line()
        self.line(self.paint(text, "bold"))

    def rows(self, rows: list[tuple[str, str, str, str]], styles: list[str]) -> None:
        """Rows of (location, severity, rule, message): the first three columns aligned, the
        message wrapped under itself when a width is known."""
        if not rows:
            return
        w0 = min(max(len(r[0]) for r in rows), 60)
        w1 = max(len(r[1]) for r in rows)
        w2 = max(len(r[2]) for r in rows)
        indent = w0 + w1 + w2 + 6
        for (loc, sev, rule, msg), style in zip(rows, styles, strict=True):
            pad0 = " " * max(w0 - len(loc), 0)
            head = (
                f"{self.paint(loc, 'bold')}{pad0}  {self.paint(sev, style)}{' ' * (w1 - len(sev))}  "
                f"{self.paint(rule, 'bold')}{' ' * (w2 - len(rule))}  "
            )
            if len(loc) > w0 and self.width:  # a very long path in a terminal: the rest on the next line
                self.line(self.paint(loc, "bold"))
                head = " " * w0 + head[len(self.paint(loc, "bold")) :]
            if self.width and self.width - indent < 40 and len(msg) > self.width - indent:
                # a narrow terminal: the message goes below, wrapped at the width
                self.line(head)
                for part in textwrap.wrap(msg, self.width - 4, break_long_words=False, break_on_hyphens=False):
                    self.line("    " + part)
                continue
            parts = [msg]
            if self.width and len(msg) > self.width - indent:
                parts = textwrap.wrap(msg, self.width - indent, break_long_words=False, break_on_hyphens=False) or [msg]
            self.line(head + parts[0])
            for part in parts[1:]:
                self.line(" " * indent + part)


def _row(f: Finding, w: _Writer) -> tuple[str, str, str, str]:
    msg = f.message
    if f.environment:
        msg += f"  [{f.environment}]"
    if f.suppressed and f.suppressed_by:
        why = f" ({f.justification})" if f.justification else ""
        msg += f"  (suppressed by {f.suppressed_by}{why})"
    return (f"{w.path(f.path)}:{f.line}", f.severity.value, f.rule_id, msg)


def _finding_rows(w: _Writer, findings: Iterable[Finding]) -> None:
    fs = list(findings)
    w.rows([_row(f, w) for f in fs], [SEVERITY_STYLE[f.severity] for f in fs])


def render_text(
    report: Any,
    color: bool = False,
    *,
    width: int | None = None,
    sort: str = "severity",
    verbose: bool = False,
    quiet: bool = False,
) -> str:
    w = _Writer(color, width, str(report.root), os.getcwd())
    result = report.result
    key = _by_severity if sort == "severity" else Finding.sort_key
    shown = sorted((f for f in result.findings if not f.suppressed), key=key)
    notes = [f for f in shown if f.severity is Severity.INFO]
    findings = [f for f in shown if f.severity is not Severity.INFO]
    undecided = sorted((f for f in result.undecided if not f.suppressed), key=key)

    _finding_rows(w, findings)
    if quiet:
        _finding_rows(w, undecided)
        return "\n".join(w.lines) + ("\n" if w.lines else "")

    if undecided:
        w.heading("Undecided (a value known only at apply time, or input not read):")
        _finding_rows(w, undecided)

    unclaimed = _errors_without_finding(report)
    if unclaimed:
        w.heading("Input that could not be read (no selected rule reports it):")
        w.rows(
            [(f"{w.path(e.path)}:{e.line}", e.level, e.kind, e.message) for e in unclaimed],
            ["bold red" if e.level == "error" else "dim" for e in unclaimed],
        )

    if notes:
        if verbose:
            w.heading("Notes (facts for the record, input not audited):")
            _finding_rows(w, notes)
        else:
            w.heading("Notes (facts for the record, input not audited; --verbose lists each):")
            groups: dict[str, list[Finding]] = defaultdict(list)
            for f in notes:
                groups[f.rule_id].append(f)
            rows, styles = [], []
            for rule_id, group in sorted(groups.items()):
                first = min(group, key=Finding.sort_key)
                more = f" (and {plural(len(group) - 1, 'more place')})" if len(group) > 1 else ""
                rows.append((f"{w.path(first.path)}:{first.line}", "info", rule_id, f"{first.title}{more}"))
                styles.append("dim")
            w.rows(rows, styles)

    suppressed = sorted((f for f in [*result.findings, *result.undecided] if f.suppressed), key=key)
    if suppressed and verbose:
        w.heading("Suppressed:")
        _finding_rows(w, suppressed)

    fixed = list(getattr(result, "fixed", []))
    if fixed:
        w.heading("Fixed since the baseline:")
        w.rows(
            [
                (
                    f"{e.get('path')}:{e.get('line')}",
                    str(e.get("severity", "")),
                    str(e.get("rule_id")),
                    str(e.get("message", "")),
                )
                for e in fixed
            ],
            ["green"] * len(fixed),
        )

    if verbose:
        _verbose_inputs(w, report)

    counted = [f for f in shown]
    if counted:
        w.heading("Findings by rule:")
        per_rule = Counter(f.rule_id for f in counted)
        # a rule's row shows the most severe of its findings (some are lowered where intent is plausible)
        meta: dict[str, Finding] = {}
        for f in counted:
            if f.rule_id not in meta or f.severity.rank > meta[f.rule_id].severity.rank:
                meta[f.rule_id] = f
        wid = max(len(r) for r in per_rule)
        wcount = max(len(str(n)) for n in per_rule.values())
        order = sorted(per_rule, key=lambda r: (-meta[r].severity.rank, -per_rule[r], r))
        mix = Counter((f.rule_id, f.severity) for f in counted)
        for rule_id in order:
            f = meta[rule_id]
            sev = f.severity.value
            levels = sorted((s for r, s in mix if r == rule_id), key=lambda s: -s.rank)
            split = f" ({', '.join(f'{mix[rule_id, s]} {s.value}' for s in levels)})" if len(levels) > 1 else ""
            w.line(
                f"{str(per_rule[rule_id]).rjust(wcount)}  {w.paint(rule_id, 'bold')}{' ' * (wid - len(rule_id))}  "
                f"{w.paint(sev, SEVERITY_STYLE[f.severity])}{' ' * (8 - len(sev))}  {f.title}{split}"
            )

    w.heading("")
    if nothing_read(report.project):
        w.line(w.paint(f"No infrastructure files found under {report.root}.", "yellow"))
    w.line(_summary_line(report, w.paint))
    w.line(w.paint(_scope_line(report), "dim"))
    return "\n".join(line for line in _trim(w.lines)) + "\n"


def _trim(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return out


def _errors_without_finding(report: Any) -> list[Any]:
    """Load errors no reported finding stands for (their rule was not selected)."""
    places = {(f.path, f.line) for f in [*report.result.findings, *report.result.undecided]}
    return [e for e in report.result.errors if e.level == "error" and (e.path, e.line) not in places]


def _summary_line(report: Any, paint: _Paint) -> str:
    s = summary(report)
    by_sev = s["by_severity"]
    n_findings = s["findings"]
    parts = [sev.value for sev in Severity if sev is not Severity.INFO and by_sev[sev.value]]
    counts = ", ".join(paint(f"{by_sev[p]} {p}", SEVERITY_STYLE[Severity(p)]) for p in parts)
    head = paint(plural(n_findings, "finding"), "bold") + (f" ({counts})" if counts else "")
    bits = [
        head,
        plural(s["errors"], "input error"),
        f"{s['undecided']} undecided",
        f"{s['suppressed']} suppressed",
        plural(s["notes"], "note"),
    ]
    if s["fixed"]:
        bits.append(f"{s['fixed']} fixed since the baseline")
    return " · ".join(bits)


def _scope_line(report: Any) -> str:
    """What was read (every sub-project's inventory, whatever its kind), rules, focus, time."""
    s = summary(report)
    items = [counted(n, name) for inv in inventories(report.project).values() for name, n in inv.items() if n]
    files = len(getattr(report, "files_read", []))
    read = f"read {plural(files, 'file')}"
    if items:
        read += f" ({', '.join(items)})"
    elif files:  # .git/* metadata, a README, YAML that is no manifest: read, but nothing to audit
        read += ", none of them an infrastructure file" if files > 1 else ", not an infrastructure file"
    focus = getattr(report, "focus", None)
    about = ""
    if focus is not None and not focus.everything:
        shown = focus.targets[:5] + ([f"{len(focus.targets) - 5} more"] if len(focus.targets) > 5 else [])
        about = f"; reported about {', '.join(shown)}" if shown else "; no changed path to report about"
    return f"{plural(s['rules_run'], 'rule')} run, {read}{about}; {s['seconds']:.2f}s"


def _verbose_inputs(w: _Writer, report: Any) -> None:
    files = list(getattr(report, "files_read", []))
    w.heading(f"Files read ({len(files)}):")
    for f in files:
        w.line(f"  {f}")
    dirs = directories(report.project)
    if dirs:  # Terraform and Kubernetes directories: none in a repository of workflows only
        w.heading("Directories:")
    wp = max((len(d["path"]) for d in dirs), default=0)
    for d in dirs:
        env = f"environment {d['environment']}" if d["environment"] else "not an environment"
        w.line(f"  {d['path']}{' ' * (wp - len(d['path']))}  {env}: {d['reason']}")
    if not nothing_read(report.project):  # else the summary says no infrastructure file was found
        w.heading("Read:")
    for part, inv in inventories(report.project).items():
        if any(inv.values()):  # kinds the repository does not have are not listed as zeros
            w.line(f"  {part}: " + ", ".join(counted(n, k) for k, n in inv.items()))
    focus = getattr(report, "focus", None)
    if focus is not None and not focus.everything:
        w.heading("Reported about:")
        for line in focus.describe():
            w.line(f"  {line}")
