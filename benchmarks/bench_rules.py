"""Where a scan's time goes: package import, catalog, each loader, the suppression comments,
then each rule, in one process as `urr-audit scan` runs them (`scan.scan`'s steps). CPU
seconds (what the machine's other load does not inflate), not wall time.

    python benchmarks/bench_rules.py [PATH] [--repeat N] [--top N] [--profile FILE]

The first pass pays lazy imports and first-use costs, as a one-shot `urr-audit scan` does; it
is printed apart from the median of the passes after it. `--profile FILE` writes a cProfile
of one more pass (read it with `python -m pstats FILE` or snakeviz).
Figures only: speed targets are checked by reading these, never by timed unit tests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _one_pass(path: str) -> tuple[dict[str, float], dict[str, float], int]:
    from urr_audit.catalog import load_rules
    from urr_audit.engine import run, suppression_comments
    from urr_audit.loaders import load_project
    from urr_audit.registry import load_checks
    from urr_audit.scan import _fewer_collections, _line_reader
    from urr_audit.workspace import Workspace

    phases: dict[str, float] = {}
    rules: dict[str, float] = {}
    t = time.process_time()
    catalog, checks = load_rules(), load_checks()
    phases["catalog+checks"] = time.process_time() - t
    with _fewer_collections():
        ws = Workspace(path)
        project = load_project(ws.root, ws, timings=phases)
        t = time.process_time()
        comments = suppression_comments(ws.read_bytes, sorted(ws.read_paths))
        phases["suppression comments"] = time.process_time() - t
        t = time.process_time()
        result = run(project, catalog, checks, read_line=_line_reader(ws), comments=comments, timings=rules)
        phases["rules"] = time.process_time() - t
    return phases, rules, len(result.findings)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?", default=str(ROOT / "fixtures/repos/urr"))
    ap.add_argument("--repeat", type=int, default=5, help="passes after the first (default 5)")
    ap.add_argument("--top", type=int, default=25, help="rules to list, slowest first")
    ap.add_argument("--profile", type=Path, help="write a cProfile of one more pass to this file")
    args = ap.parse_args()

    t = time.process_time()
    import urr_audit.engine
    import urr_audit.scan  # noqa: F401

    imported = time.process_time() - t
    first_phases, first_rules, n = _one_pass(args.path)
    later = [_one_pass(args.path) for _ in range(args.repeat)]

    def med(values: list[float]) -> float:
        return statistics.median(values) if values else float("nan")

    print(f"{args.path}: {len(first_rules)} rules, {n} findings")
    print(f"  {'phase':<28} {'first':>9} {'median':>9}")
    print(f"  {'import urr_audit.scan':<28} {imported * 1000:7.1f}ms")
    total_first = imported
    total_later = 0.0
    for k, v in first_phases.items():
        m = med([p[k] for p, _, _ in later])
        total_first += v
        total_later += m if later else 0.0
        print(f"  {k:<28} {v * 1000:7.1f}ms {m * 1000:7.1f}ms")
    print(f"  {'total':<28} {total_first * 1000:7.1f}ms {total_later * 1000:7.1f}ms (second column without import)")
    print(f"\n  slowest rules ({args.top}), first pass and median of later passes:")
    ordered = sorted(first_rules, key=lambda r: -first_rules[r])
    for rid in ordered[: args.top]:
        m = med([r[rid] for _, r, _ in later])
        print(f"  {rid:<28} {first_rules[rid] * 1000:7.1f}ms {m * 1000:7.1f}ms")
    rest = ordered[args.top :]
    print(
        f"  {len(rest)} others{'':<20} {sum(first_rules[r] for r in rest) * 1000:7.1f}ms "
        f"{sum(med([r[rid] for _, r, _ in later]) for rid in rest) * 1000:7.1f}ms"
    )

    if args.profile:
        import cProfile

        prof = cProfile.Profile()
        prof.runcall(_one_pass, args.path)
        prof.dump_stats(args.profile)
        print(f"\nprofile of one more pass written to {args.profile}", file=sys.stderr)


if __name__ == "__main__":
    main()
