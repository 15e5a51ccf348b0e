"""Print how long a whole scan takes, phase by phase, and peak memory.

    python benchmarks/bench_scan.py [PATH] [--repeat N]

Figures only: speed targets are checked by reading these, never by timed unit tests.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?", default=str(Path(__file__).resolve().parent.parent / "fixtures/repos/urr"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    t0 = time.perf_counter()
    from urr_audit.catalog import load_rules
    from urr_audit.engine import run
    from urr_audit.loaders.argocd import load_argocd
    from urr_audit.loaders.gitmeta import read_git_meta
    from urr_audit.loaders.kustomize import load_kubernetes
    from urr_audit.loaders.terraform import load_terraform
    from urr_audit.model.project import Project
    from urr_audit.registry import load_checks
    from urr_audit.workspace import Workspace

    rules, checks = load_rules(), load_checks()
    print(f"imports + catalog + checks: {time.perf_counter() - t0:.3f}s ({len(rules)} rules, {len(checks)} checks)")

    phases: dict[str, list[float]] = {
        "walk": [],
        "terraform": [],
        "kustomize": [],
        "argocd": [],
        "rules": [],
        "total": [],
    }
    for i in range(args.repeat):
        if i == args.repeat - 1:
            tracemalloc.start()
        t = time.perf_counter()
        ws = Workspace(args.path)
        n_files = len(ws.files)
        t1 = time.perf_counter()
        tf, e1 = load_terraform(ws)
        t2 = time.perf_counter()
        k8s, e2 = load_kubernetes(ws)
        t3 = time.perf_counter()
        git = read_git_meta(ws)
        argo, e3 = load_argocd(ws, k8s, git, e2)
        t35 = time.perf_counter()
        project = Project(root=str(ws.root), git=git, terraform=tf, kubernetes=k8s, argocd=argo, errors=e1 + e2 + e3)
        result = run(project, rules, checks)
        t4 = time.perf_counter()
        for k, v in zip(phases, (t1 - t, t2 - t1, t3 - t2, t35 - t3, t4 - t35, t4 - t)):
            phases[k].append(v)
    _, peak = tracemalloc.get_traced_memory()
    print(
        f"{args.path}: {n_files} files, {len(tf.environments)} Terraform environments, "
        f"{sum(len(e.instances) for e in tf.environments)} module instances, "
        f"{len(k8s.environments)} Kubernetes environments, "
        f"{sum(len(e.objects) for e in k8s.environments)} rendered objects, "
        f"{len(argo.applications)} Argo CD Applications, {len(result.findings)} findings"
    )
    for k, v in phases.items():
        print(f"  {k:<10} median {statistics.median(v) * 1000:7.1f} ms   min {min(v) * 1000:7.1f} ms")
    print(f"  peak traced memory (last run): {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
