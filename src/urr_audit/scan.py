"""One call from a path to findings: load the model, select rules, run the engine."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from urr_audit.catalog import Rule, load_rules
from urr_audit.engine import RunResult, run, select_rules
from urr_audit.loaders import load_project
from urr_audit.model.project import Project
from urr_audit.registry import load_checks
from urr_audit.workspace import OutsideRoot, Workspace


@dataclass
class ScanReport:
    root: Path
    project: Project
    rules: list[Rule]
    result: RunResult
    seconds: float


def scan(
    path: Path | str,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    rule_dirs: tuple[Path, ...] = (),
    skip_paths: list[str] | None = None,
) -> ScanReport:
    """`skip_paths`: regexes; findings in matching paths are dropped, for every rule."""
    started = time.perf_counter()
    ws = Workspace(path)
    rules = select_rules(load_rules(rule_dirs), select or [], ignore or [])
    if skip_paths:
        rules = [r.model_copy(update={"skip_paths": [*r.skip_paths, *skip_paths]}) for r in rules]
    with _fewer_collections():
        project = load_project(ws.root, ws)
        result = run(project, rules, load_checks(), read_line=_line_reader(ws))
    return ScanReport(ws.root, project, rules, result, time.perf_counter() - started)


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
