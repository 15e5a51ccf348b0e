"""A workflows-only scan (the workflow loader and every URR-GHA rule) side by side with zizmor on
the same files, in CPU time (steadier than wall time on a shared machine).

- urr-audit in process: load the repository's workflows and local actions, run the URR-GHA
  rules; best and median of several runs (the interpreter and imports are paid once).
- zizmor: `zizmor --offline` as a process on the same directory (all its offline audits), its
  CPU time; the ratio is urr-audit's best over zizmor's best.
- For context, both as cold processes: `urr-audit scan ROOT --select URR-GHA` pays the Python
  interpreter, its imports and every loader (Terraform and Kubernetes too).

python benchmarks/bench_gha_security.py [ROOT ...]   (default: fixtures/repos/urr fixtures/workflows)
"""

from __future__ import annotations

import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = [REPO / "fixtures" / "repos" / "urr", REPO / "fixtures" / "workflows"]


def cpu(fn, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        t0 = time.process_time()
        fn()
        samples.append(time.process_time() - t0)
    return samples


def child_cpu(cmd: list[str], runs: int) -> list[float]:
    """CPU time (user + system) of a child process, to the microsecond (`os.times` counts ticks)."""
    samples = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(cmd, capture_output=True, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        samples.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return samples


def ms(samples: list[float]) -> str:
    return f"best {min(samples) * 1000:6.1f} ms, median {statistics.median(samples) * 1000:6.1f} ms"


def main(roots: list[Path]) -> None:
    from urr_audit.catalog import load_rules
    from urr_audit.engine import run, select_rules
    from urr_audit.loaders.workflows import load_workflows
    from urr_audit.model.project import Project
    from urr_audit.registry import load_checks
    from urr_audit.workspace import Workspace

    rules = select_rules(load_rules(), ["URR-GHA"], [])
    checks = load_checks()
    zizmor = shutil.which("zizmor")
    cli = shutil.which("urr-audit")
    for root in roots:

        def scan(root: Path = root) -> None:
            ws = Workspace(root)
            workflows, errors = load_workflows(ws)
            run(Project(root=str(ws.root), workflows=workflows, errors=errors), rules, checks)

        ws = Workspace(root)
        workflows, _ = load_workflows(ws)
        project = Project(root=str(ws.root), workflows=workflows)
        scan()  # first call pays the schema validator and the caches of a process
        total = cpu(scan, 15)
        load = cpu(lambda root=root: load_workflows(Workspace(root)), 15)
        rules_only = cpu(lambda project=project: run(project, rules, checks), 15)
        n_files = len(workflows.workflows) + len(workflows.actions)
        print(
            f"{root.relative_to(REPO)}: {len(workflows.workflows)} workflows, {len(workflows.actions)} local actions, {len(rules)} URR-GHA rules"
        )
        print(f"  urr-audit workflows-only scan (in process): {ms(total)}")
        print(f"    of which loading: {ms(load)}; rules: {ms(rules_only)}")
        if zizmor is None:
            print("  zizmor: not installed (pip install zizmor) - no comparison")
            continue
        z = child_cpu([zizmor, "--offline", "--no-config", "--no-progress", "--format", "plain", str(root)], 15)
        print(f"  zizmor --offline (process): {ms(z)}")
        print(f"  ratio urr-audit / zizmor (best): {min(total) / min(z):.2f}x  ({n_files} files)")
        if cli is not None:
            cold = child_cpu([cli, "scan", str(root), "--select", "URR-GHA", "-f", "json"], 3)
            print(f"  for context, urr-audit as a cold process (interpreter, imports, all loaders): {ms(cold)}")


if __name__ == "__main__":
    main([Path(a).resolve() for a in sys.argv[1:]] or DEFAULT)
