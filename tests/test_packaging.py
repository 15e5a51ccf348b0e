"""Packaging facts a user relies on: the pre-commit hook and `python -m urr_audit`."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from ruamel.yaml import YAML

from tests.conftest import ROOT


def test_pre_commit_hook_runs_the_installed_command(tmp_path):
    hooks = YAML(typ="safe", pure=True).load((ROOT / ".pre-commit-hooks.yaml").read_text())
    [hook] = hooks
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert hook["entry"].split()[0] in scripts
    assert hook["language"] == "python" and hook["pass_filenames"] is True
    # The hook's command line is accepted and really scans the file names it is given.
    cmd = [sys.executable, "-m", "urr_audit", *hook["entry"].split()[1:], *hook.get("args", [])]
    (tmp_path / "main.tf").write_text('variable "region" {\n  default = "eu-west-1"\n}\n')
    run = subprocess.run([*cmd, "main.tf"], cwd=tmp_path, check=False, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    (tmp_path / "broken.tf").write_text('resource "x" "y" {\n')
    run = subprocess.run([*cmd, "broken.tf"], cwd=tmp_path, check=False, capture_output=True, text=True)
    assert run.returncode == 1, run.stdout + run.stderr


def test_python_dash_m_entry_point():
    out = subprocess.run([sys.executable, "-m", "urr_audit", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("urr-audit ")
