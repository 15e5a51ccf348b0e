"""Triggers, permissions and their resolution, uses and ref classification, matrix expansion,
job and step fields with their lines."""

from __future__ import annotations

import pytest

from urr_audit.loaders.workflows.build import expand_matrix, parse_uses
from urr_audit.model.common import Span
from urr_audit.model.workflows import classify_ref, effective_permissions

from .helpers import one

SPAN = Span(path="x", line=1, end_line=1)


@pytest.mark.parametrize(
    ("ref", "kind"),
    [
        ("8e5e7e5ab8b370d6c329ec480221332ada57f0ab", "sha"),
        ("v4", "version"),
        ("v4.1.7", "version"),
        ("1.2.3", "version"),
        ("v2.0.0-rc.1", "version"),
        ("main", "branch"),
        ("master", "branch"),
        ("release/v1", "branch"),
        ("8e5e7e5", "branch"),  # a short SHA is resolved as a ref name
        (None, "none"),
    ],
)
def test_classify_ref(ref, kind):
    assert classify_ref(ref) == kind


def test_parse_uses_forms():
    u = parse_uses("actions/checkout@v4", SPAN, 9, None, job_level=False)
    assert (u.kind, u.owner, u.repo, u.path, u.ref, u.ref_kind, u.action) == (
        "action",
        "actions",
        "checkout",
        None,
        "v4",
        "version",
        "actions/checkout",
    )
    u = parse_uses("github/codeql-action/upload-sarif@v3", SPAN, 1, None, job_level=False)
    assert (u.repo, u.path, u.action) == ("codeql-action", "upload-sarif", "github/codeql-action/upload-sarif")
    u = parse_uses("octo/pipelines/.github/workflows/build.yml@main", SPAN, 1, None, job_level=True)
    assert (u.kind, u.ref_kind) == ("reusable-workflow", "branch")
    u = parse_uses("docker://alpine:3.20", SPAN, 1, None, job_level=False)
    assert (u.kind, u.image) == ("docker", "alpine:3.20")
    u = parse_uses("aquasecurity/trivy-action", SPAN, 1, None, job_level=False)
    assert (u.ref, u.ref_kind) == (None, "none")


def test_matrix_expansion_github_docs_include_example():
    got = expand_matrix(
        {"fruit": ["apple", "pear"], "animal": ["cat", "dog"]},
        [
            {"color": "green"},
            {"color": "pink", "animal": "cat"},
            {"fruit": "apple", "shape": "circle"},
            {"fruit": "banana"},
            {"fruit": "banana", "animal": "cat"},
        ],
        [],
    )
    assert got == [
        {"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
        {"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
        {"fruit": "pear", "animal": "cat", "color": "pink"},
        {"fruit": "pear", "animal": "dog", "color": "green"},
        {"fruit": "banana"},
        {"fruit": "banana", "animal": "cat"},
    ]


def test_matrix_expansion_github_docs_exclude_example():
    got = expand_matrix(
        {"os": ["macos-latest", "windows-latest"], "version": [12, 14, 16], "environment": ["staging", "production"]},
        [],
        [{"os": "macos-latest", "version": 12, "environment": "production"}, {"os": "windows-latest", "version": 16}],
    )
    assert got is not None and len(got) == 9
    assert {"os": "windows-latest", "version": 16, "environment": "staging"} not in got


def test_matrix_too_large_is_unknown():
    assert expand_matrix({"a": list(range(20)), "b": list(range(20))}, [], []) is None


def test_matrix_in_a_workflow_literal_and_expression(tmp_path):
    wf = one(
        tmp_path,
        """
        on: push
        jobs:
          literal:
            runs-on: ubuntu-latest
            strategy:
              matrix:
                service: [auth, ticket]
                java: ["17", "21"]
                exclude:
                  - service: auth
                    java: "17"
                include:
                  - service: web
                    node: 20
            steps: [{run: echo}]
          dynamic:
            runs-on: ubuntu-latest
            strategy:
              matrix:
                service: ${{ fromJSON(needs.changes.outputs.services) }}
            steps: [{run: echo}]
        """,
    )
    m = wf.jobs["literal"].matrix
    assert m is not None and m.combinations == [
        {"service": "auth", "java": "21"},
        {"service": "ticket", "java": "17"},
        {"service": "ticket", "java": "21"},
        {"service": "web", "node": 20},
    ]
    assert m.axes["service"].span.line == 7
    d = wf.jobs["dynamic"].matrix
    assert d is not None and d.combinations is None and "expression" in d.unknown_reason
    assert d.axes["service"].expr is not None
    assert d.axes["service"].expr.exprs[0].refs[0].dotted == "needs.changes.outputs.services"


PERMS = """
on: push
permissions:
  contents: read
  pull-requests: write
jobs:
  inherits:
    runs-on: ubuntu-latest
    steps: [{run: echo}]
  own:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    steps: [{run: echo}]
  none:
    runs-on: ubuntu-latest
    permissions: {}
    steps: [{run: echo}]
  all:
    runs-on: ubuntu-latest
    permissions: write-all
    steps: [{run: echo}]
"""


def test_effective_permissions_job_over_workflow(tmp_path):
    wf = one(tmp_path, PERMS)
    inherits = effective_permissions(wf, wf.jobs["inherits"], "permissive")
    assert (inherits.source, inherits.level("contents"), inherits.level("pull-requests")) == (
        "workflow",
        "read",
        "write",
    )
    assert inherits.level("issues") == "none"  # a written block grants nothing else
    assert inherits.span is not None and inherits.span.line == 2
    own = effective_permissions(wf, wf.jobs["own"], "permissive")
    assert (own.source, own.level("id-token"), own.level("contents")) == ("job", "write", "none")
    assert effective_permissions(wf, wf.jobs["none"], "permissive").writes() == []
    assert "contents" in effective_permissions(wf, wf.jobs["all"], "restricted").writes()
    assert wf.permissions is not None and wf.permissions.scope_spans["pull-requests"].line == 4


def test_effective_permissions_default_is_a_parameter(tmp_path):
    wf = one(tmp_path, "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n")
    permissive = effective_permissions(wf, wf.jobs["a"], "permissive")
    restricted = effective_permissions(wf, wf.jobs["a"], "restricted")
    assert permissive.source == "default" and permissive.level("contents") == "write"
    assert permissive.level("id-token") == "none"
    assert restricted.level("contents") == "read" and restricted.writes() == []


def test_read_all_preset(tmp_path):
    wf = one(tmp_path, "on: push\npermissions: read-all\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n")
    eff = effective_permissions(wf, wf.jobs["a"], "permissive")
    assert eff.level("actions") == "read" and eff.writes() == []


def test_triggers_filters_inputs_and_yaml11_on(tmp_path):
    wf = one(
        tmp_path,
        """
        %YAML 1.1
        ---
        on:
          push:
            branches: [main, 'release/**']
            paths-ignore: [docs/**]
          pull_request_target:
            types: [opened, synchronize]
          schedule:
            - cron: '0 2 * * 1'
          workflow_dispatch:
            inputs:
              environment:
                type: choice
                options: [staging, prod]
                default: staging
                required: true
              dry-run:
                type: boolean
          workflow_call:
            inputs:
              service:
                type: string
                required: true
            secrets:
              TOKEN:
                required: true
            outputs:
              tag:
                value: ${{ jobs.build.outputs.tag }}
        jobs:
          build:
            runs-on: ubuntu-latest
            outputs:
              tag: ${{ steps.t.outputs.tag }}
            steps: [{id: t, run: echo}]
        """,
    )
    assert wf.events == ["push", "pull_request_target", "schedule", "workflow_dispatch", "workflow_call"]
    push = wf.trigger("push")
    assert push is not None and push.branches == ["main", "release/**"] and push.paths_ignore == ["docs/**"]
    assert push.span.line == 4
    prt = wf.trigger("pull_request_target")
    assert prt is not None and prt.types == ["opened", "synchronize"]
    sched = wf.trigger("schedule")
    assert sched is not None and [c.text for c in sched.crons] == ["0 2 * * 1"]
    dispatch = wf.trigger("workflow_dispatch")
    assert dispatch is not None
    env = dispatch.inputs["environment"]
    assert (env.type, env.options, env.required, env.default and env.default.text) == (
        "choice",
        ["staging", "prod"],
        True,
        "staging",
    )
    assert dispatch.inputs["dry-run"].type == "boolean"
    call = wf.trigger("workflow_call")
    assert call is not None and call.inputs["service"].required and call.secrets["TOKEN"].required
    out = call.outputs["tag"].value
    assert out is not None and out.exprs[0].refs[0].dotted == "jobs.build.outputs.tag"
    assert wf.is_reusable


def test_job_and_step_fields(tmp_path):
    wf = one(
        tmp_path,
        """
        on: push
        defaults:
          run:
            shell: bash
            working-directory: app
        jobs:
          deploy:
            name: Deploy ${{ github.ref_name }}
            needs: [build]
            if: github.ref == 'refs/heads/main'
            runs-on: [self-hosted, linux]
            environment:
              name: production
              url: https://example.com
            concurrency:
              group: deploy
              cancel-in-progress: false
            continue-on-error: ${{ matrix.experimental }}
            timeout-minutes: 30
            container:
              image: node:20
              credentials:
                username: bot
                password: ${{ secrets.REGISTRY_PASSWORD }}
            services:
              db:
                image: postgres:16
                env:
                  POSTGRES_PASSWORD: example
            steps:
              - id: unit
                name: Unit tests
                run: npm test
                shell: sh
                continue-on-error: true
                env:
                  CI: "true"
              - uses: actions/upload-artifact@v4
                if: always()
                with:
                  name: report
          build:
            runs-on: ubuntu-latest
            steps: [{run: make}]
        """,
    )
    job = wf.jobs["deploy"]
    assert job.address == ".github/workflows/ci.yml/jobs/deploy"
    assert [n.job for n in job.needs] == ["build"]
    assert [s.text for s in job.runs_on] == ["self-hosted", "linux"]
    assert job.environment is not None and job.environment.name is not None
    assert job.environment.name.text == "production" and job.environment.name.span.line == 13
    assert job.concurrency is not None and job.concurrency.cancel_in_progress is not None
    assert job.continue_on_error is not None and job.continue_on_error.is_expression
    assert job.container is not None and job.container.password is not None
    assert job.container.password.exprs[0].refs[0].dotted == "secrets.REGISTRY_PASSWORD"
    assert job.services["db"].env["POSTGRES_PASSWORD"].text == "example"
    unit = job.steps[0]
    assert unit.address == ".github/workflows/ci.yml/jobs/deploy/steps/0"
    assert unit.run is not None and unit.run.shell == "sh"
    assert unit.run.working_directory is not None and unit.run.working_directory.text == "app"
    assert unit.continue_on_error is not None and unit.continue_on_error.value is True
    assert unit.continue_on_error.span.line == 35
    assert unit.label == "Unit tests"
    upload = job.steps[1]
    assert upload.condition is not None and upload.condition.expr is not None
    assert upload.condition.expr.calls == ("always",)
    assert upload.with_["name"].text == "report"
    assert job.name is not None and job.name.exprs[0].column == 18


def test_reusable_call_job(tmp_path):
    wf = one(
        tmp_path,
        """
        on: push
        jobs:
          call:
            uses: octo/pipelines/.github/workflows/deploy.yml@0123456789abcdef0123456789abcdef01234567
            with:
              env: prod
            secrets: inherit
          call2:
            uses: octo/pipelines/.github/workflows/deploy.yml@v1
            secrets:
              TOKEN: ${{ secrets.DEPLOY_TOKEN }}
        """,
    )
    call = wf.jobs["call"]
    assert call.is_call and call.uses is not None and call.uses.ref_kind == "sha"
    assert call.secrets_inherit is not None and call.secrets_inherit.line == 7
    assert call.with_["env"].text == "prod"
    assert wf.jobs["call2"].secrets["TOKEN"].exprs[0].refs[0].dotted == "secrets.DEPLOY_TOKEN"


def test_step_type_for_engine_indexing(tmp_path):
    wf = one(
        tmp_path,
        """
        on: push
        jobs:
          a:
            runs-on: x
            steps:
              - uses: actions/checkout@v4
              - uses: github/codeql-action/upload-sarif@v3
              - uses: ./local
              - uses: docker://alpine
              - run: make
        """,
    )
    assert [s.type for s in wf.jobs["a"].steps] == [
        "actions/checkout",
        "github/codeql-action/upload-sarif",
        "local",
        "docker",
        "run",
    ]
