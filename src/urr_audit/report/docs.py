"""Rule documentation, generated from the catalog (shown by `rules explain`, written to docs/rules)."""

from __future__ import annotations

from urr_audit.catalog import Rule
from urr_audit.wording import value_text


def rule_markdown(rule: Rule) -> str:
    lines = [
        f"# {rule.id}: {rule.title}",
        "",
        f"- severity: {rule.severity.value}",
        f"- category: {rule.category}",
        f"- check: `{rule.check}`",
    ]
    if rule.confidence:
        lines.insert(3, f"- confidence: {rule.confidence}")
    if rule.environments:
        lines.append(f"- only in environments matching: {', '.join(rule.environments)}")
    if rule.skip_environments:
        lines.append(f"- skipped in environments matching: {', '.join(rule.skip_environments)}")
    if rule.skip_paths:
        lines.append(f"- skipped in paths matching: {', '.join(rule.skip_paths)}")
    if rule.aliases:
        lines.append(f"- former ids: {', '.join(rule.aliases)}")
    if rule.params:
        lines.append("- params:")
        for k, v in sorted(rule.params.items()):
            table = isinstance(v, dict) or (isinstance(v, list) and any(isinstance(x, (dict, list)) for x in v))
            if table and len(str(v)) > 80:
                # tables (actions and the scopes they use, cache inputs...) read better as YAML
                block = _yaml_block(v)
                lines += [f"  - `{k}`:", "", "    ```yaml", *(f"    {b}" for b in block), "    ```", ""]
            else:
                lines.append(f"  - `{k}`: {value_text(v, code=True)}")
    lines += ["", "## Why", "", rule.rationale.strip(), "", "## How to fix", "", rule.remediation.strip()]
    if rule.references:
        lines += ["", "## References", ""] + [f"- {r}" for r in rule.references]
    lines += ["", f"Fixtures: `fixtures/rules/{rule.id}/bad` (fails) and `fixtures/rules/{rule.id}/good` (passes)."]
    return "\n".join(lines) + "\n"


def _yaml_block(value: object) -> list[str]:
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    buf = io.StringIO()
    yaml.dump(value, buf)
    return buf.getvalue().rstrip("\n").splitlines()


def index_markdown(rules: list[Rule]) -> str:
    lines = ["# Rules", "", "| id | severity | category | title |", "|---|---|---|---|"]
    lines += [f"| [{r.id}]({r.id}.md) | {r.severity.value} | {r.category} | {r.title} |" for r in rules]
    return "\n".join(lines) + "\n"


def write_docs(out_dir, rules: list[Rule]) -> list[str]:
    """Write docs/rules/*.md; returns the file names written."""
    from pathlib import Path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for r in rules:
        (out / f"{r.id}.md").write_text(rule_markdown(r), encoding="utf-8")
        names.append(f"{r.id}.md")
    (out / "README.md").write_text(index_markdown(rules), encoding="utf-8")
    for stale in out.glob("*.md"):
        if stale.name not in names and stale.name != "README.md":
            stale.unlink()
    return names


if __name__ == "__main__":  # python -m urr_audit.report.docs docs/rules
    import sys

    from urr_audit.catalog import load_rules

    write_docs(sys.argv[1] if len(sys.argv) > 1 else "docs/rules", load_rules())
