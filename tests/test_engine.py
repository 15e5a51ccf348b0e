"""Engine behaviour independent of any loader: dispatch, merge, suppression, crash isolation."""

from __future__ import annotations

from urr_audit.catalog import Rule
from urr_audit.checks.api import NoParams, check
from urr_audit.engine import run
from urr_audit.model.common import Span
from urr_audit.model.kubernetes import K8sEnvironment, K8sObject, KubernetesProject
from urr_audit.model.project import Project


def _obj(env: str, name: str, line: int = 3) -> K8sObject:
    return K8sObject(
        api_version="apps/v1",
        kind="Deployment",
        name=name,
        namespace="ns",
        body={},
        span=Span(path="base/deploy.yaml", line=line, end_line=line + 5),
        environment=env,
    )


def _project() -> Project:
    envs = [
        K8sEnvironment(name=e, path=f"overlays/{e}", objects=[_obj(e, "api"), _obj(e, "web", 20)])
        for e in ("prod", "staging")
    ]
    return Project(root="/x", kubernetes=KubernetesProject(environments=envs))


def _rule(check_name: str, rid: str = "URR-X-900") -> Rule:
    return Rule(
        id=rid,
        title="t",
        severity="high",
        category="c",
        check=check_name,
        rationale="r",
        remediation="r",
        references=["https://example.org"],
    )


@check("t-every-object", scope="kubernetes.object", types=("Deployment",))
def every_object(ctx, obj, params: NoParams):
    """test"""
    yield ctx.finding(at=obj, message=f"{obj.name} flagged")


@check("t-crash", scope="kubernetes.object")
def crash(ctx, obj, params: NoParams):
    """test"""
    if obj.name == "web":
        raise KeyError("boom")
    yield ctx.finding(at=obj, message="ok")


@check("t-undecided", scope="kubernetes.environment")
def undecided(ctx, env, params: NoParams):
    """test"""
    yield ctx.undecided(at=env.objects[0], message="value unknown")


@check("t-rated", scope="kubernetes.object")
def rated(ctx, obj, params: NoParams):
    """test"""
    # "web" is lowered (intent plausible), "api" asks for more than its rule allows
    severity = "low" if obj.name == "web" else "critical"
    yield ctx.finding(at=obj, message=f"{obj.name} rated", severity=severity, confidence="low", column=7)


CHECKS = {c.__urr_check__.name: c.__urr_check__ for c in (every_object, crash, undecided, rated)}


def test_finding_severity_is_lowered_never_raised_and_carries_confidence_and_column():
    rule = _rule("t-rated").model_copy(update={"confidence": "high"})
    res = run(_project(), [rule], CHECKS)
    got = {f.message: (f.severity.value, f.confidence, f.column) for f in res.findings}
    assert got == {"api rated": ("high", "low", 7), "web rated": ("low", "low", 7)}
    plain = run(_project(), [_rule("t-every-object").model_copy(update={"confidence": "medium"})], CHECKS)
    assert {(f.confidence, f.column) for f in plain.findings} == {("medium", None)}


def test_base_object_in_two_environments_is_one_finding():
    res = run(_project(), [_rule("t-every-object")], CHECKS)
    assert [(f.line, f.environments) for f in res.findings] == [(3, ["prod", "staging"]), (20, ["prod", "staging"])]
    assert res.findings[0].environment == "prod, staging"
    assert res.findings[0].address == "apps/v1/Deployment/ns/api"  # environment prefix dropped when merged


def test_fingerprint_ignores_line():
    p1, p2 = _project(), _project()
    for env in p2.kubernetes.environments:
        env.objects = [_obj(env.name, "api", line=40)]
    f1 = run(p1, [_rule("t-every-object")], CHECKS).findings[0]
    f2 = run(p2, [_rule("t-every-object")], CHECKS).findings[0]
    assert f1.line != f2.line and f1.fingerprint == f2.fingerprint


def test_crashing_check_is_reported_and_scan_goes_on():
    res = run(_project(), [_rule("t-crash")], CHECKS)
    assert len(res.findings) == 1
    assert [e.kind for e in res.errors] == ["check.crash", "check.crash"]
    assert "KeyError" in res.errors[0].message


def test_undecided_is_kept_apart():
    res = run(_project(), [_rule("t-undecided")], CHECKS)
    assert res.findings == [] and len(res.undecided) == 1


def test_inline_suppression():
    lines = {("base/deploy.yaml", 2): "# urr-audit: ignore=URR-X-900"}
    res = run(_project(), [_rule("t-every-object")], CHECKS, read_line=lambda p, n: lines.get((p, n), ""))
    assert [f.suppressed for f in res.findings] == [True, False]
    other = run(
        _project(), [_rule("t-every-object", "URR-X-901")], CHECKS, read_line=lambda p, n: lines.get((p, n), "")
    )
    assert [f.suppressed for f in other.findings] == [False, False]


def test_environment_scoping():
    only_prod = _rule("t-every-object").model_copy(update={"environments": ["prod"]})
    res = run(_project(), [only_prod], CHECKS)
    assert {tuple(f.environments) for f in res.findings} == {("prod",)}
    skip_stg = _rule("t-every-object").model_copy(update={"skip_environments": ["stag.*"]})
    assert {tuple(f.environments) for f in run(_project(), [skip_stg], CHECKS).findings} == {("prod",)}


def test_base_object_in_overlays_with_different_namespaces_is_one_finding():
    p = _project()
    for env in p.kubernetes.environments:
        for o in env.objects:
            o.namespace = f"ns-{env.name}"
    res = run(p, [_rule("t-every-object")], CHECKS)
    assert [(f.line, f.environments, f.address) for f in res.findings] == [
        (3, ["prod", "staging"], None),
        (20, ["prod", "staging"], None),
    ]


def test_path_scoping():
    rule = _rule("t-every-object").model_copy(update={"skip_paths": [r"(^|/)base/"]})
    assert run(_project(), [rule], CHECKS).findings == []
    rule = _rule("t-every-object").model_copy(update={"skip_paths": [r"(^|/)examples/"]})
    assert len(run(_project(), [rule], CHECKS).findings) == 2


def test_suppression_comment_with_justification():
    for comment in (
        "# urr-audit: ignore=URR-X-900 -- runs as root to read node logs",
        "# urr-audit: ignore=URR-X-800, URR-X-900 because reasons",
        "# urr-audit:ignore",
    ):
        lines = {("base/deploy.yaml", 3): f"image: x  {comment}"}
        res = run(
            _project(), [_rule("t-every-object")], CHECKS, read_line=lambda p, n, lines=lines: lines.get((p, n), "")
        )
        assert [f.suppressed for f in res.findings] == [True, False], comment
    lines = {("base/deploy.yaml", 3): "# urr-audit: ignore=URR-X-9000 -- another rule"}
    res = run(_project(), [_rule("t-every-object")], CHECKS, read_line=lambda p, n: lines.get((p, n), ""))
    assert not any(f.suppressed for f in res.findings)


@check("t-absence", scope="kubernetes.environment", closed_world="kubernetes")
def absence(ctx, env, params: NoParams):
    """test"""
    yield ctx.finding(at=env.objects[0], message="no PDB")


def test_closed_world_findings_are_undecided_in_incomplete_environments():
    p = _project()
    p.kubernetes.environments[0].incomplete = ["k.yaml:3: remote base not fetched"]
    res = run(p, [_rule("t-absence")], {"t-absence": absence.__urr_check__})
    assert [f.environments for f in res.findings] == [["staging"]]
    [u] = res.undecided
    assert u.environments == ["prod"] and "not decided: k.yaml:3: remote base not fetched" in u.message
