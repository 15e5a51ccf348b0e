"""Finding Kubernetes environments in a workspace: kustomizations (overlays, leaves) and
directories of plain manifests."""

from __future__ import annotations

from urr_audit.loaders.kustomize.build import KUSTOMIZATION_FILES, Kustomization, Renderer, leaves_out
from urr_audit.loaders.kustomize.manifests import load_manifests
from urr_audit.loaders.naming import environment_names
from urr_audit.model.common import LoadError
from urr_audit.model.kubernetes import K8sEnvironment, K8sObject, KubernetesProject, Overlay
from urr_audit.workspace import OutsideRoot, Workspace


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
        )
        for r in resources
    ]


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
    return KubernetesProject(overlays=overlays, environments=environments), list(unique.values())
