"""Realistic repositories written the way public Terraform code looks (not to fit the rules):
a reusable-module library with examples, and a live repository of environments.

Every finding must be one of the `# expect: ID` comments and every comment must be found;
`# undecided: ID` comments pin what stays undecided the same way. No load error, no crash.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from urr_audit.scan import scan

REALWORLD = Path(__file__).resolve().parent.parent / "fixtures" / "realworld"
REPOS = ["tf-module-library", "tf-live"]
ID = re.compile(r"URR-[A-Z0-9]+-\d{3}")


def _marked(tree: Path, word: str) -> set[tuple[str, str, int]]:
    """(rule id, path, line) of every `word: ID[, ID]` comment under `tree`."""
    marker = re.compile(rf"#\s*{word}:\s*((?:URR-[A-Z0-9]+-\d{{3}}[,\s]*)+)")
    out = set()
    for f in sorted(p for p in tree.rglob("*") if p.is_file()):
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            m = marker.search(line)
            if m:
                out |= {(rid, f.relative_to(tree).as_posix(), n) for rid in ID.findall(m.group(1))}
    return out


@pytest.fixture(scope="module", params=REPOS)
def scanned(request):
    root = REALWORLD / request.param
    return root, scan(root).result


def test_no_load_errors(scanned):
    _, r = scanned
    assert [e for e in r.errors if e.level == "error"] == []


def test_no_check_crashes(scanned):
    _, r = scanned
    crashes = [f for f in (*r.findings, *r.undecided) if "crash" in f.message.lower()]
    assert crashes == []


def test_findings_are_the_expected_ones(scanned):
    root, r = scanned
    assert {(f.rule_id, f.path, f.line) for f in r.findings} == _marked(root, "expect")


def test_undecided_are_the_expected_ones(scanned):
    root, r = scanned
    assert {(f.rule_id, f.path, f.line) for f in r.undecided} == _marked(root, "undecided")


def test_every_location_exists(scanned):
    root, r = scanned
    for f in (*r.findings, *r.undecided):
        lines = (root / f.path).read_text(encoding="utf-8").splitlines()
        assert 0 < f.line <= len(lines), (f.rule_id, f.path, f.line)


def test_environments():
    lib_scan = scan(REALWORLD / "tf-module-library")
    lib = lib_scan.result
    # the library root is called by its examples: not an environment, TF-001/003 silent on it
    assert sorted(e.name for e in lib_scan.project.terraform.environments) == ["complete", "minimal"]
    assert not [f for f in lib.findings if f.rule_id in ("URR-TF-001", "URR-TF-003")]
    complete = next(e for e in lib_scan.project.terraform.environments if e.name == "complete")
    addresses = {ri.address for ri in complete.resources()}
    assert "module.app_storage.aws_s3_bucket.this[0]" in addresses
    assert 'module.app_storage.module.security_group.aws_vpc_security_group_ingress_rule.this["https_vpc"]' in addresses
    assert "module.app_storage.module.role[0].aws_iam_role.this" in addresses
    # `create_role = false`: the role module has no instance under the log bucket
    assert "module.log_bucket.module.role" in {s.address for s in complete.skipped_modules}

    live = scan(REALWORLD / "tf-live")
    envs = {e.name: e for e in live.project.terraform.environments}
    assert sorted(envs) == ["dev", "prod"]
    prod = {ri.address for ri in envs["prod"].resources()}
    assert 'module.buckets.aws_s3_bucket.this["alb-logs"]' in prod
    assert 'module.db.aws_cloudwatch_log_group.postgresql["upgrade"]' in prod
    assert 'module.bastion_sg.aws_vpc_security_group_ingress_rule.this["ssh-vpn"]' in prod
