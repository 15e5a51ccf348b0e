"""No conclusion from absence where part of an environment is not read: a remote Kustomize
base or a remote Terraform module may hold the PodDisruptionBudget, the flow log, the patch
target. Such findings become undecided, saying why; findings about what is there stay."""

from __future__ import annotations

from typer.testing import CliRunner

from urr_audit.cli import app
from urr_audit.scan import scan

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:latest
"""


def _overlay(tmp_path, remote: bool):
    d = tmp_path / "overlay"
    d.mkdir()
    resources = ["deployment.yaml"] + (["github.com/example/platform//policies?ref=v1.0.0"] if remote else [])
    (d / "kustomization.yaml").write_text(
        "resources:\n" + "".join(f"  - {r}\n" for r in resources) + "patches:\n  - path: patch.yaml\n"
    )
    (d / "deployment.yaml").write_text(DEPLOYMENT)
    (d / "patch.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: from-remote\nspec:\n  type: ClusterIP\n"
    )
    return tmp_path


def test_remote_base_turns_absence_findings_into_undecided(tmp_path):
    report = scan(_overlay(tmp_path, remote=True))
    found = {f.rule_id for f in report.result.findings}
    undecided = {f.rule_id: f for f in report.result.undecided}
    assert "URR-K8S-002" in undecided and "URR-K8S-002" not in found  # the PDB may be remote
    assert (
        "not decided" in undecided["URR-K8S-002"].message and "github.com/example" in undecided["URR-K8S-002"].message
    )
    assert "URR-K8S-005" in found  # :latest is in the repository itself: still a finding
    assert "URR-K8S-000" not in found  # the patch target may be remote: not an error
    assert [e.kind for e in report.result.errors if e.level == "error"] == []
    r = CliRunner().invoke(app, ["scan", str(tmp_path), "--fail-on", "high"])
    assert r.exit_code == 0, r.output


def test_without_remote_input_the_same_repository_is_judged(tmp_path):
    report = scan(_overlay(tmp_path, remote=False))
    found = {f.rule_id for f in report.result.findings}
    assert {"URR-K8S-002", "URR-K8S-000"} <= found


VPC = 'resource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n}\n\nprovider "aws" {\n  region = "eu-west-1"\n}\n'


def test_remote_terraform_module_may_hold_the_companion(tmp_path):
    (tmp_path / "main.tf").write_text(
        VPC + '\nmodule "logging" {\n  source = "acme/flow-logs/aws"\n  vpc_id = aws_vpc.main.id\n}\n'
    )
    report = scan(tmp_path, select=["URR-TF-015"])
    assert report.result.findings == []
    [u] = report.result.undecided
    assert "module.logging (acme/flow-logs/aws) is not read" in u.message


def test_local_terraform_is_judged(tmp_path):
    (tmp_path / "main.tf").write_text(VPC)
    assert [f.rule_id for f in scan(tmp_path, select=["URR-TF-015"]).result.findings] == ["URR-TF-015"]


def test_a_remote_module_that_is_not_given_the_resource_cannot_hold_its_companion(tmp_path):
    (tmp_path / "main.tf").write_text(
        VPC + '\nmodule "dns" {\n  source = "acme/dns/aws"\n  zone   = "example.org"\n}\n'
    )
    report = scan(tmp_path, select=["URR-TF-015"])
    assert [f.rule_id for f in report.result.findings] == ["URR-TF-015"] and report.result.undecided == []
