"""Prove a speed change changed no output: snapshot what `urr-audit` writes for every fixture
repository, then compare a later run with it byte for byte.

    python benchmarks/outputs_same.py save DIR      # before the change
    python benchmarks/outputs_same.py check DIR     # after it (into DIR.now): exit 1, naming each file that differs

Only what a scan says of its own duration is masked. For each repository under fixtures/repos/ and fixtures/realworld/ it keeps `scan --format json`,
`scan --format text`, `report` (markdown) and the exit codes; for two repositories also
`scan --format sarif` and `report --format html`. All runs happen in one process through the
CLI's own entry point (the same code path as the command, without paying interpreter start-up
dozens of times); running many repositories in one process also shows any cache that leaks
from one scan into the next.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SARIF_AND_HTML = {"urr", "eks-gitops-platform"}
# What a scan says of its own duration (JSON `"seconds": 0.412`, the text summary's `; 0.41s`)
# differs from run to run: masked before comparing, nothing else is.
_DURATION = re.compile(rb'("seconds": )[0-9.]+|(; )[0-9.]+s$', re.MULTILINE)


def _masked(data: bytes) -> bytes:
    return _DURATION.sub(lambda m: (m.group(1) or m.group(2)) + b"<t>" + (b"" if m.group(1) else b"s"), data)


def _repos() -> list[Path]:
    return sorted(p for base in ("fixtures/repos", "fixtures/realworld") for p in (ROOT / base).iterdir() if p.is_dir())


def _run(argv: list[str]) -> int:
    from urr_audit.cli import app

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            app(argv, prog_name="urr-audit", standalone_mode=True)
        except SystemExit as e:
            return int(e.code or 0)
    return 0


def _outputs(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    codes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for repo in _repos():
            name = repo.name
            # `--root`: a fixture without a configuration of its own would otherwise be scanned
            # from the enclosing git work tree, this whole repository
            scan = ["scan", str(repo), "--root", str(repo)]
            runs: list[tuple[str, list[str]]] = [
                (f"{name}.scan.json", [*scan, "--format", "json", "--color", "never"]),
                (f"{name}.scan.txt", [*scan, "--format", "text", "--color", "never"]),
                (f"{name}.report.md", ["report", str(repo)]),
            ]
            if name in SARIF_AND_HTML:
                runs.append((f"{name}.scan.sarif", [*scan, "--format", "sarif"]))
                runs.append((f"{name}.report.html", ["report", str(repo), "--format", "html"]))
            for fname, argv in runs:
                out = Path(tmp) / fname
                code = _run([*argv, "-o", str(out)])
                codes.append(f"{fname}: exit {code}")
                (dest / fname).write_bytes(out.read_bytes() if out.exists() else b"<no output>\n")
                print(f"{fname}: exit {code}", file=sys.stderr)
    (dest / "exit-codes.txt").write_text("\n".join(codes) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("save", "check"))
    ap.add_argument("dir", type=Path)
    args = ap.parse_args()
    if args.mode == "save":
        _outputs(args.dir)
        return
    now = args.dir.with_name(args.dir.name + ".now")  # kept, to look at what differs
    _outputs(now)
    differ = []
    for before in sorted(args.dir.iterdir()):
        after = now / before.name
        if not after.exists() or _masked(after.read_bytes()) != _masked(before.read_bytes()):
            differ.append(before.name)
            a = _masked(before.read_bytes()).decode(errors="replace").splitlines()
            b = _masked(after.read_bytes()).decode(errors="replace").splitlines() if after.exists() else []
            sys.stdout.writelines(line + "\n" for line in list(difflib.unified_diff(a, b, lineterm=""))[:40])
    differ += sorted({p.name for p in now.iterdir()} - {p.name for p in args.dir.iterdir()})
    n = len(list(args.dir.iterdir()))
    print(f"{n - len(differ)} of {n} outputs identical" + (f"; differ: {', '.join(differ)}" if differ else ""))
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
