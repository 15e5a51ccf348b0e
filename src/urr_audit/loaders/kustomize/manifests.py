"""Plain manifests: directories of Kubernetes YAML and JSON applied as they are
(`kubectl apply -f DIR`).

A YAML or JSON file is a candidate when nothing else owns it: not in or below a kustomization's
directory, not referenced by any kustomization (the renderer records every local path it
resolved), not in or below a Helm chart (templates are not YAML until rendered) or a
Terraform module (templatefile templates, see `candidate_files`), not under a
hidden directory (`.github/`...) and not hidden itself. Repositories hold many YAML files
that are not Kubernetes (docker-compose, CI, mkdocs...): a file that does not parse, or
whose documents are not objects (`apiVersion`, `kind`, `metadata.name`), is ignored without
a word; only a file that clearly is Kubernetes (its first document has `apiVersion` and
`kind`) and then fails to parse is a `kubernetes.invalid` LoadError, and none of its objects
are kept (as when Kustomize reads it).

Directories applied together (`manifests/api`, `manifests/data`) are one environment: see
`applied_together`. A directory is an environment when it holds an object of a built-in API group (served today
or removed since, like `extensions`): a directory of Argo CD Applications or a kind
`Cluster` config deploys nothing by itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from urr_audit.loaders.kustomize.build import KUSTOMIZATION_FILES, _expand_list
from urr_audit.loaders.kustomize.util import deep_copy
from urr_audit.loaders.kustomize.yamlsrc import Doc, YamlError, load_docs
from urr_audit.model.common import LoadError, Span
from urr_audit.model.kubernetes import K8sObject, SourceDoc
from urr_audit.workspace import OutsideRoot, Workspace

YAML_SUFFIXES = (".yaml", ".yml")
# `kubectl apply -f DIR` reads .json too; JSON is YAML, so the same parser keeps every line.
MANIFEST_SUFFIXES = (*YAML_SUFFIXES, ".json")
# JSON that is never a manifest, skipped without being read (lock files can be large).
NOT_MANIFESTS = (".tf.json", "package.json", "package-lock.json", "composer.lock", "tsconfig.json")
HELM_CHART_FILE = "Chart.yaml"
# What makes a directory an environment (a Deployment, a Service...), as opposed to custom
# resources other tools interpret (Argo CD Applications, kind's Cluster config).
ENVIRONMENT_API_GROUPS = frozenset(
    {"", "apps", "batch", "extensions", "networking.k8s.io", "policy", "autoscaling", "rbac.authorization.k8s.io"}
)

_TOP_LEVEL_API_VERSION = re.compile(r"^apiVersion:[ \t]*\S", re.MULTILINE)
_TOP_LEVEL_KIND = re.compile(r"^kind:[ \t]*\S", re.MULTILINE)
_SEPARATOR = re.compile(r"^---.*$", re.MULTILINE)


@dataclass
class ManifestDir:
    path: str  # repo-relative directory ("." for the root)
    objects: list[K8sObject] = field(default_factory=list)  # file by file, document by document

    @property
    def is_environment(self) -> bool:
        return any(o.group in ENVIRONMENT_API_GROUPS for o in self.objects)


def _dir_of(rel: str) -> str:
    return rel.rpartition("/")[0] or "."


def _self_and_ancestors(d: str) -> Iterable[str]:
    while d not in ("", "."):
        yield d
        d = d.rpartition("/")[0]
    yield "."


def candidate_files(ws: Workspace, referenced: set[str]) -> list[str]:
    """YAML files no kustomization, Helm chart or Terraform module owns (sorted).

    YAML inside a Terraform module is usually a `templatefile` template (`${...}` filled at
    plan time), not a manifest: a module directory owns the YAML beside its `.tf` files and,
    unless it is the repository root, everything below it.
    """
    owners: set[str] = set()  # directories holding a kustomization, a Helm chart or a module
    tf_dirs: set[str] = set()
    for f in ws.files:
        base = f.rpartition("/")[2]
        if base in KUSTOMIZATION_FILES or base == HELM_CHART_FILE:
            owners.add(_dir_of(f))
        elif base.endswith((".tf", ".tf.json")):
            tf_dirs.add(_dir_of(f))
    owners |= tf_dirs - {"."}
    out = []
    for f in ws.files:
        if not f.endswith(MANIFEST_SUFFIXES) or f.endswith(NOT_MANIFESTS) or f in referenced:
            continue
        if any(part.startswith(".") for part in f.split("/")):
            continue
        if _dir_of(f) in tf_dirs or any(d in owners for d in _self_and_ancestors(_dir_of(f))):
            continue
        out.append(f)
    return out


def _is_object(body: Any) -> bool:
    if not isinstance(body, dict) or not all(isinstance(key, str) for key in body):
        return False
    meta = body.get("metadata")
    return (
        isinstance(body.get("apiVersion"), str)
        and bool(body.get("kind"))
        and isinstance(body.get("kind"), str)
        and isinstance(meta, dict)
        and meta.get("name") not in (None, "")
    )


def _first_doc_is_kubernetes(text: str, docs: list[Doc]) -> bool:
    """Whether a file that failed to parse was meant as Kubernetes: its first document has
    `apiVersion` and `kind` (read from the text when the first document itself failed)."""
    if docs:
        first = docs[0].data
        return isinstance(first, dict) and bool(first.get("apiVersion")) and bool(first.get("kind"))
    head = next((chunk for chunk in _SEPARATOR.split(text) if _has_content(chunk)), "")
    return bool(_TOP_LEVEL_API_VERSION.search(head) and _TOP_LEVEL_KIND.search(head))


def _has_content(chunk: str) -> bool:
    return any(ln.strip() and not ln.lstrip().startswith(("#", "%")) for ln in chunk.splitlines())


def _objects(rel: str, docs: list[Doc]) -> list[K8sObject]:
    out = []
    for doc in docs:
        for body, start, end, root in _expand_list(doc):
            if not _is_object(body):
                continue
            meta = body["metadata"]
            ns = meta.get("namespace")
            out.append(
                K8sObject(
                    api_version=body["apiVersion"],
                    kind=body["kind"],
                    name=str(meta["name"]),
                    namespace=str(ns) if ns not in (None, "") else None,
                    body=deep_copy(body),
                    span=Span(path=rel, line=start, end_line=end),
                    source=SourceDoc(doc.data, doc.lines, root),
                )
            )
    return out


def parse_objects(rel: str, text: str) -> list[K8sObject]:
    """The Kubernetes objects of one YAML file (documents that are not objects are skipped);
    raises YamlError. Used by loaders that read manifests outside any environment (Argo CD)."""
    return _objects(rel, load_docs(text))


def load_manifests(ws: Workspace, referenced: set[str]) -> tuple[list[ManifestDir], list[LoadError]]:
    """Every directory of plain manifests (environment or not, sorted by path), and the
    Kubernetes files that failed to parse. Each candidate file is read and parsed once."""
    dirs: dict[str, ManifestDir] = {}
    # A Helm chart is not rendered: say so, so the report does not read as "checked, clean".
    errors: list[LoadError] = [
        LoadError(
            kind="helm.unsupported",
            path=f,
            message="Helm chart not rendered by urr-audit: its templates are not audited",
            level="note",
        )
        for f in ws.files
        if f.rpartition("/")[2] == HELM_CHART_FILE
    ]
    for rel in candidate_files(ws, referenced):
        try:
            text = ws.read_text(rel)
        except (OSError, OutsideRoot):
            continue
        # Cheap refusal of most non-Kubernetes YAML (compose files, CI, docs config, kind's
        # Cluster config) before parsing: an object needs all three.
        if "apiVersion" not in text or "kind" not in text or "metadata" not in text:
            continue
        try:
            docs = load_docs(text)
        except YamlError as exc:
            if _first_doc_is_kubernetes(text, exc.docs):
                errors.append(
                    LoadError(kind="kubernetes.invalid", path=rel, line=exc.line, message=f"invalid YAML: {exc}")
                )
            continue
        objects = _objects(rel, docs)
        if objects:
            d = _dir_of(rel)
            dirs.setdefault(d, ManifestDir(d)).objects.extend(objects)
    return applied_together([dirs[d] for d in sorted(dirs)]), errors


# A directory named like an environment or cluster is applied on its own, never merged with
# its siblings into their parent (`deploy/prod/`, `clusters/eu-staging/`).
ENVIRONMENT_DIR = re.compile(
    r"(?i)^(prod|production|prd|live|staging|stage|stg|dev|develop|development|qa|test|testing|uat|sandbox|"
    r"preprod|pre-prod|perf|demo|local|kind|minikube|k3d|dr)([-_.].*)?$|.*[-_.](prod|production|prd|live|staging|"
    r"stage|stg|dev|development|qa|test|uat|sandbox|preprod|local)$"
)


def _key(o: K8sObject) -> tuple[str, str, str, str]:
    return (o.group, o.kind, o.namespace or "", o.name)


def applied_together(dirs: list[ManifestDir]) -> list[ManifestDir]:
    """Directories of manifests grouped as `kubectl apply -R -f DIR` applies them.

    Components of one application often sit in subdirectories (`manifests/api`,
    `manifests/data`) and are applied together: judged one by one, a NetworkPolicy or a
    Service in one would see no pods in the other. A directory joins its parent's group up to
    the first directory named like an environment (`deploy/prod`), or the highest one below
    the repository root (the root only when it holds manifests itself). A group whose
    directories define the same object twice holds alternatives, not parts: its directories
    stay apart."""
    paths = {d.path for d in dirs}

    def root_of(path: str) -> str:
        cur = path
        while cur != ".":
            if ENVIRONMENT_DIR.match(cur.rsplit("/", 1)[-1]):
                return cur
            parent = _dir_of(cur)
            if parent == "." and "." not in paths:
                return cur
            cur = parent
        return "."

    groups: dict[str, list[ManifestDir]] = {}
    for d in dirs:
        groups.setdefault(root_of(d.path), []).append(d)
    out: list[ManifestDir] = []
    for root, members in groups.items():
        keys = [_key(o) for d in members for o in d.objects]
        if len(members) == 1 or len(keys) != len(set(keys)):
            out += members
        else:
            out.append(ManifestDir(root, [o for d in members for o in d.objects]))
    return sorted(out, key=lambda d: d.path)
