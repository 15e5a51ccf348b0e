"""What the pipeline delivers: the images workflows push, bound per run (a reusable workflow's
names with each caller's inputs), the platforms they are built for, the registry they go to,
and how an image a workflow pushes is recognised where Kubernetes runs it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from urr_audit.model.common import Span
from urr_audit.model.gha_images import ImageBuild, ImageName, Template
from urr_audit.model.project import Project
from urr_audit.model.workflows import Job, Step, Workflow, run_bindings

# `<account>.dkr.ecr.<region>.amazonaws.com` (FIPS and China partitions included)
ECR_HOST = re.compile(r"^(?P<account>[^./]+)\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")
ECR_LOGIN = "aws-actions/amazon-ecr-login"


def same_repository(built: str, deployed: str) -> bool:
    """An image repository a workflow pushes (`urr/ticket-service`) and one a workload runs
    (`urr/ticket-service`, or with more leading components), registries and tags ignored."""
    return built == deployed or deployed.endswith("/" + built) or built.endswith("/" + deployed)


def repository_of(name: ImageName) -> str | None:
    """The repository path as far as it is known (its known trailing components when the
    first ones are run-time values); None when not even the last one is known."""
    if name.registry is None and name.repository.is_known:
        return name.repository.value
    return name.known_suffix()


@dataclass
class Push:
    """One image name a workflow step pushes, in one way the workflow runs."""

    workflow: Workflow  # the file holding the step (a reusable workflow for its callers)
    job: Job
    step: Step
    build: ImageBuild
    name: ImageName  # bound with the run's inputs
    repository: str | None
    caller: Workflow | None = None  # the workflow calling it, for a reusable one
    caller_job: Job | None = None
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def span(self) -> Span:
        """Where the name is decided for this run: the calling job's `uses:` for a reusable
        workflow's push (its `with:` picks the service), else the push itself."""
        if self.caller_job is not None and self.caller_job.uses is not None:
            return self.caller_job.uses.span
        return self.build.span

    @property
    def who(self) -> str:
        base = self.workflow.path
        return f"{self.caller.path} (through {base})" if self.caller is not None else base

    @property
    def tag(self) -> Template | None:
        return self.name.tag


def pushes(project: Project) -> list[Push]:
    """Every image name pushed (`push: true`, `docker push`, `--push`; a push not known to be
    off counts), once per way its workflow runs; names a caller's inputs decide are bound."""
    return list(project.fact(pushes, lambda: _pushes(project)))


def _pushes(project: Project) -> list[Push]:
    out: list[Push] = []
    for wf in project.workflows.workflows:
        bindings = run_bindings(project.workflows, wf)
        for step in wf.steps():
            job = wf.jobs.get(step.job or "")
            if job is None:
                continue
            for build in step.builds:
                if build.pushes is False:
                    continue
                for caller, caller_job, inputs in bindings:
                    if caller is None and wf.callers:
                        continue  # its names depend on the callers' inputs: bound per caller
                    for tag in build.tags:
                        name = ImageName.parse(tag.template.bind({"inputs": inputs}), span=tag.span)
                        out.append(
                            Push(wf, job, step, build, name, repository_of(name), caller, caller_job, dict(inputs))
                        )
    return out


def platforms(push: Push, runner_platforms: dict[str, str]) -> tuple[list[str] | None, str]:
    """The platforms the pushed image holds, and how that is known: the build's `platforms`;
    for a `docker push` of an image built earlier in the job, that build's; with none written,
    the runner's (`runner_platforms`: regex of a `runs-on` label -> platform). None with the
    reason when not known."""
    build = push.build
    if not build.builds:
        wanted = str(push.name.template)
        for st in push.job.steps:
            for b in st.builds:
                if b.builds and any(str(t.template) == wanted for t in b.tags):
                    build = b
        if not build.builds:
            return None, f"the build of {wanted} is not in the job"
    if build.platforms:
        return build.platforms, "platforms"
    if build.platforms_unknown:
        return None, f"platforms are known at run time ({build.platforms_unknown})"
    labels = [s.text for s in push.job.runs_on]
    for label in labels:
        for pattern, platform in runner_platforms.items():
            if re.fullmatch(pattern, label):
                return [platform], f"runner {label} (no platforms written)"
    shown = ", ".join(labels) or "not known"
    return None, f"no platforms written and the runner's platform is not known (runs-on: {shown})"


def ecr_registry(push: Push) -> tuple[str | None, str | None] | None:
    """(account, region) of an Amazon ECR registry the push goes to, each None when not known;
    None when the registry is not ECR (or not known to be). A registry written as the output of
    an `amazon-ecr-login` step of the job is ECR."""
    reg = push.name.registry
    if reg is None:
        return None
    if reg.is_known:
        m = ECR_HOST.match(reg.value or "")
        return (m.group("account"), m.group("region")) if m else None
    logins = {s.id.text for s in push.job.steps if s.id is not None and any(lg.tool == ECR_LOGIN for lg in s.logins)}
    if any(f"steps.{i}.outputs" in h.source for h in reg.holes for i in logins):
        return (None, None)
    m = ECR_HOST.match(reg.pattern("x"))
    return (None, m.group("region") if "x" not in m.group("region") else None) if m else None


def moving_tag(tag: Template | None) -> str | None:
    """The tag when every run pushes the same one (`latest`, `staging`, a literal version): a
    tag whose text is wholly known once the run's inputs are bound. None for a tag that changes
    per run (a commit, a timestamp, a step output) or is not known."""
    if tag is None:
        return "latest"
    return tag.value if tag.is_known else None
