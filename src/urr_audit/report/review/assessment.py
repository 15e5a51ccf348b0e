"""10. Strengths and weaknesses. Strengths are the rules that ran over something that exists in
the repository and found nothing (what was checked is said); weaknesses are the findings by
severity, with the line to edit and each rule's remediation; undecided results and input not
read are listed as such, never as passes or failures."""

from __future__ import annotations

import re
from collections import defaultdict
from itertools import groupby
from typing import Any

from urr_audit.catalog import CatalogError, applies_to
from urr_audit.engine import SCOPES, _node_type, bind
from urr_audit.facts.subjects import count as count_subjects
from urr_audit.facts.subjects import counted_noun
from urr_audit.model.common import Severity
from urr_audit.registry import load_checks
from urr_audit.report.review.doc import ReviewContext, Section, bullets, code, prose

TITLE = "Strengths and weaknesses"

_SCOPE_NOUN = {
    "project": "repository",
    "github.workflow": "workflows",
    "github.action": "local actions",
    "github.file": "workflow and action files",
    "github.job": "jobs",
    "github.step": "steps",
    "argocd.application": "Applications",
    "argocd.applicationset": "ApplicationSets",
    "argocd.appproject": "AppProjects",
    "terraform.module": "Terraform module directories",
    "terraform.environment": "Terraform environments",
    "terraform.resource": "Terraform resources",
    "kubernetes.environment": "Kubernetes environments",
    "kubernetes.object": "Kubernetes objects",
}


def subjects(ctx: ReviewContext, rule: Any) -> tuple[int, str]:
    """How many things the rule examined in the chosen environments, and what they are.

    What a check examines is declared with the check (`subjects`: object kinds, resource types,
    workflow steps using an action, Argo CD kinds..., possibly from the rule's params), counted
    by `facts.subjects`; a check declaring none (`no_subjects` says why) counts its scope's
    nodes (environments, modules, resources of the check's types). The rule's environment
    scoping (`environments`, `skip_environments`, or `environments` / `environment_pattern`
    params) narrows them, so a production-database rule counts production databases. Nothing
    is counted for a framework of which the repository holds nothing."""
    checks = load_checks()
    spec = checks.get(rule.check)
    if spec is None or spec.scope not in SCOPES or not _area_exists(ctx, spec):
        return 0, ""
    try:
        _, params = bind(rule, checks)
    except CatalogError:
        return 0, ""
    declared = spec.subjects_for(params)
    if declared:
        counted = count_subjects(
            ctx.project,
            _framework(spec.module),
            declared,
            [e for e in ctx.tf_envs if _env_applies(rule, e.name, e.path)],
            [e for e in ctx.k8s_envs if _env_applies(rule, e.name, e.span.path)],
        )
        if counted is not None:
            return counted.total, counted.noun()
    wanted = {e.name for e in ctx.tf_envs} | {e.name for e in ctx.k8s_envs}
    nodes = ctx.scope_nodes(spec.scope)
    if spec.types:
        nodes = [n for n in nodes if _node_type(n) in spec.types]
    nodes = [n for n in nodes if _applies(rule, n, wanted)]
    if spec.types and spec.scope == "terraform.resource":
        noun = " / ".join(f"`{t}`" for t in spec.types) + " resources"
    elif spec.types:
        what = {"docker.instruction": "instructions", "github.step": "steps"}.get(spec.scope, "objects")
        noun = " / ".join(f"`{t}`" if spec.scope != "kubernetes.object" else t for t in spec.types) + f" {what}"
    else:
        noun = _SCOPE_NOUN.get(spec.scope, spec.scope.replace(".", " ") + "s")
    return len(nodes), noun


def _framework(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["urr_audit", "checks"] else None


def _env_applies(rule: Any, env: str, path: str) -> bool:
    if not applies_to(rule, env, path):
        return False
    names, pattern = rule.params.get("environments"), rule.params.get("environment_pattern")
    if isinstance(names, list) and (names or pattern):
        return env in names or bool(pattern and re.search(pattern, env))
    return True


def _area_exists(ctx: ReviewContext, spec: Any) -> bool:
    """False when the check belongs to a framework (`urr_audit.checks.<framework>...`) of which
    the chosen environments hold nothing: a Kubernetes rule in a Terraform-only repository, an
    Argo CD rule where no Application exists, checked nothing, whatever its scope. A framework
    not named here (a new artifact kind) exists when its check's scope has nodes."""
    framework = _framework(spec.module)
    project = ctx.project
    if framework == "terraform":
        return bool(ctx.tf_envs or project.terraform.modules)
    if framework == "kubernetes":
        return any(e.objects for e in ctx.k8s_envs)
    if framework == "github":
        return bool(project.workflows.workflows or project.workflows.actions)
    if framework == "argocd":
        argo = project.argocd
        return bool(argo.applications or argo.application_sets or argo.projects)
    if framework in ("common", "cross"):
        return True
    # another artifact kind (Dockerfiles, ...): its model on Project says what it read
    model = getattr(project, framework or "", None)
    inventory = getattr(model, "inventory", None)
    if callable(inventory):
        return any(inventory().values())
    return spec.scope == "project" or bool(ctx.scope_nodes(spec.scope))


def _applies(rule: Any, node: Any, wanted: set[str]) -> bool:
    env = getattr(node, "environment", None)
    if type(node).__name__ in ("Environment", "K8sEnvironment"):
        env = node.name
    if env is None:
        return True
    if env not in wanted:
        return False
    span = getattr(node, "span", None)
    return _env_applies(rule, env, getattr(span, "path", ""))


def first_paragraph(text: str) -> str:
    """The remediation's first paragraph, on one line; an introduction to an example that
    follows (ending with a colon) says where the example is."""
    first = " ".join(text.strip().split("\n\n", 1)[0].split())
    if first.startswith("```"):
        return "See the example in the weaknesses section."
    return first[:-1] + " (example in the weaknesses section)." if first.endswith(":") else first


def quote(markdown: str) -> str:
    """A block quote of markdown (code blocks included)."""
    return "\n".join(f"> {line}".rstrip() for line in markdown.splitlines())


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
        if rule.id in failing or rule.category == "input" or rule.severity is Severity.INFO:
            continue
        n, noun = subjects(ctx, rule)
        if n == 0:
            continue
        strengths[rule.category].append(
            f"{code(rule.id)} {prose(rule.title)}: not found in {n} {counted_noun(n, noun)} checked"
        )
    if strengths:
        s.sub(
            "Strengths",
            "Rules that ran over parts of this repository and found nothing. Each line names what "
            "was checked; a rule whose subject does not exist here is not counted as a strength.",
            "\n\n".join(f"**{cat}**\n\n" + bullets(sorted(items)) for cat, items in sorted(strengths.items())),
        )

    # input not read is listed under "Input not read"; other info-level findings are facts
    # a rule states for the record (an isolated subnet tier), not weaknesses
    listed = [f for f in findings if not f.suppressed and not _not_read(f, rules)]
    weak = [f for f in listed if f.severity is not Severity.INFO]
    notes = [f for f in listed if f.severity is Severity.INFO]
    if weak:
        counts = ", ".join(f"{n} {sev.value}" for sev in Severity if (n := sum(1 for f in weak if f.severity is sev)))
        s.sub("Weaknesses", f"{len(weak)} findings ({counts}), by severity.", *_by_rule(ctx, weak, rules))
    else:
        s.sub("Weaknesses", "No rule reported a weakness.")
    if notes:
        s.sub(
            "Notes",
            "Facts rules report for the record, neither strengths nor weaknesses.",
            *_by_rule(ctx, notes, rules),
        )

    suppressed = [f for f in findings if f.suppressed]
    if suppressed:
        s.sub(
            "Suppressed",
            bullets(
                f"{code(f.rule_id)} {prose(f.message)} ({f.suppressed_by}; {ctx.link.span(_span(f), f'{f.path}:{f.line}')})"
                for f in suppressed
            ),
        )
    if undecided:
        s.sub(
            "Undecided",
            "A rule needed a value only known after apply, or input that was not read: neither a pass nor a failure.",
            bullets(
                f"{code(f.rule_id)} {prose(f.message)} ({ctx.link.span(_span(f), f'{f.path}:{f.line}')})"
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
                f"{e.level}: {prose(e.message)} ({code(e.kind)}; {ctx.link.span(_line(e), f'{e.path}:{e.line}')})"
                for e in errors
            ),
        )
    return s


def _by_rule(ctx: ReviewContext, findings: list[Any], rules: dict[str, Any]) -> list[str]:
    """One block per rule, highest severity first: its findings with their lines, then the
    rule's remediation."""
    blocks = []
    order = sorted(findings, key=lambda f: (-f.severity.rank, f.rule_id, f.path, f.line))
    for (sev, rule_id), group in groupby(order, key=lambda f: (f.severity, f.rule_id)):
        items = list(group)
        rule = rules.get(rule_id)
        title = rule.title if rule else items[0].title
        lines = [
            f"{prose(f.message)}"
            + (f" [{f.environment}]" if f.environment else "")
            + f" ({ctx.link.span(_span(f), f'{f.path}:{f.line}')})"
            for f in items
        ]
        block = f"**[{sev.value}] {code(rule_id)} {prose(title)}** ({len(items)})\n\n" + bullets(lines)
        if rule is not None:
            block += "\n\n" + quote("**Remediation.** " + rule.remediation.strip())
        blocks.append(block)
    return blocks


def _not_read(f: Any, rules: dict[str, Any]) -> bool:
    rule = rules.get(f.rule_id)
    return bool(rule is not None and rule.category == "input" and f.severity is Severity.INFO)


def _span(f: Any) -> Any:
    from urr_audit.model.common import Span

    return Span(path=f.path, line=f.line, end_line=f.end_line)


def _line(e: Any) -> Any:
    from urr_audit.model.common import Span

    return Span(path=e.path, line=e.line, end_line=e.line)
