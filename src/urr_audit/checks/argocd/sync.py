"""How production Applications follow Git: sync policy and the revision they track."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.argocd._common import revision_value, stage, where
from urr_audit.loaders.gitmeta import normalize_repo_url
from urr_audit.model.argocd import Application, Source
from urr_audit.model.common import Span
from urr_audit.model.project import Project
from urr_audit.wording import listed

Condition = Literal["moving-revision", "auto-prune-shared-branch", "manual", "automated"]


class ProductionSyncParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # words (regexes, full match) naming a production stage in an Application's name, labels,
    # deployed path or environment, destination, or the directory defining it
    production: list[str]
    non_production: list[str]
    # what to report about a production Application:
    # - moving-revision: it tracks HEAD, a branch or a version range, not a tag or a commit
    # - auto-prune-shared-branch: it auto-syncs with prune from the revision non-production ones follow
    # - manual / automated: its sync policy is manual / automated (to require the other one)
    report: list[Condition]


def _revision_phrase(src: Source) -> str:
    v = revision_value(src)
    if src.revision == "head":
        return "HEAD (the default branch)"
    if src.revision == "version-range":
        return f"version range `{v}`"
    return f"{src.revision} `{v}`"


def _key(src: Source) -> tuple[str, str, str]:
    url = normalize_repo_url(src.repo_url.value).lower() if src.repo_url else ""
    return url, src.chart.value if src.chart else "", revision_value(src)


def _family(path: str) -> str:
    """`teams/payments/checkout/overlays/prod` -> `teams/payments/checkout/overlays`."""
    return path.rpartition("/")[0]


def _followers(src: Source, apps: list[Application]) -> list[str]:
    """The non-production Applications following the same revision and deploying a sibling of
    this source's directory (the same application in another stage: `overlays/dev` beside
    `overlays/prod`): a change they try out reaches production from the same branch. Unrelated
    Applications on the same branch are not listed: a change to them does not touch production."""
    if src.target is None:
        return []
    here = _family(src.target.path)
    return sorted({a.name for a in apps for t in a.targets if here and _family(t.path) == here})


@check("argocd-production-sync", scope="project", params=ProductionSyncParams, subjects=("Application",))
def production_sync(ctx: Context, project: Project, params: ProductionSyncParams) -> Iterator[Hit]:
    """The sync state of production Applications: the revision each tracks (HEAD, a branch, a
    tag, a commit) and whether it auto-syncs with prune from the revision the non-production
    Applications follow. Which stages are production and which conditions to report are params;
    the default reports moving revisions and shared auto-pruned branches, as information."""
    apps = project.argocd.applications
    stages = {a.address: stage(a, params.production, params.non_production) for a in apps}
    others: dict[tuple[str, str, str], list[Application]] = {}
    for a in apps:
        if stages[a.address] == "non-production":
            for s in a.deploying_sources:
                others.setdefault(_key(s), []).append(a)
    # generated Applications of one template share its lines: one finding lists them
    folded: dict[tuple[str, str, str, int], tuple[Application, Span, list[str]]] = {}
    order: list[tuple[str, str, str, int]] = []
    for app in apps:
        if stages[app.address] != "production":
            continue
        sp = app.sync_policy
        for src in app.deploying_sources:
            met: list[Condition] = []
            if src.revision in ("head", "branch", "version-range"):
                met.append("moving-revision")
            followers = _followers(src, others.get(_key(src), []))
            if sp.automated and sp.prune and followers and src.revision in ("head", "branch", "version-range"):
                met.append("auto-prune-shared-branch")
            met.append("automated" if sp.automated else "manual")
            reported = [c for c in met if c in params.report]
            if not reported:
                continue
            text = f"{sp.label} of {_revision_phrase(src)}"
            if followers:
                text += f", which {listed(followers, 3)} also follow{'s' if len(followers) == 1 else ''}"
                if "auto-prune-shared-branch" in met:
                    text += ": a merge there reaches production and prune deletes what it no longer holds"
                elif "moving-revision" in met:
                    text += ": what reaches production is whatever it holds when the sync runs"
            elif "moving-revision" in met:
                text += ": what is deployed moves with it, not with a release"
            at = (
                (src.target_revision.span if src.target_revision else src.span)
                if {"moving-revision", "auto-prune-shared-branch"} & set(reported)
                else sp.automated_span or sp.span or app.name_span
            )
            key = (app.generated_by or app.address, text, at.path, at.line)
            if key in folded:
                folded[key][2].append(app.name)
            else:
                folded[key] = (app, at, [app.name])
                order.append(key)
    for key in order:
        app, at, names = folded[key]
        yield ctx.finding(at=at, node=app, message=f"production {where(app, names)}: {key[1]}")
