"""How the pipeline delivers: commits pushed from CI straight to the default branch, those
commits hidden from CI with `[skip ci]`, and deployments to production by jobs that no
deployment environment (with its required reviewers and branch rules) protects."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.facts.gha_calls import (
    PushSite,
    branch_pushes,
    commit_messages,
    deploys,
    gated,
    push_to_default,
)
from urr_audit.model.project import Project
from urr_audit.model.workflows import Job, Workflow, run_bindings

# action -> (input naming the branch, input turning the push off); '' when it has none
PUSH_ACTIONS: dict[str, tuple[str, str]] = {
    "stefanzweifel/git-auto-commit-action": ("branch", ""),
    "endbug/add-and-commit": ("new_branch", "push"),
    "ad-m/github-push-action": ("branch", ""),
    "github-actions-x/commit": ("push-branch", ""),
    "actions-js/push": ("branch", ""),
}
# action -> (input holding the commit message, '')
MESSAGE_INPUTS: dict[str, tuple[str, str]] = {
    "stefanzweifel/git-auto-commit-action": ("commit_message", ""),
    "endbug/add-and-commit": ("message", ""),
    "github-actions-x/commit": ("commit-message", ""),
    "actions-js/push": ("message", ""),
}


class PushParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # the default branch's possible names; the one `.git` records for the remote is added
    default_branches: list[str] = Field(default_factory=lambda: ["main", "master"])
    push_actions: dict[str, tuple[str, str]] = Field(default_factory=lambda: dict(PUSH_ACTIONS))


class SkipParams(PushParams):
    # commit-message markers that make GitHub (and most CI services) skip the pipeline
    markers: list[str] = Field(
        default_factory=lambda: ["[skip ci]", "[ci skip]", "[no ci]", "[skip actions]", "[actions skip]", "***NO_CI***"]
    )
    message_inputs: dict[str, tuple[str, str]] = Field(default_factory=lambda: dict(MESSAGE_INPUTS))


def _defaults(project: Project, params: PushParams | DeployParams) -> list[str]:
    names = list(params.default_branches)
    if project.git.default_branch and project.git.default_branch not in names:
        names.insert(0, project.git.default_branch)
    return names


def _default_pushes(project: Project, params: PushParams) -> Iterator[tuple[Workflow, Job, PushSite, str]]:
    names = _defaults(project, params)
    for wf, job in project.workflows.jobs():
        for site in branch_pushes(job, params.push_actions):
            why = push_to_default(project.workflows, wf, site, names)
            if why is not None:
                yield wf, job, site, why


@check("gha-push-default-branch", scope="project", params=PushParams, subjects=("run", "job"))
def push_default_branch(ctx: Context, project: Project, params: PushParams) -> Iterator[Hit]:
    """A job that pushes commits straight to the default branch: `git push origin main` /
    `HEAD:main`, a bare `git push` in a job on the default branch (checked out by name, or a
    workflow run by pushes to it or on a schedule), or an action that commits and pushes
    (`push_actions`). The commit skips review and the checks a pull request runs, and the
    token (or deploy key) that can do it can push anything there."""
    for _wf, job, site, why in _default_pushes(project, params):
        yield ctx.finding(
            at=site.span,
            node=site.step,
            column=site.column,
            address=f"{site.step.address}/push",
            message=(
                f"job `{job.id}` pushes commits straight to the default branch with {site.how} ({why}): they land "
                "without review or the checks a pull request runs; open a pull request (or push to a branch the "
                "deployment watches) instead"
            ),
        )


@check("gha-skip-ci-commit", scope="project", params=SkipParams, subjects=("run", "job"))
def skip_ci_commit(ctx: Context, project: Project, params: SkipParams) -> Iterator[Hit]:
    """A commit made in a job that pushes to the default branch whose message carries
    `[skip ci]` (or another marker in `markers`): the commit lands on the default branch and
    no workflow runs on it, so nothing checks what CI wrote there."""
    seen: set[str] = set()
    for _wf, job, site, _why in _default_pushes(project, params):
        if job.address in seen:
            continue
        seen.add(job.address)
        for c in commit_messages(job, params.message_inputs):
            hit = next((m for m in params.markers if m.lower() in c.message.lower()), None)
            if hit is None:
                continue
            yield ctx.finding(
                at=c.span,
                node=c.step,
                column=c.column,
                address=f"{c.step.address}/commit",
                related=[site.span],
                message=(
                    f"job `{job.id}` commits with `{hit}` in the message and pushes it to the default branch "
                    f"({site.how}): no workflow runs on that commit, so nothing checks what CI changed there"
                ),
            )


class DeployParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # a rewrite pushed only to a new branch (a pull request) deploys nothing; the default
    # branch's names, plus the one `.git` records, decide where a push lands
    default_branches: list[str] = Field(default_factory=lambda: ["main", "master"])
    # words naming a production environment, matched as whole words in a deploy's target
    # (`k8s/overlays/prod`, `--context=production`, `values-live.yaml`)
    production: list[str] = Field(default_factory=lambda: ["prod", "production", "prd", "live"])
    push_actions: dict[str, tuple[str, str]] = Field(default_factory=lambda: dict(PUSH_ACTIONS))


def _prod_pattern(names: list[str]) -> re.Pattern[str]:
    alt = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?i)(?:^|[^a-z0-9])(?:{alt})(?:$|[^a-z0-9])")


@check("gha-unprotected-prod-deploy", scope="project", params=DeployParams, subjects=("job",))
def unprotected_prod_deploy(ctx: Context, project: Project, params: DeployParams) -> Iterator[Hit]:
    """A job that deploys to production (a deploy command or action whose target names a
    production environment, or a rewrite of a production overlay it pushes) with no
    `environment:`, neither its own nor on a job it needs (nor, for a reusable workflow, on a
    job the calling job needs): no required reviewer, wait timer or branch rule stands between
    a push and production. A target known only at run time is not judged."""
    prod = _prod_pattern(params.production)
    wp = project.workflows
    names = _defaults(project, params)
    for wf in wp.workflows:
        bindings = run_bindings(wp, wf)
        for job in wf.jobs.values():
            if job.is_call or gated(wf, job) is not None:
                continue
            reported: set[tuple[Any, ...]] = set()
            for caller, caller_job, inputs in bindings:
                if caller is None and wf.callers:
                    continue  # a reusable workflow is judged per caller
                if caller is not None and caller_job is not None and gated(caller, caller_job) is not None:
                    continue
                for d in deploys(wp, wf, job, inputs, params.push_actions, names):
                    key = (d.span.line, d.column)
                    if key in reported or not prod.search(d.target):
                        continue
                    reported.add(key)
                    # the inputs that put production in the target
                    shown = ", ".join(
                        f"{k}: {v}" for k, v in sorted(inputs.items()) if isinstance(v, str) and v and v in d.target
                    )
                    via = f" when run with {shown}" if shown else ""
                    related = []
                    if caller is not None and caller_job is not None:
                        via = f" when `{caller.path}` job `{caller_job.id}` calls it" + (
                            f" with {shown}" if shown else ""
                        )
                        if caller_job.uses is not None:
                            related.append(caller_job.uses.span)
                    yield ctx.finding(
                        at=d.span,
                        node=d.step,
                        column=d.column,
                        address=f"{job.address}/deploys/{d.target}",
                        related=related,
                        message=(
                            f"job `{job.id}` deploys to production{via}: {d.what}; neither it nor a job it needs has an "
                            "`environment:`, so no required reviewer or branch rule guards it; add "
                            "`environment: production` (with protection rules) to the job"
                        ),
                    )
