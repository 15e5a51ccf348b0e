"""One call from a path to findings: load the model, select rules, run the engine, then apply
what the configuration asks (per-path ignores, focus on some paths, minimum severity)."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from urr_audit.catalog import CatalogError, Rule, load_rules
from urr_audit.engine import (
    RunResult,
    apply_min_severity,
    apply_per_path_ignores,
    bind,
    check_patterns,
    run,
    select_rules,
    suppression_comments,
)
from urr_audit.loaders import load_project
from urr_audit.model.common import Severity
from urr_audit.model.project import Project
from urr_audit.registry import load_checks
from urr_audit.workspace import OutsideRoot, Workspace

if TYPE_CHECKING:
    from urr_audit.config import Config
    from urr_audit.focus import Focus


@dataclass
class ScanReport:
    root: Path
    project: Project
    rules: list[Rule]
    result: RunResult
    seconds: float
    files_read: list[str] = field(default_factory=list)  # repo-relative, sorted
    focus: Focus | None = None  # when only some paths were asked for (scan PATH..., --since)
    catalog: list[Rule] = field(default_factory=list)  # every rule loaded, selected or not


def scan(
    path: Path | str,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    rule_dirs: tuple[Path, ...] = (),
    skip_paths: list[str] | None = None,
    *,
    config: Config | None = None,
    targets: list[str] | None = None,
    min_severity: Severity | None = None,
) -> ScanReport:
    """`skip_paths`: regexes; findings in matching paths are dropped, for every rule.

    `config` (see `config.py`) gives defaults for what the arguments leave unset (None);
    `targets`: root-relative paths (files or directories, existing or deleted) the report is
    about: the whole root is loaded, only findings about them (and the modules, overlays and
    environments they belong to) are kept."""
    from urr_audit.config import Config

    started = time.perf_counter()
    cfg = config or Config()
    ws = Workspace(path, exclude=cfg.exclude)
    catalog = load_rules(tuple(rule_dirs) + tuple(d for d in cfg.rules if d not in rule_dirs))
    catalog = _overridden(catalog, cfg)
    where = ("--select", "--ignore")
    if select is None and cfg.select is not None:
        select, where = cfg.select, (f"{cfg.where('select')}: select", where[1])
    # A selection on the command line is a new selection: the file's ignore list is for its own
    # select (as ruff layers command-line selectors over the configuration's).
    if ignore is None and cfg.ignore is not None and (select is cfg.select or select is None):
        ignore, where = cfg.ignore, (where[0], f"{cfg.where('ignore')}: ignore")
    rules = select_rules(catalog, select or [], ignore or [], where)
    for glob, ids in cfg.per_path_ignores.items():
        check_patterns(catalog, ids, f"{cfg.where('per-path-ignores', glob)}: per-path-ignores {glob!r}:")
    if skip_paths:
        rules = [r.model_copy(update={"skip_paths": [*r.skip_paths, *skip_paths]}) for r in rules]
    with _fewer_collections():
        project = load_project(ws.root, ws)
        files_read = sorted(ws.read_paths)
        comments = suppression_comments(ws.read_bytes, files_read)
        result = run(project, rules, load_checks(), read_line=_line_reader(ws), catalog=catalog, comments=comments)
    from urr_audit.checks.common import claimant

    apply_per_path_ignores(result, cfg.per_path_ignores, catalog, lambda e: claimant(e, catalog))
    focus = None
    if targets is not None:
        from urr_audit.focus import Focus

        focus = Focus(project, targets, is_dir=ws.is_dir)
        focus.apply(result)
    if min_severity is None and cfg.min_severity:
        min_severity = Severity(cfg.min_severity)
    apply_min_severity(result, min_severity)
    return ScanReport(
        ws.root, project, rules, result, time.perf_counter() - started, files_read, focus=focus, catalog=catalog
    )


def _overridden(catalog: list[Rule], cfg: Config) -> list[Rule]:
    """The catalog with the configuration's severity and params overrides applied (params are
    validated against the rule's check here, so a mistake names the configuration line)."""
    if not cfg.severity and not cfg.params:
        return catalog
    ids = {k.upper(): r.id for r in catalog for k in (r.id, *r.aliases)}
    from urr_audit.config import did_you_mean

    for table, mapping in (("severity", cfg.severity), ("params", cfg.params)):
        for rid in mapping:
            if rid not in ids:
                raise CatalogError(f"{cfg.where(table, rid)}: {table}: no rule {rid}{did_you_mean(rid, sorted(ids))}")
    checks = load_checks()
    out = []
    for r in catalog:
        update: dict = {}
        for key in (r.id, *r.aliases):
            if key.upper() in cfg.severity:
                update["severity"] = Severity(cfg.severity[key.upper()])
            if key.upper() in cfg.params:
                update["params"] = {**r.params, **cfg.params[key.upper()]}
        if update:
            r = r.model_copy(update=update)
            if "params" in update:
                try:
                    bind(r, checks)
                except CatalogError as exc:
                    where = cfg.where("params", r.id)
                    raise CatalogError(
                        "\n".join(f"{where}: {line.split(': ', 1)[-1]}" for line in str(exc).splitlines())
                    ) from exc
        out.append(r)
    return out


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Loading builds many small, long-lived objects; the cyclic collector's default young
    generation threshold makes it rescan them over and over (about half the Terraform load
    time on a URR-sized repository). Collect rarely during a scan, as mypy does."""
    old = gc.get_threshold()
    gc.set_threshold(100_000, 50, 50)
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _line_reader(ws: Workspace):
    @lru_cache(maxsize=256)
    def lines(path: str) -> tuple[str, ...]:
        try:
            return tuple(ws.read_text(path).splitlines())
        except (OSError, OutsideRoot):
            return ()

    def read_line(path: str, n: int) -> str:
        ls = lines(path)
        return ls[n - 1] if 0 < n <= len(ls) else ""

    return read_line
