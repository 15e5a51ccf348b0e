"""What CI jobs do, read from their steps, and the values run-time strings can take."""

from __future__ import annotations

from urr_audit.facts.activities import (
    describe_cron,
    expand,
    input_values,
    job_activities,
    normalized,
    output_source,
    scalar_values,
    summary,
)
from urr_audit.scan import scan

DEPLOY = """\
name: Deploy
on:
  workflow_call:
    inputs:
      env: {type: string, required: true}
      app: {type: string, required: true}
      jdk: {type: string, default: "17"}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-java@v4
        with: {distribution: temurin, java-version: "${{ inputs.jdk }}"}
      - run: ./mvnw -B verify
      - id: meta
        run: |
          SHA="$(git rev-parse --short HEAD)"
          echo "version=${SHA}" >> "$GITHUB_OUTPUT"
      - uses: docker/build-push-action@v6
        with:
          push: true
          platforms: linux/amd64,linux/arm64
          tags: ghcr.io/acme/${{ inputs.app }}:${{ steps.meta.outputs.version }}
  gitops:
    needs: build
    runs-on: ubuntu-latest
    steps:
      - run: |
          cd deploy/${{ inputs.env }}
          kustomize edit set image app=ghcr.io/acme/${{ inputs.app }}
          git commit -am "deploy" && git push
  smoke:
    needs: gitops
    if: github.event_name == 'schedule'
    runs-on: ubuntu-latest
    steps:
      - run: kubectl rollout status deploy/app
"""

CALLER = """\
name: Release {app}
on:
  push: {{branches: [main]}}
  workflow_dispatch:
    inputs:
      target: {{type: choice, options: [staging, production]}}
jobs:
  release:
    uses: ./.github/workflows/deploy.yml
    with:
      env: ${{{{ inputs.target || 'staging' }}}}
      app: {app}
"""

CHORES = """\
name: Chores
on:
  schedule: [{cron: "30 4 * * *"}]
jobs:
  tidy:
    runs-on: ubuntu-latest
    environment: ${{ github.ref_name == 'main' && 'prod' || 'dev' }}
    steps:
      - name: Say hello
        run: echo hello
      - run: if curl -fsS -d @msg.json "$SLACK_WEBHOOK_URL"; then echo ok; fi
"""


def _repo(tmp_path):
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "deploy.yml").write_text(DEPLOY)
    for app in ("api", "web"):
        (wf / f"release-{app}.yml").write_text(CALLER.format(app=app))
    (wf / "chores.yml").write_text(CHORES)
    return scan(tmp_path).project.workflows


def test_input_values_come_from_callers_dispatch_choices_and_defaults(tmp_path):
    wp = _repo(tmp_path)
    deploy = wp.workflow(".github/workflows/deploy.yml")
    values = input_values(wp, deploy)
    assert values == {"env": ["staging", "production"], "app": ["api", "web"], "jdk": ["17"]}
    release = wp.workflow(".github/workflows/release-api.yml")
    assert input_values(wp, release) == {"target": ["staging", "production", None]}  # push gives none


def test_expand_fills_inputs_and_gives_up_on_run_time_values(tmp_path):
    wp = _repo(tmp_path)
    deploy = wp.workflow(".github/workflows/deploy.yml")
    domains = input_values(wp, deploy)
    edit = next(e for st in wp.steps() for e in st.edits)
    assert str(edit.path).startswith("deploy/${{ inputs.env }}")
    assert expand(edit.path, domains) == ["deploy/staging/kustomization.yaml", "deploy/production/kustomization.yaml"]
    build = next(b for st in wp.steps() for b in st.builds)
    assert expand(build.tags[0].repository, domains) == ["acme/api", "acme/web"]
    assert expand(build.tags[0].tag, domains) is None  # a step output: known at run time only
    assert expand(edit.path, {"env": None}) is None  # free text


def test_what_jobs_do(tmp_path):
    wp = _repo(tmp_path)
    deploy = wp.workflow(".github/workflows/deploy.yml")
    build = [(a.kind, a.what, a.detail) for a in job_activities(deploy.jobs["build"])]
    assert ("setup", "sets up", "Java ${{ inputs.jdk }}") in build
    assert ("test", "runs tests:", "./mvnw -B verify") in build
    image = next(a for a in build if a[0] == "image")
    assert image[1] == "builds and pushes image"
    gitops = {a.kind for a in job_activities(deploy.jobs["gitops"])}
    assert {"gitops", "push"} <= gitops
    chores = wp.workflow(".github/workflows/chores.yml")
    tidy = job_activities(chores.jobs["tidy"])
    assert [a.kind for a in tidy] == ["gate", "notify"]  # `if curl ...`: the keyword is not the command
    assert summary(tidy) == ["deployment environment", "notifies"]
    assert summary(a for j in deploy.jobs.values() for a in job_activities(j)) == [
        "tests",
        "builds / pushes images",
        "rewrites manifests in the repository",
        "pushes commits",
        "cluster access",  # `kubectl rollout status` reads, it does not deploy
    ]


def test_values_of_a_written_expression(tmp_path):
    wp = _repo(tmp_path)
    chores = wp.workflow(".github/workflows/chores.yml")
    env = chores.jobs["tidy"].environment.name
    assert scalar_values(env, {}) is None  # reads github.ref_name: not enumerable
    release = wp.workflow(".github/workflows/release-api.yml")
    written = release.jobs["release"].with_["env"]
    assert scalar_values(written, input_values(wp, release)) == ["staging", "production"]


def test_output_source_shows_the_script_lines(tmp_path):
    wp = _repo(tmp_path)
    deploy = wp.workflow(".github/workflows/deploy.yml")
    lines = output_source(deploy.jobs["build"], "meta", "version")
    text = (tmp_path / ".github/workflows/deploy.yml").read_text().splitlines()
    assert [t for t, _ in lines] == ['SHA="$(git rev-parse --short HEAD)"', 'echo "version=${SHA}" >> "$GITHUB_OUTPUT"']
    for t, span in lines:
        assert text[span.line - 1].strip() == t
    assert output_source(deploy.jobs["build"], "nope", "version") == []


def test_describe_cron_and_normalized():
    assert describe_cron("30 4 * * *") == "every day at 04:30 UTC"
    assert describe_cron("0 2 * * 1") == "every Monday at 02:00 UTC"
    assert describe_cron("*/5 * * * *") is None
    assert normalized(["if", "FOO=1", "git", "push"]) == ["git", "push"]
