"""What a workflow runs, pinned or not: actions and reusable workflows by commit SHA, refs that
are branches, container and service images (and `docker://` steps) by digest."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, NoParams, check
from urr_audit.checks.github.security._common import matches, steps_of
from urr_audit.model.common import Span
from urr_audit.model.gha_images import ImageName, Template
from urr_audit.model.workflows import Action, Container, Job, Scalar, Step, Uses, Workflow


class PinParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # `owner/*`, `owner/repo` or an owner: actions trusted on any ref (zizmor's `ref-pin`/`any`
    # policies). Empty: every remote action and reusable workflow must be pinned by SHA.
    allow: list[str] = Field(default_factory=list)


def _remote_uses(node: Workflow | Action) -> Iterator[tuple[Job | Step, Uses]]:
    if isinstance(node, Workflow):
        for job in node.jobs.values():
            if job.uses is not None:
                yield job, job.uses
    for _job, step in steps_of(node):
        if step.uses is not None:
            yield step, step.uses


def _what(u: Uses) -> str:
    return "reusable workflow" if u.kind == "reusable-workflow" else "action"


@check("gha-unpinned-uses", scope="github.file", params=PinParams, subjects=("uses",))
def unpinned_uses(ctx: Context, node: Workflow | Action, params: PinParams) -> Iterator[Hit]:
    """Remote actions and reusable workflows not pinned to a full commit SHA. A tag or branch is
    a pointer its owner (or whoever takes over the repository) can move: the new code then runs
    with the job's token and secrets. Version tags are reported at a lower severity than
    branches (the author chose a release)."""
    for owner, u in _remote_uses(node):
        if u.kind not in ("action", "reusable-workflow") or u.ref_kind == "sha" or not u.action:
            continue
        if matches(u.action, params.allow):
            continue
        name = f"{u.owner}/{u.repo}" + (f"/{u.path}" if u.path else "")
        if u.ref_kind == "version":
            why = f"the tag `{u.ref}` can be moved by the owner of {u.owner}/{u.repo} to any commit"
            severity = "medium"
        elif u.ref_kind == "none":
            why = "it names no ref at all"
            severity = None
        else:
            why = f"`{u.ref}` is not a release tag but a branch (or a name that resolves as one), which moves"
            severity = None
        yield ctx.finding(
            at=u,
            column=u.column,
            node=owner,
            severity=severity,
            message=(
                f"{_what(u)} `{name}@{u.ref or ''}` is not pinned to a full commit SHA: {why}, and that code "
                f"then runs here with this job's token and secrets (pin `{name}@<40-hex sha>  # {u.ref or 'version'}`)"
            ),
        )


@check("gha-branch-ref", scope="github.file", subjects=("uses",))
def branch_ref(ctx: Context, node: Workflow | Action, params: NoParams) -> Iterator[Hit]:
    """`uses:` refs that are branches (`@main`, `@master`, `@release/v1`) or short SHAs, which
    GitHub resolves as branch or tag names: neither a commit nor a release."""
    for owner, u in _remote_uses(node):
        if u.kind not in ("action", "reusable-workflow") or u.ref_kind != "branch" or not u.ref:
            continue
        name = f"{u.owner}/{u.repo}" + (f"/{u.path}" if u.path else "")
        short = len(u.ref) >= 7 and all(c in "0123456789abcdefABCDEF" for c in u.ref)
        why = (
            f"`{u.ref}` looks like a short commit SHA, but GitHub only accepts full SHAs: it is resolved "
            "as a branch or tag of that name, which anyone with push access there can create"
            if short
            else f"`{u.ref}` is a branch: every run takes whatever was last pushed to it"
        )
        yield ctx.finding(
            at=u,
            column=u.column,
            node=owner,
            message=f"{_what(u)} `{name}@{u.ref}`: {why} (pin a full commit SHA, or at least a release tag)",
        )


# --- images ------------------------------------------------------------------------------------


class _Image:
    def __init__(self, text: str, span: Span, column: int, where: str, owner: object):
        self.text, self.span, self.column, self.where, self.owner = text, span, column, where, owner
        self.name = ImageName.parse(Template.literal(text))


def _images(node: Workflow | Action) -> Iterator[_Image]:
    def of(c: Container | None, where: str, owner: object) -> Iterator[_Image]:
        s: Scalar | None = c.image if c is not None else None
        if s is not None and s.is_literal and s.text.strip():
            yield _Image(s.text.strip(), s.span, s.column, where, owner)

    if isinstance(node, Workflow):
        for job in node.jobs.values():
            yield from of(job.container, f"job `{job.id}` container", job)
            for name, svc in job.services.items():
                yield from of(svc, f"job `{job.id}` service `{name}`", job)
    else:
        image = node.image
        if image is not None and image.is_literal and image.text.startswith("docker://"):
            yield _Image(image.text[len("docker://") :], image.span, image.column + 9, "the action's", node)
    for _job, step in steps_of(node):
        u = step.uses
        if u is not None and u.kind == "docker" and u.image and "${{" not in u.image:
            yield _Image(u.image, u.span, u.column + len("docker://"), f"step `{step.label}`", step)


def _floating(img: _Image) -> str | None:
    """Why the image is on a moving tag, else None (digest, or a tag other than latest)."""
    n = img.name
    if n.digest is not None:
        return None
    if n.tag is None:
        return "has no tag, so it is `latest`"
    if (n.tag.value or "").lower() == "latest":
        return "uses the floating `latest` tag"
    return None


@check("gha-unpinned-images", scope="github.file", subjects=("container",))
def unpinned_images(ctx: Context, node: Workflow | Action, params: NoParams) -> Iterator[Hit]:
    """Job containers, service containers and `docker://` steps on `latest` or without a tag:
    each run pulls whatever the tag points to that day."""
    for img in _images(node):
        why = _floating(img)
        if why is None:
            continue
        yield ctx.finding(
            at=img.span,
            column=img.column,
            node=img.owner,
            message=f"{img.where} image `{img.text}` {why}: each run may pull a different image (pin a version and its digest)",
        )


@check("gha-image-digest", scope="github.file", subjects=("container",))
def image_digest(ctx: Context, node: Workflow | Action, params: NoParams) -> Iterator[Hit]:
    """Job containers, service containers and `docker://` steps on a version tag without a
    digest: the tag can be pushed again with other content."""
    for img in _images(node):
        if img.name.digest is not None or _floating(img) is not None:
            continue
        tag = img.name.tag.value if img.name.tag is not None else ""
        yield ctx.finding(
            at=img.span,
            column=img.column,
            node=img.owner,
            message=(
                f"{img.where} image `{img.text}` is pinned to the tag `{tag}` but not to a digest: whoever can "
                f"push to that repository can replace what `{tag}` means (append `@sha256:...`)"
            ),
        )
