"""What the pipeline's image builds push and read: moving tags pushed beside per-run ones, build
contexts and Dockerfiles that are not in the repository, COPY/ADD sources missing from the
context, matrix values naming directories that do not exist."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.facts.gha_builds import (
    BuildSite,
    Tree,
    WorkspaceParams,
    build_sites,
    clean,
    env_of,
    may_write,
    template_of,
    tree_of,
)
from urr_audit.facts.gha_calls import upstream
from urr_audit.facts.pipeline import Push, pushes
from urr_audit.model.common import Span, go_glob
from urr_audit.model.dockerignore import DockerIgnore
from urr_audit.model.gha_expr import refs
from urr_audit.model.gha_images import Hole, Template
from urr_audit.model.project import Project
from urr_audit.model.workflows import Job, Step, Workflow

# --- moving tags beside per-run tags ------------------------------------------------------------


class MutableTagParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # tag values that name a place, not a build (fnmatch, case-insensitive)
    mutable_tags: list[str] = Field(default_factory=lambda: ["latest"])
    # context paths whose value differs on every run (a commit, a run number)
    per_run: list[str] = Field(
        default_factory=lambda: ["github.sha", "github.run_id", "github.run_number", "github.event.after"]
    )
    # context paths holding the branch a run is for: a tag made of one moves with the branch
    branch_refs: list[str] = Field(default_factory=lambda: ["github.ref_name", "github.head_ref", "github.base_ref"])
    # moving tags that name the newest release (fnmatch, case-insensitive): pushed by a workflow
    # that runs only for git tags or releases, they move once per release, as intended
    release_tags: list[str] = Field(default_factory=lambda: ["latest"])


_BRANCH_VARS = frozenset({"GITHUB_REF_NAME", "GITHUB_HEAD_REF", "GITHUB_BASE_REF", "GITHUB_REF"})


def _tag_only(wf: Workflow) -> bool:
    """Whether every run of the workflow is for a git tag (so `github.ref_name` is a version)."""
    return _for_tags(wf.triggers)


def _for_tags(triggers: list[Any]) -> bool:
    """Whether the triggers start runs only for a git tag or a release."""
    if not triggers:
        return False
    for t in triggers:
        if t.event == "release":
            continue
        if t.event == "push" and t.tags is not None and t.branches is None:
            continue
        return False
    return True


def _release_only(project: Project, wf: Workflow) -> bool:
    """Whether every run of the workflow is for a git tag or a release: its own triggers, or for
    a reusable workflow those of every workflow in the repository calling it (none: not known)."""
    starters = [w for w in upstream(project.workflows, wf) if any(t.event != "workflow_call" for t in w.triggers)]
    if wf.trigger("workflow_call") is not None and not project.workflows.callers_of(wf.path):
        return False
    return bool(starters) and all(_for_tags([t for t in w.triggers if t.event != "workflow_call"]) for w in starters)


def _hole_kind(hole: Hole, wf: Workflow, job: Job, params: MutableTagParams) -> str | None:
    """'per-run', 'branch' or None (not known) for one run-time part of a tag."""
    if hole.node is None:
        return None
    kinds: set[str] = set()
    for r in refs(hole.node):
        dotted = ".".join(r.parts).lower()
        if dotted in params.per_run:
            kinds.add("per-run")
        elif dotted in params.branch_refs:
            kinds.add("per-run" if _tag_only(wf) else "branch")
        elif r.parts[0] == "steps" and len(r.parts) >= 4 and r.parts[2] == "outputs":
            step = job.step(r.parts[1])
            if step is None or step.run is None:
                return None
            writes = [w for w in step.run.writes_to("GITHUB_OUTPUT") if w.name == r.parts[3]]
            if not writes or any(w.literal for w in writes):
                return None
            if any(set(w.variables) & _BRANCH_VARS for w in writes):
                kinds.add("per-run" if _tag_only(wf) else "branch")
            elif all(w.computed or w.variables for w in writes):
                kinds.add("per-run")
            else:
                return None
        else:
            return None
    if "per-run" in kinds:
        return "per-run"
    return "branch" if kinds else None


def _tag_kind(tag: Template | None, push: Push, params: MutableTagParams) -> tuple[str, str] | None:
    """('mutable', shown) for a tag naming a place (`latest`, an environment, a branch),
    ('immutable', shown) for one that differs per run, None when not known or neither."""
    if tag is None:
        return "mutable", "latest (no tag)"
    if tag.is_known:
        value = tag.value or ""
        if any(fnmatchcase(value.lower(), p.lower()) for p in params.mutable_tags):
            return "mutable", value
        return None
    kinds = {_hole_kind(h, push.workflow, push.job, params) for h in tag.holes}
    if "per-run" in kinds:
        return "immutable", str(tag)
    if kinds == {"branch"}:
        return "mutable", f"{tag} (the branch name)"
    return None


@check("gha-mutable-tag-beside-immutable", scope="project", params=MutableTagParams, subjects=("build",))
def mutable_tag_beside_immutable(ctx: Context, project: Project, params: MutableTagParams) -> Iterator[Hit]:
    """A job pushing the same image under a tag that changes per run (a commit, a run number, a
    computed version) and under a tag that names a place (`latest`, an environment, a branch):
    whoever deploys or rolls back by the moving tag runs whichever build pushed last, and
    cannot tell which one that is. A reusable workflow's tags are bound with each caller's
    inputs (an `inputs.environment` tag is `staging` for the caller passing it)."""
    groups: dict[tuple[str, str, str], list[tuple[Push, str, str]]] = {}
    for p in pushes(project):
        kind = _tag_kind(p.name.tag, p, params)
        if kind is None:
            continue
        key = (p.workflow.path, p.job.id, str(p.name.repository) if p.caller is None else p.build.step)
        groups.setdefault(key, []).append((p, *kind))
    for items in groups.values():
        mutable = [
            (p, shown)
            for p, k, shown in items
            if k == "mutable"
            and not (
                any(fnmatchcase(shown.lower(), r.lower()) for r in params.release_tags)
                and _release_only(project, p.workflow)
            )
        ]
        immutable = [(p, shown) for p, k, shown in items if k == "immutable"]
        if not mutable or not immutable:
            continue
        moving = sorted({s for _, s in mutable})
        fixed = sorted({s for _, s in immutable})
        first = mutable[0][0]
        # as written in the file: a reusable workflow's name before its callers' inputs
        written = next((t for t in first.build.tags if t.span == first.name.span), None)
        repo = str((written or first.name).repository) if first.caller is not None else str(first.name.repository)
        yield ctx.finding(
            at=first.build.span,
            node=first.step,
            address=f"{first.step.address}/tags",
            column=first.build.column,
            related=list({(p.build.span.path, p.build.span.line): p.build.span for p, _ in immutable}.values()),
            message=(
                f"`{repo}` is pushed as {', '.join(f'`{m}`' for m in moving)} beside the per-run tag "
                f"{', '.join(f'`{f}`' for f in fixed)}: a deploy or rollback by the moving tag runs whichever "
                "build pushed last and cannot tell which; deploy by the per-run tag or the digest"
            ),
        )


# --- build contexts, Dockerfiles and COPY sources -------------------------------------------------


def _matches_in(tree: Tree, context: str, source: str, ignore: DockerIgnore | None) -> bool:
    """Whether a COPY source (relative to the context, maybe a glob) names something the
    builder sees: a file or directory of the context not excluded by its .dockerignore."""
    if source in (".", ""):
        return True
    if not any(ch in source for ch in "*?["):
        full = source if context == "." else f"{context}/{source}"
        return tree.exists(full) and not (ignore is not None and ignore.excludes(source))
    rx = go_glob(source)
    if rx is None:
        return True  # a malformed pattern: the builder refuses it, not a missing source
    for f in tree.under(context):
        parts = f.split("/")
        for n in range(1, len(parts) + 1):
            candidate = "/".join(parts[:n])
            if rx.match(candidate) and not (ignore is not None and ignore.excludes(f)):
                return True
    return False


def _site_label(site: BuildSite) -> str:
    return f"step `{site.step.label}` of job `{site.job.id}`"


def _matrix_value_span(site: BuildSite) -> tuple[Span, str]:
    """Where the matrix combination's deciding value is written, and the value shown."""
    matrix = site.job.matrix
    assert matrix is not None
    names = [n for n in site.matrix if f"matrix.{n}" in _hole_sources(site)]
    for name in names or list(site.matrix):
        value = site.matrix[name]
        axis = matrix.axes.get(name)
        for s in (axis.values or []) if axis is not None else []:
            if s.value == value:
                return s.span, f"{name}: {value}"
        for entry in matrix.include or []:
            given = entry.get(name)
            if given is not None and given.value == value:
                return given.span, f"{name}: {value}"
    return matrix.span, ", ".join(f"{k}: {v}" for k, v in site.matrix.items())


def _hole_sources(site: BuildSite) -> str:
    return " ".join(h.source for t in (site.build.context, site.build.file) if t is not None for h in t.holes)


def _caller_span(site: BuildSite) -> tuple[Span, str]:
    job = site.caller_job
    assert job is not None and job.uses is not None
    sources = _hole_sources(site)
    for name, scalar in job.with_.items():
        if f"inputs.{name}" in sources:
            return scalar.span, f"{name}: {scalar.text}"
    return job.uses.span, ", ".join(f"{k}: {v}" for k, v in site.inputs.items())


def _why_unknown(site: BuildSite, params: WorkspaceParams) -> Step | None:
    if site.git_context:
        return None  # the commit's tree: nothing a step writes reaches it
    return may_write(site.job, site.index, params, site.build.span.line)


@check("gha-build-path-missing", scope="project", params=WorkspaceParams, subjects=("build",))
def build_path_missing(ctx: Context, project: Project, params: WorkspaceParams) -> Iterator[Hit]:
    """An image build whose context directory or Dockerfile, written as literal paths (after
    `env:`), is not in the repository: the build fails (`unable to prepare context`, `failed to
    read dockerfile`). A path an earlier step of the job may create (a build, an artifact
    download, a script) is undecided; paths from a matrix or a caller's inputs are
    URR-GHA-059's; run-time paths are not judged."""
    tree = tree_of(project)
    if tree is None:
        return
    seen: set[tuple[str, int, str]] = set()
    for site in build_sites(project, params):
        if site.reads_matrix or site.reads_inputs:
            continue
        missing = None
        if not tree.is_dir(site.context):
            missing = f"the build context `{site.context}` does not exist"
        elif site.dockerfile not in tree.files:
            missing = f"the Dockerfile `{site.dockerfile}` does not exist"
        if missing is None:
            continue
        key = (site.build.span.path, site.build.span.line, missing)
        if key in seen:
            continue
        seen.add(key)
        writer = _why_unknown(site, params)
        if writer is not None:
            yield ctx.undecided(
                at=site.build.span,
                node=site.step,
                column=site.build.column,
                related=[writer.span],
                message=f"{missing} in the repository; step `{writer.label}` runs before the build and may create it",
            )
            continue
        where = (
            "in the commit (Git context: the build reads the commit's tree, not the workspace)"
            if site.git_context
            else "in the repository, and no earlier step of the job creates it"
        )
        yield ctx.finding(
            at=site.build.span,
            node=site.step,
            column=site.build.column,
            message=f"{_site_label(site)}: {missing} {where}: the build fails",
        )


@check("gha-copy-source-missing", scope="project", params=WorkspaceParams, subjects=("build",))
def copy_source_missing(ctx: Context, project: Project, params: WorkspaceParams) -> Iterator[Hit]:
    """A `COPY`/`ADD` source of a Dockerfile that a workflow builds which is not in the build
    context that build gives it, or is excluded by the context's `.dockerignore`: the build
    fails with `"/x": not found`. Only the stages the build needs are read (`--target`), sources
    from other stages (`--from`) and URLs are left out, globs must match something; a path
    from an ARG the build overrides, or one an earlier step of the job may create (a jar a
    build step writes), is undecided or left out; unless the `.dockerignore` excludes it, which
    removes it from the context whoever writes it."""
    tree = tree_of(project)
    if tree is None:
        return
    seen: set[tuple[str, int, str, str, bool]] = set()
    for site in build_sites(project, params):
        df = project.docker.file(site.dockerfile)
        if df is None or not tree.is_dir(site.context):
            continue
        target = None
        if site.build.target is not None:
            target = df.stage(site.build.target)
            if target is None:
                continue
        ignore = project.docker.ignore_for(site.dockerfile, site.context)
        missing: dict[int, tuple[Any, list[str], list[str]]] = {}  # per instruction: sources, reasons
        ignored: set[int] = set()  # instructions with a source the .dockerignore excludes
        for inst, written, value in df.context_sources(target):
            if not value.is_known or not isinstance(value.value, str):
                continue
            if "$" in written and site.build.build_args:
                continue
            source = posixpath.normpath(value.value.lstrip("/") or ".")
            if source.startswith("..") or _matches_in(tree, site.context, source, ignore):
                continue
            key = (inst.span.path, inst.span.line, source, site.context, site.git_context)
            if key in seen:
                continue
            seen.add(key)
            full = source if site.context == "." else f"{site.context}/{source}"
            excluded = ignore is not None and (
                _matches_in(tree, site.context, source, None)
                or (not any(ch in source for ch in "*?[") and ignore.excludes(source))
            )
            if ignore is not None and _matches_in(tree, site.context, source, None):
                why = f"excluded by `{ignore.path}`"
            elif ignore is not None and excluded:
                # left out of the context whoever writes it: an earlier step's output too
                why = f"`{full}` is not in the repository, and `{ignore.path}` excludes it from the context whatever an earlier step writes there"
            elif site.git_context:
                why = f"`{full}` is not in the commit (Git context: what earlier steps write is not in it)"
            else:
                why = f"`{full}` is not in the repository"
            if excluded:
                ignored.add(inst.span.line)
            entry = missing.setdefault(inst.span.line, (inst, [], []))
            entry[1].append(f"`{written}`")
            entry[2].append(why)
        for inst, sources, whys in missing.values():
            kind = inst.keyword_as_written.upper()
            what = f"{kind} sources {', '.join(sources)} are" if len(sources) > 1 else f"{kind} source {sources[0]} is"
            why = "; ".join(dict.fromkeys(whys))
            writer = _why_unknown(site, params)
            if writer is not None and inst.span.line not in ignored:
                yield ctx.undecided(
                    at=inst,
                    related=[site.build.span, writer.span],
                    message=(
                        f"{what} not in the build context `{site.context}` of {_site_label(site)} ({why}); "
                        f"step `{writer.label}` runs before the build and may create {'them' if len(sources) > 1 else 'it'}"
                    ),
                )
                continue
            yield ctx.finding(
                at=inst,
                related=[site.build.span],
                message=(
                    f"{what} not in the build context `{site.context}` that {_site_label(site)} "
                    f"({site.workflow.path}) gives it: {why}; the build fails"
                ),
            )


@check("gha-matrix-path-missing", scope="project", params=WorkspaceParams, subjects=("build",))
def matrix_path_missing(ctx: Context, project: Project, params: WorkspaceParams) -> Iterator[Hit]:
    """A matrix value (or a caller's input to a reusable workflow) that names a directory the
    build uses as its context, or whose context has no Dockerfile where the build looks:
    `context: services/${{ matrix.service }}` with a `service` that has no directory, or no
    Dockerfile in it; and a job's `defaults.run.working-directory` naming, per matrix entry, a
    directory that does not exist. Each combination is evaluated; values known only at run
    time (`fromJSON(needs.x.outputs.y)`) are not judged."""
    tree = tree_of(project)
    if tree is None:
        return
    seen: set[tuple[str, int, str]] = set()
    for site in build_sites(project, params):
        if not (site.reads_matrix or site.reads_inputs):
            continue
        if not tree.is_dir(site.context):
            missing = f"the build context `{site.context}` does not exist"
        elif site.dockerfile not in tree.files:
            missing = f"`{site.context}` has no Dockerfile `{site.dockerfile}`"
        else:
            continue
        span, shown = _matrix_value_span(site) if site.reads_matrix else _caller_span(site)
        key = (span.path, span.line, missing)
        if key in seen:
            continue
        seen.add(key)
        writer = _why_unknown(site, params)
        via = (
            f"matrix entry `{shown}`"
            if site.reads_matrix
            else f"`{shown}` passed by job `{site.caller_job.id if site.caller_job else ''}`"
        )
        message = f"{via}: {missing} for the build in {_site_label(site)} ({site.workflow.path})"
        if writer is not None:
            yield ctx.undecided(
                at=span,
                related=[site.build.span, writer.span],
                message=f"{message}; step `{writer.label}` runs before the build and may create it",
            )
            continue
        yield ctx.finding(at=span, related=[site.build.span], message=f"{message}: that entry's build fails")
    for wf in project.workflows.workflows:
        for job in wf.jobs.values():
            yield from _working_directories(ctx, wf, job, tree, params)


def _working_directories(ctx: Context, wf: Workflow, job: Job, tree: Tree, params: WorkspaceParams) -> Iterator[Hit]:
    matrix = job.matrix
    wd = job.defaults.working_directory if job.defaults is not None else None
    if matrix is None or matrix.combinations is None or wd is None or "matrix." not in wd.text:
        return
    first_run = next((i for i, s in enumerate(job.steps) if s.run is not None and s.working_directory is None), None)
    if first_run is None:
        return
    checkout = next(
        (
            s
            for s in job.steps[:first_run]
            if s.uses is not None and any(fnmatchcase(s.uses.action, p) for p in params.checkout)
        ),
        None,
    )
    if checkout is None or may_write(job, first_run, params) is not None:
        return
    env = env_of(wf, job, None)
    for combo in matrix.combinations:
        path = template_of(wd, {"matrix": combo, "env": env, "github": {"workspace": "."}}).value
        cleaned = clean(path) if path is not None else None
        if cleaned is None or tree.is_dir(cleaned):
            continue
        site_span = matrix.span
        shown = ", ".join(f"{k}: {v}" for k, v in combo.items())
        for name, value in combo.items():
            if f"matrix.{name}" not in wd.text:
                continue
            axis = matrix.axes.get(name)
            hit = next((s for s in (axis.values or []) if s.value == value), None) if axis is not None else None
            hit = hit or next((e[name] for e in matrix.include or [] if name in e and e[name].value == value), None)
            if hit is not None:
                site_span, shown = hit.span, f"{name}: {value}"
                break
        yield ctx.finding(
            at=site_span,
            related=[wd.span],
            node=job,
            message=(
                f"matrix entry `{shown}` of job `{job.id}`: its working directory `{cleaned}` "
                "(`defaults.run.working-directory`) does not exist, so every `run:` step of that entry fails"
            ),
        )
