"""Environment names, shared by every loader so Terraform and Kubernetes name alike."""

from __future__ import annotations

from collections import Counter


def environment_names(dirs: list[str], root_name: str) -> dict[str, str]:
    """The directory basename (`prod`), or the whole path with `-` (`apps-a-prod`) when that
    name is shared with another environment directory; the scanned root itself takes `root_name`."""

    def whole(d: str) -> str:
        return root_name if d in ("", ".") else d.replace("/", "-")

    names = {d: root_name if d in ("", ".") else d.rsplit("/", 1)[-1] for d in dirs}
    # a whole path may equal another directory's basename (`a/prod` and `x/a-prod`): repeat
    # until no basename is shared; each directory switches at most once
    while True:
        counts = Counter(names.values())
        shared = [d for d, n in names.items() if counts[n] > 1 and n != whole(d)]
        if not shared:
            return names
        for d in shared:
            names[d] = whole(d)
