"""Schema violations from GitHub's published schemas: readable, anchored at the offending key."""

from __future__ import annotations

import pytest

from urr_audit.loaders.workflows import schema

from .helpers import load

pytestmark = pytest.mark.skipif(not schema.available(), reason="check-jsonschema's schema files are not installed")


FROBNICATE = (
    "unexpected key `frobnicate` (expected one of: background, cancel, continue-on-error, env, id, if, "
    "name, parallel, run, shell, timeout-minutes, uses, wait, wait-all, with, working-directory)"
)


def violations(tmp_path, text: str, name: str = ".github/workflows/ci.yml"):
    project, errors = load(tmp_path, {name: text})
    assert [e for e in errors if e.level == "error"] == []
    node = project.workflows[0] if project.workflows else project.actions[0]
    return [(v.span.line, v.location, v.message) for v in node.schema_errors]


def test_unknown_keys_with_hints_and_lines(tmp_path):
    got = violations(
        tmp_path,
        """
        on:
          push:
            branchs: [main]
        jobs:
          build:
            runs_on: ubuntu-latest
            steps:
              - run: make
                continue-on-erorr: true
                frobnicate: 1
        """,
    )
    assert got == [
        (3, "on.push.branchs", "unexpected key `branchs` (did you mean `branches`?)"),
        (6, "jobs.build.runs_on", "unexpected key `runs_on` (did you mean `runs-on`?)"),
        (
            9,
            "jobs.build.steps[0].continue-on-erorr",
            "unexpected key `continue-on-erorr` (did you mean `continue-on-error`?)",
        ),
        (
            10,
            "jobs.build.steps[0].frobnicate",
            FROBNICATE,
        ),
    ]


def test_wrong_types_say_what_was_expected(tmp_path):
    got = violations(
        tmp_path,
        """
        on: push
        jobs:
          build:
            runs-on: ubuntu-latest
            timeout-minutes: soon
            steps:
              - run: make
        """,
    )
    assert got == [(5, "jobs.build.timeout-minutes", "expected number or a `${{ }}` expression, found string `soon`")]


def test_missing_required_key(tmp_path):
    got = violations(tmp_path, "on: push\njobs:\n  build:\n    steps:\n      - run: make\n")
    assert got == [(3, "jobs.build", "`runs-on` is required")]


def test_valid_workflows_have_no_violations(tmp_path):
    assert violations(tmp_path, "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: make\n") == []


def test_action_schema(tmp_path):
    (tmp_path / ".github/workflows").mkdir(parents=True)
    (tmp_path / ".github/workflows/ci.yml").write_text(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: ./act\n"
    )
    project, _ = load(tmp_path, {"act/action.yml": "name: A\nruns:\n  using: composite\n  stepz: []\n"})
    (action,) = project.actions
    # `description` is missing too, but the runner does not need it: not reported
    assert [(v.span.line, v.location, v.message) for v in action.schema_errors] == [
        (4, "runs.stepz", "unexpected key `stepz` (did you mean `steps`?)"),
    ]


def test_validator_is_imported_only_for_workflows(tmp_path):
    import subprocess
    import sys

    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "b" {}\n')
    code = (
        "import sys; from urr_audit.cli import app; from urr_audit.loaders import load_project; "
        f"load_project({str(tmp_path)!r}); print('jsonschema' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
