"""Finding Kubernetes environments in a workspace: kustomizations (overlays, leaves) and
directories of plain manifests."""

from __future__ import annotations

from typing import Any

from urr_audit.loaders.kustomize.build import KUSTOMIZATION_FILES, Kustomization, Renderer, leaves_out
from urr_audit.loaders.kustomize.manifests import HELM_CHART_FILE, MANIFEST_SUFFIXES, load_manifests
from urr_audit.loaders.kustomize.yamlsrc import YamlError
from urr_audit.loaders.naming import environment_names
from urr_audit.model.common import LoadError, Span
from urr_audit.model.kubernetes import (
    ImageEntry,
    K8sEnvironment,
    K8sObject,
    KubernetesProject,
    Overlay,
    StrayDoc,
    StrayFile,
    shallow_fields,
)
from urr_audit.workspace import OutsideRoot, Workspace

# Kustomization fields naming local files the renderer does not read itself (plugin configs,
# CRD schemas, Helm values): those files are referenced all the same.
_OTHER_FILE_FIELDS = ("generators", "transformers", "validators", "configurations", "crds")


def kustomization_dirs(ws: Workspace) -> list[str]:
    dirs = set()
    for f in ws.files:
        d, _, base = f.rpartition("/")
        if base in KUSTOMIZATION_FILES:
            dirs.add(d or ".")
    return sorted(dirs)


def _local_refs(ws: Workspace, k: Kustomization, key: str) -> list[str]:
    out = []
    for ref in k.list(key):
        try:
            out.append(ws.join(k.dir, str(ref)))
        except OutsideRoot:
            continue
    return out


def to_objects(resources, environment: str | None) -> list[K8sObject]:
    return [
        K8sObject(
            api_version=r.api_version,
            kind=r.kind,
            name=r.name,
            namespace=r.namespace or None,
            body=r.body,
            span=r.span,
            field_origins=dict(r.origins),
            environment=environment,
            source=r.source,
            generated_name=r.unhashed_name,
            original_name=r.org_name if r.org_name != r.name else None,
        )
        for r in resources
    ]


def _image_entries(k: Kustomization) -> list[ImageEntry]:
    raw = k.data.get("images")
    out = []
    for i, e in enumerate(raw if isinstance(raw, list) else []):
        if isinstance(e, dict) and isinstance(e.get("name"), str):
            new_name, new_tag = e.get("newName"), e.get("newTag")
            out.append(
                ImageEntry(
                    name=e["name"],
                    span=k.span("images", i),
                    new_name=str(new_name) if new_name is not None else None,
                    new_tag=str(new_tag) if new_tag is not None else None,
                )
            )
    return out


def load(ws: Workspace, renderer: Renderer | None = None) -> tuple[KubernetesProject, list[LoadError]]:
    renderer = renderer or Renderer(ws)
    errors: list[LoadError] = []
    overlays: list[Overlay] = []
    used: set[str] = set()
    kusts: dict[str, Kustomization] = {}
    for d in kustomization_dirs(ws):
        k = renderer.kustomization(d)
        if isinstance(k, LoadError):
            errors.append(k)
            continue
        if k is None:
            continue
        kusts[d] = k
        for key in ("resources", "bases", "components"):
            used.update(r for r in _local_refs(ws, k, key) if ws.is_dir(r))
    for d, k in kusts.items():
        resources = _local_refs(ws, k, "resources")
        bases = [r for r in resources + _local_refs(ws, k, "bases") if ws.is_dir(r) and renderer.kustomization_file(r)]
        overlays.append(
            Overlay(
                path=d,
                span=k.file_span,
                resources=resources,
                bases=bases,
                is_leaf=d not in used and not k.is_component,
                images=_image_entries(k),
            )
        )
    built_leaves = []
    for o in (o for o in overlays if o.is_leaf):
        try:
            built_leaves.append((o, renderer.build(o.path)))
        except RecursionError:
            errors.append(
                LoadError.at(
                    o.span,
                    kind="kustomize.invalid",
                    message="nesting too deep to render (hostile or generated input?)",
                )
            )
    # After the builds: the renderer then knows every file a kustomization referenced.
    manifest_dirs, manifest_errors = load_manifests(ws, renderer.referenced)
    manifest_dirs = [d for d in manifest_dirs if d.is_environment]
    names = environment_names([o.path for o, _ in built_leaves] + [d.path for d in manifest_dirs], ws.root.name)
    environments = []
    for o, built in built_leaves:
        name = names[o.path]
        environments.append(
            K8sEnvironment(
                name=name,
                path=o.path,
                objects=to_objects(built.resources, name),
                overlay=o,
                incomplete=[f"{e.path}:{e.line}: {e.message}" for e in built.errors if leaves_out(e)],
                render_errors=[e for e in built.errors if e.level == "error"],
                dirs=sorted(built.dirs),
            )
        )
        errors.extend(built.errors)
    for d in manifest_dirs:
        name = names[d.path]
        for obj in d.objects:
            obj.environment = name
        environments.append(K8sEnvironment(name=name, path=d.path, objects=d.objects, source="manifests"))
    errors.extend(manifest_errors)
    unique: dict[tuple, LoadError] = {}
    for e in errors:
        unique.setdefault((e.kind, e.path, e.line, e.message), e)
    project = KubernetesProject(
        overlays=overlays,
        environments=environments,
        remote_refs=sorted(renderer.remotes, key=lambda r: (r.span.path, r.span.line)),
        unreferenced=stray_files(ws, renderer, kusts),
    )
    return project, list(unique.values())


def _other_references(ws: Workspace, k: Kustomization) -> set[str]:
    out: set[str] = set()
    refs: list[Any] = [ref for key in _OTHER_FILE_FIELDS for ref in k.list(key)]
    openapi = k.data.get("openapi")
    if isinstance(openapi, dict):
        refs.append(openapi.get("path"))
    refs += [c.get("valuesFile") for c in k.list("helmCharts") if isinstance(c, dict)]
    for ref in refs:
        if isinstance(ref, str) and ref:
            try:
                out.add(ws.join(k.dir, ref))
            except OutsideRoot:
                continue
    return out


def stray_files(ws: Workspace, renderer: Renderer, kusts: dict[str, Kustomization]) -> list[StrayFile]:
    """YAML/JSON files inside a kustomization's directory (or a subdirectory without its own
    kustomization or Helm chart) that no kustomization references, with the documents that
    look like Kubernetes objects or JSON 6902 patches. Kustomize never reads them."""
    referenced = set(renderer.referenced)
    for k in kusts.values():
        referenced |= _other_references(ws, k)
    charts = {f.rpartition("/")[0] or "." for f in ws.files if f.rpartition("/")[2] == HELM_CHART_FILE}
    out = []
    for f in ws.files:
        d, _, base = f.rpartition("/")
        d = d or "."
        if not f.endswith(MANIFEST_SUFFIXES) or base in KUSTOMIZATION_FILES or f in referenced:
            continue
        if any(part.startswith(".") for part in f.split("/")):
            continue
        owner = _nearest(d, set(kusts) | charts)
        if owner is None or owner in charts:
            continue
        docs = _stray_docs(renderer, f)
        if docs:
            out.append(StrayFile(path=f, kustomization=owner, docs=docs))
    return out


def _nearest(d: str, dirs: set[str]) -> str | None:
    while True:
        if d in dirs:
            return d
        if d in ("", "."):
            return None
        d = d.rpartition("/")[0] or "."


def _has_directives(v: Any) -> bool:
    if isinstance(v, dict):
        return any(str(k).startswith("$") or _has_directives(x) for k, x in v.items())
    if isinstance(v, list):
        return any(_has_directives(x) for x in v)
    return False


def _stray_docs(renderer: Renderer, rel: str) -> list[StrayDoc]:
    try:
        docs = renderer.docs(rel)
    except YamlError:
        return []
    out = []
    for doc in docs:
        span = Span(path=rel, line=doc.start, end_line=doc.end)
        data = doc.data
        if isinstance(data, list) and data and all(isinstance(op, dict) and "op" in op and "path" in op for op in data):
            out.append(StrayDoc(span=span))
        elif isinstance(data, dict) and isinstance(data.get("kind"), str):
            meta = data.get("metadata")
            name = meta.get("name") if isinstance(meta, dict) else None
            if name in (None, ""):
                continue
            out.append(
                StrayDoc(
                    span=span,
                    kind=data["kind"],
                    name=str(name),
                    api_version=str(data.get("apiVersion") or "") or None,
                    directives=_has_directives(data),
                    fields=shallow_fields(data),
                )
            )
    return out
