"""Time the Terraform loader (parse + evaluate every environment) on a directory.

Usage: python benchmarks/bench_terraform.py [DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time

from urr_audit.loaders.terraform import load_terraform
from urr_audit.workspace import Workspace


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("root", nargs="?", default="fixtures/repos/urr")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    times = []
    for _ in range(args.repeat):
        ws = Workspace(args.root)  # fresh: the file listing is cached per workspace
        start = time.perf_counter()
        project, errors = load_terraform(ws)
        # force every resource attribute through the evaluator, as a full rule run would
        for ri in project.resources():
            for name in ri.resource.body.attributes:
                ri.get(name)
        times.append(time.perf_counter() - start)
    files = sum(len(m.files) for m in project.modules.values())
    print(
        f"{args.root}: {files} files, {len(project.modules)} modules, {len(project.environments)} environments, "
        f"{len(errors)} load errors"
    )
    print(
        f"load+evaluate: min {min(times) * 1000:.1f} ms, median {statistics.median(times) * 1000:.1f} ms "
        f"over {args.repeat} runs"
    )


if __name__ == "__main__":
    main()
