"""11. Recommendations by priority: one row per rule with findings, its remediation in short."""

from __future__ import annotations

from collections import defaultdict

from urr_audit.report.review.assessment import first_paragraph
from urr_audit.report.review.doc import ReviewContext, Section, code, prose, shorten, table

TITLE = "Recommendations"


def build(ctx: ReviewContext) -> Section | None:
    rules = {r.id: r for r in ctx.report.rules}
    by_rule = defaultdict(list)
    for f in ctx.findings:
        if not f.suppressed and f.severity.value != "info":
            by_rule[f.rule_id].append(f)
    if not by_rule:
        return None
    rows = []
    for rule_id, items in sorted(by_rule.items(), key=lambda kv: (-kv[1][0].severity.rank, kv[0])):
        rule = rules.get(rule_id)
        envs = sorted({e for f in items for e in f.environments})
        files = sorted({f.path for f in items})
        where = f"{len(items)} finding(s) in {len(files)} file(s)" + (f"; {', '.join(envs)}" if envs else "")
        action = shorten(first_paragraph(rule.remediation), 220) if rule else ""
        rows.append(
            [
                items[0].severity.value,
                rule.category if rule else "",
                prose(items[0].title),
                where,
                prose(action),
                code(rule_id),
            ]
        )
    return Section(TITLE).add(
        (
            "One row per rule with findings, highest severity first; the weaknesses above list every "
            "finding with its line and the rule's full remediation."
        ),
        table(["priority", "area", "issue", "where", "recommended action", "rule"], rows),
    )
