"""Realistic repositories written the way public Terraform code looks (not to fit the rules):
a reusable-module library with examples, a live repository of environments, and an AWS
platform repository (three environments, a global IAM root, shared modules, a registry module).

Every finding must be one of the `# expect: ID` comments and every comment must be found;
`# undecided: ID` comments pin what stays undecided the same way. No load error, no crash.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from urr_audit.scan import scan

REALWORLD = Path(__file__).resolve().parent.parent / "fixtures" / "realworld"
REPOS = ["tf-module-library", "tf-live", "aws-platform"]
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


def test_aws_platform_environments_and_wiring():
    report = scan(REALWORLD / "aws-platform")
    envs = {e.name: e for e in report.project.terraform.environments}
    assert sorted(envs) == ["dev", "iam", "prod", "staging"]
    # the registry VPC module is recorded, not read: rules concluding from absence say so
    assert all(e.incomplete for n, e in envs.items() if n != "iam")
    prod = {ri.address for ri in envs["prod"].resources()}
    assert 'module.db.aws_vpc_security_group_ingress_rule.clients["ingest"]' in prod
    assert "module.web.aws_acm_certificate_validation.site" in prod
    # the web certificate is created with the us-east-1 provider passed to the module
    assert not [f for f in report.result.findings if f.rule_id == "URR-TF-049"]
    # the API's secrets are ARNs (valueFrom), not secrets: only the worker's password is reported
    plaintext = [f for f in report.result.findings if f.rule_id == "URR-TF-034"]
    assert [f.path for f in plaintext] == ["modules/worker-lambda/main.tf"]
    webhook = next(f for f in report.result.findings if f.rule_id == "URR-TF-041")
    assert webhook.severity.value == "low" and "webhook" in webhook.message
