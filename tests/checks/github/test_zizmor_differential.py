"""zizmor as a reference oracle (tests only): over the corpus under fixtures/workflows and the
seed's repositories, urr-audit and `zizmor --offline` agree per (file, audit, line) on the
audits both have, and every disagreement is a named, explained difference (`zizmor_diff.KNOWN`).

`python tests/checks/github/zizmor_diff.py` prints the agreement figure and each difference.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.checks.github.zizmor_diff import CORPUS, KNOWN, SEED, classify, diff, zizmor_version
from tests.oracles import tool

pytestmark = pytest.mark.skipif(
    tool("zizmor") is None, reason="zizmor not installed (`pip install zizmor`, in the test extra)"
)

ROOTS = [CORPUS, *SEED]


@pytest.fixture(scope="module")
def diffs():
    return {root: diff(root) for root in ROOTS}


def test_zizmor_version_and_its_default_pinning_policy(tmp_path):
    """zizmor 1.20 made SHA pins the default policy for every action, first-party `actions/*`
    included; URR-GHA-010's empty `allow` param is that policy."""
    version = zizmor_version()
    assert version is not None and version.startswith("zizmor ")
    major, minor = (int(x) for x in version.split()[1].split(".")[:2])
    assert (major, minor) >= (1, 20), version
    wf = tmp_path / ".github" / "workflows" / "ci.yml"
    wf.parent.mkdir(parents=True)
    wf.write_text(
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n"
    )
    out = subprocess.run(
        [tool("zizmor"), "--offline", "--no-config", "--format", "json", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    found = [
        (f["ident"], loc["symbolic"]["annotation"])
        for f in json.loads(out.stdout)
        for loc in f["locations"]
        if loc["symbolic"]["kind"] == "Primary"
    ]
    assert found == [("unpinned-uses", "action is not pinned to a hash (required by blanket policy)")]


def test_corpus_has_every_audit_and_forty_workflows(diffs):
    workflows = list((CORPUS / ".github" / "workflows").glob("*.yml"))
    assert len(workflows) >= 40
    d = diffs[CORPUS]
    seen = {u.audit for u in d.us} | {z.audit for z in d.zs}
    from tests.checks.github.zizmor_diff import OVERLAP

    assert seen == OVERLAP


@pytest.mark.parametrize("root", ROOTS, ids=lambda r: str(Path(r).relative_to(CORPUS.parents[1])))
def test_every_disagreement_is_one_known_difference(diffs, root):
    d = diffs[root]
    unexplained = []
    for f in [*d.z_only, *d.u_only]:
        names = classify(d, f)
        if len(names) != 1:
            side = "zizmor" if f in d.z_only else "urr-audit"
            unexplained.append(f"{side} {f.path}:{f.line} {f.audit} -> {names or 'no known difference'}")
    assert unexplained == []


def test_agreement_figure(diffs):
    """Most triples agree outright; the 'located differently' pairs are the same findings."""
    d = diffs[CORPUS]
    total = len({z.key for z in d.zs} | {u.key for u in d.us})
    located = sum(1 for f in d.z_only if classify(d, f) == ["located differently"])
    assert len(d.agree) >= 60, (len(d.agree), total)
    assert (len(d.agree) + located) / total >= 0.7, (len(d.agree), located, total)


def test_actions_no_workflow_uses_are_audited_by_both(diffs):
    """zizmor audits every action file; urr-audit reads the actions a repository publishes
    (`.github/actions/*/action.yml`, a root `action.yml`) though no workflow uses them, and the
    two agree on what they find there."""
    d = diffs[CORPUS]
    notes = ".github/actions/release-notes/action.yml"
    assert {(p, a) for p, a, _ in d.agree if p == notes} == {(notes, "unpinned-uses"), (notes, "template-injection")}
    assert not [f for f in [*d.z_only, *d.u_only] if f.path.startswith(".github/actions/")]


# One test per known difference: where it shows in the corpus, and who is right.
EXAMPLES = {
    "located differently": [
        ("zizmor", ".github/workflows/secrets-inherit.yml", 10),  # the `uses:` line
        ("urr", ".github/workflows/secrets-inherit.yml", 13),  # `secrets: inherit`, to replace
        ("zizmor", ".github/workflows/prt-checkout-head.yml", 3),  # the trigger
        ("urr", ".github/workflows/prt-checkout-head.yml", 14),  # `ref: ${{ ...head.sha }}`
        ("zizmor", ".github/workflows/container-creds.yml", 10),  # `credentials:`
        ("urr", ".github/workflows/container-creds.yml", 12),  # `password:`
    ],
    "untraced context": [("zizmor", ".github/workflows/rust-ci.yml", 24)],
    "logins and the repository's own refs": [("zizmor", ".github/workflows/inject-github-script.yml", 18)],
    "context the workflow's events never set": [("zizmor", ".github/workflows/nightly-notes.yml", 16)],
    "privileged trigger that runs no pull request code": [("zizmor", ".github/workflows/release-drafter.yml", 5)],
    "workflow-level write scope every job uses": [("zizmor", ".github/workflows/secrets-inherit.yml", 7)],
    "workflow-level permissions of a single-job workflow": [
        ("urr", ".github/workflows/perms-write-all-single.yml", 6),
        ("urr", ".github/workflows/lint-read-all.yml", 4),
    ],
    "job-level write scope no step uses": [("urr", ".github/workflows/bot-conditions-steps.yml", 11)],
    "cache restore action": [("urr", ".github/workflows/release-binaries.yml", 16)],
    "publishing by command": [("urr", ".github/workflows/publish-on-merge.yml", 17)],
    "repeated expansion located at its first occurrence": [("urr", ".github/workflows/tag-from-dispatch.yml", 29)],
    "setup-node without a cache input": [("zizmor", ".github/workflows/publish-on-merge.yml", 35)],
}


@pytest.mark.parametrize("known", KNOWN, ids=lambda k: k.name)
def test_known_difference(diffs, known):
    """Each known difference shows where expected in the corpus, on the side it names, and says
    who is right and why."""
    assert known.right in ("urr-audit", "zizmor", "both") and len(known.reason) > 80
    d = diffs[CORPUS]
    found = {("zizmor", f.path, f.line) for f in d.z_only if classify(d, f) == [known.name]}
    found |= {("urr", f.path, f.line) for f in d.u_only if classify(d, f) == [known.name]}
    assert set(EXAMPLES[known.name]) <= found, found
