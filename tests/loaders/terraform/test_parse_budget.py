"""Regression (found by probing the loaders with long runs of one character): tree-sitter-hcl
is quadratic in a run of blanks where an expression is expected, so one such file stalled the
scan for minutes. The parse is cancelled past a budget and the file reported unread."""

from __future__ import annotations

import time

from urr_audit.loaders.terraform import load_terraform
from urr_audit.loaders.terraform.parse import PARSE_BUDGET_SECONDS, TOO_SLOW, parse_hcl
from urr_audit.workspace import Workspace

GOOD = 'resource "aws_sqs_queue" "q" {\n  name = "q"\n}\n'


def test_a_pathological_file_is_cut_off_and_reported(tmp_path):
    (tmp_path / "blanks.tf").write_text("locals {\n  y = " + " " * 200_000 + "1\n}\n")
    (tmp_path / "main.tf").write_text(GOOD)
    started = time.perf_counter()
    project, errors = load_terraform(Workspace(tmp_path))
    # generous: the point is minutes -> seconds, not a speed measurement
    assert time.perf_counter() - started < 10 * PARSE_BUDGET_SECONDS
    assert [(e.path, e.kind, e.message) for e in errors] == [("blanks.tf", "terraform.parse", TOO_SLOW)]
    assert [r.address for r in project.resources()] == ["aws_sqs_queue.q"]


def test_the_parser_is_reset_after_a_cancelled_parse():
    parse_hcl("locals {\n  y = " + "\n" * 100_000 + "1\n}\n", "slow.tf")
    parsed = parse_hcl(GOOD, "main.tf")  # must not resume the cancelled parse
    assert parsed.errors == [] and [b.labels for b in parsed.blocks] == [["aws_sqs_queue", "q"]]
