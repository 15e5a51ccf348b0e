"""Shared by the differential tests: run `kubectl kustomize` as a reference oracle."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from ruamel.yaml import YAML

KUBECTL = shutil.which("kubectl")


def parse_stream(text: str) -> list:
    return [d for d in YAML(typ="safe", pure=True).load_all(text) if d is not None]


def kubectl_build(directory: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    if env is None:  # the CLI's byte-for-byte render test asks for the same directories
        return _kubectl_build_cached(directory)
    return _kubectl_build(directory, env)


@functools.cache
def _kubectl_build_cached(directory: Path) -> tuple[int, str, str]:
    return _kubectl_build(directory, None)


def _kubectl_build(directory: Path, env: dict[str, str] | None) -> tuple[int, str, str]:
    assert KUBECTL is not None
    proc = subprocess.run(
        [KUBECTL, "kustomize", str(directory)], check=False, capture_output=True, text=True, timeout=60, env=env
    )
    return proc.returncode, proc.stdout, proc.stderr
