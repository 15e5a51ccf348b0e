"""Regression (found by probing the loaders with long runs of one character, and by
tests/property): ruamel's C composer recursed past the C stack on a document nested tens of
thousands deep and the process died with a segmentation fault; its pure-Python composer is
quadratic in flow depth (4000 `{` took 9 s). Such text is refused before parsing, as a YAML
error at the line where the nesting passes the bound.

Each case runs in a child interpreter, so a regression fails this test instead of killing
the test session."""

from __future__ import annotations

import subprocess
import sys

import pytest

CASES = {
    "flow sequences": "data:\n  a: " + "[" * 60_000 + "\n",
    "flow mappings at the pure composer's quadratic depth": "{" * 3970 + "a: 1\n",
    "flow mappings": "data:\n  a: " + "{a: " * 60_000 + "\n",
    "complex keys on one line": "? " * 60_000 + "x\n",
}

SCRIPT = """
import sys
from urr_audit.loaders.kustomize.yamlsrc import YamlError, load_docs
try:
    load_docs(sys.stdin.read())
except YamlError as exc:
    print("YamlError", exc.line)
else:
    print("loaded")
"""


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_deeply_nested_yaml_is_an_error_not_a_crash(text):
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], check=False, input=text, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-500:]
    assert proc.stdout.split()[0] == "YamlError"


def test_the_same_input_through_the_loader(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - cm.yaml\n")
    (tmp_path / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: " + "[" * 60_000
    )
    code = (
        "import sys; from urr_audit.loaders.kustomize import load_kubernetes; from urr_audit.workspace import Workspace;"
        "p, e = load_kubernetes(Workspace(sys.argv[1])); print(sorted({x.kind for x in e}))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], check=False, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-500:]
    assert "kustomize." in proc.stdout


def test_what_real_files_hold_still_loads():
    from urr_audit.loaders.kustomize.yamlsrc import load_docs

    text = "a: |\n  " + "[" * 100 + "]" * 100 + "\nb:\n" + "".join("  " * i + "- x\n" for i in range(1, 50))
    [doc] = load_docs(text)
    assert doc.data["a"].startswith("[[")
