""".dockerignore matching, with the examples of Docker's build-context documentation."""

from __future__ import annotations

import pytest

from urr_audit.loaders.docker import load_docker
from urr_audit.loaders.docker.ignore import parse_dockerignore
from urr_audit.workspace import Workspace


def _ignore(text: str):
    return parse_dockerignore(".dockerignore", text)


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("somedir/temporary.txt", True),  # */temp*
        ("somedir/temp", True),
        ("somedir/temp/file.txt", True),  # everything below an excluded directory
        ("temporary.txt", False),
        ("somedir/subdir/temporary.txt", True),  # */*/temp*
        ("tempa", True),  # temp?
        ("tempab", False),
        ("src/main.go", False),
    ],
)
def test_the_documented_example(path, excluded):
    ignore = _ignore("# comment\n*/temp*\n*/*/temp*\ntemp?\n")
    assert ignore.excludes(path) is excluded


def test_double_star_matches_any_number_of_directories():
    ignore = _ignore("**/*.go\n")
    assert ignore.excludes("main.go") and ignore.excludes("a/b/c.go") and not ignore.excludes("a/b/c.gox")


@pytest.mark.parametrize(
    ("text", "included"),
    [
        ("*.md\n!README.md\n", {"README.md"}),
        ("*.md\n!README*.md\nREADME-secret.md\n", {"README.md", "README-x.md"}),
        ("*.md\nREADME-secret.md\n!README*.md\n", {"README.md", "README-x.md", "README-secret.md"}),
    ],
)
def test_exceptions_and_the_last_matching_pattern_wins(text, included):
    ignore = _ignore(text)
    names = ["README.md", "README-x.md", "README-secret.md", "CHANGELOG.md"]
    assert {n for n in names if not ignore.excludes(n)} == included


def test_paths_are_cleaned_and_relative_to_the_context_root():
    ignore = _ignore("\ufeff/build/\n./node_modules\n  .git  \n\n!build/keep.txt\n")
    assert [p.pattern for p in ignore.patterns] == ["build", "node_modules", ".git", "build/keep.txt"]
    assert ignore.excludes("build/libs/app.jar") and ignore.excludes("node_modules/x/index.js")
    assert not ignore.excludes("src/build.gradle")
    assert not ignore.excludes("build/keep.txt")
    assert not ignore.excludes(".")


def test_the_ignore_file_a_build_uses(tmp_path):
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "Dockerfile").write_text("FROM alpine:3\n")
    (tmp_path / "svc" / ".dockerignore").write_text("build\n")
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "api.Dockerfile").write_text("FROM alpine:3\n")
    (tmp_path / "docker" / "api.Dockerfile.dockerignore").write_text("*.md\n")
    project, errors = load_docker(Workspace(tmp_path))
    assert errors == [] and len(project.files) == 2
    assert project.ignore_for("svc/Dockerfile", "svc").path == "svc/.dockerignore"
    assert project.ignore_for("docker/api.Dockerfile", ".").path == "docker/api.Dockerfile.dockerignore"
    assert project.ignore_for("svc/Dockerfile", ".") is None
    assert project.file("svc/Dockerfile") is not None and project.file("nope") is None
