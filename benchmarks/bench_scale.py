"""How a scan scales: N copies of the bundled URR repository side by side, scanned as one.

    python benchmarks/bench_scale.py [--copies 1 5 10 20]

Prints files, environments, objects, findings, wall time and peak RSS growth per size.
Figures only (never a timed unit test).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

URR = Path(__file__).resolve().parent.parent / "fixtures" / "repos" / "urr"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, nargs="+", default=[1, 5, 10, 20])
    args = ap.parse_args()
    from urr_audit.scan import scan

    scan(URR)  # warm imports and caches so the first size is not charged for them
    for n in args.copies:
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(n):
                shutil.copytree(URR, Path(tmp) / f"team{i:02d}")
            rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            t = time.perf_counter()
            report = scan(tmp)
            dt = time.perf_counter() - t
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            p = report.project
            print(
                f"{n:>3} copies: {len(report.project.terraform.modules):>4} TF modules, "
                f"{len(p.terraform.environments):>3} TF envs, {len(p.kubernetes.environments):>3} K8s envs, "
                f"{sum(len(e.objects) for e in p.kubernetes.environments):>5} objects, "
                f"{len(report.result.findings):>5} findings: {dt:6.2f} s, peak RSS +{(rss - rss0) / 1024:.0f} MiB"
            )


if __name__ == "__main__":
    main()
