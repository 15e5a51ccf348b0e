"""Regression (found by tests/property): a variable file nested deeper than Python's stack
crashed the whole scan with RecursionError; it is now a parse error and the module still loads."""

from __future__ import annotations

import pytest

from urr_audit.loaders.terraform import load_terraform
from urr_audit.loaders.terraform.project import TOO_DEEP
from urr_audit.scan import scan
from urr_audit.workspace import Workspace

DEPTH = 3000


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("terraform.tfvars", "x = " + "[" * DEPTH + "]" * DEPTH + "\n"),
        ("prod.auto.tfvars.json", '{"x": ' + "[" * DEPTH + "]" * DEPTH + "}\n"),
    ],
)
def test_a_deeply_nested_variable_file_is_a_parse_error(tmp_path, name, text):
    (tmp_path / "main.tf").write_text(
        'variable "x" {\n  default = []\n}\nresource "aws_sqs_queue" "q" {\n  name = "q"\n}\n'
    )
    (tmp_path / name).write_text(text)
    project, errors = load_terraform(Workspace(tmp_path))
    assert [(e.kind, e.path, e.message) for e in errors] == [("terraform.parse", name, TOO_DEEP)]
    assert [r.address for r in project.resources()] == ["aws_sqs_queue.q"]
    report = scan(tmp_path, select=["URR-TF-000"])
    assert [(f.path, f.message) for f in report.result.findings] == [(name, TOO_DEEP)]
