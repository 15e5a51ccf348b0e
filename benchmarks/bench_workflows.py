"""Load time (CPU) of a repository's GitHub Actions workflows (default: fixtures/repos/urr), by phase,
and the one-off cost of the schema validator's import; with zizmor installed, its process time
on the same files for comparison (`zizmor --offline`, all its audits, so a rough yardstick).

python benchmarks/bench_workflows.py [ROOT]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "fixtures" / "repos" / "urr"


def timed(fn, runs: int = 10) -> tuple[float, float]:
    """Best and median CPU time of the process (steadier than wall time on a shared machine)."""
    samples = []
    for _ in range(runs):
        t0 = time.process_time()
        fn()
        samples.append(time.process_time() - t0)
    return min(samples), statistics.median(samples)


def main() -> None:
    t0 = time.process_time()
    import jsonschema  # noqa: F401  -- what the first workflow pays once per process

    print(f"import jsonschema: {(time.process_time() - t0) * 1000:.1f} ms CPU")
    from urr_audit.loaders.workflows import load_workflows, schema
    from urr_audit.loaders.workflows.build import FileBuilder
    from urr_audit.loaders.workflows.yamlpos import load
    from urr_audit.workspace import Workspace

    t0 = time.process_time()
    schema._validator(schema.WORKFLOW_SCHEMA)
    print(f"schema file read and validator built: {(time.process_time() - t0) * 1000:.1f} ms CPU")

    ws = Workspace(ROOT)
    files = [f for f in ws.files if f.startswith(".github/workflows/") and f.endswith((".yml", ".yaml"))]
    texts = {f: ws.read_text(f) for f in files}
    lines = sum(t.count("\n") for t in texts.values())
    print(f"{len(files)} workflow files, {lines} lines")

    best, median = timed(lambda: load_workflows(Workspace(ROOT)))
    project, errors = load_workflows(Workspace(ROOT))
    steps = sum(1 for _ in project.steps())
    print(
        f"load_workflows (cold workspace): best {best * 1000:.1f} ms, median {median * 1000:.1f} ms "
        f"[{len(project.workflows)} workflows, {steps} steps, {len(errors)} errors]"
    )
    docs = {f: load(t) for f, t in texts.items()}
    b, m = timed(lambda: [load(t) for t in texts.values()])
    print(f"  YAML with positions: best {b * 1000:.1f} ms, median {m * 1000:.1f} ms")
    b, m = timed(lambda: [FileBuilder(f, d, [], ws).workflow() for f, d in docs.items()])
    print(f"  model (expressions, builds, edits): best {b * 1000:.1f} ms, median {m * 1000:.1f} ms")
    b, m = timed(lambda: [schema.validate(d.data, FileBuilder(f, d, [], ws)) for f, d in docs.items()])
    print(f"  schema validation: best {b * 1000:.1f} ms, median {m * 1000:.1f} ms")

    zizmor = shutil.which("zizmor")
    if zizmor is None:
        print("zizmor: not installed (pip install zizmor) - no comparison")
        return
    cmd = [zizmor, "--offline", "--no-progress", "--format", "plain", *[str(ROOT / f) for f in files]]
    samples = []
    for _ in range(5):
        before = os.times()
        subprocess.run(cmd, capture_output=True, check=False)
        after = os.times()
        samples.append((after.children_user - before.children_user) + (after.children_system - before.children_system))
    print(
        f"zizmor --offline on the same files (process CPU): best {min(samples) * 1000:.1f} ms, median "
        f"{statistics.median(samples) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
