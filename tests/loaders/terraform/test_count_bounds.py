"""Regression (found by probing the loaders): `count` from a 5000-digit number is infinity as
a float and `int(inf)` raised OverflowError out of the resource expansion; a finite but huge
count would have built that many instances. Both stay one unexpanded resource."""

from __future__ import annotations

import pytest

from urr_audit.loaders.terraform import load_terraform
from urr_audit.workspace import Workspace


@pytest.mark.parametrize("count", ["9" * 5000, "1000000000", "-1", "1.5"])
def test_counts_that_cannot_be_expanded_leave_the_resource_unexpanded(tmp_path, count):
    (tmp_path / "main.tf").write_text(
        f'variable "n" {{\n  default = {count}\n}}\nresource "aws_sqs_queue" "q" {{\n  count = var.n\n  name = "q"\n}}\n'
    )
    project, errors = load_terraform(Workspace(tmp_path))
    assert errors == []
    assert [r.address for r in project.resources()] == ["aws_sqs_queue.q"]


def test_a_real_count_still_expands(tmp_path):
    (tmp_path / "main.tf").write_text('resource "aws_sqs_queue" "q" {\n  count = 3\n  name = "q"\n}\n')
    project, _ = load_terraform(Workspace(tmp_path))
    assert [r.address for r in project.resources()] == [f"aws_sqs_queue.q[{i}]" for i in range(3)]
