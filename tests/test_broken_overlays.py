"""A broken overlay yields a finding with file and line, and the other overlays are still checked."""

from __future__ import annotations

import shutil

from tests.conftest import FIXTURES
from urr_audit.scan import scan


def test_missing_file_and_repeated_key_do_not_stop_the_scan(tmp_path):
    repo = tmp_path / "urr"
    shutil.copytree(FIXTURES / "repos" / "urr", repo)
    overlays = repo / "k8s" / "spring" / "overlays"
    # staging: a git-ignored secret file, with its example beside it
    (overlays / "staging" / "secret.env").rename(overlays / "staging" / "secret.env.example")
    # prod: a key repeated in an env file
    config = overlays / "prod" / "config.env"
    lines = config.read_text().splitlines()
    config.write_text("\n".join([*lines, lines[1]]) + "\n")

    report = scan(repo)
    k8s000 = [f for f in report.result.findings if f.rule_id == "URR-K8S-000"]
    by_path = {f.path: f for f in k8s000}
    missing = by_path["k8s/spring/overlays/staging/kustomization.yaml"]
    assert "secret.env" in missing.message and "secret.env.example" in missing.message
    kustomization = (overlays / "staging" / "kustomization.yaml").read_text().splitlines()
    assert kustomization[missing.line - 1].strip() == "- secret.env"  # the generator entry to fix
    repeated = by_path["k8s/spring/overlays/prod/config.env"]
    assert repeated.line == len(lines) + 1 and lines[1].split("=")[0] in repeated.message

    # every overlay still rendered and was checked
    envs = {e.name: e for e in report.project.kubernetes.environments}
    assert {"dev", "kind", "staging", "prod"} <= set(envs)
    assert all(envs[n].objects for n in ("dev", "kind", "staging", "prod"))
    placeholder = {e for f in report.result.findings if f.rule_id == "URR-K8S-001" for e in f.environments}
    assert {"staging", "prod"} <= placeholder
    assert any(f.rule_id == "URR-K8S-002" and "prod" in f.environments for f in report.result.findings)
    assert any(e.level == "error" for e in report.result.errors)
