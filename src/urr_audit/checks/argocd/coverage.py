"""What Argo CD deploys of the repository as a whole: overlays nothing deploys, and the same
path deployed twice to the same place."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, NoParams, check
from urr_audit.checks.argocd._common import where
from urr_audit.loaders.gitmeta import normalize_repo_url
from urr_audit.model.argocd import Application, Source
from urr_audit.model.project import Project

ARGO_KINDS = ("Application", "ApplicationSet", "AppProject")


def _parent(path: str) -> str:
    return path.rpartition("/")[0] or "."


def _under(path: str, parent: str) -> bool:
    return parent == "." or path.startswith(parent + "/")


class UndeployedOverlayParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # environments deployed by hand on purpose: local clusters, bootstrap (regexes, full match
    # on a segment of the overlay's path)
    by_hand: list[str]


@check(
    "argocd-undeployed-overlay",
    scope="project",
    params=UndeployedOverlayParams,
    subjects=("kubernetes:environment",),
)
def undeployed_overlay(ctx: Context, project: Project, params: UndeployedOverlayParams) -> Iterator[Hit]:
    """Kubernetes environments (leaf overlays, manifest directories) that no Application deploys
    and no overlay builds on, beside ones Applications do deploy: a forgotten environment or a
    missing Application. Only in repositories that deploy with Argo CD, only in the directories
    Applications point into (siblings of what they deploy), never for an overlay of Argo CD
    objects (the bootstrap applied by hand) or one `by_hand` names. Undecided where an
    ApplicationSet whose Applications are not all known could deploy it."""
    argo = project.argocd
    apps = [a for a in argo.applications if a.targets]
    if not apps:
        return
    deployed: dict[str, list[Application]] = {}
    recursive: list[str] = []
    for a in apps:
        for s in a.sources:
            t = s.target
            if t is None or not t.exists:
                continue
            deployed.setdefault(t.path, []).append(a)
            if s.directory is not None and s.directory.recurse:
                recursive.append(t.path)
    parents = {_parent(p) for p in deployed} - {"."}
    hand = [re.compile(p) for p in params.by_hand]
    for env in project.kubernetes.environments:
        if env.path in deployed or any(_under(env.path, r) for r in recursive):
            continue
        near = sorted(p for p in parents if _under(env.path, p))
        if not near:
            continue
        if any(h.fullmatch(seg) for h in hand for seg in env.path.split("/")):
            continue
        if any(o.group == "argoproj.io" and o.kind in ARGO_KINDS for o in env.objects):
            continue
        siblings = sorted(p for p in deployed if any(_under(p, n) for n in near))
        owners = sorted({a.name for p in siblings for a in deployed[p]})
        maybe = [s for s in argo.application_sets if s.could_deploy(env.path)]
        what = "overlay" if env.source == "kustomize" else "manifest directory"
        if maybe:
            yield ctx.undecided(
                at=env.span,
                environment=env.name,
                address=env.path,
                message=f"{what} {env.path}: no known Application deploys it, but ApplicationSet "
                f"{maybe[0].name} may ({maybe[0].reason})",
            )
            continue
        yield ctx.finding(
            at=env.span,
            environment=env.name,
            address=env.path,
            related=[
                s.path.span
                for p in siblings
                for a in deployed[p]
                for s in a.sources
                if s.path and s.target and s.target.path == p
            ][:5],
            message=f"{what} {env.path} is deployed by no Application in this repository and no overlay "
            f"builds on it, while {', '.join(owners[:4])}{' and others' if len(owners) > 4 else ''} "
            f"deploy{'s' if len(owners) == 1 else ''} "
            f"{', '.join(siblings[:3])}{' ...' if len(siblings) > 3 else ''}: a forgotten environment, or an "
            "Application missing",
        )


def _other_instances(a: Application, b: Application) -> bool:
    """Whether two Applications may live in different Argo CD instances: the same name (one
    instance cannot hold both), or `in-cluster` (relative to each instance) while nothing puts
    them together (same file directory, same parent Application or ApplicationSet)."""
    if a.name == b.name and a.namespace == b.namespace:
        return True
    if a.destination.cluster != "in-cluster":
        return False
    together = (
        a.span.path.rpartition("/")[0] == b.span.path.rpartition("/")[0]
        or bool(set(a.parents) & set(b.parents))
        or (a.generated_by is not None and a.generated_by == b.generated_by)
    )
    return not together


@check("argocd-duplicate-deployment", scope="project", params=NoParams, subjects=("Application",))
def duplicate_deployment(ctx: Context, project: Project, params: NoParams) -> Iterator[Hit]:
    """Two Applications deploying the same path (same repository, same name prefix/suffix) to
    the same cluster and namespace: they fight over the same objects (each marks the other's as
    out of sync, and with prune one deletes what the other deploys)."""
    groups: dict[tuple[str, ...], list[tuple[Application, Source]]] = {}
    for app in project.argocd.applications:
        cluster = app.destination.cluster
        if cluster is None:
            continue
        ns = app.destination.namespace.value if app.destination.namespace else ""
        for src in app.sources:
            if src.path is None or src.is_chart or src.repo_url is None:
                continue
            k = src.kustomize
            repo = "this" if src.in_this_repo else normalize_repo_url(src.repo_url.value).lower()
            path = src.target.path if src.target is not None else src.path.value.strip("/")
            key = (
                repo,
                path,
                cluster,
                ns,
                k.name_prefix.value if k and k.name_prefix else "",
                k.name_suffix.value if k and k.name_suffix else "",
            )
            groups.setdefault(key, []).append((app, src))
    for (_, path, cluster, ns, _, _), members in groups.items():
        for app, src in members:
            clash = [a for a, _ in members if a.address != app.address and not _other_instances(a, app)]
            if not clash or src.path is None:
                continue
            yield ctx.finding(
                at=src.path.span,
                node=app,
                related=[a.name_span for a in clash],
                message=f"{where(app)} deploys {path} to {cluster}/{ns or '-'}, as "
                f"{', '.join(where(a) for a in clash)} also does: they fight over the same objects",
            )
