"""The shared edge-case fixtures in fixtures/terraform/ (read-only here)."""

from __future__ import annotations

from pathlib import Path

from urr_audit.loaders.terraform import load_terraform
from urr_audit.workspace import Workspace

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "terraform"
URR = Path(__file__).resolve().parents[3] / "fixtures" / "repos" / "urr"


def load(name: str):
    return load_terraform(Workspace(FIXTURES / name))


def test_broken_file_beside_valid_one() -> None:
    project, errors = load("broken")
    (err,) = errors
    assert (err.kind, err.path, err.line) == ("terraform.parse", "main.tf", 6)
    assert "unclosed block starting at line 6" in err.message
    mod = project.modules["."]
    # kept: the variable before the error and ok.tf; dropped: the unclosed block and what follows
    assert [r.address for r in mod.resources] == ["aws_s3_bucket.fine"]
    assert "environment" in mod.variables


def test_duplicate_backend_both_recorded() -> None:
    project, _ = load("duplicate-backend")
    assert [(b.type, b.span.path) for b in project.modules["."].backends] == [("s3", "backend.tf"), ("s3", "main.tf")]


def test_tfvars_precedence_and_example_ignored() -> None:
    project, errors = load("tfvars")
    assert errors == []
    env = project.environments[0]
    assert env.tfvars_ignored == ["prod.tfvars.example"]
    assert env.tfvars_loaded[-1] == "overrides.auto.tfvars"
    assert env.root.variables["environment"].value == "staging"
    assert [f.kind for f in env.module.tfvars] == ["auto", "example", "tfvars", "json"]


def test_remote_sources_recorded_not_instantiated() -> None:
    project, errors = load("remote-sources")
    calls = project.modules["."].module_calls
    remote = {n: c.source_kind for n, c in calls.items() if c.source_kind != "local"}
    assert remote and all(c.resolved_dir is None for n, c in calls.items() if n in remote)
    assert [i.address for i in project.environments[0].instances] == ["", "module.local_tags"]
    # each remote call is named as not audited (a note, never an error)
    assert sorted(e.address for e in errors) == sorted(f"module.{n}" for n in remote)
    assert {(e.kind, e.level) for e in errors} == {("terraform.remote-module", "note")}


def test_nested_local_modules() -> None:
    project, _ = load("nested-modules")
    (env,) = project.environments
    assert "module.gateway.module.queue" in [i.address for i in env.instances]


def test_urr_environments_resolve_eks_addon_versions() -> None:
    project, errors = load_terraform(Workspace(URR))
    assert errors == []
    assert sorted(e.name for e in project.environments) == ["prod", "staging"]
    for env in project.environments:
        addons = {ri.address: ri.get("addon_version") for ri in env.resources("aws_eks_addon")}
        assert "module.eks.aws_eks_addon.coredns" in addons
        assert all(v.is_known and v.value for v in addons.values()), addons
