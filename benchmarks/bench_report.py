"""Print how long the review takes: `urr-audit report` as a user runs it (a fresh process,
interpreter start-up included), and in one process the scan and each section builder.

    python benchmarks/bench_report.py [PATH] [--repeat N] [--screenshot FILE.png]

`--screenshot` also writes the HTML review and has headless Chromium take a picture of it,
so a person can look at what a reader sees (diagrams drawn, tables, contents).
Figures only: speed targets are checked by reading these, never by timed unit tests.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _cli(path: str, *extra: str, command: str = "report") -> tuple[float, float]:
    """(wall, CPU) seconds of one `urr-audit report` process. CPU time (user + system) is what
    the machine's other load does not inflate; wall time is what a user waits."""
    with tempfile.TemporaryDirectory() as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "urr_audit", command, path, "-o", str(Path(tmp) / "out"), *extra],
            check=command == "report",  # scan exits 1 on findings
            capture_output=True,
        )
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?", default=str(ROOT / "fixtures/repos/urr"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--screenshot", type=Path, help="write the HTML review's screenshot to this PNG")
    args = ap.parse_args()

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for label, command, extra in (
        ("scan, for comparison", "scan", ()),
        ("markdown", "report", ()),
        ("html", "report", ("--format", "html")),
    ):
        runs = [_cli(args.path, *extra, command=command) for _ in range(args.repeat)]
        wall, cpu = [w for w, _ in runs], [c for _, c in runs]
        print(
            f"urr-audit {command} {args.path} ({label}), fresh process: wall median {statistics.median(wall):.2f}s "
            f"min {min(wall):.2f}s; CPU median {statistics.median(cpu):.2f}s min {min(cpu):.2f}s"
        )

    from urr_audit.report.review import SECTIONS
    from urr_audit.report.review.doc import ReviewContext
    from urr_audit.report.review.html import render_html
    from urr_audit.scan import scan

    per: dict[str, list[float]] = {"scan": []}
    for _ in range(args.repeat):
        t = time.perf_counter()
        report = scan(args.path)
        per["scan"].append(time.perf_counter() - t)
        ctx = ReviewContext(report)
        for module in SECTIONS:
            t = time.perf_counter()
            module.build(ctx)
            per.setdefault(module.__name__.rsplit(".", 1)[-1], []).append(time.perf_counter() - t)
    print("in one process (section builders share facts, so the first to need them pays):")
    for name, v in per.items():
        print(f"  {name:<16} median {statistics.median(v) * 1000:7.1f} ms   min {min(v) * 1000:7.1f} ms")

    if args.screenshot:
        browser = next(
            (shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
        )
        if browser is None:
            print("no chromium: no screenshot")
            return
        from urr_audit.report.review import render_markdown

        with tempfile.TemporaryDirectory() as tmp:
            page = Path(tmp) / "review.html"
            page.write_text(render_html(render_markdown(scan(args.path)), "review"), encoding="utf-8")
            subprocess.run(
                [
                    browser,
                    *CHROMIUM_ARGS,
                    f"--user-data-dir={Path(tmp) / 'profile'}",
                    "--virtual-time-budget=30000",
                    "--window-size=1400,2600",
                    f"--screenshot={args.screenshot.resolve()}",
                    page.as_uri(),
                ],
                check=True,
                capture_output=True,
                timeout=300,
            )
        print(f"screenshot: {args.screenshot}")


if __name__ == "__main__":
    main()
