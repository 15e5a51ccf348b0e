"""Delivery: what the pipeline builds or edits against what the environments run; objects
aimed at workloads that only another environment runs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.cross._common import spans, workload_names
from urr_audit.facts.pipeline import ECR_HOST, Push, ecr_registry, pushes, same_repository
from urr_audit.facts.tf import existing
from urr_audit.model.common import Severity, Span
from urr_audit.model.gha_images import FileEdit, Template
from urr_audit.model.k8s_facts import EnvironmentFacts, Workload, facts
from urr_audit.model.kubernetes import KubernetesProject, Overlay
from urr_audit.model.project import Project
from urr_audit.model.workflows import Job, Workflow, run_bindings
from urr_audit.wording import listed

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


class DeliveryParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Terraform resource type -> attributes naming the image it runs (compute outside the cluster)
    image_attributes: dict[str, list[str]] = Field(default_factory=dict)
    # environments (regex, full match) whose images may be built outside the pipeline (a local cluster)
    local_environments: list[str] = Field(default_factory=list)


def _running(project: Project) -> dict[str, list[tuple[str, Workload, Span]]]:
    """Image repository -> (environment, workload, where the image is set) of every workload."""
    out: dict[str, list[tuple[str, Workload, Span]]] = {}
    for env in project.kubernetes.environments:
        for w in facts(env).pod_workloads():
            for c in w.all_containers:
                if c.image is not None and c.image.repository:
                    out.setdefault(c.image.repository, []).append((env.name, w, c.origin("image")))
    return out


def _terraform_images(project: Project, attributes: dict[str, list[str]]) -> list[str]:
    out = []
    for env in project.terraform.environments:
        for ri in existing(env, *attributes):
            for a in attributes.get(ri.type, []):
                v = ri.get(a)
                text = v.value if v.is_known else None
                if isinstance(text, str):
                    out.append(text)
                elif v.is_unknown and isinstance(v.decoded, (list, dict)):
                    out.append(str(v.decoded))
    return out


def _unread(project: Project, repository: str) -> list[str]:
    """What the repository deploys without it being read and that may run `repository`: its
    own content not rendered (a Helm chart, a plugin, a remote Kustomize resource of an
    overlay), or a chart of another repository named like the image."""
    name = repository.rsplit("/", 1)[-1].lower()
    out = [r for env in project.kubernetes.environments for r in env.incomplete]
    for app in project.argocd.applications:
        for s in app.deploying_sources:
            t = s.target
            if t is None:
                what = " ".join(x.value for x in (s.chart, s.repo_url, s.path) if x is not None).lower()
                if name in what:
                    out.append(f"Application {app.name} deploys {what}, not read")
            elif t.kind in ("helm", "plugin"):
                out.append(f"Application {app.name} deploys {t.path} ({t.kind}), not rendered")
            elif t.incomplete:
                out.append(f"Application {app.name}: {t.incomplete[0]}")
    return out


def _edits_of(project: Project, workflow: Workflow, caller: Workflow | None) -> bool:
    """Whether the run (the workflow, or the caller and what it calls) edits manifests."""
    files = [workflow] + ([caller] if caller is not None else [])
    return any(e for wf in files for st in wf.steps() for e in st.edits)


@check("cross-built-not-deployed", scope="project", params=DeliveryParams, subjects=("github:build", "kubernetes:*"))
def built_not_deployed(ctx: Context, project: Project, params: DeliveryParams) -> Iterator[Hit]:
    """Images a workflow pushes (per caller of a reusable workflow) that no workload of any
    Kubernetes environment runs and no Terraform compute (Lambda, ECS, App Runner) names: a
    service whose manifests were never written, or were renamed. Lower when the workflow only
    pushes (an image used by another repository or a tool is plausible); undecided where the
    repository deploys what is not read."""
    if not project.kubernetes.environments:
        return
    running = _running(project)
    tf_images = _terraform_images(project, params.image_attributes)
    seen: dict[tuple[Span, str], list[Push]] = {}
    for p in pushes(project):
        if p.repository is None or p.name.repository.value is None:
            continue
        if any(same_repository(p.repository, r) for r in running):
            continue
        if any(p.repository in t for t in tf_images):
            continue
        seen.setdefault((p.span, p.repository), []).append(p)
    for (span, repo), group in sorted(seen.items(), key=lambda x: (x[0][0].path, x[0][0].line, x[0][1])):
        p = group[0]
        deploys = _edits_of(project, p.workflow, p.caller)
        unread = _unread(project, repo)
        text = (
            f"{p.who} {'builds, pushes and deploys' if deploys else 'builds and pushes'} image {repo}, which no "
            "workload of any environment runs"
        )
        if unread:
            yield ctx.undecided(
                at=span,
                related=spans([p.build.span]),
                message=f"{text}, but {unread[0]}",
                address=f"{span.path}/{repo}",
            )
            continue
        yield ctx.finding(
            at=span,
            address=f"{span.path}/{repo}",
            related=spans([p.build.span], exclude=span),
            severity=None if deploys else Severity.LOW,
            message=f"{text}: its manifests are missing (or name another image)"
            + ("" if deploys else "; if another repository or a tool uses it, say so"),
        )


@check(
    "cross-deployed-not-built",
    scope="project",
    params=DeliveryParams,
    subjects=("kubernetes:image:.", "github:workflow"),
)
def deployed_not_built(ctx: Context, project: Project, params: DeliveryParams) -> Iterator[Hit]:
    """Workloads running an image of the repository's own (same registry, or the same
    repository namespace as what the workflows push) that no workflow builds: nothing produces
    the tag they run. Images of other registries and namespaces (PostgreSQL, an exporter) are
    not judged, nor local environments; undecided when a workflow calls a reusable workflow of
    another repository (it may build anything)."""
    all_pushes = [p for p in pushes(project) if p.repository]
    if not all_pushes:
        return
    local = [re.compile(p) for p in params.local_environments]
    namespaces = {p.repository.split("/", 1)[0] for p in all_pushes if p.repository and "/" in p.repository}
    hosts = {p.name.registry.value for p in all_pushes if p.name.registry is not None and p.name.registry.value}
    # pushes to Amazon ECR whose host is a run-time value (the login step's output): the region
    # when known, "" when not
    ecr_regions = {(e[1] or "") for p in all_pushes if (e := ecr_registry(p)) is not None}
    remote = [
        f"{wf.path} calls {j.uses.raw}"
        for wf, j in project.workflows.jobs()
        if j.uses is not None and j.uses.kind == "reusable-workflow"
    ]
    for env in project.kubernetes.environments:
        if any(p.fullmatch(env.name) for p in local):
            continue
        for w in facts(env).pod_workloads():
            for c in w.all_containers:
                img = c.image
                if img is None or not img.repository:
                    continue
                ours_ns = "/" in img.repository and img.repository.split("/", 1)[0] in namespaces
                ecr = ECR_HOST.match(img.registry or "")
                ours_host = img.registry is not None and (
                    img.registry in hosts or (ecr is not None and bool(ecr_regions & {"", ecr.group("region")}))
                )
                if not (ours_ns or ours_host):
                    continue
                if any(same_repository(p.repository or "", img.repository) for p in all_pushes):
                    continue
                at = c.origin("image")
                text = (
                    f"{w.kind} {w.name}, container {c.name}: runs {img.raw}, which no workflow builds, while the "
                    f"workflows push the repository's other images ({listed(sorted({p.repository or '' for p in all_pushes}), 3)})"
                )
                if remote:
                    yield ctx.undecided(at=at, node=w, message=f"{text}, but {remote[0]}")
                    continue
                yield ctx.finding(
                    at=at,
                    node=w,
                    related=spans([p.build.span for p in all_pushes[:1]]),
                    message=f"{text}: nothing here produces the tag it runs (if another repository builds it, say so)",
                )


class EditParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # regexes whose first group is an image name an edit script selects (`- name: app` in a sed
    # address, `.name == "app"` in a yq expression); `\\/` is read as `/`
    entry_patterns: list[str]


@dataclass
class _EditCase:
    anchor: Span
    edit: FileEdit
    path: str
    missing_file: bool
    entries: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)  # how the run is bound (caller, inputs)


def _overlay(kubernetes: KubernetesProject, path: str) -> Overlay | None:
    d, _, name = path.rpartition("/")
    if name not in KUSTOMIZATION_NAMES:
        return None
    return next((o for o in kubernetes.overlays if o.path == d and o.span.path == path), None)


def _names(script: Template | None, patterns: list[re.Pattern[str]]) -> list[str] | None:
    """Image names the script selects; a name with a run-time part is left out (not known)."""
    if script is None:
        return None
    text = script.pattern("\x00")
    out = []
    for p in patterns:
        for m in p.finditer(text):
            name = m.group(1)
            if "\x00" in name or text[m.end(1) : m.end(1) + 1] == "\x00":
                continue
            out.append(re.sub(r"\\(.)", r"\1", name).rstrip("$"))
    return out


def _label(caller: Workflow | None, inputs: dict[str, Any]) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in sorted(inputs.items()) if v is not None)
    who = f"called by {caller.path}" if caller is not None else "run"
    return f"{who} with {shown}" if shown else who


@check("cross-edit-target-missing", scope="project", params=EditParams, subjects=("github:edit",))
def edit_target_missing(ctx: Context, project: Project, params: EditParams) -> Iterator[Hit]:
    """Manifest edits of a workflow (`sed -i`, `yq -i` on a kustomization) that, in some way
    the workflow runs (its dispatch choices, each caller's inputs), target a kustomization file
    that does not exist, or select an `images:` entry the kustomization does not have: the edit
    changes nothing and the deploy or rollback silently does not happen. An entry for an image
    that a workflow pushes and no workload runs is URR-X-011's (the service has no manifests at
    all); one for an image nothing pushes or runs (a stale dispatch choice) is this rule's."""
    if not project.kubernetes.overlays:
        return
    patterns = [re.compile(p) for p in params.entry_patterns]
    running = {
        c.image.repository
        for env in project.kubernetes.environments
        for w in facts(env).pod_workloads()
        for c in w.all_containers
        if c.image is not None
    }
    pushed = {p.repository for p in pushes(project) if p.repository}

    def elsewhere(name: str) -> bool:
        """URR-X-011 reports the entry: the image is pushed and no workload runs it."""
        return not any(same_repository(name, r) for r in running) and any(same_repository(r, name) for r in pushed)

    dirs = {o.path for o in project.kubernetes.overlays}
    cases: dict[tuple[str, int, str], _EditCase] = {}
    for wf in project.workflows.workflows:
        bindings = run_bindings(project.workflows, wf)
        for step in wf.steps():
            for edit in step.edits:
                if edit.tool == "kustomize edit set image":
                    continue  # it adds the entry when missing
                for caller, caller_job, inputs in bindings:
                    if caller is None and wf.callers:
                        continue
                    ctxs = {"inputs": inputs}
                    path = edit.path.bind(ctxs).value
                    if path is None or path.rpartition("/")[2] not in KUSTOMIZATION_NAMES:
                        continue
                    anchor = _anchor(edit, caller_job)
                    overlay = _overlay(project.kubernetes, path)
                    if overlay is None:
                        if path.rpartition("/")[0] in dirs or not _under_overlays(path, dirs):
                            continue  # another file name in a known directory, or nothing like an overlay
                        case = cases.setdefault(
                            (anchor.path, anchor.line, path), _EditCase(anchor, edit, path, missing_file=True)
                        )
                        case.runs.append(_label(caller, inputs))
                        continue
                    names = _names(edit.script.bind(ctxs) if edit.script is not None else None, patterns)
                    if not names:
                        continue
                    have = {e.name for e in overlay.images}
                    missing = [n for n in names if n not in have and not elsewhere(n)]
                    if missing:
                        case = cases.setdefault(
                            (anchor.path, anchor.line, path), _EditCase(anchor, edit, path, missing_file=False)
                        )
                        case.entries += [m for m in missing if m not in case.entries]
                        case.runs.append(_label(caller, inputs))
    for case in cases.values():
        runs = listed(case.runs, 2)
        if case.missing_file:
            yield ctx.finding(
                at=case.anchor,
                address=f"{case.anchor.path}:{case.anchor.line}/{case.path}",
                related=spans([case.edit.span], exclude=case.anchor),
                message=f"{case.edit.tool} edits {case.path} ({runs}), which does not exist: no overlay is "
                "there, so the edit fails (or changes nothing) and nothing is deployed",
            )
            continue
        overlay = _overlay(project.kubernetes, case.path)
        yield ctx.finding(
            at=case.anchor,
            address=f"{case.anchor.path}:{case.anchor.line}/{case.path}",
            related=spans([case.edit.span, overlay.span if overlay else None], exclude=case.anchor),
            message=f"{case.edit.tool} rewrites the images: entr{'ies' if len(case.entries) > 1 else 'y'} "
            f"{listed(case.entries, 3)} of {case.path} ({runs}), which has no such entry: the edit matches "
            "nothing, and what runs there is not changed",
        )


def _anchor(edit: FileEdit, caller_job: Job | None) -> Span:
    if caller_job is not None and caller_job.uses is not None:
        return caller_job.uses.span
    return edit.span


def _under_overlays(path: str, dirs: set[str]) -> bool:
    """Whether a missing kustomization is where the repository's layout puts an overlay: an
    existing overlay's directory differs from it in exactly one component (`deploy/qa` beside
    `deploy/prod`, `apps/search/overlays/prod` beside `apps/web/overlays/prod`)."""
    want = path.rpartition("/")[0].split("/")
    for d in dirs:
        have = d.split("/")
        if len(have) == len(want) and sum(a != b for a, b in zip(have, want, strict=True)) == 1:
            return True
    return False


# --- objects aimed at workloads of another environment ---------------------------------------------


@check(
    "cross-workload-elsewhere",
    scope="project",
    closed_world="kubernetes",
    subjects=("kubernetes:HorizontalPodAutoscaler|kubernetes:PodDisruptionBudget|kubernetes:Service",),
)
def workload_elsewhere(ctx: Context, project: Project, params: BaseModel) -> Iterator[Hit]:
    """HorizontalPodAutoscalers, PodDisruptionBudgets and Services whose workload this
    environment does not run while another environment does: an object copied from, or left
    over from, the other environment (a local cluster's stand-in, a Rollout only production
    has). The HPA scales nothing, the PDB protects nothing, the Service has no endpoints."""
    all_facts = [facts(e) for e in project.kubernetes.environments]
    for f in all_facts:
        deployed = {w.namespace for w in f.workloads if w.has_pods}
        others = [o for o in all_facts if o is not f]
        for hpa in f.hpas:
            if f.workload(hpa.target_kind, hpa.namespace, hpa.target_name) is not None:
                continue
            if f.object(hpa.target_kind, hpa.namespace, hpa.target_name) is not None:
                continue
            found = [
                (o.environment, w)
                for o in others
                for w in o.workloads
                if w.kind == hpa.target_kind and w.name == hpa.target_name
            ]
            if found:
                yield _elsewhere(
                    ctx,
                    hpa.obj,
                    hpa.obj.origin("spec.scaleTargetRef.name"),
                    f,
                    f"HorizontalPodAutoscaler {hpa.name} scales {hpa.target_kind} {hpa.target_name}",
                    found,
                    "it scales nothing here",
                )
        for pdb in f.pdbs:
            if pdb.selector is None or pdb.selector.is_empty or pdb.namespace not in deployed:
                continue
            if f.pdb_workloads(pdb):
                continue
            found = [
                (o.environment, w)
                for o in others
                for w in o.workloads
                if w.has_pods and pdb.selector.matches(w.pod_labels)
            ]
            if found:
                yield _elsewhere(
                    ctx,
                    pdb.obj,
                    pdb.obj.origin("spec.selector"),
                    f,
                    f"PodDisruptionBudget {pdb.name} selects {pdb.selector}",
                    found,
                    "it protects nothing here",
                )
        for svc in f.services:
            if svc.selector is None or svc.selector.is_empty or svc.type == "ExternalName":
                continue
            if svc.namespace not in deployed or f.service_workloads(svc):
                continue
            found = [
                (o.environment, w)
                for o in others
                for w in o.workloads
                if w.has_pods and svc.selector.matches(w.pod_labels)
            ]
            if found:
                yield _elsewhere(
                    ctx,
                    svc.obj,
                    svc.obj.origin("spec.selector"),
                    f,
                    f"Service {svc.name} selects {svc.selector}",
                    found,
                    "it has no endpoints here",
                )


def _elsewhere(
    ctx: Context, obj: Any, at: Span, f: EnvironmentFacts, subject: str, found: list[tuple[str, Workload]], effect: str
) -> Hit:
    envs = listed(sorted({e for e, _ in found}), 3)
    return ctx.finding(
        at=at,
        node=obj,
        environment=f.environment,
        related=spans([w.span for _, w in found]),
        message=f"{subject}, which {f.environment} does not run; only {envs} "
        f"{'runs' if len({e for e, _ in found}) == 1 else 'run'} {workload_names(w for _, w in found)}: {effect}",
    )
