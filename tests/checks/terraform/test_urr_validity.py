"""The offline validation rules on the URR miniature: the case of URR-TF-029 its shape allows
(IRSA role ARNs published with a for_each keyed by the ARNs), mended in urr-fixed, and no
other finding of these rules on either repository (every one would be false)."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES
from urr_audit.scan import scan

RULES = ["URR-TF-025", "URR-TF-026", "URR-TF-027", "URR-TF-028", "URR-TF-029", "URR-TF-090", "URR-TF-091"]


@pytest.fixture(scope="module")
def urr():
    return scan(FIXTURES / "repos" / "urr", select=RULES)


@pytest.fixture(scope="module")
def urr_fixed():
    return scan(FIXTURES / "repos" / "urr-fixed", select=RULES)


def test_for_each_keyed_by_role_arns_is_reported_once_for_both_environments(urr):
    [f] = urr.result.findings
    assert (f.rule_id, f.path, f.line) == ("URR-TF-029", "terraform/modules/eks/irsa-parameters.tf", 5)
    assert f.environments == ["prod", "staging"]
    assert "aws_iam_role.irsa.arn" in f.message and "Invalid for_each argument" in f.message


def test_mended_repo_is_silent(urr_fixed):
    assert urr_fixed.result.findings == []
    assert [f.message for f in urr_fixed.result.undecided] == []


def test_the_seed_repository_validates_against_aws_5(urr):
    # every module of the miniature is checked (hashicorp/aws ~> 5.40 selects the 5.100.0 table):
    # nothing undecided means every constraint was read and every type is in the table
    assert [f.message for f in urr.result.undecided] == []
