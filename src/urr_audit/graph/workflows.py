"""GitHub Actions part of the graph.

Nodes: `gha:<workflow path>` (kind `workflow`: label, triggers), `gha-remote:<uses>` (a
reusable workflow of another repository), `image:<repository>` (kind `image`: tags, platforms,
registries seen), `file:<path>` (an edited file that is not a kustomization of an overlay).
Edges:
- workflow -> reusable workflow: `calls` (job, inputs passed, secrets or `inherit`);
- workflow -> image: `builds` / `pushes` (step, line, tags, platforms). A reusable workflow's
  image names are bound with each caller's `with:` values (`urr/${{ inputs.service-name }}`
  becomes `urr/ticket-service` for the ticket-service caller): the caller gets the edge, with
  `via` naming the reusable workflow; the reusable workflow gets one too, listing its callers.
- image -> Kubernetes workload: `run_by`, matched by repository name, registries and tags
  ignored (an ECR host or a `CHANGE_ME` placeholder in an overlay's `newName` still matches);
- workflow -> overlay (`kustomize:<dir>`) or file: `edits` (`sed -i`, `yq -i`, `kustomize edit
  set image`); a path with unknown parts (`k8s/overlays/${{ inputs.env }}/...`) is bound with
  the callers' values, else matched against the overlays as a pattern.
"""

from __future__ import annotations

import re
from typing import Any

import networkx as nx

from urr_audit.facts.pipeline import repository_of, same_repository
from urr_audit.model.gha_images import ImageName, Template
from urr_audit.model.project import Project
from urr_audit.model.workflows import Workflow, run_bindings


def _wid(path: str) -> str:
    return f"gha:{path}"


def _bindings(project: Project, wf: Workflow) -> list[tuple[Workflow | None, dict[str, Any]]]:
    return [(caller, inputs) for caller, _job, inputs in run_bindings(project.workflows, wf)]


def _pattern(t: Template) -> re.Pattern[str]:
    return re.compile("".join(re.escape(p) if isinstance(p, str) else "[^/]+" for p in t.parts))


def add_workflows(g: nx.DiGraph, project: Project) -> None:
    wp = project.workflows
    for w in wp.workflows:
        g.add_node(
            _wid(w.path), kind="workflow", label=w.label, triggers=w.events, reusable=w.is_reusable, path=w.path, line=1
        )
    for w, job in wp.jobs():
        u = job.uses
        if u is None:
            continue
        attrs = {
            "kind": "calls",
            "job": job.id,
            "with": {k: v.text for k, v in job.with_.items()},
            "secrets": "inherit" if job.secrets_inherit else sorted(job.secrets),
            "line": u.span.line,
        }
        if job.called is not None:
            g.add_edge(_wid(w.path), _wid(job.called), **attrs)
        elif u.kind == "reusable-workflow":
            node = f"gha-remote:{u.raw}"
            g.add_node(node, kind="remote_workflow", label=u.raw, remote=True, path=w.path, line=u.span.line)
            g.add_edge(_wid(w.path), node, **attrs)

    images: dict[str, dict[str, Any]] = {}
    for w in wp.workflows:
        bindings = _bindings(project, w)
        for step in w.steps():
            for build in step.builds:
                kind = "pushes" if build.pushes else "builds"
                for caller, inputs in bindings:
                    if caller is None and w.callers:
                        continue  # its names depend on the callers' inputs: bound per caller
                    ctx = {"inputs": inputs}  # open: an input not enumerated stays unknown
                    for tag in build.tags:
                        name = ImageName.parse(tag.template.bind(ctx))
                        repo = repository_of(name)
                        if repo is None:
                            continue
                        info = images.setdefault(repo, {"tags": set(), "platforms": set(), "registries": set()})
                        info["tags"].add(str(name.tag) if name.tag is not None else "latest")
                        info["platforms"].update(build.platforms or [])
                        if name.registry is not None:
                            info["registries"].add(str(name.registry))
                        target = f"image:{repo}"
                        edge = {"kind": kind, "step": step.address, "path": w.path, "line": build.span.line}
                        if caller is not None:
                            prev = g.get_edge_data(_wid(w.path), target) or {}
                            callers = sorted({*prev.get("callers", []), caller.path})
                            _add_build_edge(g, _wid(w.path), target, {**edge, "callers": callers})
                            edge["via"] = w.path
                        _add_build_edge(g, _wid((caller or w).path), target, edge)
            for edit in step.edits:
                for caller, inputs in bindings:
                    if caller is None and w.callers and edit.path.holes:
                        continue
                    path = edit.path.bind({"inputs": inputs}) if inputs else edit.path
                    src = caller if caller is not None else w
                    _add_edit(g, project, _wid(src.path), path, edit.tool, w.path, edit.span.line)
                    if caller is not None:  # the reusable workflow edits it too, for this caller
                        _add_edit(g, project, _wid(w.path), path, edit.tool, w.path, edit.span.line)

    for repo, info in sorted(images.items()):
        g.add_node(
            f"image:{repo}",
            kind="image",
            label=repo,
            tags=sorted(info["tags"]),
            platforms=sorted(info["platforms"]),
            registries=sorted(info["registries"]),
        )
    _link_workloads(g, project, sorted(images))


def _add_build_edge(g: nx.DiGraph, src: str, dst: str, edge: dict[str, Any]) -> None:
    """One edge per workflow and image; `pushes` wins over `builds` (the image built, scanned,
    then pushed by the same workflow is pushed)."""
    prev = g.get_edge_data(src, dst)
    if prev is not None and prev.get("kind") == "pushes" and edge["kind"] == "builds":
        if "callers" in edge:
            prev["callers"] = edge["callers"]
        return
    g.add_edge(src, dst, **edge)


def _add_edit(g: nx.DiGraph, project: Project, src: str, path: Template, tool: str, file: str, line: int) -> None:
    overlays = sorted(project.kubernetes.overlays, key=lambda o: o.path)
    pattern = _pattern(path)
    hits = [o for o in overlays if any(pattern.fullmatch(f"{o.path}/{n}") for n in _KUSTOMIZATION_NAMES)]
    edge = {"kind": "edits", "tool": tool, "path": file, "line": line}
    if hits:
        for o in hits:
            g.add_edge(src, f"kustomize:{o.path}", **edge, file=str(path))
        return
    node = f"file:{path}"
    if node not in g:
        g.add_node(node, kind="file", label=str(path), path=path.value or str(path), line=1)
    g.add_edge(src, node, **edge)


_KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def _link_workloads(g: nx.DiGraph, project: Project, repos: list[str]) -> None:
    if not repos:
        return
    from urr_audit.model.k8s_facts import facts

    for env in sorted(project.kubernetes.environments, key=lambda e: e.name):
        for w in facts(env).workloads:
            node = f"k8s:{w.address}"
            if node not in g:
                continue
            for c in w.all_containers:
                if c.image is None:
                    continue
                for repo in repos:
                    if same_repository(repo, c.image.repository):
                        g.add_edge(
                            f"image:{repo}",
                            node,
                            kind="run_by",
                            environment=env.name,
                            tag=c.image.tag,
                            container=c.name,
                        )
