"""10. Strengths and weaknesses. Strengths are the rules that ran over something that exists in
the repository and found nothing (what was checked is said); weaknesses are the findings by
severity, with the line to edit and each rule's remediation; undecided results and input not
read are listed as such, never as passes or failures."""

from __future__ import annotations

from collections import defaultdict
from itertools import groupby
from typing import Any

from urr_audit.engine import SCOPES, _node_type
from urr_audit.model.common import Severity
from urr_audit.registry import load_checks
from urr_audit.report.review.doc import ReviewContext, Section, bullets, code, plain

TITLE = "Strengths and weaknesses"

_SCOPE_NOUN = {
    "project": "repository",
    "terraform.module": "Terraform module directories",
    "terraform.environment": "Terraform environments",
    "terraform.resource": "Terraform resources",
    "kubernetes.environment": "Kubernetes environments",
    "kubernetes.object": "Kubernetes objects",
}


def subjects(ctx: ReviewContext, rule: Any) -> tuple[int, str]:
    """How many model nodes the rule's check ran over, and what they are."""
    spec = load_checks().get(rule.check)
    if spec is None or spec.scope not in SCOPES:
        return 0, ""
    nodes = list(SCOPES[spec.scope](ctx.project))
    if spec.types:
        nodes = [n for n in nodes if _node_type(n) in spec.types]
    wanted = {e.name for e in ctx.tf_envs} | {e.name for e in ctx.k8s_envs}
    nodes = [n for n in nodes if getattr(n, "environment", None) in (None, *wanted) and _named(n, wanted)]
    noun = ", ".join(spec.types) if spec.types else _SCOPE_NOUN.get(spec.scope, spec.scope)
    if spec.types and spec.scope == "terraform.resource":
        noun = " / ".join(f"`{t}`" for t in spec.types) + " resources"
    elif spec.types:
        noun = " / ".join(spec.types) + " objects"
    return len(nodes), noun


def _named(node: Any, wanted: set[str]) -> bool:
    kind = type(node).__name__
    if kind in ("Environment", "K8sEnvironment"):
        return bool(node.name in wanted)
    return True


def first_paragraph(text: str) -> str:
    return " ".join(text.strip().split("\n\n", 1)[0].split())


def build(ctx: ReviewContext) -> Section | None:
    rules = {r.id: r for r in ctx.report.rules}
    if not rules:
        return None
    findings = ctx.findings
    undecided = ctx.undecided
    failing = {f.rule_id for f in findings} | {f.rule_id for f in undecided}
    s = Section(TITLE)

    strengths: dict[str, list[str]] = defaultdict(list)
    for rule in rules.values():
        if rule.id in failing or rule.category == "input":
            continue
        n, noun = subjects(ctx, rule)
        if n == 0:
            continue
        strengths[rule.category].append(f"{code(rule.id)} {plain(rule.title)}: not found in {n} {noun} checked")
    if strengths:
        s.sub(
            "Strengths",
            "Rules that ran over parts of this repository and found nothing. Each line names what "
            "was checked; a rule whose subject does not exist here is not counted as a strength.",
            "\n\n".join(f"**{cat}**\n\n" + bullets(sorted(items)) for cat, items in sorted(strengths.items())),
        )

    shown = [f for f in findings if not f.suppressed]
    if shown:
        blocks = []
        order = sorted(shown, key=lambda f: (-f.severity.rank, f.rule_id, f.path, f.line))
        for (sev, rule_id), group in groupby(order, key=lambda f: (f.severity, f.rule_id)):
            items = list(group)
            rule = rules.get(rule_id)
            title = rule.title if rule else items[0].title
            lines = [
                f"{plain(f.message)}"
                + (f" [{f.environment}]" if f.environment else "")
                + f" ({ctx.link.span(_span(f), f'{f.path}:{f.line}')})"
                for f in items
            ]
            block = f"**[{sev.value}] {code(rule_id)} {plain(title)}** ({len(items)})\n\n" + bullets(lines)
            if rule is not None:
                block += "\n\n> **Remediation:** " + plain(first_paragraph(rule.remediation))
            blocks.append(block)
        counts = ", ".join(f"{n} {sev.value}" for sev in Severity if (n := sum(1 for f in shown if f.severity is sev)))
        s.sub("Weaknesses", f"{len(shown)} findings ({counts}), by severity.", *blocks)
    else:
        s.sub("Weaknesses", "No rule reported a finding.")

    suppressed = [f for f in findings if f.suppressed]
    if suppressed:
        s.sub(
            "Suppressed",
            bullets(
                f"{code(f.rule_id)} {plain(f.message)} ({f.suppressed_by}; {ctx.link.span(_span(f), f'{f.path}:{f.line}')})"
                for f in suppressed
            ),
        )
    if undecided:
        s.sub(
            "Undecided",
            "A rule needed a value only known after apply, or input that was not read: neither a pass nor a failure.",
            bullets(
                f"{code(f.rule_id)} {plain(f.message)} ({ctx.link.span(_span(f), f'{f.path}:{f.line}')})"
                for f in undecided
            ),
        )
    errors = ctx.result.errors
    if errors:
        s.sub(
            "Input not read",
            "What the model could not read (an error) or deliberately did not (a remote source, "
            "recorded and never fetched): facts that depend on it are missing from this review.",
            bullets(
                f"{e.level}: {plain(e.message)} ({code(e.kind)}; {ctx.link.span(_line(e), f'{e.path}:{e.line}')})"
                for e in errors
            ),
        )
    return s


def _span(f: Any) -> Any:
    from urr_audit.model.common import Span

    return Span(path=f.path, line=f.line, end_line=f.end_line)


def _line(e: Any) -> Any:
    from urr_audit.model.common import Span

    return Span(path=e.path, line=e.line, end_line=e.line)
