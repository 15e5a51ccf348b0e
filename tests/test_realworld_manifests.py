"""fixtures/realworld/media-platform: plain manifests applied with `kubectl apply -R`, split by
component, a generated `.json` Deployment, Redis/Kafka/PostgreSQL in the cluster, legacy API
versions and a vendored Helm chart. The findings are exactly the `# expect:` comments (and, for
the `.json` file, which cannot carry comments, the list below), at lines that exist."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES
from tests.test_realworld_k8s import expected
from urr_audit.scan import scan

ROOT = FIXTURES / "realworld" / "media-platform"
# JSON has no comments: what the generated Deployment is expected to yield.
IN_JSON = {("URR-K8S-013", "manifests/transcoder/deployment.json", 38)}


@pytest.fixture(scope="module")
def report():
    return scan(ROOT)


def test_loads_cleanly(report):
    assert [e for e in report.result.errors if e.level == "error"] == []
    assert [e.kind for e in report.result.errors] == ["helm.unsupported"]
    assert report.result.undecided == []


def test_findings_are_exactly_the_expected_ones(report):
    got = {(f.rule_id, f.path, f.line) for f in report.result.findings}
    assert got == expected(ROOT) | IN_JSON


def test_every_finding_points_at_an_existing_line(report):
    for f in report.result.findings:
        lines = (ROOT / f.path).read_text(encoding="utf-8").splitlines()
        assert 0 < f.line <= len(lines), (f.rule_id, f.path, f.line)


def test_components_applied_together_are_one_environment(report):
    (env,) = report.project.kubernetes.environments
    assert env.path == "manifests" and env.source == "manifests"
    kinds = {(o.kind, o.name, o.span.path) for o in env.objects}
    assert ("Deployment", "transcoder", "manifests/transcoder/deployment.json") in kinds
    assert ("Pod", "db-migrate", "manifests/jobs/db-migrate.yaml") in kinds
    assert not any(o.span.path.startswith(("charts/", "helm/")) for o in env.objects)


def test_what_pods_do_not_dial_is_not_an_egress_finding(report):
    # CORS origins, the API's public URL, the OAuth redirect, bind addresses (0.0.0.0:9094 on
    # the Kafka TLS port), the brokers' advertised listeners, headless broker names: silent.
    egress = " ".join(f.message for f in report.result.findings if f.rule_id == "URR-K8S-003")
    for never in ("streamly.example.com", "9094", "kafka", "redis", "NO_PROXY", "advertised"):
        assert never not in egress
    assert "db-migrate" in egress  # the one pod whose egress no policy admits
