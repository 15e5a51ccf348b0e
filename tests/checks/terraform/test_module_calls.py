"""URR-TF-092 / URR-TF-093: module calls against the called module's variables.

Every case of CASES is one root with a `module` block calling the same local module; urr-audit
judges all of them in one scan, and Terraform itself (`terraform validate`, offline: the child
only uses the built-in provider) judges each root. Both must give the expected rules.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from tests.checks.terraform.test_plan_oracle import _terraform
from tests.checks.terraform.test_schema_validation import tree
from urr_audit.scan import scan

RULES = ["URR-TF-092", "URR-TF-093"]
UNKNOWN, MISSING = "URR-TF-092", "URR-TF-093"

CHILD = """
variable "name" {
  type = string
}

variable "size" {
  type     = number
  nullable = false
}

variable "owner" {
  type    = string
  default = null
}

variable "tags" {
  type    = map(string)
  default = {}
}

resource "terraform_data" "x" {
  input = [var.name, var.size, var.owner, var.tags]
}
"""

# (name, body of `module "c<i>" { source = "./child" ... }`, rules expected)
CASES: list[tuple[str, str, set[str]]] = [
    ("required set, optional left out", 'name = "a"\nsize = 1', set()),
    ("every variable", 'name = "a"\nsize = 1\nowner = "me"\ntags = { a = "b" }', set()),
    ("typo of a required variable", 'nmae = "a"\nsize = 1', {UNKNOWN, MISSING}),
    ("argument the module does not declare", 'name = "a"\nsize = 1\ncolour = "red"', {UNKNOWN}),
    ("required variable left out", 'name = "a"', {MISSING}),
    ("null given to a nullable required variable", "name = null\nsize = 1", set()),
    (
        "meta-arguments",
        'for_each = toset(["k"])\ndepends_on = [terraform_data.a]\nname = each.key\nsize = 1',
        set(),
    ),
    ("count = 0 is validated all the same", 'count = 0\nnmae = "a"\nsize = 1', {UNKNOWN, MISSING}),
]
# the same in JSON syntax: (name, attributes, rules expected)
JSON_CASES: list[tuple[str, dict[str, object], set[str]]] = [
    ("JSON: every required variable", {"name": "a", "size": 1, "//": "a comment"}, set()),
    ("JSON: typo", {"name": "a", "sise": 1}, {UNKNOWN, MISSING}),
]
ALL = [(n, e) for n, _, e in CASES] + [(n, e) for n, _, e in JSON_CASES]


def _write(root: Path) -> list[Path]:
    """One root per case, calling the same module: Terraform stops validating at the first
    call with errors, and reports a JSON decoding error before any call's arguments."""
    (root / "child").mkdir()
    (root / "child" / "main.tf").write_text(CHILD)
    roots = []
    for i, (_, body, _) in enumerate(CASES):
        r = root / f"c{i}"
        r.mkdir()
        call = f'module "c{i}" {{\n  source = "../child"\n{textwrap.indent(body, "  ")}\n}}\n'
        (r / "main.tf").write_text('resource "terraform_data" "a" {\n  input = "x"\n}\n\n' + call)
        roots.append(r)
    for i, (_, attrs, _) in enumerate(JSON_CASES, len(CASES)):
        r = root / f"c{i}"
        r.mkdir()
        (r / "call.tf.json").write_text(json.dumps({"module": {f"c{i}": {"source": "../child", **attrs}}}, indent=2))
        roots.append(r)
    return roots


def _case(address: str | None) -> int:
    m = re.fullmatch(r"module\.c(\d+)", address or "")
    assert m is not None, address
    return int(m.group(1))


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> dict[int, set[str]]:
    root = tmp_path_factory.mktemp("calls")
    _write(root)
    result = scan(root, select=RULES).result
    assert result.undecided == [], [f.message for f in result.undecided]
    out: dict[int, set[str]] = {}
    for f in result.findings:
        out.setdefault(_case(f.address), set()).add(f.rule_id)
    return out


@pytest.fixture(scope="module")
def refused_by_terraform(tmp_path_factory: pytest.TempPathFactory) -> dict[int, set[str]]:
    if shutil.which("terraform") is None:
        pytest.skip("terraform not installed: no reference")
    summaries = {
        "Unsupported argument": UNKNOWN,
        "Extraneous JSON object property": UNKNOWN,  # the same, said of JSON syntax
        "Missing required argument": MISSING,
    }
    out: dict[int, set[str]] = {}
    for root in _write(tmp_path_factory.mktemp("validate")):
        init = _terraform(root, "init")
        if init.returncode != 0:
            pytest.skip(f"terraform init failed offline: {init.stderr[-300:]}")
        validate = _terraform(root, "validate")
        for block in validate.stderr.split("Error: ")[1:]:
            summary = block.splitlines()[0].strip()
            m = re.search(r'in module[ .]"?c(\d+)"?:', block)
            assert summary in summaries and m is not None, block
            out.setdefault(int(m.group(1)), set()).add(summaries[summary])
    return out


@pytest.mark.parametrize(("name", "expected"), ALL, ids=[n for n, _ in ALL])
def test_urr_audit_judges_module_calls(judged: dict[int, set[str]], name: str, expected: set[str]):
    i = next(n for n, (case, _) in enumerate(ALL) if case == name)
    assert judged.get(i, set()) == expected


@pytest.mark.slow
@pytest.mark.parametrize(("name", "expected"), ALL, ids=[n for n, _ in ALL])
def test_terraform_validate_agrees(refused_by_terraform: dict[int, set[str]], name: str, expected: set[str]):
    i = next(n for n, (case, _) in enumerate(ALL) if case == name)
    assert refused_by_terraform.get(i, set()) == expected


SERVICE = """
variable "name" {
  type = string
}
variable "image" {
  type    = string
  default = null
}
"""


def test_messages_suggest_and_point_at_the_declarations(tmp_path: Path):
    tree(
        tmp_path,
        {
            "modules/svc/variables.tf": SERVICE,
            "envs/prod/main.tf": """
            module "api" {
              source = "../../modules/svc"
              nmae   = "api"
            }
            """,
        },
    )
    result = scan(tmp_path, select=RULES).result
    by_rule = {f.rule_id: f for f in result.findings}
    unknown, missing = by_rule[UNKNOWN], by_rule[MISSING]
    assert (unknown.path, unknown.line, unknown.address) == ("envs/prod/main.tf", 4, "module.api")
    assert "(did you mean `name`?)" in unknown.message and '"Unsupported argument"' in unknown.message
    assert [(r.path, r.line) for r in unknown.related] == [("modules/svc/variables.tf", 2)]
    assert (missing.path, missing.line) == ("envs/prod/main.tf", 2)
    assert "`name`" in missing.message and "(it sets `nmae`: a typo?)" in missing.message
    assert [(r.path, r.line) for r in missing.related] == [("modules/svc/variables.tf", 2)]


def test_json_default_null_makes_a_variable_optional(tmp_path: Path):
    tree(
        tmp_path,
        {
            "modules/svc/variables.tf.json": json.dumps(
                {"variable": {"name": {"type": "string"}, "owner": {"type": "string", "default": None}}}
            ),
            "main.tf": 'module "api" {\n  source = "./modules/svc"\n  name = "api"\n}\n',
        },
    )
    result = scan(tmp_path, select=RULES).result
    assert result.findings == [] and result.undecided == []


def test_shared_module_is_one_finding_listing_its_environments(tmp_path: Path):
    call = 'module "queue" {\n  source = "../svc"\n  image = "x"\n}\n'
    files = {"modules/svc/variables.tf": SERVICE, "modules/stack/main.tf": call}
    for env in ("dev", "prod"):
        files[f"envs/{env}/main.tf"] = 'module "stack" {\n  source = "../../modules/stack"\n}\n'
    tree(tmp_path, files)
    result = scan(tmp_path, select=RULES).result
    assert [(f.rule_id, f.path, f.address, f.environments) for f in result.findings] == [
        (MISSING, "modules/stack/main.tf", "module.stack.module.queue", ["dev", "prod"])
    ]


def test_module_no_root_calls_is_still_checked(tmp_path: Path):
    call = 'module "queue" {\n  source = "../svc"\n  imgae = "x"\n}\n'
    tree(tmp_path, {"modules/svc/variables.tf": SERVICE, "modules/stack/main.tf": call})
    result = scan(tmp_path, select=[UNKNOWN]).result
    assert [(f.path, f.line, f.address) for f in result.findings] == [("modules/stack/main.tf", 3, "module.queue")]


def test_remote_and_missing_modules_are_not_judged(tmp_path: Path):
    tree(
        tmp_path,
        {
            "main.tf": """
            module "vpc" {
              source  = "terraform-aws-modules/vpc/aws"
              version = "5.8.1"
              nmae    = "x"
            }
            module "gone" {
              source = "./modules/gone"
              nmae   = "x"
            }
            module "git" {
              source = "git::https://example.com/modules.git//svc?ref=v1.0.0"
            }
            """,
        },
    )
    result = scan(tmp_path, select=RULES).result
    assert result.findings == [] and result.undecided == []


def test_unparsed_module_file_leaves_unknown_arguments_undecided(tmp_path: Path):
    tree(
        tmp_path,
        {
            "modules/svc/variables.tf": SERVICE,
            "modules/svc/more.tf": 'variable "replicas" {\n  type = number\n}\nvariable "broken" {\n  type = \n',
            "main.tf": 'module "api" {\n  source   = "./modules/svc"\n  replicas = 2\n  colour   = "red"\n}\n',
        },
    )
    result = scan(tmp_path, select=RULES).result
    # `name` is declared whole in a file that parsed: still required, whatever the broken file holds
    assert [(f.rule_id, f.line) for f in result.findings] == [(MISSING, 1)]
    assert "`name`" in result.findings[0].message
    # `colour` may be declared after the syntax error
    assert [(f.rule_id, f.line) for f in result.undecided] == [(UNKNOWN, 4)]
    assert "modules/svc/more.tf:" in result.undecided[0].message


def test_override_files_leave_both_undecided(tmp_path: Path):
    # the override gives `name` a default, and may declare what the call sets: Terraform merges
    # it into the variable, the model does not
    tree(
        tmp_path,
        {
            "modules/svc/variables.tf": SERVICE,
            "modules/svc/override.tf": 'variable "name" {\n  description = "The service name."\n}\n',
            "main.tf": 'module "api" {\n  source = "./modules/svc"\n  colour = "red"\n}\n',
        },
    )
    result = scan(tmp_path, select=RULES).result
    assert result.findings == []
    assert sorted(f.rule_id for f in result.undecided) == [UNKNOWN, MISSING]
    assert all("modules/svc/override.tf" in f.message for f in result.undecided)
