"""A workflows-only scan (the workflow loader and every URR-GHA rule) against zizmor on the same
files, in CPU time (steadier than wall time on a shared machine), with the loader's phases.

For each repository:
- the phases of loading: YAML with positions, the model (expressions, builds, edits), schema
  validation (the compiled predicate of `loaders/workflows/fits.py`; for comparison, what
  `jsonschema` alone takes to validate the same documents, as it did for every file before);
- the workflows-only scan in process (best and median of several runs; the interpreter, the
  imports and the rule catalog are paid once);
- the same scan as a cold process (`--once`: interpreter, imports, catalog, load, rules);
- zizmor: `zizmor --offline --no-config` as a process on the same directory (all its offline
  audits), and the ratios urr-audit / zizmor (best over best).

python benchmarks/bench_workflows.py [ROOT ...]
    (default: fixtures/repos/urr, fixtures/workflows, fixtures/realworld/inkwell)
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
DEFAULT = [
    REPO / "fixtures" / "repos" / "urr",
    REPO / "fixtures" / "workflows",
    REPO / "fixtures" / "realworld" / "inkwell",
]


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


def workflows_only_scan(root: Path) -> int:
    """What `urr-audit scan ROOT --select URR-GHA` does for the workflows: load them, run the rules."""
    from urr_audit.catalog import load_rules
    from urr_audit.engine import run, select_rules
    from urr_audit.loaders.workflows import load_workflows
    from urr_audit.model.project import Project
    from urr_audit.registry import load_checks
    from urr_audit.workspace import Workspace

    ws = Workspace(root)
    workflows, errors = load_workflows(ws)
    result = run(
        Project(root=str(ws.root), workflows=workflows, errors=errors),
        select_rules(load_rules(), ["URR-GHA"], []),
        load_checks(),
    )
    return len(result.findings)


def phases(ws, texts: dict[str, str]) -> None:
    from urr_audit.loaders.workflows import schema
    from urr_audit.loaders.workflows.build import FileBuilder
    from urr_audit.loaders.workflows.yamlpos import load

    docs = {f: load(t) for f, t in texts.items()}
    print(f"      YAML with positions: {ms(cpu(lambda: [load(t) for t in texts.values()], 10))}")
    builders = {f: FileBuilder(f, d, [], ws) for f, d in docs.items()}
    print(f"      model: {ms(cpu(lambda: [FileBuilder(f, d, [], ws).workflow() for f, d in docs.items()], 10))}")
    validate = lambda: [schema.validate(d.data, builders[f]) for f, d in docs.items()]
    print(f"      schema validation: {ms(cpu(validate, 10))}")
    validator = schema._validator(schema.WORKFLOW_SCHEMA)
    alone = lambda: [list(validator.iter_errors(d.data)) for d in docs.values()]
    print(f"      (jsonschema alone on the same documents: {ms(cpu(alone, 10))})")


def main(roots: list[Path]) -> None:
    from urr_audit.catalog import load_rules
    from urr_audit.engine import run, select_rules
    from urr_audit.loaders.workflows import load_workflows, schema
    from urr_audit.model.project import Project
    from urr_audit.registry import load_checks
    from urr_audit.workspace import Workspace

    t0 = time.process_time()
    schema._predicate(schema.WORKFLOW_SCHEMA)
    print(f"schema read and compiled to a predicate (once per process): {(time.process_time() - t0) * 1000:.1f} ms CPU")
    t0 = time.process_time()
    schema._validator(schema.WORKFLOW_SCHEMA)
    print(
        f"import jsonschema and build its validator (only when a file breaks the schema): "
        f"{(time.process_time() - t0) * 1000:.1f} ms CPU"
    )
    rules = select_rules(load_rules(), ["URR-GHA"], [])
    checks = load_checks()
    zizmor = shutil.which("zizmor")
    for root in roots:
        ws = Workspace(root)
        files = [f for f in ws.files if f.startswith(".github/workflows/") and f.endswith((".yml", ".yaml"))]
        texts = {f: ws.read_text(f) for f in files}
        lines = sum(t.count("\n") for t in texts.values())
        project, errors = load_workflows(Workspace(root))
        steps = sum(1 for _ in project.steps())
        print(
            f"\n{root.relative_to(REPO)}: {len(files)} workflow files ({lines} lines), "
            f"{len(project.actions)} local action(s), {steps} steps, {len(errors)} load errors, {len(rules)} URR-GHA rules"
        )

        def scan(root: Path = root) -> None:
            ws = Workspace(root)
            workflows, errors = load_workflows(ws)
            run(Project(root=str(ws.root), workflows=workflows, errors=errors), rules, checks)

        scan()  # the first call pays the caches of a process
        total = cpu(scan, 15)
        print(f"  urr-audit workflows-only scan (in process): {ms(total)}")
        print(f"    loading: {ms(cpu(lambda root=root: load_workflows(Workspace(root)), 15))}")
        phases(ws, texts)
        project = Project(root=str(ws.root), workflows=load_workflows(Workspace(root))[0])
        print(f"    rules: {ms(cpu(lambda project=project: run(project, rules, checks), 15))}")
        cold = child_cpu([sys.executable, __file__, "--once", str(root)], 5)
        print(f"  urr-audit workflows-only scan (cold process: interpreter, imports, catalog): {ms(cold)}")
        if zizmor is None:
            print("  zizmor: not installed (pip install zizmor) - no comparison")
            continue
        z = child_cpu([zizmor, "--offline", "--no-config", "--no-progress", "--format", "plain", str(root)], 15)
        print(f"  zizmor --offline (process): {ms(z)}")
        print(
            f"  ratio urr-audit / zizmor (best): {min(total) / min(z):.2f}x in process, "
            f"{min(cold) / min(z):.2f}x as cold processes"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--once"]:
        workflows_only_scan(Path(sys.argv[2]))
    else:
        main([Path(a).resolve() for a in sys.argv[1:]] or DEFAULT)
