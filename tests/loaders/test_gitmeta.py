from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from urr_audit.loaders.gitmeta import normalize_repo_url, read_git_meta, web_url
from urr_audit.workspace import Workspace


@pytest.mark.parametrize(
    "url",
    [
        "git@github.com:Org/App.git",
        "https://github.com/Org/App",
        "https://github.com/Org/App.git/",
        "ssh://git@github.com/Org/App.git",
        "https://user@GitHub.com:443/Org/App.git",
    ],
)
def test_normalize_repo_url_forms_agree(url):
    assert normalize_repo_url(url) == "github.com/Org/App"


def test_web_url():
    assert web_url("git@gitlab.com:team/infra.git") == "https://gitlab.com/team/infra"
    assert web_url("/srv/git/infra.git") is None


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_reads_remotes_branch_and_commit_as_git_does(tmp_path):
    _git(tmp_path, "init", "-q", "-b", "trunk")
    _git(tmp_path, "remote", "add", "origin", "git@github.com:acme/platform.git")
    _git(tmp_path, "remote", "add", "upstream", "https://example.org/x/y")
    (tmp_path / "a.tf").write_text("")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "x")
    meta = read_git_meta(Workspace(tmp_path))
    assert meta.remotes == {"origin": "git@github.com:acme/platform.git", "upstream": "https://example.org/x/y"}
    assert meta.branch == "trunk"
    assert meta.commit == _git(tmp_path, "rev-parse", "HEAD")
    _git(tmp_path, "pack-refs", "--all")
    assert read_git_meta(Workspace(tmp_path)).commit == meta.commit
    _git(tmp_path, "checkout", "-q", "--detach")
    detached = read_git_meta(Workspace(tmp_path))
    assert (detached.branch, detached.commit) == (None, meta.commit)


def test_no_git_directory_means_nothing_known(tmp_path):
    (tmp_path / ".git").write_text("gitdir: /elsewhere/.git/worktrees/x\n")
    meta = read_git_meta(Workspace(tmp_path))
    assert (meta.remotes, meta.branch, meta.commit) == ({}, None, None)


def test_branch_and_tag_names_loose_packed_and_remote(tmp_path):
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "remote", "add", "origin", "https://github.com/acme/platform.git")
    (tmp_path / "a.tf").write_text("")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "x")
    _git(tmp_path, "branch", "release/2024-06")
    _git(tmp_path, "tag", "v1.4.2")
    _git(tmp_path, "update-ref", "refs/remotes/origin/hotfix", "HEAD")
    meta = read_git_meta(Workspace(tmp_path))
    assert meta.branches == ["hotfix", "main", "release/2024-06"]
    assert meta.tags == ["v1.4.2"]
    _git(tmp_path, "pack-refs", "--all")
    packed = read_git_meta(Workspace(tmp_path))
    assert (packed.branches, packed.tags) == (meta.branches, meta.tags)
