"""Render time of every leaf overlay of a repository (default: fixtures/repos/urr).

python benchmarks/bench_kustomize.py [ROOT]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from urr_audit.loaders.kustomize import load_kubernetes
from urr_audit.loaders.kustomize.build import Renderer
from urr_audit.workspace import Workspace

ROOT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "fixtures" / "repos" / "urr"


def timed(fn, runs: int = 10) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return min(samples), statistics.median(samples)


def main() -> None:
    # A fresh Workspace each run: file listing and YAML parsing are part of the cost.
    best, median = timed(lambda: load_kubernetes(Workspace(ROOT)))
    project, _ = load_kubernetes(Workspace(ROOT))
    envs = ", ".join(f"{e.name}={len(e.objects)}" for e in project.environments)
    print(f"load_kubernetes (all leaves, cold): best {best * 1000:.1f} ms, median {median * 1000:.1f} ms  [{envs}]")

    ws = Workspace(ROOT)
    renderer = Renderer(ws)
    for env in project.environments:
        renderer.build(env.path)  # warm the file and base caches
    for env in project.environments:
        b, m = timed(lambda p=env.path: renderer.build(p))
        print(f"  {env.path}: warm build best {b * 1000:.1f} ms, median {m * 1000:.1f} ms")


if __name__ == "__main__":
    main()
