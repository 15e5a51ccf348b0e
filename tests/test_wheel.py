"""The wheel ships the rule catalog and its entry points: install it in a fresh virtualenv
and run `urr-audit rules list` from there, away from the source tree."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import ROOT
from urr_audit.catalog import load_rules


@pytest.mark.slow
def test_wheel_installs_and_lists_rules(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("urr_audit-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True)
    # Dependencies come from this interpreter's site-packages (no network in tests); the
    # editable urr_audit there is not activated because .pth files of a plain path entry
    # are not processed.
    purelib = subprocess.run(
        [str(py), "-c", "import sysconfig;print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    where = subprocess.run(
        [str(py), "-c", "import urr_audit.catalog as c; print(c.builtin_rules_dir())"],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert where.startswith(str(venv)) and where.endswith("_rules"), where
    out = subprocess.run(
        [str(venv / "bin" / "urr-audit"), "rules", "list", "--format", "json"],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    import json

    listed = {r["id"] for r in json.loads(out)}
    assert listed == {r.id for r in load_rules()}
    checks = subprocess.run(
        [str(py), "-c", "from urr_audit.registry import load_checks; print(len(load_checks()))"],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert int(checks) >= 1
