"""GitHub Actions workflow commands: one annotation per finding on the pull request's diff.

`::error file=F,line=N,endLine=M,title=T::message` (critical/high: error, medium: warning,
low/info: notice). Paths are given relative to the working directory (the checkout, in a
workflow), so a scan of a sub-directory still annotates the right file. Undecided items are
notices; suppressed findings are not annotated."""

from __future__ import annotations

import os
from typing import Any

from urr_audit.model.common import Severity
from urr_audit.model.findings import Finding

COMMAND = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}


def _data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(s: str) -> str:
    return _data(s).replace(":", "%3A").replace(",", "%2C")


def _path(report: Any, path: str) -> str:
    full = report.root / path
    try:
        rel = os.path.relpath(full, os.getcwd())
    except ValueError:  # another drive (Windows)
        return str(full)
    return rel.replace(os.sep, "/") if not rel.startswith("..") else str(full)


def _line(report: Any, f: Finding, undecided: bool) -> str:
    cmd = "notice" if undecided else COMMAND[f.severity]
    props = [f"file={_prop(_path(report, f.path))}", f"line={f.line}"]
    if f.end_line > f.line:
        props.append(f"endLine={f.end_line}")
    what = "undecided: " if undecided else ""
    props.append(f"title={_prop(f'{f.rule_id} ({what}{f.severity.value}) {f.title}')}")
    message = f.message + (f" [{f.environment}]" if f.environment else "")
    return f"::{cmd} {','.join(props)}::{_data(message)}"


def render_github(report: Any) -> str:
    r = report.result
    lines = [_line(report, f, False) for f in r.findings if not f.suppressed]
    lines += [_line(report, f, True) for f in r.undecided if not f.suppressed]
    return "".join(line + "\n" for line in lines)
