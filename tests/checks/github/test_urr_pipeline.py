"""The pipeline rules URR-GHA-050..059 on the seed's repository: each finding on
fixtures/repos/urr is true of those files, and fixtures/repos/urr-fixed, where each weakness is
mended, is silent."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES
from urr_audit.catalog import load_rules
from urr_audit.scan import scan

WF = ".github/workflows"
PIPELINE = [r.id for r in load_rules() if "URR-GHA-050" <= r.id <= "URR-GHA-059"]


@pytest.fixture(scope="module")
def urr():
    return scan(FIXTURES / "repos" / "urr", select=PIPELINE).result


def _line(path: str, needle: str, repo: str = "urr") -> int:
    text = (FIXTURES / "repos" / repo / path).read_text().splitlines()
    return next(n for n, line in enumerate(text, 1) if needle in line)


def test_what_is_reported(urr):
    got = sorted((f.rule_id, f.path, f.line) for f in urr.findings)
    frontend, reusable = f"{WF}/frontend-ci-cd.yml", f"{WF}/reusable-spring-ci-cd.yml"
    assert got == [
        # the flaky Playwright run cannot fail the E2E gate the load test waits for
        ("URR-GHA-050", f"{WF}/e2e-tests.yml", _line(f"{WF}/e2e-tests.yml", "continue-on-error: true")),
        # the frontend image is in ECR (as latest and the environment too) before Trivy runs
        ("URR-GHA-052", frontend, _line(frontend, "uses: docker/build-push-action")),
        # latest and the environment name beside the sha-timestamp tag
        ("URR-GHA-056", frontend, _line(frontend, "uses: docker/build-push-action")),
        ("URR-GHA-056", reusable, _line(reusable, "name: Push image") + 1),
    ]
    assert urr.undecided == []


def test_the_spring_images_are_scanned_before_they_are_pushed(urr):
    # the reusable workflow builds a tarball, scans it, then pushes: no URR-GHA-052 there
    assert not [f for f in urr.findings if f.rule_id == "URR-GHA-052" and "reusable" in f.path]


def test_urr_fixed_is_silent():
    result = scan(FIXTURES / "repos" / "urr-fixed", select=PIPELINE).result
    assert [(f.rule_id, f.path, f.line) for f in result.findings] == []
    assert result.undecided == []
