"""Local composite actions and reusable workflows linked to their users; remote ones recorded,
never fetched; load errors of each kind."""

from __future__ import annotations

from .helpers import load

CALLER = """
on:
  workflow_dispatch:
    inputs:
      environment:
        type: choice
        options: [staging, prod]
  push:
jobs:
  setup:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: ./.github/actions/setup
        with:
          node: "20"
  deploy:
    needs: setup
    uses: ./.github/workflows/deploy.yml
    with:
      service: cart
      environment: ${{ inputs.environment || 'staging' }}
    secrets: inherit
  remote:
    uses: octo/shared/.github/workflows/scan.yml@v2
"""

DEPLOY = """
on:
  workflow_call:
    inputs:
      service: {type: string, required: true}
      environment: {type: string, default: staging}
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - run: echo deploy ${{ inputs.service }}
"""

SETUP = """
name: Setup
description: toolchain
inputs:
  node:
    description: Node version
    required: true
runs:
  using: composite
  steps:
    - uses: ./.github/actions/cache
    - run: echo ${{ inputs.node }}
      shell: bash
"""

CACHE = """
name: Cache
description: cache
runs:
  using: composite
  steps:
    - uses: actions/cache@v4
      with: {path: ~/.npm, key: npm}
"""


def test_composite_actions_are_followed_transitively(tmp_path):
    project, errors = load(
        tmp_path,
        {
            ".github/workflows/ci.yml": CALLER,
            ".github/workflows/deploy.yml": DEPLOY,
            ".github/actions/setup/action.yml": SETUP,
            ".github/actions/cache/action.yaml": CACHE,
        },
    )
    assert [e.level for e in errors] == ["note"]
    assert [a.file for a in project.actions] == [
        ".github/actions/cache/action.yaml",
        ".github/actions/setup/action.yml",
    ]
    setup = project.action(".github/actions/setup")
    assert setup is not None and setup.using == "composite" and setup.inputs["node"].required
    assert setup.steps[0].address == ".github/actions/setup/action.yml/steps/0"
    assert setup.steps[1].run is not None and setup.steps[1].run.shell == "bash"
    uses = project.workflows[0].jobs["setup"].steps[1].uses
    assert uses is not None and uses.kind == "local-action" and uses.target == ".github/actions/setup/action.yml"
    assert any(s.address.startswith(".github/actions/cache") for s in project.steps())


def test_reusable_workflow_is_linked_to_its_callers(tmp_path):
    project, errors = load(
        tmp_path,
        {
            ".github/workflows/ci.yml": CALLER,
            ".github/workflows/deploy.yml": DEPLOY,
            ".github/actions/setup/action.yml": SETUP,
        },
    )
    ci = project.workflow(".github/workflows/ci.yml")
    deploy = project.workflow(".github/workflows/deploy.yml")
    assert ci is not None and deploy is not None
    job = ci.jobs["deploy"]
    assert job.called == ".github/workflows/deploy.yml"
    assert [(c.workflow, c.job, c.span.line) for c in deploy.callers] == [(".github/workflows/ci.yml", "deploy", 18)]
    assert [(w.path, j.id) for w, j in project.callers_of(deploy.path)] == [(ci.path, "deploy")]
    assert job.secrets_inherit is not None
    remote = ci.jobs["remote"]
    assert remote.uses is not None and remote.uses.kind == "reusable-workflow" and remote.called is None
    (note,) = [e for e in errors if e.kind == "workflows.remote"]
    assert note.level == "note" and note.line == 24 and "not fetched" in note.message


def test_call_input_values_enumerate_the_callers_choices(tmp_path):
    from urr_audit.model.workflows import call_input_values, input_domains

    project, _ = load(tmp_path, {".github/workflows/ci.yml": CALLER, ".github/workflows/deploy.yml": DEPLOY})
    ci = project.workflow(".github/workflows/ci.yml")
    assert ci is not None
    assert input_domains(ci) == {"environment": ["staging", "prod", None]}
    assert call_input_values(ci, ci.jobs["deploy"]) == {"service": ["cart"], "environment": ["staging", "prod"]}


def test_missing_local_targets_are_recorded_not_errors(tmp_path):
    project, errors = load(tmp_path, {".github/workflows/ci.yml": CALLER})
    assert [e.kind for e in errors] == ["workflows.remote"]
    ci = project.workflows[0]
    assert ci.jobs["deploy"].uses is not None and ci.jobs["deploy"].uses.target is None
    assert ci.jobs["deploy"].called is None
    assert ci.jobs["setup"].steps[1].uses is not None and ci.jobs["setup"].steps[1].uses.target is None


def test_load_errors_by_kind(tmp_path):
    _, errors = load(
        tmp_path,
        {
            ".github/workflows/a.yml": "on: [push\n",
            ".github/workflows/b.yaml": "",
            ".github/workflows/c.yml": "- 1\n",
            ".github/workflows/d.yml": "on: push\n---\non: push\n",
            ".github/workflows/e.yml": "on: push\njobs:\n  x:\n    runs-on: a\n    steps:\n      - run: echo ${{ 1 +}}\n",
            ".github/workflows/nested/ignored.yml": "- not read: GitHub reads only the directory itself\n",
            ".github/workflows/notes.txt": "ignored",
        },
    )
    assert [(e.path.rsplit("/", 1)[-1], e.kind, e.line) for e in errors] == [
        ("a.yml", "workflows.yaml", 1),
        ("b.yaml", "workflows.not-a-mapping", 1),
        ("c.yml", "workflows.not-a-mapping", 1),
        ("d.yml", "workflows.yaml", 3),
        ("e.yml", "workflows.expression", 6),
    ]


def test_alias_bomb_is_refused(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        bomb += f"{chr(97 + i)}: &{chr(97 + i)} [*{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}]\n"
    _, errors = load(tmp_path, {".github/workflows/bomb.yml": bomb})
    assert [e.kind for e in errors] == ["workflows.yaml"] and "aliasing" in errors[0].message


def test_anchors_and_merge_keys_work(tmp_path):
    project, errors = load(
        tmp_path,
        {
            ".github/workflows/ci.yml": """
            on: push
            jobs:
              a: &job
                runs-on: ubuntu-latest
                env: &env
                  MODE: test
                steps:
                  - run: echo ${{ env.MODE }}
              b:
                <<: *job
                env:
                  <<: *env
                  EXTRA: "1"
            """
        },
    )
    assert errors == []
    b = project.workflows[0].jobs["b"]
    assert set(b.env) == {"MODE", "EXTRA"}
    assert b.env["MODE"].span.line == 6  # where the anchored value is written
    assert b.steps[0].run is not None and b.steps[0].run.script.exprs[0].span.line == 8


def test_deep_nesting_is_a_load_error(tmp_path):
    _, errors = load(tmp_path, {".github/workflows/deep.yml": "on: push\nx: " + "[" * 500 + "]" * 500 + "\n"})
    assert [e.kind for e in errors] == ["workflows.yaml"] and "nests deeper" in errors[0].message


def test_from_json_of_deep_text_is_unknown_not_a_crash():
    from urr_audit.loaders.workflows.expressions import parse
    from urr_audit.model.gha_expr import Unknown, evaluate

    assert isinstance(evaluate(parse("fromJSON('" + "[" * 5000 + "]" * 5000 + "')"), {}), Unknown)
