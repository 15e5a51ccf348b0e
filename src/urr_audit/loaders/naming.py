"""Environment names, shared by every loader so Terraform and Kubernetes name alike."""

from __future__ import annotations

from collections import Counter


def environment_names(dirs: list[str], root_name: str) -> dict[str, str]:
    """The directory basename (`prod`), or the whole path with `-` (`apps-a-prod`) when two
    environment directories share a basename; the scanned root itself takes `root_name`."""
    base = {d: root_name if d in ("", ".") else d.rsplit("/", 1)[-1] for d in dirs}
    counts = Counter(base.values())
    return {d: (b if counts[b] == 1 else d.replace("/", "-")) for d, b in base.items()}
