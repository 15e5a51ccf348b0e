"""Regression (found by tests/property at 50x): a JSON 6902 `move` whose `from` line was deleted,
or a `remove` of the whole document, raised IndexError out of the renderer; each is now a
patch error at the kustomization and the rest renders."""

from __future__ import annotations

import pytest

from urr_audit.loaders.kustomize import load_kubernetes
from urr_audit.workspace import Workspace

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: worker
          image: worker:1.0
"""


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        ("- op: move\n  path: /spec/replicas\n", "move operation without a from"),
        ("- op: copy\n  from: 3\n  path: /spec/replicas\n", "copy operation without a from"),
        ('- op: remove\n  path: ""\n', "cannot remove the whole document"),
        ('- op: move\n  from: ""\n  path: /spec/x\n', "cannot remove the whole document"),
    ],
)
def test_malformed_operations_are_patch_errors(tmp_path, ops, message):
    (tmp_path / "deployment.yaml").write_text(DEPLOYMENT)
    (tmp_path / "ops.yaml").write_text(ops)
    (tmp_path / "kustomization.yaml").write_text(
        "resources:\n  - deployment.yaml\npatches:\n  - path: ops.yaml\n    target:\n      kind: Deployment\n"
    )
    project, errors = load_kubernetes(Workspace(tmp_path))
    assert any(message in e.message for e in errors), errors
    assert all(e.kind.startswith("kustomize.") for e in errors)
    assert [o.name for env in project.environments for o in env.objects] == ["worker"]


def test_a_patch_whose_metadata_is_not_a_mapping_is_an_error(tmp_path):
    # regression (tests/property at 50x): `metadata: name` (a cut line) reached .get on a string
    (tmp_path / "deployment.yaml").write_text(DEPLOYMENT)
    (tmp_path / "kustomization.yaml").write_text(
        "resources:\n  - deployment.yaml\npatches:\n  - patch: |-\n      apiVersion: apps/v1\n"
        "      kind: Deployment\n      metadata:\n        name\n      spec:\n        replicas: 3\n"
    )
    project, errors = load_kubernetes(Workspace(tmp_path))
    assert [e.kind for e in errors] == ["kustomize.invalid"] and "no unique target" in errors[0].message
    assert [o.name for env in project.environments for o in env.objects] == ["worker"]
