"""The pipeline rules URR-GHA-040..047 beyond their bad/good fixtures: the edges of each
decision (what is left alone), the facts they stand on, params, and what they report on the
seed's repository (true of those files) and its mended twin (silent)."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from textwrap import dedent

import pytest

from tests.conftest import FIXTURES
from urr_audit.facts.gha_calls import git_push_targets, run_domains
from urr_audit.loaders.gitmeta import read_git_meta
from urr_audit.model.common import Span
from urr_audit.model.workflows import ShellCommand
from urr_audit.scan import scan
from urr_audit.workspace import Workspace

PIPELINE = [f"URR-GHA-{n:03d}" for n in range(40, 48)]
WF = ".github/workflows"


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(dedent(text).lstrip())
    return tmp_path


def _found(root: Path, rule: str, **kw) -> list[tuple[str, int, str]]:
    report = scan(root, select=[rule], **kw)
    return [(f.path, f.line, f.message) for f in report.result.findings if f.rule_id == rule]


# --- facts ---------------------------------------------------------------------------------


def _cmd(*argv: str) -> ShellCommand:
    return ShellCommand(argv=list(argv), span=Span(path="x", line=1, end_line=1))


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["git", "push"], (True, [None])),
        (["git", "push", "origin"], (True, [None])),
        (["git", "push", "origin", "HEAD:main"], (True, ["main"])),
        (["git", "push", "-f", "origin", "+HEAD:refs/heads/main"], (True, ["main"])),
        (["git", "push", "origin", "main", "develop"], (True, ["main", "develop"])),
        (["git", "push", "origin", "HEAD"], (True, [None])),
        (["git", "push", "origin", "HEAD:${{ github.ref_name }}"], (True, [None])),
        (["git", "push", "origin", "--tags"], (False, [])),
        (["git", "push", "origin", "v1.2.0:refs/tags/v1.2.0"], (False, [])),
        (["git", "push", "origin", "--delete", "old"], (False, [])),
        (["git", "push", "origin", ":old"], (False, [])),
        (["git", "-C", "site", "push", "origin", "gh-pages"], (True, ["gh-pages"])),
        (["if", "git", "push", "origin", "HEAD:main"], (True, ["main"])),
        (["git", "pull", "--rebase", "origin", "main"], None),
        (["echo", "git", "push"], None),
    ],
)
def test_git_push_targets(argv, expected):
    assert git_push_targets(_cmd(*argv)) == expected


def test_run_domains(tmp_path):
    root = _repo(
        tmp_path,
        {
            f"{WF}/push.yml": """
                on:
                  push:
                    branches: [main, release]
                jobs:
                  a: {runs-on: ubuntu-latest, steps: [{run: x}]}
            """,
            f"{WF}/glob.yml": """
                on:
                  push:
                    branches: ["release/*"]
                jobs:
                  a: {runs-on: ubuntu-latest, steps: [{run: x}]}
            """,
            f"{WF}/dispatch.yml": """
                on:
                  workflow_dispatch:
                    inputs:
                      env: {type: choice, options: [staging, prod]}
                      note: {type: string}
                  schedule: [{cron: "0 1 * * *"}]
                jobs:
                  a: {runs-on: ubuntu-latest, steps: [{run: x}]}
            """,
            f"{WF}/shared.yml": """
                on:
                  workflow_call:
                    inputs:
                      flag: {type: boolean, default: true}
                jobs:
                  a: {runs-on: ubuntu-latest, steps: [{run: x}]}
            """,
        },
    )
    project = scan(root, select=["URR-GHA-043"]).project.workflows
    d = run_domains(project, project.workflow(f"{WF}/push.yml"))
    assert d.values == {"github.event_name": ["push"], "github.ref": ["refs/heads/main", "refs/heads/release"]}
    assert "github.ref" not in run_domains(project, project.workflow(f"{WF}/glob.yml")).values
    d = run_domains(project, project.workflow(f"{WF}/dispatch.yml"))
    # a scheduled run has no inputs (null); free text is not enumerable
    assert d.values["inputs.env"] == ["staging", "prod", None]
    assert "inputs.note" not in d.values and "github.ref" not in d.values
    # called by nothing here: another repository may call it with any event and any input
    d = run_domains(project, project.workflow(f"{WF}/shared.yml"))
    assert d.open_callers and "github.event_name" not in d.values and "inputs.flag" not in d.values


def test_git_meta_reads_the_remote_default_branch(tmp_path):
    git = tmp_path / ".git"
    (git / "refs" / "remotes" / "origin").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/feature\n")
    (git / "config").write_text('[remote "origin"]\n\turl = git@github.com:acme/app.git\n')
    (git / "refs" / "remotes" / "origin" / "HEAD").write_text("ref: refs/remotes/origin/trunk\n")
    assert read_git_meta(Workspace(tmp_path)).default_branch == "trunk"
    (git / "refs" / "remotes" / "origin" / "HEAD").unlink()
    assert read_git_meta(Workspace(tmp_path)).default_branch is None


# --- URR-GHA-040 ---------------------------------------------------------------------------

CALLEE = """
    on:
      workflow_call:
    jobs:
      publish:
        runs-on: ubuntu-latest
        permissions:
          contents: write
          packages: write
        steps: [{run: make publish}]
"""


def test_call_permissions_follow_the_default_param(tmp_path):
    root = _repo(
        tmp_path,
        {
            f"{WF}/publish.yml": CALLEE,
            f"{WF}/release.yml": """
                on: {release: {types: [published]}}
                jobs:
                  go:
                    uses: ./.github/workflows/publish.yml
            """,
        },
    )
    # permissive (read/write everywhere but id-token): the call starts
    assert _found(root, "URR-GHA-040") == []
    rules = tmp_path.parent / f"{tmp_path.name}-rules"
    rules.mkdir()
    (rules / "ORG-CALL-001.yaml").write_text(
        dedent(
            """
            id: ORG-CALL-001
            title: Calls get what callees ask (restricted default)
            severity: high
            category: pipeline
            check: gha-call-permissions
            params:
              default: restricted
            rationale: Our organisation's default token is read-only.
            remediation: Grant the scopes.
            """
        )
    )
    got = _found(root, "ORG-CALL-001", rule_dirs=(rules,))
    assert [(p, n) for p, n, _ in got] == [(f"{WF}/release.yml", 4)]
    assert "`contents: write` (job `publish`) but gets `contents: read`" in got[0][2]
    assert "`packages: write` (job `publish`) but gets `packages: read`" in got[0][2]


def test_call_permissions_ignore_remote_callees_and_callees_that_ask_nothing(tmp_path):
    root = _repo(
        tmp_path,
        {
            f"{WF}/plain.yml": """
                on: workflow_call
                jobs:
                  a: {runs-on: ubuntu-latest, steps: [{run: make}]}
            """,
            f"{WF}/ci.yml": """
                on: push
                permissions: {}
                jobs:
                  local:
                    uses: ./.github/workflows/plain.yml
                  remote:
                    uses: acme/workflows/.github/workflows/deploy.yml@v1
            """,
        },
    )
    assert _found(root, "URR-GHA-040") == []


# --- URR-GHA-043 ---------------------------------------------------------------------------


def test_dead_condition_leaves_unknowns_and_open_reusable_workflows_alone(tmp_path):
    root = _repo(
        tmp_path,
        {
            f"{WF}/shared.yml": """
                on: workflow_call
                jobs:
                  a:
                    if: github.event_name == 'push'
                    runs-on: ubuntu-latest
                    steps: [{run: make}]
            """,
            f"{WF}/dispatch.yml": """
                on: workflow_dispatch
                jobs:
                  a:
                    if: github.ref == 'refs/heads/main'
                    runs-on: ubuntu-latest
                    steps: [{run: make}]
                  b:
                    if: github.event_name == 'workflow_dispatch' && steps.x.outputs.y == 'z'
                    runs-on: ubuntu-latest
                    steps: [{run: make}]
                  c:
                    if: needs.a.result == 'failure' && github.event_name == 'push'
                    needs: a
                    runs-on: ubuntu-latest
                    steps: [{run: make}]
                  d:
                    if: failure() && github.event_name == 'push'
                    needs: a
                    runs-on: ubuntu-latest
                    steps: [{run: make}]
            """,
        },
    )
    got = _found(root, "URR-GHA-043")
    # `c` and `d` can never run on a workflow_dispatch-only workflow, whatever `a` did
    assert [(p, n) for p, n, _ in got] == [(f"{WF}/dispatch.yml", 12), (f"{WF}/dispatch.yml", 17)]


# --- URR-GHA-045 ---------------------------------------------------------------------------


def test_default_branch_from_git_and_params(tmp_path):
    root = _repo(
        tmp_path,
        {
            f"{WF}/bump.yml": """
                on: workflow_dispatch
                jobs:
                  a:
                    runs-on: ubuntu-latest
                    steps:
                      - run: git push origin HEAD:trunk
            """,
        },
    )
    assert _found(root, "URR-GHA-045") == []
    git = tmp_path / ".git"
    (git / "refs" / "remotes" / "origin").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/trunk\n")
    (git / "config").write_text('[remote "origin"]\n\turl = https://github.com/acme/app\n')
    (git / "refs" / "remotes" / "origin" / "HEAD").write_text("ref: refs/remotes/origin/trunk\n")
    assert [(p, n) for p, n, _ in _found(root, "URR-GHA-045")] == [(f"{WF}/bump.yml", 6)]


# --- the seed's repository -----------------------------------------------------------------


@pytest.fixture(scope="module")
def urr():
    return scan(FIXTURES / "repos" / "urr", select=PIPELINE).result.findings


def _lines(path: str, needle: str, repo: str = "urr") -> list[int]:
    text = (FIXTURES / "repos" / repo / path).read_text().splitlines()
    return [n for n, line in enumerate(text, 1) if needle in line]


def test_urr_pipeline_findings(urr):
    assert Counter(f.rule_id for f in urr) == {
        "URR-GHA-040": 1,  # load-tests.yml's chaos job asks id-token: write of a contents: read call
        "URR-GHA-042": 1,  # community-service passes `skip-integration-tests`, which the callee does not declare
        "URR-GHA-043": 1,  # a push-only coverage step in the pull_request-only PR validation
        "URR-GHA-045": 3,  # the two manifest updates and the rollback push HEAD:main
        "URR-GHA-046": 3,  # ... with [skip ci]
    }
    reusable = f"{WF}/reusable-spring-ci-cd.yml"
    at = {(f.rule_id, f.path, f.line) for f in urr}
    assert ("URR-GHA-040", reusable, _lines(reusable, "uses: ./.github/workflows/load-tests.yml")[0]) in at
    for path in (reusable, f"{WF}/frontend-ci-cd.yml", f"{WF}/rollback.yml"):
        assert ("URR-GHA-045", path, _lines(path, "git push origin HEAD:main")[0]) in at
        assert ("URR-GHA-046", path, _lines(path, "[skip ci]")[0]) in at


def test_urr_production_is_gated_by_approval_jobs(tmp_path):
    """Every path to the prod overlay in the seed's repository passes a job with an environment:
    the services' `prod-approval` (needed by the calling job), the frontend's (needed by the job
    that builds), the rollback's own. Without the rollback's, it is reported."""
    root = FIXTURES / "repos" / "urr"
    assert scan(root, select=["URR-GHA-047"]).result.findings == []
    shutil.copytree(root / ".github", tmp_path / ".github")
    rollback = tmp_path / WF / "rollback.yml"
    text = rollback.read_text()
    gate = "    environment: ${{ inputs.environment == 'prod' && 'production' || 'staging' }}\n"
    assert gate in text
    rollback.write_text(text.replace(gate, ""))
    got = _found(tmp_path, "URR-GHA-047")
    assert [(p, n) for p, n, _ in got] == [
        (f"{WF}/rollback.yml", _lines(f"{WF}/rollback.yml", 'sed -i "/- name:')[0] - 1)
    ]
    assert "when run with environment: prod: rewrites `k8s/spring/overlays/prod/kustomization.yaml`" in got[0][2]


def test_urr_fixed_is_silent():
    findings = scan(FIXTURES / "repos" / "urr-fixed", select=PIPELINE).result.findings
    assert [(f.rule_id, f.path, f.line) for f in findings] == []


def test_push_of_a_branch_switched_to_is_not_the_default(tmp_path):
    root = _repo(
        tmp_path,
        {
            f"{WF}/bump.yml": """
                on:
                  push:
                    branches: [main]
                jobs:
                  new-branch:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                      - run: |
                          git checkout -b bump/deps origin/main
                          git commit -am "bump"
                          git push
                  head-ref:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                        with:
                          ref: ${{ github.event.inputs.branch }}
                      - run: git push
                  restored-file:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                      - run: |
                          git checkout origin/main -- VERSION
                          git commit -am "restore"
                          git push
            """,
        },
    )
    # the last job is still on main (a file was restored, no branch changed)
    assert [(p, n) for p, n, _ in _found(root, "URR-GHA-045")] == [(f"{WF}/bump.yml", 27)]


def _rule_params(rule_id: str):
    from urr_audit.catalog import load_rules
    from urr_audit.checks.github.testing import IgnoredFailureParams

    rule = next(r for r in load_rules() if r.id == rule_id)
    return IgnoredFailureParams(**rule.params)


@pytest.mark.parametrize(
    ("argv", "test", "lint"),
    [
        (["tox", "-e", "lint"], None, "tox lint"),
        (["tox", "-e", "py312,lint"], "tox py312", "tox lint"),
        (["tox", "-epy311"], "tox py311", None),
        (["tox"], "tox", None),  # the envlist: tests, as before
        (["nox", "-s", "docs"], None, None),
        (["nox", "--session=tests"], "nox tests", None),
        (["make", "-C", "svc", "test-unit"], "make test-unit", None),
        (["make", "build"], None, None),
        (["make"], None, None),
        (["hatch", "run", "lint:check"], None, "hatch run lint"),
        (["hatch", "run", "test:cov"], "hatch run test", None),
        (["hatch", "run", "pytest", "-x"], "hatch run pytest", None),
        (["poetry", "run", "pytest"], "pytest", None),
        (["uv", "run", "--frozen", "mypy", "src"], None, "mypy"),
        (["pipenv", "run", "python", "-m", "tox", "-e", "type"], None, "tox type"),
        (["bundle", "exec", "rspec"], "bundle exec rspec", None),
        (["npx", "jest"], "npx jest", None),
        (["yarn", "eslint", "."], None, "eslint"),
    ],
)
def test_ignored_failures_classify_task_runners_and_prefixes(argv, test, lint):
    from urr_audit.checks.github.testing import _runs

    for rule_id, want in (("URR-GHA-050", test), ("URR-GHA-051", lint)):
        params = _rule_params(rule_id)
        patterns = [p.split() for p in params.commands]
        assert _runs(_cmd(*argv), patterns, params) == want, rule_id


def test_ignored_test_failure_surfaced_by_a_later_step(tmp_path):
    root = _repo(
        tmp_path,
        {
            f"{WF}/t.yml": """
                on: [pull_request]
                jobs:
                  gate:
                    runs-on: ubuntu-latest
                    steps:
                      - id: tests
                        continue-on-error: true
                        run: pytest
                      - if: steps.tests.outcome != 'success'
                        run: |
                          echo "::error::tests failed"
                          exit 1
                  echo-only:
                    runs-on: ubuntu-latest
                    steps:
                      - id: tests
                        continue-on-error: true
                        run: pytest
                      - if: steps.tests.outcome == 'failure'
                        run: echo "tests failed"
                  other-step:
                    runs-on: ubuntu-latest
                    steps:
                      - id: tests
                        continue-on-error: true
                        run: pytest
                      - if: steps.build.outcome == 'failure'
                        run: exit 1
                  reporter-off:
                    runs-on: ubuntu-latest
                    steps:
                      - run: pytest --junitxml=r.xml || true
                      - uses: dorny/test-reporter@v1
                        with:
                          path: r.xml
                          reporter: java-junit
                          fail-on-error: false
            """,
        },
    )
    assert [n for _p, n, _m in _found(root, "URR-GHA-050")] == [17, 25, 32]
