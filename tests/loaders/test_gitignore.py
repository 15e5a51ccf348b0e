"""`.gitignore` files read through the Workspace and matched as git matches them."""

from __future__ import annotations

import pytest

from urr_audit.loaders import load_project
from urr_audit.model.gitignore import GitIgnore, IgnoreFile


def _gi(**files: str) -> GitIgnore:
    return GitIgnore(
        files=[
            IgnoreFile(path=p.replace("__", "/").replace("_gitignore", ".gitignore"), lines=t.splitlines())
            for p, t in files.items()
        ],
        repository_root=True,
    )


@pytest.mark.parametrize(
    ("path", "is_dir", "expected"),
    [
        ("envs/prod/terraform.tfstate", False, True),
        ("envs/prod/terraform.tfstate.backup", False, True),
        ("envs/prod/.terraform", True, True),
        ("envs/prod/.terraform/providers/x", False, True),
        ("envs/prod/secrets.auto.tfvars", False, True),
        ("envs/prod/terraform.tfvars", False, False),  # re-included by the deeper file
        ("envs/dev/terraform.tfvars", False, True),
        ("envs/prod/example.tfvars", False, False),  # negated in the root file
        ("build/x.zip", False, True),
        ("build/keep.txt", False, True),  # inside an ignored directory: cannot be re-included
        ("main.tf", False, False),
    ],
)
def test_git_precedence(path, is_dir, expected):
    gi = _gi(
        _gitignore="*.tfstate\n*.tfstate.*\n.terraform/\n*.tfvars\n!example.tfvars\nbuild/\n!build/keep.txt\n",
        envs__prod___gitignore="!terraform.tfvars\n",
    )
    assert gi.ignored(path, is_dir) is expected


def test_deciding_file_names_the_last_match():
    gi = _gi(_gitignore="*.tfvars\n", envs__prod___gitignore="!terraform.tfvars\n")
    assert gi.deciding_file("envs/prod/terraform.tfvars") == "envs/prod/.gitignore"
    assert gi.deciding_file("envs/dev/terraform.tfvars") == ".gitignore"
    assert gi.deciding_file("main.tf") is None


def test_read_from_the_repository(tmp_path):
    (tmp_path / ".gitignore").write_text("# Terraform\n.terraform/\n*.tfstate\n")
    (tmp_path / "envs").mkdir()
    (tmp_path / "envs" / ".gitignore").write_text("*.tfvars\n")
    (tmp_path / "envs" / "main.tf").write_text("")
    gi = load_project(tmp_path).gitignore
    assert [f.path for f in gi.files] == [".gitignore", "envs/.gitignore"]
    assert gi.known and not gi.repository_root
    assert gi.ignored("envs/prod.tfvars") and not gi.ignored("prod.tfvars")
    (tmp_path / ".git").mkdir()
    assert load_project(tmp_path).gitignore.repository_root


def test_without_git_or_root_ignore_file_nothing_is_known(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".gitignore").write_text("*.tfstate\n")
    assert not load_project(tmp_path).gitignore.known
