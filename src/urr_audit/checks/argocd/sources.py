"""What an Application's sources name: a repository that exists, a path that exists in it, an
overlay that renders, Helm value files that are there."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.argocd._common import where
from urr_audit.loaders.gitmeta import normalize_repo_url
from urr_audit.model.argocd import Application
from urr_audit.model.common import Span
from urr_audit.model.project import Project

_HOW = {
    "remote": "its repoURL is this repository's remote",
    "path": "no remote is known; matched by path",
    "same-url": "no remote is known; other Applications with this repoURL deploy paths of this repository",
    "placeholder": "its repoURL is a placeholder for this repository",
}


class PlaceholderParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    placeholders: list[str]  # regexes searched in repoURL


@check(
    "argocd-placeholder-repo-url",
    scope="project",
    params=PlaceholderParams,
    subjects=("Application", "ApplicationSet"),
)
def placeholder_repo_url(ctx: Context, project: Project, params: PlaceholderParams) -> Iterator[Hit]:
    """Sources whose repoURL is a placeholder (`YOUR_ORG`, `CHANGE_ME`, `example.com`...): Argo
    CD cannot fetch it, so the Application never syncs. Also in the template of an
    ApplicationSet whose Applications are not known."""
    for app in project.argocd.applications:
        for src in app.sources:
            if src.repo_url is None:
                continue
            hit = _placeholder(params, src.repo_url.value)
            if hit is not None:
                yield ctx.finding(
                    at=src.repo_url.span,
                    node=app,
                    message=f"{where(app)}: repoURL {src.repo_url.value} is a placeholder (`{hit}`): "
                    "Argo CD cannot fetch it, nothing is deployed",
                )
    for appset in project.argocd.application_sets:
        if appset.applications:
            continue  # the generated Applications are reported themselves
        for url in appset.template_repo_urls:
            hit = _placeholder(params, url.value)
            if hit is not None:
                yield ctx.finding(
                    at=url.span,
                    node=appset,
                    message=f"ApplicationSet {appset.name}: template repoURL {url.value} is a placeholder "
                    f"(`{hit}`): Argo CD cannot fetch it, nothing is deployed",
                )


def _placeholder(params: PlaceholderParams, url: str) -> str | None:
    for p in params.placeholders:
        m = re.search(p, url)
        if m:
            return m.group(0)
    return None


class SourcePathParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # URLs of this repository besides its remotes in .git/config (a mirror, the URL Argo CD uses
    # when the scan runs on a checkout without remote)
    repo_urls: list[str] = []


@check("argocd-source-path", scope="argocd.application", params=SourcePathParams, subjects=("Application",))
def source_path(ctx: Context, app: Application, params: SourcePathParams) -> Iterator[Hit]:
    """Sources of this repository whose `path` does not exist (or leaves the repository), whose
    overlay does not render (the render error is a related location), or whose Helm value files
    are missing. Argo CD's sync fails on each. A path that is not here while nothing ties the
    repoURL to this repository is undecided."""
    for src in app.sources:
        if src.helm is not None and not src.helm.ignore_missing_value_files:
            for vf in src.helm.value_files:
                if vf.exists is False:
                    yield ctx.finding(
                        at=vf.entry.span,
                        node=app,
                        message=f"{where(app)}: Helm value file {vf.entry.value} ({vf.path}) does not exist "
                        "in this repository: Argo CD fails to render the chart",
                    )
        if src.path is None or src.is_chart:
            continue
        t = src.target
        declared = {normalize_repo_url(u).lower() for u in params.repo_urls}
        if t is None and src.repo_url is not None and normalize_repo_url(src.repo_url.value).lower() in declared:
            t = src.local
        if t is None:
            if src.repo_match == "unknown" and src.repo_url is not None:
                yield ctx.undecided(
                    at=src.path.span,
                    node=app,
                    message=f"{where(app)}: path {src.path.value} is not in this repository, and repoURL "
                    f"{src.repo_url.value} is not known to be this repository (no remote in .git/config, "
                    "no other Application with this URL deploys a path of it; list it in `repo_urls`)",
                )
            continue
        how = _HOW.get(src.repo_match, src.repo_match)
        if t.kind == "missing" and src.repo_match == "placeholder":
            continue  # which repository is meant is not known: the placeholder is the finding
        if t.kind == "missing":
            yield ctx.finding(
                at=src.path.span,
                node=app,
                message=f"{where(app)}: path {src.path.value} does not exist in this repository ({how}"
                + (f"; {t.near} does" if t.near else "")
                + "): Argo CD cannot generate its manifests",
            )
        elif t.kind == "outside-root":
            yield ctx.finding(
                at=src.path.span,
                node=app,
                message=f"{where(app)}: path {src.path.value} leaves the repository: Argo CD refuses it",
            )
        elif t.errors:
            first = t.errors[0]
            more = f" and {len(t.errors) - 1} more" if len(t.errors) > 1 else ""
            what = "overlay" if t.kind == "kustomize" else "directory"
            yield ctx.finding(
                at=src.path.span,
                node=app,
                related=[Span(path=e.path, line=e.line, end_line=e.line) for e in t.errors],
                message=f"{where(app)}: {what} {t.path} does not render: {first.path}:{first.line}: "
                f"{first.message}{more}; Argo CD's sync fails the same way",
            )
