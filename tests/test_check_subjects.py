"""Every check says what it examines (`@check(subjects=...)`), so that the review claims a
strength only where that thing exists; the subjects are counted in the model."""

from __future__ import annotations

import re

import pytest

from tests.conftest import FIXTURES
from urr_audit.catalog import load_rules
from urr_audit.engine import bind
from urr_audit.facts.subjects import count, counted_noun, unknown
from urr_audit.registry import load_checks
from urr_audit.report.review import render_markdown
from urr_audit.scan import scan


def _framework(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 else None


def test_every_check_declares_its_subjects_or_why_it_has_none():
    missing = sorted(
        f"{spec.name} ({spec.module})"
        for spec in load_checks().values()
        if not (spec.subjects or spec.types or spec.no_subjects.strip())
    )
    assert not missing, (
        "checks that neither declare what they examine (`subjects=`, see urr_audit.facts.subjects "
        "for the vocabulary) nor say why they examine their scope node as a whole (`no_subjects=`): "
        + ", ".join(missing)
    )


@pytest.mark.parametrize("rule", load_rules(), ids=lambda r: r.id)
def test_declared_subjects_are_in_the_vocabulary(rule):
    checks = load_checks()
    spec, params = bind(rule, checks)
    for subject in spec.subjects_for(params):
        why = unknown(_framework(spec.module), subject)
        assert why is None, f"{rule.id} ({spec.name}): subject {subject!r}: {why}"


def test_unknown_subjects_are_told():
    assert unknown("github", "actions/checkout") is None
    assert unknown("github", "on:pull_request_target") is None
    assert unknown("github", "checkout") is not None
    assert unknown("terraform", "aws_db_instance") is None
    assert unknown("terraform", "module") is not None
    assert unknown("kubernetes", "deployment") is not None
    assert unknown("kubernetes", "image:(") is not None
    assert unknown("argocd", "Applications") is not None
    assert unknown("cross", "kubernetes:Deployment") is None and unknown("cross", "kubernetes:x y") is not None


def test_counted_noun():
    assert counted_noun(1, "resources (1 `aws_db_instance`)") == "resource (1 `aws_db_instance`)"
    assert counted_noun(1, "Terraform module directories") == "Terraform module directory"
    assert counted_noun(1, "Kubernetes environments") == "Kubernetes environment"
    assert counted_noun(1, "local `uses:`") == "local `uses:`"
    assert counted_noun(2, "jobs") == "jobs"


def _strengths(markdown: str) -> str:
    m = re.search(r"^### [\d.]+ Strengths$(.*?)^### ", markdown, re.MULTILINE | re.DOTALL)
    return m.group(1) if m else ""


def _workflow_repo(tmp_path, steps: str):
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "ci.yml").write_text(
        "name: CI\non: push\npermissions: {}\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n" + steps
    )
    return tmp_path


def test_a_workflow_rule_is_a_strength_only_where_its_subject_exists(tmp_path):
    # no local `uses:` at all: the rule about local uses checked nothing
    bare = _workflow_repo(tmp_path / "a", "      - run: make test\n")
    strengths = _strengths(render_markdown(scan(bare)))
    assert "`URR-GHA-003`" in strengths and "not found in 1 job checked" in strengths
    assert "`URR-GHA-002`" not in strengths
    # a local action that exists: now it was checked, and passed
    local = _workflow_repo(tmp_path / "b", "      - uses: ./.github/actions/setup\n")
    action = local / ".github" / "actions" / "setup"
    action.mkdir(parents=True)
    (action / "action.yml").write_text(
        "name: setup\nruns:\n  using: composite\n  steps:\n    - run: true\n      shell: bash\n"
    )
    strengths = _strengths(render_markdown(scan(local)))
    assert "`URR-GHA-002` Local uses names nothing in the repository: not found in 1 local `uses:` checked" in strengths


def test_rules_of_an_absent_artifact_kind_are_no_strength():
    strengths = _strengths(render_markdown(scan(FIXTURES / "realworld" / "tf-live")))
    assert strengths
    assert "URR-ARGO" not in strengths and "URR-K8S" not in strengths and "URR-GHA" not in strengths
    assert "1 repository checked" not in strengths


def test_subjects_are_counted_in_the_chosen_environments():
    report = scan(FIXTURES / "repos" / "urr")
    project = report.project
    envs = {e.name: e for e in project.kubernetes.environments}
    # the kind overlay runs PostgreSQL, Dragonfly and Kafka in the cluster; prod runs none
    stores = ["image:(^|/)postgres$", "image:(^|/)dragonfly$", "image:(^|/)apache/kafka$"]
    assert count(project, "kubernetes", stores, [], [envs["kind"]]).total == 3
    assert count(project, "kubernetes", stores, [], [envs["prod"]]).total == 0
    rollouts = count(project, "kubernetes", ["Rollout"], [], [envs["prod"]])
    assert rollouts.total == 4 and rollouts.noun() == "objects (4 Rollout)"
    tf = {e.name: e for e in project.terraform.environments}
    assert count(project, "terraform", ["aws_cloudfront_distribution"], [tf["staging"]], []).total == 0
    assert count(project, "terraform", ["aws_cloudfront_distribution"], [tf["prod"]], []).total == 1
    assert count(project, "terraform", ["tfvars"], list(tf.values()), []).total == 0  # the seed's weakness 2
    steps = count(project, "github", ["actions/checkout", "workflow"], [], [])
    assert steps.noun().startswith("items (") and "14 workflows" in steps.noun()
    assert count(project, "argocd", ["Application", "AppProject"], [], []).noun() == "Applications"
    # a framework with no vocabulary here: the caller falls back to the check's scope nodes
    assert count(project, "helm", ["chart"], [], []) is None
    # the nine Dockerfiles of the bundled repository, one final stage each, ENV in the web one
    assert count(project, "docker", ["Dockerfile", "final-stage", "ENV"], [], []).noun() == (
        "items (9 Dockerfiles, 9 final stages, 2 instructions)"
    )
    assert count(scan(FIXTURES / "realworld" / "tf-live").project, "docker", ["Dockerfile"], [], []).total == 0


def test_docker_subjects_counted():
    project = scan(FIXTURES / "realworld" / "polyglot-services").project
    files = project.docker.files
    assert count(project, "docker", ["Dockerfile"], [], []).total == len(files) > 0
    assert count(project, "docker", ["final-stage"], [], []).total == len(files)
    stages = sum(len(f.stages) for f in files)
    assert count(project, "docker", ["stage"], [], []).noun() == counted_noun(stages, "build stages")
    env = sum(1 for f in files for st in f.stages for i in st.instructions if i.kind == "ENV")
    assert count(project, "docker", ["ENV"], [], []).total == env
    assert unknown("docker", "USER") is None and unknown("docker", "user") is not None


def test_workflow_subjects_counted(tmp_path):
    repo = _workflow_repo(
        tmp_path,
        "      - uses: actions/checkout@v4\n      - uses: docker://alpine:3.20\n      - run: make test\n",
    )
    wf = repo / ".github" / "workflows" / "ci.yml"
    wf.write_text(
        wf.read_text().replace(
            "    runs-on: ubuntu-latest\n",
            '    runs-on: ubuntu-latest\n    services:\n      db: {image: "postgres:16"}\n',
        )
    )
    project = scan(repo).project
    n = {
        s: count(project, "github", [s], [], []).total
        for s in ("container", "run", "uses", "actions/checkout", "on:push", "on:pull_request_target", "job")
    }
    assert n == {
        "container": 2,
        "run": 1,
        "uses": 2,
        "actions/checkout": 1,
        "on:push": 1,
        "on:pull_request_target": 0,
        "job": 1,
    }


def test_a_new_artifact_kind_is_no_strength_where_its_model_read_nothing(monkeypatch):
    """A framework without a vocabulary here (Helm charts, say, when a model lands) counts
    its check's scope nodes, and only where its model on Project (by the framework's name) read
    something: a project-scoped check of it claims nothing in a repository without any."""
    import dataclasses
    import types

    from pydantic import BaseModel

    from urr_audit.checks.api import CheckSpec, NoParams
    from urr_audit.model.project import Project
    from urr_audit.report.review import assessment
    from urr_audit.report.review.doc import ReviewContext

    class Charts(BaseModel):
        files: int = 0

        def inventory(self) -> dict[str, int]:
            return {"charts": self.files}

    class WithCharts(Project):
        helm: Charts = Charts()

    report = scan(FIXTURES / "realworld" / "tf-live")
    spec = CheckSpec(
        "helm-x", "project", NoParams, lambda *a: (), module="urr_audit.checks.helm.x", subjects=("chart",)
    )
    rule = types.SimpleNamespace(
        id="URR-HELM-999", check="helm-x", params={}, environments=[], skip_environments=[], skip_paths=[]
    )
    monkeypatch.setattr(assessment, "load_checks", lambda: {"helm-x": spec})
    for files, expected in ((0, 0), (2, 1)):
        project = WithCharts.model_construct(**dict(report.project), helm=Charts(files=files))
        ctx = ReviewContext(dataclasses.replace(report, project=project))
        assert assessment.subjects(ctx, rule)[0] == expected
