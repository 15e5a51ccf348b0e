"""Command-line interface. Wiring only: heavy modules are imported inside commands so that
`urr-audit --help` stays fast."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from urr_audit import __version__

# Typer prints an argument's Python type beside its name in --help (`PATH <list[Path]>`);
# the metavar says what to give, the type is noise to a user.
if hasattr(typer.core.TyperArgument, "display_type_rich"):
    typer.core.TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]

app = typer.Typer(
    name="urr-audit",
    help="Audit an infrastructure repository (Terraform, Kustomize, Kubernetes manifests, ...) "
    "with file and line evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
rules_app = typer.Typer(help="Browse the rule catalog.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
checks_app = typer.Typer(help="Browse the check templates rules are written with.", no_args_is_help=True)
app.add_typer(checks_app, name="checks")

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class Format(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"
    junit = "junit"
    markdown = "markdown"


class ListFormat(str, Enum):
    text = "text"
    json = "json"


class GraphFormat(str, Enum):
    json = "json"
    dot = "dot"
    mermaid = "mermaid"


class GraphPart(str, Enum):  # graph/build.py PARTS (not imported here: --help stays light)
    all = "all"
    terraform = "terraform"
    kubernetes = "kubernetes"
    workflows = "workflows"
    argocd = "argocd"


class FailOn(str, Enum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"
    none = "none"


class MinSeverity(str, Enum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"


class Sort(str, Enum):
    severity = "severity"
    path = "path"


class Color(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


RulesDirOption = Annotated[
    list[Path] | None,
    typer.Option("--rules", metavar="DIR", help="Also load the rule YAML files of DIR (repeatable)."),
]
RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        metavar="DIR",
        help="The repository root: everything is loaded from it, nothing outside it is read. "
        "Default: the nearest enclosing directory with a urr-audit configuration, else the git "
        "work tree, else PATH.",
    ),
]

SCAN_EPILOG = """\
Examples:

\b
  urr-audit scan                                # the repository around the working directory
  urr-audit scan terraform/environments/prod    # about prod, its modules' findings included
  urr-audit scan --since origin/main -f github  # only what changed, as PR annotations
  urr-audit scan -f sarif -o urr.sarif --output-file text=-  # SARIF and a text log at once

Inline suppression: a comment `urr-audit: ignore=URR-TF-013 -- why` (several ids separated by
commas; a bare `urr-audit: ignore` for every rule) on the finding's line or the line above.
Configuration: [tool.urr-audit] in pyproject.toml, or .urr-audit.toml / urr-audit.toml at the
root (select, ignore, per-path-ignores, exclude, fail-on, min-severity, rules, params,
severity, baseline); flags win over it.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it (unreadable input is a
finding too); 2 usage or configuration error.
"""


def _split(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _usage_error(message: str) -> NoReturn:
    for line in message.splitlines() or [""]:
        typer.echo(f"urr-audit: error: {line}", err=True)
    raise typer.Exit(EXIT_USAGE)


def _check_dir(path: Path) -> None:
    if not path.exists():
        _usage_error(f"{path}: no such directory")
    if not path.is_dir():
        _usage_error(f"{path}: not a directory")


def _check_writable(path: Path | None, what: str) -> None:
    """Fail before scanning when a report could not be written."""
    if path is None or str(path) == "-":
        return
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        _usage_error(f"{what} {path}: folder {parent} does not exist")
    if path.is_dir():
        _usage_error(f"{what} {path}: is a directory")


def _emit(text: str, output: Path | None) -> None:
    if output and str(output) != "-":
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


# --- where: the root, the targets, the configuration ----------------------------------------


@dataclass
class Where:
    root: Path
    targets: list[str] | None  # None: the whole root
    config_path: Path | None


def _locate(paths: list[Path] | None, root: Path | None, no_config: bool = False) -> Where:
    from urr_audit.config import _has_config, find_root

    given = paths or [Path(".")]
    for p in given:
        if not p.exists():
            _usage_error(f"{p}: no such file or directory")
    absolute = [p.resolve() for p in given]
    if root is not None:
        _check_dir(root)
        top = root.resolve()
        config = _has_config(top)
    else:
        start = Path(os.path.commonpath([p if p.is_dir() else p.parent for p in absolute]))
        top, config = find_root(start)
    targets = []
    for p, a in zip(given, absolute, strict=True):
        if a != top and top not in a.parents:
            _usage_error(f"{p} is outside the root {top} (see --root)")
        targets.append(Path(os.path.relpath(a, top)).as_posix())
    return Where(top, None if "." in targets else targets, None if no_config else config)


def _config(where: Where):
    from urr_audit.config import Config, ConfigError, load_config

    if where.config_path is None:
        return Config()
    try:
        return load_config(where.config_path)
    except ConfigError as exc:
        _usage_error(str(exc))


def _parse_outputs(values: list[str] | None) -> list[tuple[Format, Path]]:
    out = []
    for v in values or []:
        fmt, sep, dest = v.partition("=")
        if not sep or not dest:
            _usage_error(f"--output-file {v!r}: expected FORMAT=FILE, e.g. sarif=urr.sarif")
        try:
            out.append((Format(fmt.strip().lower()), Path(dest)))
        except ValueError:
            _usage_error(f"--output-file {v!r}: unknown format {fmt!r} (one of {', '.join(f.value for f in Format)})")
    return out


def _use_color(choice: Color, to_terminal: bool) -> bool:
    if choice is Color.always:
        return True
    if choice is Color.never:
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return to_terminal


@app.command(epilog=SCAN_EPILOG)
def scan(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="PATH",
            help="Directories or files to report about (default: the working directory). The whole "
            "root is loaded; only findings about these paths (and the modules, overlays and "
            "environments they belong to) are reported.",
            show_default=False,
        ),
    ] = None,
    root: RootOption = None,
    format: Annotated[
        Format, typer.Option("--format", "-f", help="Report format.", case_sensitive=False)
    ] = Format.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the report to FILE (default: stdout).")
    ] = None,
    output_file: Annotated[
        list[str] | None,
        typer.Option(
            "--output-file",
            metavar="FORMAT=FILE",
            help="Also write the report in FORMAT to FILE ('-' for stdout), e.g. sarif=urr.sarif; repeatable.",
        ),
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option("--select", metavar="IDS", help="Only these rule ids or prefixes (comma-separated, any case)."),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", metavar="IDS", help="Skip these rule ids or prefixes (comma-separated, any case)."),
    ] = None,
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 when an unsuppressed finding is at or above this severity; 'none': always exit 0. "
            "[default: high]",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    min_severity: Annotated[
        MinSeverity | None,
        typer.Option(
            "--min-severity", "--severity", help="Report only findings at or above this severity.", case_sensitive=False
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="REF",
            help="Report only about files changed since the git REF (committed, staged, unstaged or "
            "untracked), widened to their module, overlay and environments.",
        ),
    ] = None,
    rules_dir: RulesDirOption = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", metavar="GLOB", help="Never read paths matching GLOB (gitignore style; repeatable)."),
    ] = None,
    skip_path: Annotated[
        list[str] | None,
        typer.Option("--skip-path", metavar="REGEX", help="Drop findings whose path matches REGEX (repeatable)."),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            metavar="FILE",
            help="A baseline (`urr-audit baseline`) or JSON report: its findings are suppressed, the "
            "ones gone since are listed as fixed.",
        ),
    ] = None,
    sort: Annotated[
        Sort, typer.Option("--sort", help="Text report order: by severity, or by path and line.", case_sensitive=False)
    ] = Sort.severity,
    color: Annotated[
        Color,
        typer.Option(
            "--color",
            help="Colour the text report (auto: on a terminal, unless NO_COLOR is set).",
            case_sensitive=False,
        ),
    ] = Color.auto,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Text report: findings only, no summary.")] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Text report: every note and suppressed finding, the files read, and why each "
            "directory is or is not an environment.",
        ),
    ] = False,
    no_config: Annotated[bool, typer.Option("--no-config", help="Ignore configuration files.")] = False,
) -> None:
    """Scan the repository and report findings."""
    from urr_audit.catalog import CatalogError
    from urr_audit.config import ConfigError
    from urr_audit.engine import apply_baseline, at_or_above
    from urr_audit.model.common import Severity
    from urr_audit.registry import RegistryError
    from urr_audit.scan import scan as do_scan

    outputs = [(format, output)] + _parse_outputs(output_file)
    for _, dest in outputs:
        _check_writable(dest, "--output")
    if sum(1 for _, dest in outputs if dest is None or str(dest) == "-") > 1:
        _usage_error("more than one report on stdout: give --output-file FORMAT=FILE a file")
    for pattern in skip_path or []:
        try:
            re.compile(pattern)
        except re.error as exc:
            _usage_error(f"--skip-path {pattern!r}: not a regular expression: {exc}")

    where = _locate(paths, root, no_config)
    cfg = _config(where)
    if exclude is not None:
        cfg.exclude = exclude
    targets = where.targets
    if since is not None:
        from urr_audit.focus import under
        from urr_audit.gitdiff import GitError, changed_files

        try:
            changed = changed_files(where.root, since)
        except GitError as exc:
            _usage_error(str(exc))
        targets = [c for c in changed if targets is None or any(under(c, t) for t in targets)]
    baseline = baseline or cfg.baseline
    if baseline is not None and not baseline.is_file():
        _usage_error(f"--baseline {baseline}: no such file")

    try:
        report = do_scan(
            where.root,
            _split(select),
            _split(ignore),
            tuple(rules_dir or ()),
            skip_path or [],
            config=cfg,
            targets=targets,
            min_severity=Severity(min_severity.value) if min_severity else None,
        )
    except (CatalogError, RegistryError, ConfigError) as exc:
        _usage_error(str(exc))
    if not report.rules:
        _usage_error("--select/--ignore leave no rule to run")
    if baseline is not None:
        from urr_audit.report.json import read_baseline

        try:
            entries = read_baseline(baseline)
        except (OSError, ValueError) as exc:
            _usage_error(f"--baseline {baseline}: {exc}")
        apply_baseline(report.result, entries, report.focus.covers_entry if report.focus else None)

    to_terminal = sys.stdout.isatty()
    for fmt, dest in outputs:
        on_stdout = dest is None or str(dest) == "-"
        _emit(
            _render(
                report,
                fmt,
                color=on_stdout and _use_color(color, to_terminal),
                width=_terminal_width() if on_stdout and to_terminal else None,
                sort=sort.value,
                verbose=verbose,
                quiet=quiet,
            ),
            dest,
        )

    fail = fail_on.value if fail_on is not None else (cfg.fail_on or "high")
    if fail == "none":
        raise typer.Exit(EXIT_OK)
    failing = at_or_above([*report.result.findings], Severity(fail))
    crashed = [e for e in report.result.errors if e.kind == "check.crash"]
    raise typer.Exit(EXIT_FINDINGS if failing or crashed else EXIT_OK)


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


def _render(report, fmt: Format, **text_options) -> str:
    if fmt is Format.json:
        from urr_audit.report.json import render_json

        return render_json(report)
    if fmt is Format.sarif:
        from urr_audit.report.sarif import render_sarif

        return render_sarif(report)
    if fmt is Format.github:
        from urr_audit.report.github import render_github

        return render_github(report)
    if fmt is Format.junit:
        from urr_audit.report.junit import render_junit

        return render_junit(report)
    if fmt is Format.markdown:
        from urr_audit.report.markdown import render_markdown

        return render_markdown(report)
    from urr_audit.report.text import render_text

    return render_text(report, **text_options)


@app.command("baseline")
def baseline_cmd(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(metavar="PATH", help="What to record (default: the working directory).", show_default=False),
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE", help="The baseline file to write.")] = Path(
        ".urr-audit-baseline.json"
    ),
    root: RootOption = None,
    rules_dir: RulesDirOption = None,
    no_config: Annotated[bool, typer.Option("--no-config", help="Ignore configuration files.")] = False,
) -> None:
    """Record today's findings, so that `scan --baseline FILE` reports only new ones (and the fixed)."""
    from urr_audit.catalog import CatalogError
    from urr_audit.config import ConfigError
    from urr_audit.registry import RegistryError
    from urr_audit.report.json import render_baseline
    from urr_audit.scan import scan as do_scan

    _check_writable(output, "--output")
    where = _locate(paths, root, no_config)
    cfg = _config(where)
    try:
        report = do_scan(where.root, None, None, tuple(rules_dir or ()), config=cfg, targets=where.targets)
    except (CatalogError, RegistryError, ConfigError) as exc:
        _usage_error(str(exc))
    _emit(render_baseline(report), output)
    n = len(report.result.findings) + len(report.result.undecided)
    typer.echo(f"urr-audit: {n} finding{'s' if n != 1 else ''} recorded in {output}", err=True)


def _catalog(rules_dir: list[Path] | None):
    from urr_audit.catalog import CatalogError, load_rules

    try:
        return load_rules(tuple(rules_dir or ()))
    except CatalogError as exc:
        _usage_error(str(exc))


@rules_app.command("list")
def rules_list(
    format: Annotated[ListFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)] = (
        ListFormat.text
    ),
    rules_dir: RulesDirOption = None,
) -> None:
    """List every rule: id, severity, category, title."""
    rules = _catalog(rules_dir)
    if format is ListFormat.json:
        import json

        typer.echo(json.dumps([r.model_dump(mode="json", exclude={"source"}) for r in rules], indent=2))
        return
    w = max(len(r.id) for r in rules)
    wc = max(len(r.category) for r in rules)
    for r in rules:
        typer.echo(f"{r.id.ljust(w)}  {r.severity.value.ljust(8)}  {r.category.ljust(wc)}  {r.title}".rstrip())


@rules_app.command("explain")
def rules_explain(
    rule_id: Annotated[str, typer.Argument(metavar="ID", help="Rule id, e.g. URR-TF-001 (any case).")],
    rules_dir: RulesDirOption = None,
) -> None:
    """Show a rule's rationale, remediation, references, check and params."""
    from urr_audit.report.docs import rule_markdown

    rules = _catalog(rules_dir)
    for r in rules:
        if rule_id.upper() in (r.id, *(a.upper() for a in r.aliases)):
            typer.echo(rule_markdown(r))
            return
    import difflib

    close = difflib.get_close_matches(rule_id.upper(), [r.id for r in rules], n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    _usage_error(f"no rule {rule_id!r}{hint}; see `urr-audit rules list`")


@checks_app.command("list")
def checks_list(
    format: Annotated[ListFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)] = (
        ListFormat.text
    ),
) -> None:
    """List the check templates a rule file can use (`check:`), with their scope and params."""
    from urr_audit.catalog import load_rules
    from urr_audit.registry import load_checks
    from urr_audit.report.checks import check_entries, render_checks

    entries = check_entries(load_checks(), load_rules())
    if format is ListFormat.json:
        import json

        typer.echo(json.dumps(entries, indent=2))
        return
    sys.stdout.write(render_checks(entries))


@app.command()
def graph(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="Inside the repository (default: the working directory).")
    ] = Path("."),
    format: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="Graph format.", case_sensitive=False)
    ] = GraphFormat.mermaid,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the graph to FILE (default: stdout).")
    ] = None,
    only: Annotated[
        GraphPart, typer.Option("--only", help="Only this part of the graph.", case_sensitive=False)
    ] = GraphPart.all,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", metavar="NAME", help="Only this environment (repeatable), with what it uses."),
    ] = None,
    root: RootOption = None,
) -> None:
    """Print the dependency graph: environments, module calls, Kubernetes objects and their links."""
    _check_writable(output, "--output")
    from urr_audit.graph import build_graph, export
    from urr_audit.graph.build import only_environments, restrict
    from urr_audit.loaders import load_project
    from urr_audit.workspace import Workspace

    where = _locate([path], root)
    ws = Workspace(where.root, exclude=_config(where).exclude)  # the configuration's exclude holds here too
    g = build_graph(load_project(ws.root, ws))
    if only is not GraphPart.all:
        g = restrict(g, only.value)
    if env:
        known = sorted(
            {str(d["label"]) for _, d in g.nodes(data=True) if str(d.get("kind", "")).endswith("_environment")}
        )
        g, unknown = only_environments(g, env)
        if unknown:
            _usage_error(f"--env {', '.join(unknown)}: no such environment (known: {', '.join(known) or 'none'})")
    _emit(export(g, format.value), output)


@app.command()
def render(
    directory: Annotated[
        Path, typer.Argument(metavar="DIR", help="A kustomization directory (default: the working directory).")
    ] = Path("."),
    root: RootOption = None,
) -> None:
    """Print a Kustomize overlay rendered as `kustomize build` prints it (no binary needed)."""
    from urr_audit.loaders.kustomize import render as do_render
    from urr_audit.loaders.kustomize import to_yaml_stream
    from urr_audit.workspace import Workspace

    _check_dir(directory)
    where = _locate([directory], root)
    ws = Workspace(where.root)
    rel = where.targets[0] if where.targets else "."
    objects, errors = do_render(ws, rel)
    for e in errors:
        typer.echo(f"{e.path}:{e.line}: {e.level}: {e.kind}: {e.message}", err=True)
    if any(e.level == "error" for e in errors):
        # as `kustomize build`: nothing on stdout, so `render | kubectl apply -f -` never applies half an overlay
        raise typer.Exit(EXIT_FINDINGS)
    sys.stdout.write(to_yaml_stream(objects))
    raise typer.Exit(EXIT_OK)


class ReportFormat(str, Enum):
    markdown = "markdown"
    html = "html"


@app.command()
def report(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="Repository root to review.")] = Path("."),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the review to FILE.")
    ] = None,
    format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="markdown or one self-contained HTML file.")
    ] = (ReportFormat.markdown),
    env: Annotated[
        list[str] | None,
        typer.Option("--env", metavar="NAME", help="Only these environments (repeatable, comma-separated)."),
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", metavar="DATE", help="Date printed in the review (none by default).")
    ] = None,
    rules_dir: RulesDirOption = None,
) -> None:
    """Write the infrastructure review of PATH: architecture, inventory, network, Terraform,
    Kubernetes, monitoring, strengths and weaknesses, recommendations; every fact linked to its line."""
    from urr_audit.catalog import CatalogError
    from urr_audit.registry import RegistryError
    from urr_audit.report.review import render_markdown
    from urr_audit.scan import scan as do_scan

    _check_dir(path)
    _check_writable(output, "--output")
    try:
        result = do_scan(path, rule_dirs=tuple(rules_dir or ()))
    except (CatalogError, RegistryError) as exc:
        _usage_error(str(exc))
    names = _split(env) or []
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
    # pydantic looks for plugins (observability hooks) in the entry points of every installed
    # distribution when it builds its first model: about 50 ms of each run, for plugins no scan
    # uses. Set the variable (even empty) to have them loaded.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    app()


if __name__ == "__main__":
    main()
