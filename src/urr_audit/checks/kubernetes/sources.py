"""What a kustomization reads: patch files it forgot, remote bases it fetches at build time."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, NoParams, check
from urr_audit.model.kubernetes import K8sEnvironment, K8sObject, RemoteRef, StrayDoc, shallow_fields
from urr_audit.model.project import Project


def _matches(doc: StrayDoc, obj: K8sObject) -> bool:
    """Whether `doc` names `obj` as a patch would: kind, name (as written or as rendered),
    API group."""
    if doc.kind != obj.kind or doc.name not in (obj.name, obj.original_name, obj.generated_name):
        return False
    group = doc.api_version.split("/", 1)[0] if doc.api_version and "/" in doc.api_version else ""
    return doc.api_version is None or group == obj.group


def _partial(doc: StrayDoc, obj: K8sObject) -> bool:
    """Whether `doc` leaves out fields the rendered object has: a patch, not a complete copy
    (a copy may be a render kept for review, or an object applied some other way)."""
    return bool(set(shallow_fields(obj.body)) - set(doc.fields))


@check("k8s-unreferenced-patch", scope="project", params=NoParams, subjects=("kustomization",))
def unreferenced_patch(ctx: Context, project: Project, params: NoParams) -> Iterator[Hit]:
    """Patch files inside an overlay's folder that no kustomization lists: kustomize never
    reads them, so the change their author meant is not deployed. A file counts as a patch when
    it is a JSON 6902 operation list, holds strategic-merge directives (`$patch`), or names an
    object the overlay renders and sets only part of it. Objects the overlay does not render,
    and complete copies of rendered ones (a render kept for review), are left alone: they may
    be applied some other way."""
    k8s = project.kubernetes
    for stray in k8s.unreferenced:
        envs: list[K8sEnvironment] = [e for e in k8s.environments if stray.kustomization in e.dirs]
        if not envs:
            continue
        for doc in stray.docs:
            if doc.kind is None:
                what = "a JSON 6902 patch"
            elif doc.directives:
                what = f"a strategic-merge patch of {doc.kind} {doc.name}"
            elif any(_matches(doc, o) and _partial(doc, o) for e in envs for o in e.objects):
                what = f"a patch of {doc.kind} {doc.name}, which this overlay renders"
            else:
                continue
            for env in envs:
                yield ctx.finding(
                    at=doc.span,
                    environment=env.name,
                    address=f"{env.name}/file/{stray.path}",
                    related=[env.span],
                    message=f"{stray.path} is {what}, but no kustomization lists it "
                    f"(not in {stray.kustomization}'s patches or resources): its change is not deployed",
                )
            break  # one finding per file: the first document that shows it is a patch


class RemoteParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A ref of this shape pins the content (a full commit hash): accepted.
    pinned_ref: str = "^[0-9a-f]{40}$"


_REF = re.compile(r"[?&](?:ref|version)=([^&#]+)")
_GIT = re.compile(
    r"^(git@|ssh://|git::)|\.git(//|$|\?)|^(https?://)?(github\.com|gitlab\.com|bitbucket\.org)/[^/]+/[^/?]+"
)


def _describe(ref: RemoteRef, pinned: re.Pattern[str]) -> tuple[str, str] | None:
    """(how the remote is pinned, how to fix it), or None when it is pinned to a commit."""
    m = _REF.search(ref.url)
    release_asset = ref.url.startswith(("http://", "https://")) and "/releases/download/" in ref.url
    if _GIT.search(ref.url) and not release_asset:
        fix = "pin it to a full commit hash or vendor it into the repository"
        if m is None:
            return "a git repository with no ref: the default branch, whatever it holds at build time", fix
        if pinned.search(m.group(1)):
            return None
        return f"a git repository at ref {m.group(1)!r}, a tag or branch that can be moved", fix
    return (
        "a URL downloaded at build time with no checksum: whatever it serves then is deployed",
        "vendor it into the repository",
    )


@check("k8s-remote-base", scope="project", params=RemoteParams, subjects=("remote-ref",))
def remote_base(ctx: Context, project: Project, params: RemoteParams) -> Iterator[Hit]:
    """Resources, bases and components a kustomization fetches from the network at build time,
    unless pinned to a full commit hash: what they bring in can change (or vanish) without a
    change to the repository, and kustomize verifies no checksum."""
    pinned = re.compile(params.pinned_ref)
    for ref in project.kubernetes.remote_refs:
        described = _describe(ref, pinned)
        if described is None:
            continue
        how, fix = described
        yield ctx.finding(
            at=ref.span,
            address=f"{ref.kustomization}/{ref.field}/{ref.url}",
            message=f"remote {ref.field} {ref.url} is {how}; {fix}",
        )
