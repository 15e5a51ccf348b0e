"""Model building: blocks, spans, addresses, roots, sources, parse errors, root escapes."""

from __future__ import annotations

import os
from pathlib import Path

from urr_audit.loaders import load_project
from urr_audit.loaders.terraform import load_terraform
from urr_audit.workspace import Workspace

from .conftest import write_tree

CASES = Path(__file__).parent / "cases"


def test_edge_case_module_model() -> None:
    project, errors = load_terraform(Workspace(CASES / "edge"))
    mod = project.modules["env/prod"]
    assert [r.address for r in mod.resources] == [
        "aws_security_group.sg",
        "aws_instance.web",
        "data.aws_iam_policy_document.p",
        "aws_subnet.per_az",
    ]
    sg, web, _, per_az = mod.resources
    assert [b.labels for b in sg.body.blocks_of("dynamic")] == [["ingress"]]
    dyn = sg.body.blocks_of("dynamic")[0].blocks_of("content")[0]
    # the dynamic iterator is a local name, not a dependency on a resource called `ingress`
    assert dyn.attributes["from_port"].expr.references == []
    assert web.count is not None and web.count.references == ["var.instance_count"]
    assert per_az.for_each is not None and per_az.for_each.functions == ["toset"]
    assert web.provider == "aws.east"
    assert [(p.name, p.alias) for p in mod.providers] == [("aws", None), ("aws", "east")]
    v = mod.variables["settings"]
    assert v.type is not None and "optional(number, 3)" in v.type
    assert v.sensitive is False and v.nullable is False and len(v.validations) == 1
    assert mod.variables["token"].sensitive is True and mod.variables["token"].required
    assert [b.type for b in mod.other_blocks] == ["moved", "import", "check", "removed"]
    (settings,) = mod.settings
    assert settings.required_version == ">= 1.6"
    assert settings.required_providers == {"aws": {"source": "hashicorp/aws", "version": "~> 5.0"}}
    assert [b.type for b in settings.backends] == ["cloud"]
    calls = mod.module_calls
    assert {n: c.source_kind for n, c in calls.items()} == {
        "net": "local",
        "reg": "registry",
        "gitmod": "git",
        "gh": "git",
        "web": "http",
        "bucket": "s3",
        "gcs": "gcs",
    }
    assert calls["net"].resolved_dir == "modules/net"
    assert calls["reg"].version == "5.1.0" and calls["reg"].resolved_dir is None
    assert set(calls["net"].arguments) == {"cidr", "name"}
    assert calls["net"].depends_on == ["aws_security_group.sg"]
    env = next(e for e in project.environments if e.name == "prod")
    assert [i.address for i in env.instances] == ["", "module.net", "module.net.module.subnets"]
    subnets = env.instances[2]
    assert subnets.variables["cidr"].value == "10.1.0.0/16"
    assert [r.address for r in env.resources("aws_subnet")] == [
        'aws_subnet.per_az["a"]',
        'aws_subnet.per_az["b"]',
        "module.net.module.subnets.aws_subnet.this",
    ]  # for_each over a known set: one instance per key
    # remote sources are recorded, never fetched: their outputs are unknown
    out = env.root.eval(mod.locals["from_registry"].expr)
    assert out.is_unknown and "registry" in out.reason
    assert not [e for e in errors if e.level == "error" and e.kind != "terraform.parse"], errors


def test_roots_are_directories_nobody_calls() -> None:
    project, _ = load_terraform(Workspace(CASES / "edge"))
    assert sorted(e.name for e in project.environments) == ["json", "prod", "two-backends"]
    assert "modules/net" in project.modules and "modules/net/subnets" in project.modules


def test_tf_json_module() -> None:
    project, _errors = load_terraform(Workspace(CASES / "edge"))
    mod = project.modules["env/json"]
    (res,) = mod.resources
    assert res.address == "aws_s3_bucket.b"
    assert res.span.line == 5
    assert res.body.attributes["bucket"].span.line == 6
    tags = res.body.attributes["tags"]
    assert tags.span.line == 7
    assert tags.expr.references == ["var.env"]
    assert mod.variables["env"].default is not None and mod.variables["env"].default.literal.value == "dev"
    env = next(e for e in project.environments if e.name == "json")
    assert next(env.resources()).get("tags").value == {"Env": "dev", "Static": "yes"}
    assert [b.type for b in mod.backends] == ["s3"]
    assert mod.backends[0].config.attributes["bucket"].expr.literal.value == "state"
    assert res.body.blocks_of("lifecycle")[0].attributes["prevent_destroy"].expr.literal.value is True


def test_two_backends_kept_with_their_spans() -> None:
    project, _ = load_terraform(Workspace(CASES / "edge"))
    mod = project.modules["env/two-backends"]
    assert [(b.type, b.span.path, b.span.line) for b in mod.backends] == [
        ("s3", "env/two-backends/backend.tf", 2),
        ("local", "env/two-backends/main.tf", 2),
    ]


def test_parse_error_reports_line_and_keeps_other_files(load_tree) -> None:
    project, errors = load_tree(
        {
            "a/broken.tf": 'resource "x" "ok" {\n  a = 1\n}\n\nresource "x" "bad" {\n  b = }\n}\n',
            "a/good.tf": 'resource "x" "fine" {\n  c = 1\n}\n',
        }
    )
    (err,) = errors
    assert (err.kind, err.path, err.line) == ("terraform.parse", "a/broken.tf", 6)
    assert "syntax error" in err.message
    # blocks that end before the first error are kept; the broken block and everything after it are not
    assert [r.address for r in project.modules["a"].resources] == ["x.ok", "x.fine"]


def test_unclosed_block_names_its_start(load_tree) -> None:
    _, errors = load_tree({"m/main.tf": 'variable "a" {}\n\nresource "x" "y" {\n  a = 1\n'})
    (err,) = errors
    assert err.kind == "terraform.parse" and err.line == 3
    assert "unclosed block starting at line 3" in err.message


def test_invalid_json_and_tfvars_are_parse_errors(load_tree) -> None:
    _, errors = load_tree(
        {
            "r/main.tf.json": '{\n  "variable": {\n    "a": {"default": 1,}\n  }\n}\n',
            "r/main.tf": 'variable "b" {}\n',
            "r/terraform.tfvars": "b = [\n",
        }
    )
    assert sorted((e.kind, e.path, e.line) for e in errors) == [
        ("terraform.parse", "r/main.tf.json", 3),
        ("terraform.parse", "r/terraform.tfvars", 1),
    ]


def test_tfvars_json_whose_top_level_is_not_an_object_is_a_parse_error(load_tree) -> None:
    # Terraform refuses such a file; before, it was read as setting nothing, silently
    _, errors = load_tree({"r/main.tf": 'variable "b" {}\n', "r/terraform.tfvars.json": '[\n  {"b": 1}\n]\n'})
    assert [(e.kind, e.path, e.line) for e in errors] == [("terraform.parse", "r/terraform.tfvars.json", 1)]


def test_escapes_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    root = tmp_path / "repo"
    write_tree(outside, {"secret.tf": 'resource "leak" "x" {}\n', "mod/main.tf": 'resource "leak" "y" {}\n'})
    write_tree(root, {"env/dev/main.tf": 'module "m" {\n  source = "../../../outside/mod"\n}\n'})
    os.symlink(outside / "secret.tf", root / "env/dev/linked.tf")
    project, errors = load_terraform(Workspace(root))
    assert [(e.kind, e.path, e.line) for e in errors] == [("terraform.module-outside-root", "env/dev/main.tf", 1)]
    assert project.modules["env/dev"].files == ["env/dev/main.tf"]
    assert project.modules["env/dev"].resources == []
    assert project.modules["env/dev"].module_calls["m"].resolved_dir is None
    whole = load_project(root)
    assert ("fs.outside-root", "env/dev/linked.tf") in {(e.kind, e.path) for e in whole.errors}


def test_module_cycle_is_guarded(load_tree) -> None:
    project, errors = load_tree(
        {
            "root/main.tf": 'module "a" {\n  source = "../a"\n}\n',
            "a/main.tf": 'module "b" {\n  source = "../b"\n}\n',
            "b/main.tf": 'module "a" {\n  source = "../a"\n}\n',
        }
    )
    assert [e.kind for e in errors] == ["terraform.module-cycle"]
    assert [i.address for i in project.environments[0].instances] == ["", "module.a", "module.a.module.b"]


def test_references_and_functions(load_tree) -> None:
    project, _ = load_tree(
        {
            "m/main.tf": """
        locals {
          x = merge(var.tags, { q = module.sqs.queue_arn, s = aws_subnet.db.id, p = data.aws_iam_policy_document.p.json })
          y = [for k, v in local.m : "${k}${v}${path.module}${count.index}${each.key}${self.id}${terraform.workspace}"]
        }
    """
        }
    )
    mod = project.modules["m"]
    assert mod.locals["x"].expr.references == [
        "var.tags",
        "module.sqs.queue_arn",
        "aws_subnet.db",
        "data.aws_iam_policy_document.p",
    ]
    assert mod.locals["x"].expr.functions == ["merge"]
    assert mod.locals["y"].expr.references == ["local.m"]


def test_scan_root_environment_named_after_root(tmp_path: Path) -> None:
    root = tmp_path / "myinfra"
    write_tree(root, {"main.tf": 'variable "v" { default = 1 }\n'})
    project, _ = load_terraform(Workspace(root))
    assert [(e.name, e.path) for e in project.environments] == [("myinfra", ".")]
