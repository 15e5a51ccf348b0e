"""The pre-commit hook, run by the real `pre-commit try-repo` against this checkout: a commit
touching a broken Terraform file fails, its fix passes, a README-only commit skips the hook."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

# What the hook's repository needs to install: the package, its rules, its metadata.
SOURCES = ("src", "rules", "pyproject.toml", "README.md", ".pre-commit-hooks.yaml")


def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    env.update({"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"})
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def test_hook_declares_the_files_it_reads():
    [hook] = YAML(typ="safe", pure=True).load((ROOT / ".pre-commit-hooks.yaml").read_text())
    import re

    files = re.compile(hook["files"])
    for path in (
        "main.tf",
        "a/b.tf.json",
        "envs/prod/terraform.tfvars",
        "k8s/base/deploy.yaml",
        ".github/workflows/ci.yml",
        "Dockerfile",
        "services/api/Dockerfile.prod",
        "x.dockerfile",
    ):
        assert files.search(path), path
    for path in ("README.md", "src/app.py", "docs/terraform.md", "Dockerfile.txt", "Dockerfile.md"):
        assert not files.search(path), path
    assert hook["pass_filenames"] is True and hook["require_serial"] is True


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.skipif(importlib.util.find_spec("pre_commit") is None, reason="pre-commit is not installed (test extra)")
def test_pre_commit_try_repo_fails_on_a_bad_change_and_passes_on_a_good_one(tmp_path):
    # pre-commit clones the hook repository: a commit of this checkout's current files.
    hook_repo = tmp_path / "hook"
    hook_repo.mkdir()
    for name in SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, hook_repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, hook_repo / name)
    _git(hook_repo, "init", "-q")
    _git(hook_repo, "add", "-A")
    _git(hook_repo, "commit", "-q", "-m", "hook")

    infra = tmp_path / "infra"
    (infra / "terraform").mkdir(parents=True)
    _git(infra, "init", "-q")
    (infra / "terraform" / "main.tf").write_text('variable "region" {\n  default = "eu-west-1"\n}\n')
    _git(infra, "add", "-A")
    _git(infra, "commit", "-q", "-m", "infra")

    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "NO_COLOR": "1"}

    def try_repo() -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "urr-audit", "--color", "never"]
        return subprocess.run(cmd, cwd=infra, env=env, capture_output=True, text=True, timeout=900, check=False)

    (infra / "README.md").write_text("docs only\n")
    _git(infra, "add", "README.md")
    r = try_repo()
    if r.returncode != 0 and "urr-audit" not in r.stdout:
        pytest.skip(f"pre-commit could not install the hook (no package index?): {r.stdout[-500:]} {r.stderr[-500:]}")
    assert r.returncode == 0 and "(no files to check)Skipped" in r.stdout.replace(".", ""), r.stdout
    _git(infra, "commit", "-q", "-m", "docs")

    (infra / "terraform" / "network.tf").write_text('resource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n')
    _git(infra, "add", "-A")
    r = try_repo()
    assert r.returncode == 1, r.stdout + r.stderr
    assert "URR-TF-000" in r.stdout and "terraform/network.tf:" in r.stdout

    (infra / "terraform" / "network.tf").write_text('resource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n}\n')
    _git(infra, "add", "-A")
    r = try_repo()
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Passed" in r.stdout
