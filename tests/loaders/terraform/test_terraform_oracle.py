"""The evaluator against Terraform itself: every known-value case of test_evaluate.py (and a
few more) is also evaluated by `terraform console` (offline: no provider is needed for
locals and functions), and both must give the same value. Skipped when terraform is absent;
never used at scan time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .test_evaluate import KNOWN_CASES, out_value

TERRAFORM = shutil.which("terraform")

EXTRA_CASES = [
    (
        "nested for with conditionals",
        "locals { out = { for k, v in { a = [1, 2], b = [] } : k => length(v) > 0 ? sum(v) : null } }",
    ),
    ("setproduct and flatten", 'locals { out = [for p in setproduct(["a", "b"], [1, 2]) : "${p[0]}${p[1]}"] }'),
    (
        "templates with directives",
        'locals { out = "%{ for i, x in ["a", "b"] }${i}=${x}%{ if i == 0 },%{ endif }%{ endfor }" }',
    ),
    ("regex groups", 'locals { out = [regex("^(\\\\w+)-(\\\\d+)$", "web-42"), regexall("[0-9]+", "a1b22c333")] }'),
    (
        "string functions",
        'locals { out = [title("hello world"), strrev("abc"), indent(2, "a\\nb"), chomp("x\\n"), trim("--x--", "-")] }',
    ),
    (
        "cidr and hosts",
        'locals { out = [cidrsubnets("10.0.0.0/16", 4, 4, 8), cidrnetmask("10.0.0.0/20"), cidrhost("10.0.0.0/24", -2)] }',
    ),
    (
        "collections more",
        'locals { out = [slice([1, 2, 3, 4], 1, 3), reverse([1, 2]), index(["a", "b"], "b"), transpose({ a = ["x", "y"], b = ["x"] })] }',
    ),
    (
        "merge deep and lookup",
        'locals { out = [lookup({ a = { b = 1 } }, "a", {}), merge({ a = 1 }, null, { a = 2 })] }',
    ),
    ("numbers more", 'locals { out = [pow(2, 10), signum(-3), parseint("ff", 16), log(8, 2)] }'),
    ("sort and distinct", 'locals { out = [sort(["b", "a", "c"]), distinct(["a", "a", "b"]), compact(["", "x"])] }'),
    ("hashes", 'locals { out = [md5("x"), sha1("x"), sha256("x"), base64sha256("x"), urlencode("a b/c?d=é")] }'),
    (
        "predicates and keys",
        'locals { out = [alltrue([true, "true"]), anytrue([false]), matchkeys(["a", "b"], [1, 2], [2])] }',
    ),
    ("paths", 'locals { out = [basename("a/b/c.txt"), dirname("a/b/c.txt"), dirname("c.txt")] }'),
    (
        "yamlencode shapes",
        'locals { out = yamlencode({ b = [{ x = 1, y = ["p", "q"] }, [1, 2]], a = "multi\\nline\\n", c = "1", d = {} }) }',
    ),
]


def _terraform_value(tmp: Path, body: str):
    (tmp / "main.tf").write_text(body)
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    run = subprocess.run(
        [TERRAFORM, "console"],
        input="jsonencode(local.out)\n",
        cwd=tmp,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    line = run.stdout.strip().splitlines()[-1]
    return json.loads(json.loads(line.replace("$${", "${").replace("%%{", "%{")))


# Cases reading a resource attribute need a plan (Terraform prints "known after apply").
CASES = [(c[0], c[1]) for c in KNOWN_CASES if "aws_" not in c[1]] + EXTRA_CASES


@pytest.mark.skipif(TERRAFORM is None, reason="terraform not installed: no reference evaluator")
@pytest.mark.parametrize(("name", "src"), CASES, ids=[c[0] for c in CASES])
def test_evaluator_agrees_with_terraform(tmp_path: Path, name: str, src: str) -> None:
    ours = out_value(tmp_path / "ours", src)
    assert ours.is_known, ours.reason
    ref = tmp_path / "terraform"
    ref.mkdir()
    assert ours.value == _terraform_value(ref, src)
