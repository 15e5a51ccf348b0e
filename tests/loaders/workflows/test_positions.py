"""Every expression is located at its exact line and column in the file, whatever the YAML
style of the value it sits in; checked against the raw file text."""

from __future__ import annotations

from urr_audit.model.workflows import Expr, iter_scalars

from .helpers import load, one

WORKFLOW = """
name: ${{ github.workflow }} positions
on:
  push:
env:
  PLAIN: ${{ github.sha }}
  SINGLE: 'quoted ${{ github.ref }} and ''${{ github.actor }}'''
  DOUBLE: "tab\\t${{ github.run_id }}"
jobs:
  build:
    if: github.event_name == 'push' && contains(github.ref, 'main')
    runs-on: ${{ matrix.os }}
    strategy:
      matrix:
        os: [ubuntu-latest, "${{ vars.EXTRA_OS }}"]
    steps:
      - name: Literal block
        run: |
          echo "first ${{ github.event.pull_request.title }}"

            echo indented ${{ inputs.x }} then ${{ steps.a.outputs.b }}
          echo last ${{ env.PLAIN }}
      - name: Folded block
        run: >
          echo ${{ secrets.TOKEN }}
          ${{ needs.j.outputs.o }}
      - if: ${{ failure() }}
        with:
          script: |-
              core.info('${{ toJSON(github.event) }}')
        uses: actions/github-script@v7
"""


def _all_exprs(wf) -> list[Expr]:
    out = [e for _, s in iter_scalars(wf) for e in s.exprs]
    for job in wf.jobs.values():
        if job.condition and job.condition.expr and job.condition.expr.bare:
            out.append(job.condition.expr)
    return out


def test_every_expression_points_at_its_text(tmp_path):
    wf = one(tmp_path, WORKFLOW)
    lines = (tmp_path / ".github/workflows/ci.yml").read_text().splitlines()
    exprs = _all_exprs(wf)
    assert len(exprs) >= 14
    for e in exprs:
        line = lines[e.span.line - 1]
        at = line[e.column - 1 :]
        if e.bare:
            assert at.startswith(e.text), (e.text, line)
        else:
            assert at.startswith("${{"), (e.text, line)
            assert e.text in at or e.end_line > e.span.line
        for r in e.refs:
            assert lines[r.line - 1][r.column - 1 :].startswith(r.parts[0]), (r, lines[r.line - 1])


def test_block_scalar_lines_and_columns(tmp_path):
    wf = one(tmp_path, WORKFLOW)
    step = wf.jobs["build"].steps[0]
    assert step.run is not None
    got = [(e.text, e.span.line, e.column) for e in step.run.script.exprs]
    assert got == [
        ("github.event.pull_request.title", 18, 23),
        ("inputs.x", 20, 27),
        ("steps.a.outputs.b", 20, 48),
        ("env.PLAIN", 21, 21),
    ]
    ref = step.run.script.exprs[0].refs[0]
    assert (ref.dotted, ref.line, ref.column) == ("github.event.pull_request.title", 18, 27)


def test_folded_block_and_bare_condition(tmp_path):
    wf = one(tmp_path, WORKFLOW)
    folded = wf.jobs["build"].steps[1].run
    assert folded is not None
    assert [(e.text, e.span.line, e.column) for e in folded.script.exprs] == [
        ("secrets.TOKEN", 24, 16),
        ("needs.j.outputs.o", 25, 11),
    ]
    cond = wf.jobs["build"].condition
    assert cond is not None and cond.expr is not None and cond.expr.bare
    assert (cond.expr.span.line, cond.expr.column) == (10, 9)
    assert [(r.dotted, r.column) for r in cond.expr.refs] == [("github.event_name", 9), ("github.ref", 49)]


def test_quoted_scalars(tmp_path):
    wf = one(tmp_path, WORKFLOW)
    single = wf.env["SINGLE"]
    assert [(e.text, e.span.line, e.column) for e in single.exprs] == [
        ("github.ref", 6, 19),
        ("github.actor", 6, 43),
    ]
    double = wf.env["DOUBLE"]
    assert [(e.text, e.span.line, e.column) for e in double.exprs] == [("github.run_id", 7, 17)]


def test_step_condition_wrapped_in_braces(tmp_path):
    wf = one(tmp_path, WORKFLOW)
    cond = wf.jobs["build"].steps[2].condition
    assert cond is not None and cond.expr is not None and not cond.expr.bare
    assert cond.expr.calls == ("failure",)


def test_invalid_expression_inside_block_is_reported_at_its_line_and_column(tmp_path):
    _, errors = load(
        tmp_path,
        {
            ".github/workflows/x.yml": """
            on: push
            jobs:
              a:
                runs-on: ubuntu-latest
                steps:
                  - run: |
                      echo ok
                      echo ${{ github.ref == }}
            """
        },
    )
    assert [(e.kind, e.line) for e in errors] == [("workflows.expression", 8)]
    assert "ends where a value is expected (column 34)" in errors[0].message
