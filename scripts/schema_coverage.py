#!/usr/bin/env python3
"""How much of a repository's Terraform the provider schema tables cover: resource and data
source types checked (their provider has a table) and skipped (it has none), per provider.

Usage: python scripts/schema_coverage.py PATH [PATH ...]
"""

from __future__ import annotations

import sys

from urr_audit.checks.terraform._providers import schema_coverage
from urr_audit.loaders.terraform import load_terraform
from urr_audit.workspace import Workspace


def main(paths: list[str]) -> int:
    totals: dict[str, dict[str, set[str]]] = {"checked": {}, "skipped": {}}
    for path in paths:
        project, _ = load_terraform(Workspace(path))
        for kind, by_source in schema_coverage(project).items():
            for source, types in by_source.items():
                totals[kind].setdefault(source, set()).update(types)
    for kind in ("checked", "skipped"):
        n = sum(len(t) for t in totals[kind].values())
        print(f"{kind}: {n} types")
        for source, types in sorted(totals[kind].items()):
            print(f"  {source}: {len(types)}" + (f" ({', '.join(sorted(types))})" if kind == "skipped" else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["."]))
