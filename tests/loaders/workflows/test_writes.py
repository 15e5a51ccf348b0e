"""What the security rules read from scripts and expressions: writes to the runner's command
files (`Run.writes`), redirections of shell commands, and which references of an expression
can reach its value (`ContextRef.reaches_value`)."""

from __future__ import annotations

import pytest

from tests.loaders.workflows.helpers import one
from urr_audit.loaders.workflows.expressions import parse
from urr_audit.loaders.workflows.shell import commands
from urr_audit.model.gha_expr import value_refs


@pytest.mark.parametrize(
    ("text", "flowing"),
    [
        ("github.event.issue.title", ["github.event.issue.title"]),
        ("github.event.issue.title == 'x'", []),
        ("contains(github.event.issue.title, 'x')", []),
        ("!github.event.issue.title", []),
        ("github.event.issue.title && 'yes'", []),
        ("inputs.a == 'x' && github.head_ref", ["github.head_ref"]),
        ("inputs.a || github.head_ref", ["inputs.a", "github.head_ref"]),
        ("format('{0}-{1}', github.head_ref, github.sha)", ["github.head_ref", "github.sha"]),
        ("toJSON(github.event)", ["github.event"]),
        ("fromJSON(steps.meta.outputs.json).title", ["steps.meta.outputs.json"]),
        ("secrets[inputs.name]", ["secrets.?"]),
        ("case(github.head_ref == 'x', inputs.a, inputs.b)", ["inputs.a", "inputs.b"]),
        ("join(github.event.commits.*.message, ' ')", ["github.event.commits.*.message"]),
        ("hashFiles(github.head_ref)", []),
    ],
)
def test_value_refs_follow_text_not_decisions(text, flowing):
    assert [r.dotted for r in value_refs(parse(text))] == flowing


def test_context_refs_say_whether_they_reach_the_value(tmp_path):
    wf = one(
        tmp_path,
        """
        on: push
        jobs:
          a:
            runs-on: ubuntu-latest
            steps:
              - run: echo "${{ github.event.head_commit.message == 'x' && github.sha || github.ref }}"
        """,
    )
    [expr] = wf.jobs["a"].steps[0].run.script.exprs
    assert [(r.dotted, r.reaches_value) for r in expr.refs] == [
        ("github.event.head_commit.message", False),
        ("github.sha", True),
        ("github.ref", True),
    ]


def test_shell_redirections_groups_and_heredoc_bodies():
    script = """\
echo "a=1" >> "$GITHUB_OUTPUT"
{ echo "b<<EOF"; echo "$B"; echo "EOF"; } >> "$GITHUB_OUTPUT"
cat >> $GITHUB_ENV <<'END'
X=1
END
make > build.log 2>&1"""
    got = [(c.line, c.argv, [(op, w.raw) for op, w in c.redirects], c.heredoc) for c in commands(script)]
    assert got == [
        (0, ["echo", "a=1"], [(">>", "$GITHUB_OUTPUT")], None),
        (1, ["echo", "b<<EOF"], [(">>", "$GITHUB_OUTPUT")], None),
        (1, ["echo", "$B"], [(">>", "$GITHUB_OUTPUT")], None),
        (1, ["echo", "EOF"], [(">>", "$GITHUB_OUTPUT")], None),
        (2, ["cat"], [(">>", "$GITHUB_ENV")], (3, 4)),
        (5, ["make"], [(">", "build.log"), (">&", "1")], None),
    ]


def test_a_quoted_heredoc_marker_is_text_not_a_heredoc():
    # the multi-line output idiom: `"body<<EOF"` is a delimiter written to a file
    script = 'echo "body<<EOF" >> "$GITHUB_OUTPUT"\necho "$BODY" >> "$GITHUB_OUTPUT"\necho EOF >> "$GITHUB_OUTPUT"'
    assert [c.line for c in commands(script)] == [0, 1, 2]


def test_writes_to_command_files(tmp_path):
    wf = one(
        tmp_path,
        """
        on: pull_request_target
        jobs:
          a:
            runs-on: ubuntu-latest
            steps:
              - id: s
                run: |
                  echo "title=${{ github.event.pull_request.title }}" >> "$GITHUB_OUTPUT"
                  echo "A=1" >> $GITHUB_ENV
                  { echo "b=$B"; echo "c<<EOF"; echo "$C"; echo "EOF"; } >> "$GITHUB_OUTPUT"
                  cat >> $GITHUB_ENV <<EOF
                  X=${{ github.head_ref }}
                  Y=plain
                  EOF
                  echo /opt/bin | tee -a $GITHUB_PATH
                  echo "::set-output name=old::${{ github.event.issue.title }}"
                  jq -r '.x' event.json >> "$GITHUB_ENV"
              - shell: pwsh
                run: Add-Content -Path $env:GITHUB_ENV -Value "X=${{ github.head_ref }}"
        """,
    )
    got = [
        (w.file, w.span.line, w.column, w.name, [e.text for e in w.exprs], w.variables, w.literal, w.via)
        for s in wf.steps()
        for w in s.run.writes
    ]
    assert got == [
        ("GITHUB_OUTPUT", 8, 11, "title", ["github.event.pull_request.title"], (), False, "echo"),
        ("GITHUB_ENV", 9, 11, "A", [], (), True, "echo"),
        ("GITHUB_OUTPUT", 10, 13, "b", [], ("B",), False, "echo"),
        ("GITHUB_OUTPUT", 10, 26, "c", [], (), True, "echo"),
        ("GITHUB_OUTPUT", 10, 41, "c", [], ("C",), False, "echo"),
        ("GITHUB_OUTPUT", 10, 52, "c", [], (), True, "echo"),
        ("GITHUB_ENV", 12, 11, "X", ["github.head_ref"], (), False, "heredoc"),
        ("GITHUB_ENV", 13, 11, "Y", [], (), True, "heredoc"),
        ("GITHUB_PATH", 15, 27, None, [], (), False, "tee"),
        ("GITHUB_OUTPUT", 16, 11, "old", ["github.event.issue.title"], (), False, "::set-output"),
        ("GITHUB_ENV", 17, 11, None, [], (), False, "command"),
        ("GITHUB_ENV", 19, 14, None, ["github.head_ref"], (), False, "script"),
    ]
    step = wf.jobs["a"].steps[0]
    assert [w.name for w in step.run.writes_to("GITHUB_ENV")] == ["A", "X", "Y", None]
    # what takes in a command's output or standard input: the tee, the jq, the PowerShell line
    assert [(w.span.line, w.via) for s in wf.steps() for w in s.run.writes if w.computed] == [
        (15, "tee"),
        (17, "command"),
        (19, "script"),
    ]
    assert step.run.commands[0].redirects == [(">>", "$GITHUB_OUTPUT")]


def test_reserved_words_and_case_patterns_are_not_commands():
    script = """\
for attempt in 1 2 3; do
  if git push origin HEAD:main; then exit 0; fi
  ! grep -q x f || sleep 5
done
case "$x" in
  a) echo a ;;
  *) docker push x/y ;;
esac
while read -r line; do echo "$line"; done < list.txt"""
    assert [c.argv[:2] for c in commands(script)] == [
        ["git", "push"],
        ["exit", "0"],
        ["grep", "-q"],
        ["sleep", "5"],
        ["echo", "a"],
        ["docker", "push"],
        ["read", "-r"],
        ["echo", "$line"],
    ]
