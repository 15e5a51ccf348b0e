"""Registries: image repositories Terraform does not create although it manages the registry,
registry placeholders while Terraform creates the real one, and moving tags pushed to
repositories Terraform makes immutable."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.cross._common import spans
from urr_audit.checks.terraform._model import provider_region
from urr_audit.facts.pipeline import ECR_HOST, Push, ecr_registry, moving_tag, pushes, same_repository
from urr_audit.facts.placement import outputs_reading
from urr_audit.facts.registry import Registry, Repository, registry
from urr_audit.facts.tf import existing
from urr_audit.model.common import Span
from urr_audit.model.k8s_facts import Container, Workload, facts
from urr_audit.model.project import Project
from urr_audit.wording import listed


@dataclass
class _Use:
    """Where one repository of the registry is used: workloads running it, workflows pushing it."""

    repository: str
    region: str | None = None
    runs: list[tuple[str, Workload, Container]] = field(default_factory=list)  # (environment, workload, container)
    pushed: list[Push] = field(default_factory=list)

    @property
    def spans(self) -> list[Span]:
        return [c.origin("image") for _, _, c in self.runs] + [p.span for p in self.pushed]

    def describe(self) -> str:
        parts = []
        if self.pushed:
            parts.append(f"pushed by {listed(sorted({p.who for p in self.pushed}), 2)}")
        if self.runs:
            envs = listed(sorted({e for e, _, _ in self.runs}))
            names = listed(sorted({f"{w.kind} {w.name}" for _, w, _ in self.runs}), 2)
            parts.append(f"run by {names} ({envs})")
        return " and ".join(parts)


def _uses(project: Project) -> dict[str, _Use]:
    """ECR repositories the workloads run and the workflows push, by repository name."""
    out: dict[str, _Use] = {}
    for env in project.kubernetes.environments:
        for w in facts(env).pod_workloads():
            for c in w.all_containers:
                m = ECR_HOST.match(c.image.registry or "") if c.image is not None else None
                if m is None or c.image is None:
                    continue
                use = out.setdefault(c.image.repository, _Use(c.image.repository, m.group("region")))
                use.runs.append((env.name, w, c))
    for p in pushes(project):
        if p.repository is None or p.name.repository.value is None:
            continue  # a repository path with run-time parts: which one is not known
        ecr = ecr_registry(p)
        if ecr is None:
            continue
        use = out.setdefault(p.repository, _Use(p.repository, ecr[1]))
        use.pushed.append(p)
    return out


def _regions(project: Project, reg: Registry) -> set[str] | None:
    """Regions of the registry's repositories; None when one is not known."""
    out: set[str] = set()
    for r in reg.repositories:
        env = next((e for e in project.terraform.environments if e.name == r.environment), None)
        ri = next((x for x in existing(env, "aws_ecr_repository") if x.address == r.address), None) if env else None
        if env is None or ri is None:
            return None
        v = provider_region(env, ri)
        if not v.is_known:
            return None
        out.add(str(v.value))
    return out


@check(
    "cross-registry-repository-missing",
    scope="project",
    subjects=("terraform:aws_ecr_repository", r"github:build|kubernetes:image:\.dkr\.ecr\."),
)
def repository_missing(ctx: Context, project: Project, params: BaseModel) -> Iterator[Hit]:
    """Images in Amazon ECR that workloads run or workflows push, whose repository no
    `aws_ecr_repository` of the repository's Terraform creates although Terraform creates the
    registry's other repositories. Images in a region where Terraform creates no repository
    are another registry's, and left alone. Undecided where a repository name is known only at
    apply time or a module creating them is not read."""
    reg = registry(project.terraform.environments)
    if not reg.managed:
        return
    regions = _regions(project, reg)
    for name, use in sorted(_uses(project).items()):
        if name in reg.names or (regions is not None and use.region and use.region not in regions):
            continue
        if any(same_repository(name, n) and name.endswith(n) for n in reg.names):
            continue
        home = reg.closest(name)
        if home is None:
            continue
        text = (
            f"ECR repository {name}, {use.describe()}, is not created by Terraform, which creates the registry's "
            f"other repositories ({listed(sorted(reg.names), 3)}; {home.resource_address})"
        )
        if reg.unknown:
            yield ctx.undecided(
                at=home.span,
                environment=home.environment,
                address=f"{home.resource_address}/{name}",
                related=spans([*use.spans, home.resource_span], exclude=home.span),
                message=f"{text}, but not every repository is known: {reg.unknown[0]}",
            )
            continue
        yield ctx.finding(
            at=home.span,
            environment=home.environment,
            address=f"{home.resource_address}/{name}",
            related=spans([*use.spans, home.resource_span], exclude=home.span),
            message=f"{text}: pushes fail with RepositoryNotFoundException and pulls with ImagePullBackOff "
            "until someone creates it by hand, outside the configuration",
        )


class PlaceholderParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patterns: list[str] = Field(default_factory=list)  # regexes searched in the registry host


@check(
    "cross-registry-placeholder",
    scope="project",
    params=PlaceholderParams,
    subjects=("terraform:aws_ecr_repository", "github:build|kubernetes:image:."),
)
def registry_placeholder(ctx: Context, project: Project, params: PlaceholderParams) -> Iterator[Hit]:
    """Images whose registry is still a placeholder (`CHANGE_ME.dkr.ecr...`) in an environment
    or a workflow, while Terraform creates their repositories: the real registry is known to the
    repository (the repositories' URL), only not wired in. One finding per environment (or
    workflow) and file, at the first such image, naming the repositories and the outputs
    publishing their URLs."""
    reg = registry(project.terraform.environments)
    if not reg.managed:
        return
    compiled = [re.compile(p) for p in params.patterns]

    def placeholder(host: str) -> str | None:
        return next((m.group(0) for p in compiled if (m := p.search(host))), None)

    groups: dict[tuple[str, str], list[tuple[Span, str, str, Repository]]] = {}
    for env in project.kubernetes.environments:
        for w in facts(env).pod_workloads():
            for c in w.all_containers:
                if c.image is None or not c.image.registry or not ECR_HOST.match(c.image.registry):
                    continue
                hit = placeholder(c.image.registry)
                found = reg.named(c.image.repository)
                if hit and found:
                    span = c.origin("image")
                    groups.setdefault((env.name, span.path), []).append((span, c.image.raw, hit, found[0]))
    for p in pushes(project):
        host = p.name.registry.value if p.name.registry is not None else None
        if not host or p.repository is None or not ECR_HOST.match(host):
            continue
        hit = placeholder(host)
        found = reg.named(p.repository)
        if hit and found:
            groups.setdefault((p.who, p.build.span.path), []).append(
                (p.build.span, str(p.name.template), hit, found[0])
            )
    for (where, _path), items in sorted(groups.items()):
        items.sort(key=lambda x: (x[0].line, x[1]))
        first = items[0]
        repos = sorted({x[3].name or "" for x in items})
        homes = {x[3].resource_address: x[3] for x in items}
        tf_env = next((e for e in project.terraform.environments if e.name == first[3].environment), None)
        outputs = [o for a in homes for o in outputs_reading(tf_env, a)] if tf_env else []
        via = f" (outputs {listed([n for n, _ in outputs], 3)})" if outputs else ""
        yield ctx.finding(
            at=first[0],
            environment=where,
            address=f"{where}/registry/{first[2]}",
            related=spans(
                [x[0] for x in items] + [h.span for h in homes.values()] + [sp for _, sp in outputs[:3]],
                exclude=first[0],
            ),
            message=f"{len(items)} image reference(s) in {where} name the placeholder registry {first[2]!r} "
            f"({first[1]}...), while Terraform creates their repositories {listed(repos, 3)} "
            f"({listed(sorted(homes), 2)}){via}: use the registry Terraform creates",
        )


@check("cross-registry-immutable-tag", scope="project", subjects=("terraform:aws_ecr_repository", "github:build"))
def immutable_tag(ctx: Context, project: Project, params: BaseModel) -> Iterator[Hit]:
    """Workflows pushing the same tag on every run (`latest`, an environment name, a literal
    version) to ECR repositories Terraform creates with `image_tag_mutability = IMMUTABLE`: the
    first push succeeds, every later one fails with ImageTagAlreadyExistsException. Tags that
    change per run (a commit, a timestamp, a run number) are fine."""
    reg = registry(project.terraform.environments)
    immutable = [r for r in reg.repositories if r.name and r.mutability.upper().startswith("IMMUTABLE")]
    if not immutable:
        return
    cases: dict[tuple[str, int, str], list[tuple[Push, str, Repository]]] = {}
    for p in pushes(project):
        if p.repository is None or ecr_registry(p) is None:
            continue
        tag = moving_tag(p.tag)
        if tag is None:
            continue
        for r in immutable:
            if r.name == p.repository:
                s = p.step.with_.get("tags")
                anchor = s.span if s is not None and p.build.tool == "docker/build-push-action" else p.build.span
                cases.setdefault((anchor.path, anchor.line, r.environment), []).append((p, tag, r))
    for (path, line, tf_env), items in sorted(cases.items()):
        tags = sorted({t for _, t, _ in items})
        repos = sorted({r.name or "" for _, _, r in items})
        first = items[0][0]
        s = first.step.with_.get("tags")
        anchor = s.span if s is not None and first.build.tool == "docker/build-push-action" else first.build.span
        yield ctx.finding(
            at=anchor,
            environment=tf_env,
            address=f"{path}:{line}/tags",
            related=spans([r.mutability_span for _, _, r in items] + [p.span for p, _, _ in items], exclude=anchor),
            message=f"pushes tag{'s' if len(tags) > 1 else ''} {listed(tags)} on every run to "
            f"{listed(repos, 3)}, which Terraform makes immutable (image_tag_mutability = "
            f"{items[0][2].mutability}, {items[0][2].resource_address}): every push after the first fails with "
            "ImageTagAlreadyExistsException",
        )
