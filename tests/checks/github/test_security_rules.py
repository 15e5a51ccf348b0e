"""Semantics of the workflow security rules beyond their bad/good fixtures: taint followed
through callers, composite actions, GITHUB_ENV and outputs; what is never reported; severities
lowered where intent is plausible; params."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from urr_audit.scan import scan


def _repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def _found(root: Path, rule: str, **kw) -> list[tuple[str, int, str, str]]:
    report = scan(root, select=[rule], **kw)
    return [(f.path.rsplit("/", 1)[-1], f.line, f.severity.value, f.message) for f in report.result.findings]


def test_injection_through_a_reusable_workflow_and_a_composite_action(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/pr.yml": """
                on: pull_request
                jobs:
                  build:
                    uses: ./.github/workflows/build.yml
                    with:
                      label: ${{ github.event.pull_request.title }}
                  lint:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: ./.github/actions/say
                        with:
                          text: ${{ github.head_ref }}
                      - uses: ./.github/actions/say
                        with:
                          text: fixed
                """,
            ".github/workflows/build.yml": """
                on:
                  workflow_call:
                    inputs:
                      label:
                        type: string
                jobs:
                  b:
                    runs-on: ubuntu-latest
                    steps:
                      - run: echo "${{ inputs.label }}"
                """,
            ".github/actions/say/action.yml": """
                name: say
                description: say
                inputs:
                  text:
                    description: what
                runs:
                  using: composite
                  steps:
                    - run: echo "${{ inputs.text }}"
                      shell: bash
                """,
        },
    )
    got = {(f, n, s) for f, n, s, _ in _found(root, "URR-GHA-016")}
    # the caller's PR title makes the callee's input an attacker-controlled value: high
    assert got == {("build.yml", 10, "high"), ("action.yml", 9, "high")}
    [msg] = [m for f, _, _, m in _found(root, "URR-GHA-016") if f == "build.yml"]
    assert (
        "`inputs.label` <- `.github/workflows/pr.yml: jobs.build.with.label` <- `github.event.pull_request.title`"
        in msg
    )


def test_injection_through_github_env_and_job_outputs(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/t.yml": """
                on: issue_comment
                jobs:
                  a:
                    runs-on: ubuntu-latest
                    outputs:
                      body: ${{ steps.s.outputs.body }}
                    steps:
                      - env:
                          BODY: ${{ github.event.comment.body }}
                        run: echo "C=$BODY" >> "$GITHUB_ENV"
                      - run: echo "${{ env.C }}"
                      - id: s
                        run: |
                          {
                            echo "body<<EOF"
                            echo "$C"
                            echo "EOF"
                          } >> "$GITHUB_OUTPUT"
                  b:
                    needs: a
                    runs-on: ubuntu-latest
                    steps:
                      - run: echo "${{ needs.a.outputs.body }}"
                """,
        },
    )
    got = {(n, m.split(":")[0]) for _, n, _, m in _found(root, "URR-GHA-016")}
    assert got == {
        (
            11,
            '`${{ env.C }}` pastes `env.C` <- `env.BODY` <- `github.event.comment.body` into the script of step `echo "${{ env.C }}"`',
        ),
        (
            23,
            '`${{ needs.a.outputs.body }}` pastes `needs.a.outputs.body` <- `steps.s.outputs.body` <- `env.C` <- `env.BODY` <- `github.event.comment.body` into the script of step `echo "${{ needs.a.outputs.body }}"`',
        ),
    }


def test_never_injection(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/t.yml": """
                on:
                  push:
                  workflow_dispatch:
                    inputs:
                      mode:
                        type: choice
                        options: [a, b]
                      n:
                        type: number
                jobs:
                  a:
                    runs-on: ubuntu-latest
                    steps:
                      - run: |
                          echo "${{ github.head_ref }}"
                          echo "${{ github.event.pull_request.title }}"
                          echo "${{ github.event.head_commit.message == 'x' }} ${{ contains(github.event.head_commit.message, 'y') }}"
                          echo "${{ github.event.head_commit.message && 'has message' }}"
                          echo "${{ github.actor }} ${{ github.ref_name }} ${{ github.sha }} ${{ github.event.after }}"
                          echo "${{ inputs.mode }} ${{ inputs.n }} ${{ github.event.inputs.mode }}"
                          echo "${{ hashFiles(github.event.head_commit.message) }}"
                """,
        },
    )
    # head_ref / pull_request.title: push and dispatch events do not carry them
    assert _found(root, "URR-GHA-016") == []


def test_bot_condition_only_where_it_grants(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/t.yml": """
                on: pull_request
                jobs:
                  a:
                    if: ${{ !(github.actor == 'dependabot[bot]') }}
                    runs-on: ubuntu-latest
                    steps:
                      - if: github.actor != 'renovate[bot]' || github.event.sender.login == 'renovate[bot]'
                        run: echo
                      - if: contains(fromJSON('["dependabot[bot]"]'), github.actor)
                        run: echo
                """,
        },
    )
    assert [(n, s) for _, n, s, _ in _found(root, "URR-GHA-026")] == [(7, "high")]


def test_unused_writes_follow_local_callees_and_give_up_on_what_they_cannot_see(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/main.yml": """
                on: push
                permissions:
                  contents: read
                  id-token: write
                  issues: write
                jobs:
                  deploy:
                    uses: ./.github/workflows/deploy.yml
                  triage:
                    runs-on: ubuntu-latest
                    steps:
                      - run: gh issue list
                        env:
                          GH_TOKEN: ${{ github.token }}
                  lint:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                      - run: make lint
                """,
            ".github/workflows/deploy.yml": """
                on: workflow_call
                jobs:
                  d:
                    runs-on: ubuntu-latest
                    permissions:
                      id-token: write
                    steps:
                      - run: ./deploy.sh
                """,
        },
    )
    got = {(n, m) for f, n, _, m in _found(root, "URR-GHA-014") if f == "main.yml"}
    assert got == {
        (
            4,
            "`id-token: write` is granted to every job of the workflow, but `lint` uses none of it; only `deploy`, `triage` may use it: grant it there",
        ),
        (
            5,
            "`issues: write` is granted to every job of the workflow, but `deploy`, `lint` use none of it; only `triage` may use it: grant it there",
        ),
    }


def test_github_env_reports_what_an_attacker_can_set(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/t.yml": """
                on: pull_request_target
                jobs:
                  a:
                    runs-on: ubuntu-latest
                    env:
                      MODE: fast
                    steps:
                      - run: |
                          echo "N=${{ github.event.pull_request.number }}" >> "$GITHUB_ENV"
                          echo "M=$MODE-$GITHUB_SHA" >> "$GITHUB_ENV"
                          echo "/opt/tool/bin" >> "$GITHUB_PATH"
                          echo "R=$(cat pr.txt)" >> "$GITHUB_ENV"
                          echo "T=${{ github.head_ref }}" >> "$GITHUB_ENV"
                          echo "$RUNNER_TEMP/pr-tools" >> "$GITHUB_PATH"
                """,
        },
    )
    # line 9: a number; 10: the workflow's own env and the runner's; 11: a literal directory
    assert [(n, s) for _, n, s, _ in _found(root, "URR-GHA-022")] == [(12, "medium"), (13, "high"), (14, "medium")]


def test_persisted_credentials_severity(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/t.yml": """
                on: push
                jobs:
                  old-upload:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                      - uses: actions/upload-artifact@v3
                        with:
                          path: .
                  new-upload:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                      - uses: actions/upload-artifact@v4
                        with:
                          path: ${{ github.workspace }}
                  pushes:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                      - run: if git push; then echo ok; fi
                  explicit:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                        with:
                          persist-credentials: true
                """,
        },
    )
    # upload-artifact v4.4+ leaves .git out unless include-hidden-files: the new one is medium
    assert [(n, s) for _, n, s, _ in _found(root, "URR-GHA-018")] == [(6, "high"), (13, "medium"), (20, "low")]


def test_untrusted_checkout_under_workflow_run_and_gates(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/t.yml": """
                on:
                  workflow_run:
                    workflows: [CI]
                    types: [completed]
                jobs:
                  runs-it:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                        with:
                          ref: ${{ github.event.workflow_run.head_sha }}
                      - run: npm ci
                  reads-only:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                        with:
                          ref: ${{ github.event.workflow_run.head_branch }}
                      - run: echo done
                  approved:
                    runs-on: ubuntu-latest
                    environment: external-prs
                    steps:
                      - uses: actions/checkout@v4
                        with:
                          ref: ${{ github.event.workflow_run.head_sha }}
                      - run: make test
                """,
        },
    )
    got = [(n, s, "which lowers the risk" in m) for _, n, s, m in _found(root, "URR-GHA-015")]
    assert got == [(11, "high", False), (18, "medium", False), (26, "medium", True)]


def test_cache_defaults_by_version(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/t.yml": """
                on:
                  release:
                    types: [published]
                jobs:
                  a:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/setup-go@v3
                      - uses: actions/setup-go@v5
                      - uses: actions/setup-go@v5
                        with:
                          cache: false
                      - uses: actions/setup-go@0a12ed9d6a96ab950c8f026ed9f722fe0da7ef32
                      - uses: actions/setup-node@v4
                """,
        },
    )
    # v3 caches only when asked, v5 and an unknown version by default; setup-node only with `cache:`
    assert [n for _, n, _, _ in _found(root, "URR-GHA-020")] == [9, 13]


def test_unpinned_uses_allow_list_is_a_param(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/t.yml": """
                on: push
                jobs:
                  a:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                      - uses: my-org/deploy@v2
                      - uses: other/thing@v1
                """,
        },
    )
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ORG-PIN-001.yaml").write_text(
        dedent(
            """
            id: ORG-PIN-001
            title: Third-party actions pinned by SHA
            severity: high
            category: supply-chain
            check: gha-unpinned-uses
            params:
              allow: [actions/*, my-org]
            rationale: Our own and GitHub's actions are trusted on tags.
            remediation: Pin the SHA.
            """
        )
    )
    assert [(n, s) for _, n, s, _ in _found(root, "ORG-PIN-001", rule_dirs=(rules,))] == [(8, "medium")]
    assert [n for _, n, _, _ in _found(root, "URR-GHA-010")] == [6, 7, 8]


def test_insecure_commands_from_an_expression_is_undecided(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/t.yml": """
                on: push
                jobs:
                  a:
                    runs-on: ubuntu-latest
                    env:
                      ACTIONS_ALLOW_UNSECURE_COMMANDS: ${{ vars.LEGACY }}
                    steps:
                      - run: echo
                """,
        },
    )
    report = scan(root, select=["URR-GHA-021"])
    assert report.result.findings == []
    assert [(u.line, u.rule_id) for u in report.result.undecided] == [(6, "URR-GHA-021")]


def test_default_permissions_message_names_its_assumption(tmp_path):
    """New repositories default to a read-only token: the message says it assumes the
    permissive default, which param says so, and how to tell it otherwise."""
    root = _repo(
        tmp_path,
        {
            ".github/workflows/ci.yml": """
                on: push
                jobs:
                  test:
                    runs-on: ubuntu-latest
                    steps:
                      - run: make test
                """
        },
    )
    [(_, _, _, message)] = _found(root, "URR-GHA-012")
    assert "`default: permissive`" in message and "read and write every scope" in message
    assert "read-only" in message and "`restricted`" in message


def test_release_cache_message_lists_tags_as_written(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/release.yml": """
                on:
                  push:
                    tags: ["v*", "release-*"]
                permissions:
                  contents: read
                jobs:
                  publish:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/setup-python@v5
                        with:
                          cache: pip
                      - run: python -m build
                """
        },
    )
    [(_, _, _, message)] = _found(root, "URR-GHA-020")
    assert "runs on `push` of tags `v*`, `release-*`, a release" in message
    assert "[" not in message and "'" not in message
