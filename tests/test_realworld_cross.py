"""The cross-artifact rules on repositories written the way teams write them: they must not cry
wolf. eks-gitops-platform joins every model the rules read (Terraform, Kustomize, Argo CD,
GitHub Actions, kind) and gets every cross-artifact detail right; its URR-X findings are exactly
its `# expect:` comments (none), and each rule is shown to be evaluated there, not skipped: the
same repository with one detail broken makes that rule speak."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from urr_audit.facts.pairing import pair_environments
from urr_audit.scan import scan

REALWORLD = FIXTURES / "realworld"
REPO = REALWORLD / "eks-gitops-platform"
ID = re.compile(r"URR-X-\d{3}")
OTHER = ["argocd-multicluster", "gitops-monorepo", "aws-platform", "media-platform", "plain-manifests", "tf-live"]


def _marked(tree: Path, word: str) -> set[tuple[str, str, int]]:
    marker = re.compile(rf"#\s*{word}:\s*((?:URR-[A-Z0-9]+-\d{{3}}[,\s]*)+)")
    out = set()
    for f in sorted(p for p in tree.rglob("*") if p.is_file() and p.name != "README.md"):
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            m = marker.search(line)
            if m:
                out |= {(rid, f.relative_to(tree).as_posix(), n) for rid in ID.findall(m.group(1))}
    return out


@pytest.fixture(scope="module")
def platform():
    return scan(REPO)


def test_loads_cleanly_and_nothing_crashes(platform):
    assert [e for e in platform.result.errors if e.level == "error"] == []
    assert [e for e in platform.result.errors if e.kind == "check.crash"] == []


def test_cross_findings_are_exactly_the_expect_comments(platform):
    got = {(f.rule_id, f.path, f.line) for f in platform.result.findings if f.rule_id.startswith("URR-X")}
    assert got == _marked(REPO, "expect")
    undecided = {(f.rule_id, f.path, f.line) for f in platform.result.undecided if f.rule_id.startswith("URR-X")}
    assert undecided == _marked(REPO, "undecided")


@pytest.mark.parametrize("name", OTHER)
def test_other_realistic_repositories_stay_silent(name):
    result = scan(REALWORLD / name, select=["URR-X"]).result
    assert result.findings == [] and result.undecided == []


def test_environments_pair_through_argo_cd_cluster_names(platform):
    got = {(p.kubernetes.name, p.terraform.name, p.how) for p in pair_environments(platform.project)}
    assert ("apps-payments-overlays-production", "production", "Argo CD cluster acme-production") in got
    assert ("apps-storefront-overlays-staging", "staging", "Argo CD cluster acme-staging") in got
    assert not any(t == "registry" for _, t, _ in got)  # the shared registry root runs no cluster


# One detail broken at a time: (rule, file, text, replacement)
BREAKS = [
    # invoicing's pods no longer pinned to the x86 pool: arm64 nodes get them too
    (
        "URR-X-001",
        "apps/invoicing/base/deployment.yaml",
        "        kubernetes.io/arch: amd64\n        acme.io/pool: x86\n",
        "        acme.io/tier: batch\n",
    ),
    # the payments rule written for the app subnets, where Aurora's proxy is not
    ("URR-X-005", "apps/payments/base/networkpolicy.yaml", "10.40.240.0/20", "10.40.0.0/19"),
    ("URR-X-006", "apps/payments/base/networkpolicy.yaml", "10.40.240.0/20", "172.31.240.0/20"),
    (
        "URR-X-007",
        "apps/storefront/overlays/production/kustomization.yaml",
        "REDIS_HOST=master.acme-production-sessions.cx7p2q.euw1.cache.amazonaws.com",
        "REDIS_HOST=redis-local",
    ),
    ("URR-X-008", "apps/storefront/overlays/production/kustomization.yaml", "REDIS_TLS=true", "REDIS_TLS=CHANGE_ME"),
    ("URR-X-009", "terraform/live/production/main.tf", "https://orders.internal.acme.io", "http://orders.orders.svc"),
    ("URR-X-004", "terraform/global/registry/main.tf", ":${{ github.sha }}", ":latest"),
    ("URR-X-002", "terraform/global/registry/main.tf", '"payments", ', ""),
    ("URR-X-011", "apps/payments/overlays/production/kustomization.yaml", "acme/payments", "acme/payment"),
    (
        "URR-X-013",
        ".github/workflows/promote-production.yml",
        "[storefront, payments, invoicing]",
        "[storefront, search]",
    ),
    ("URR-X-015", "local/kind-config.yaml", '        listenAddress: "127.0.0.1"\n', ""),
    (
        "URR-X-003",
        "apps/payments/overlays/production/kustomization.yaml",
        "newName: 111122223333.dkr",
        "newName: YOUR_ACCOUNT_ID.dkr",
    ),
    (
        "URR-X-012",
        "apps/storefront/overlays/production/kustomization.yaml",
        "amazonaws.com/acme/storefront\n",
        "amazonaws.com/acme/storefront-web\n",
    ),
    (
        "URR-X-014",
        "apps/payments/base/service.yaml",
        "  minAvailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: payments",
        "  minAvailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: storefront",
    ),
    # the binding names another target group; the controller it needs is installed, so a binding
    # made outside the repository cannot be ruled out: undecided, not a finding
    ("URR-X-010", "platform/production/target-group-binding.yaml", "acme-production-storefront", "acme-production-web"),
]
UNDECIDED = {"URR-X-010"}


@pytest.mark.parametrize(("rule", "path", "text", "new"), BREAKS, ids=[b[0] for b in BREAKS])
def test_each_rule_is_evaluated_here(tmp_path, rule, path, text, new):
    root = tmp_path / "repo"
    shutil.copytree(REPO, root)
    target = root / path
    if rule == "URR-X-004":  # the moving tag is pushed by the workflow, the immutability is Terraform's
        target = root / ".github/workflows/service.yml"
    if rule == "URR-X-011":  # payments' overlays run another image: the one CI pushes runs nowhere
        for env in ("staging", "production"):
            p = root / f"apps/payments/overlays/{env}/kustomization.yaml"
            p.write_text(p.read_text().replace(text, new))
        (root / "apps/payments/base/deployment.yaml").write_text(
            (root / "apps/payments/base/deployment.yaml").read_text().replace(text, new)
        )
    else:
        body = target.read_text()
        assert text in body, (path, text)
        target.write_text(body.replace(text, new))
    before = scan(REPO, select=[rule]).result
    after = scan(root, select=[rule]).result
    assert before.findings == [] and before.undecided == []
    said = after.undecided if rule in UNDECIDED else after.findings
    assert said and {f.rule_id for f in said} == {rule}
