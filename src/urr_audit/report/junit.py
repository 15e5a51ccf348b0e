"""JUnit XML, for CI systems that show test reports (GitLab, Jenkins, Azure DevOps...).

One test suite per rule that ran; one failing test case per finding (its name is the
location, so a CI shows where); a note (an `info` finding) is a passing case whose output says
it; a rule without findings is one passing case. Undecided and suppressed items are skipped
cases, with the reason."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Any

from urr_audit.model.findings import Finding


def _case(suite: ET.Element, f: Finding) -> ET.Element:
    name = f"{f.path}:{f.line}" + (f" {f.address}" if f.address else "")
    return ET.SubElement(suite, "testcase", name=name, classname=f.rule_id, file=f.path, line=str(f.line))


def render_junit(report: Any) -> str:
    r = report.result
    by_rule: dict[str, list[tuple[Finding, str]]] = defaultdict(list)
    for f in r.findings:
        by_rule[f.rule_id].append((f, "suppressed" if f.suppressed else "finding"))
    for f in r.undecided:
        by_rule[f.rule_id].append((f, "suppressed" if f.suppressed else "undecided"))
    root = ET.Element("testsuites", name="urr-audit")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for rule in sorted(report.rules, key=lambda x: x.id):
        items = sorted(by_rule.get(rule.id, []), key=lambda x: x[0].sort_key())
        suite = ET.SubElement(root, "testsuite", name=rule.id)
        counts = {"tests": max(len(items), 1), "failures": 0, "skipped": 0}
        if not items:
            ET.SubElement(suite, "testcase", name=f"{rule.id}: no findings", classname=rule.id)
        for f, state in items:
            case = _case(suite, f)
            text = f.message + (f" [{f.environment}]" if f.environment else "")
            if state == "finding" and f.severity.value == "info":
                ET.SubElement(case, "system-out").text = f"note: {f.path}:{f.line}: {text}"
            elif state == "finding":
                failure = ET.SubElement(case, "failure", message=f"{f.rule_id} {f.title}", type=f.severity.value)
                failure.text = f"{f.path}:{f.line}: {text}"
                counts["failures"] += 1
            else:
                why = f"suppressed by {f.suppressed_by}" if state == "suppressed" else "undecided"
                ET.SubElement(case, "skipped", message=f"{why}: {text}")
                counts["skipped"] += 1
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
        suite.set("errors", "0")
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
