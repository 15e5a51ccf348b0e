from urr_audit.loaders.naming import environment_names


def test_basename_unless_shared():
    names = environment_names(["infra/prod", "infra/staging", "apps/a/prod", "."], "repo")
    assert names == {"infra/prod": "infra-prod", "infra/staging": "staging", "apps/a/prod": "apps-a-prod", ".": "repo"}


def test_terraform_and_kubernetes_environments_are_named_alike(tmp_path):
    from urr_audit.scan import scan

    for d in ("a/prod", "b/prod"):
        (tmp_path / d).mkdir(parents=True)
        (tmp_path / d / "main.tf").write_text('provider "aws" {\n  region = "eu-west-1"\n}\n')
        (tmp_path / d / "kustomization.yaml").write_text("resources: []\n")
    report = scan(tmp_path)
    assert sorted(e.name for e in report.project.terraform.environments) == ["a-prod", "b-prod"]
    assert sorted(e.name for e in report.project.kubernetes.environments) == ["a-prod", "b-prod"]


def test_scanned_root_sharing_a_basename_keeps_a_name():
    # before: the root took "" (its path with "/" replaced) once another directory shared its name
    assert environment_names([".", "envs/prod"], "prod") == {".": "prod", "envs/prod": "envs-prod"}


def test_names_stay_distinct_when_a_path_name_is_also_a_basename():
    # before: "a/prod" and the directory "a-prod" were both named "a-prod"
    names = environment_names(["a/prod", "b/prod", "x/a-prod"], "repo")
    assert len(set(names.values())) == 3, names
    assert names["b/prod"] == "b-prod"
