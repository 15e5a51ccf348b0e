"""ADD fetching remote content (a URL or a git repository) that nothing pins."""

from __future__ import annotations

import re
from collections.abc import Iterator

from urr_audit.checks.api import Context, Hit, check
from urr_audit.model.docker import CopyInstruction

_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def git_ref(url: str) -> str | None:
    """The ref of a git source (`...git#ref:subdir`, or `#ref` in newer query forms)."""
    if "#" in url:
        return url.split("#", 1)[1].split(":", 1)[0] or None
    m = re.search(r"[?&](?:ref|tag|branch|commit)=([^&]+)", url)
    return m.group(1) if m else None


@check("docker-add-remote", scope="docker.instruction", types=("ADD",))
def add_remote(ctx: Context, inst: CopyInstruction, params: object) -> Iterator[Hit]:
    """ADD of an http(s) URL without `--checksum`, or of a git repository at a ref that is not a
    commit (and without `--checksum`): what the build gets can change under the same Dockerfile."""
    if inst.checksum:
        return
    for src in inst.sources:
        if src.kind == "url":
            plain = " over plain http" if src.written.lower().startswith("http://") else ""
            yield ctx.finding(
                at=inst,
                message=f"ADD downloads {src.written}{plain} at build time without --checksum: the content "
                "can change or be tampered with between builds",
            )
        elif src.kind == "git":
            ref = git_ref(src.written)
            if ref is not None and _COMMIT.fullmatch(ref):
                continue
            at_ref = f"at `{ref}`, a ref that can move" if ref else "at its default branch"
            yield ctx.finding(at=inst, message=f"ADD clones {src.written} {at_ref}: pin a commit or add --checksum")
