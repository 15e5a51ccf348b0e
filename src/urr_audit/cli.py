"""Command-line interface. Wiring only: heavy modules are imported inside commands so that
`urr-audit --help` stays fast."""

from __future__ import annotations

import re
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from urr_audit import __version__

app = typer.Typer(
    name="urr-audit",
    help="Audit an infrastructure repository (Terraform, Kustomize, ...) with file and line evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
rules_app = typer.Typer(help="Browse the rule catalog.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class Format(str, Enum):
    text = "text"
    json = "json"


class GraphFormat(str, Enum):
    json = "json"
    dot = "dot"
    mermaid = "mermaid"


class GraphPart(str, Enum):
    all = "all"
    terraform = "terraform"
    kubernetes = "kubernetes"


class FailOn(str, Enum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"
    none = "none"


RulesDirOption = Annotated[list[Path] | None, typer.Option("--rules", help="Extra directory of rule YAML files.")]


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def _usage_error(message: str) -> None:
    typer.echo(f"urr-audit: error: {message}", err=True)
    raise typer.Exit(EXIT_USAGE)


def _check_root(path: Path) -> None:
    if not path.exists():
        _usage_error(f"{path}: no such directory")
    if not path.is_dir():
        _usage_error(f"{path}: not a directory")


def _emit(text: str, output: Path | None) -> None:
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"urr-audit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


@app.command()
def scan(
    path: Annotated[Path, typer.Argument(help="Repository root to scan.")] = Path("."),
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")] = None,
    select: Annotated[
        list[str] | None, typer.Option("--select", help="Only these rule ids or prefixes (comma-separated).")
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Skip these rule ids or prefixes (comma-separated).")
    ] = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Exit 1 when a finding is at or above this severity.")
    ] = FailOn.high,
    rules_dir: RulesDirOption = None,
    skip_path: Annotated[
        list[str] | None,
        typer.Option("--skip-path", help="Drop findings whose path matches this regex (repeatable)."),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline", help="A JSON report of this tool: its findings are suppressed (only new ones count)."
        ),
    ] = None,
) -> None:
    """Scan PATH and report findings. Exit 0: clean; 1: findings at/above --fail-on or unreadable input; 2: usage error."""
    from urr_audit.catalog import CatalogError
    from urr_audit.engine import at_or_above
    from urr_audit.model.common import Severity
    from urr_audit.registry import RegistryError
    from urr_audit.scan import scan as do_scan

    _check_root(path)
    for pattern in skip_path or []:
        try:
            re.compile(pattern)
        except re.error as exc:
            _usage_error(f"--skip-path {pattern!r}: not a regular expression: {exc}")
    try:
        report = do_scan(path, _split(select), _split(ignore), tuple(rules_dir or ()), skip_path or [])
    except (CatalogError, RegistryError) as exc:
        _usage_error(str(exc))
    if not report.rules:
        _usage_error("--select/--ignore leave no rule to run")
    if baseline is not None:
        from urr_audit.engine import apply_baseline
        from urr_audit.report.json import read_fingerprints

        try:
            apply_baseline(report.result, read_fingerprints(baseline))
        except (OSError, ValueError) as exc:
            _usage_error(f"--baseline {baseline}: {exc}")

    if format is Format.json:
        from urr_audit.report.json import render_json

        text = render_json(report)
    else:
        from urr_audit.report.text import render_text

        text = render_text(report, color=output is None and sys.stdout.isatty())
    _emit(text, output)

    threshold = None if fail_on is FailOn.none else Severity(fail_on.value)
    failing = at_or_above(report.result.findings, threshold)
    unreadable = [e for e in report.result.errors if e.level == "error"]
    raise typer.Exit(EXIT_FINDINGS if failing or unreadable else EXIT_OK)


def _catalog(rules_dir: list[Path] | None):
    from urr_audit.catalog import CatalogError, load_rules

    try:
        return load_rules(tuple(rules_dir or ()))
    except CatalogError as exc:
        _usage_error(str(exc))


@rules_app.command("list")
def rules_list(
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.text,
    rules_dir: RulesDirOption = None,
) -> None:
    """List every rule: id, severity, category, title."""
    rules = _catalog(rules_dir)
    if format is Format.json:
        import json

        typer.echo(json.dumps([r.model_dump(mode="json", exclude={"source"}) for r in rules], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col in ("id", "severity", "category", "title"):
        table.add_column(col)
    for r in rules:
        table.add_row(r.id, r.severity.value, r.category, r.title)
    Console(width=160).print(table)


@rules_app.command("explain")
def rules_explain(
    rule_id: Annotated[str, typer.Argument(help="Rule id, e.g. URR-TF-001.")],
    rules_dir: RulesDirOption = None,
) -> None:
    """Show a rule's rationale, remediation, references, check and params."""
    from urr_audit.report.docs import rule_markdown

    for r in _catalog(rules_dir):
        if rule_id.upper() in (r.id, *r.aliases):
            typer.echo(rule_markdown(r))
            return
    _usage_error(f"no rule {rule_id!r}; see `urr-audit rules list`")


@app.command()
def graph(
    path: Annotated[Path, typer.Argument(help="Repository root.")] = Path("."),
    format: Annotated[GraphFormat, typer.Option("--format", "-f")] = GraphFormat.mermaid,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Print the dependency graph: environments, module calls, Kubernetes objects and their links."""
    from urr_audit.graph import build_graph, export
    from urr_audit.loaders import load_project

    _check_root(path)
    text = export(build_graph(load_project(path)), format.value)
    _emit(text, output)


@app.command()
def render(
    directory: Annotated[Path, typer.Argument(help="A kustomization directory (overlay).")],
    root: Annotated[
        Path | None,
        typer.Option(
            "--root", help="Nothing outside it is read. Default: the working directory if it holds DIR, else DIR."
        ),
    ] = None,
) -> None:
    """Render a Kustomize overlay as a YAML stream, as `kustomize build` does (no binary needed)."""
    from urr_audit.loaders.kustomize import render as do_render
    from urr_audit.loaders.kustomize import to_yaml_stream
    from urr_audit.workspace import Workspace

    _check_root(directory)
    if root is None:
        # Overlays climb to their bases (`../../base`): default to the working directory when
        # it contains DIR, so the usual `urr-audit render k8s/overlays/prod` just works.
        cwd = Path.cwd().resolve()
        root = cwd if directory.resolve().is_relative_to(cwd) else directory
    ws = Workspace(root)
    rel = ws.rel(directory.resolve())
    if rel.startswith(".."):
        _usage_error(f"{directory} is outside --root {root}")
    objects, errors = do_render(ws, rel)
    for e in errors:
        typer.echo(f"{e.path}:{e.line}: {e.level}: {e.kind}: {e.message}", err=True)
    sys.stdout.write(to_yaml_stream(objects))
    raise typer.Exit(EXIT_FINDINGS if any(e.level == "error" for e in errors) else EXIT_OK)


class ReportFormat(str, Enum):
    markdown = "markdown"
    html = "html"


@app.command()
def report(
    path: Annotated[Path, typer.Argument(help="Repository root to review.")] = Path("."),
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the review to FILE.")] = None,
    format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="markdown or one self-contained HTML file.")
    ] = (ReportFormat.markdown),
    env: Annotated[
        list[str] | None, typer.Option("--env", help="Only these environments (repeatable, comma-separated).")
    ] = None,
    date: Annotated[str | None, typer.Option("--date", help="Date printed in the review (none by default).")] = None,
    rules_dir: RulesDirOption = None,
) -> None:
    """Write the infrastructure review of PATH: architecture, inventory, network, Terraform,
    Kubernetes, monitoring, strengths and weaknesses, recommendations; every fact linked to its line."""
    from urr_audit.catalog import CatalogError
    from urr_audit.registry import RegistryError
    from urr_audit.report.review import render_markdown
    from urr_audit.scan import scan as do_scan

    _check_root(path)
    try:
        result = do_scan(path, rule_dirs=tuple(rules_dir or ()))
    except (CatalogError, RegistryError) as exc:
        _usage_error(str(exc))
    names = _split(env)
    known = {e.name for e in result.project.terraform.environments} | {
        e.name for e in result.project.kubernetes.environments
    }
    for name in names:
        if name not in known:
            _usage_error(f"--env {name}: no such environment (known: {', '.join(sorted(known)) or 'none'})")
    text = render_markdown(result, names, date)
    if format is ReportFormat.html:
        from urr_audit.report.review.html import render_html

        text = render_html(text, title=f"Infrastructure review: {result.root.name}")
    _emit(text, output)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
