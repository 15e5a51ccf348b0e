"""Kubernetes model: Kustomize overlays and the objects each environment really deploys.

The renderer (loaders/kustomize) produces, per leaf overlay (an *environment*; a directory
of plain manifests outside any Kustomize tree is one too: loaders/kustomize/manifests.py),
the rendered objects as `kustomize build` would, each remembering where it came from: the resource file
and line, the line of every field as written in that file (`source`), and for individual
fields the patch / kustomization entry that last changed them (`field_origins`, keyed by
dotted path such as `spec.replicas` or `spec.template.spec.containers[name=app].image`).

Dotted paths: mapping keys joined by `.` (a key may itself contain dots, e.g.
`metadata.labels.app.kubernetes.io/name`), list items as `[key=value]` (containers, env,
volumes ... by `name`, or their merge key) or `[i]`.

Typed views for rules (workloads, containers, services, PDBs, HPAs, NetworkPolicies, ...)
are built from these objects in `model/k8s_facts.py`; rules use those, not `body`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from urr_audit.model.common import LoadError, Span

Path = tuple[str | int, ...]  # keys and list indices into a plain document

# Cluster-scoped kinds: the built-ins and the common CRD ones (the namespace transformer leaves
# them alone; an AppProject's clusterResourceWhitelist governs them).
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "StorageClass",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleBinding",
        "PriorityClass",
        "APIService",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "CSIDriver",
        "CSINode",
        "VolumeAttachment",
        "RuntimeClass",
        "PodSecurityPolicy",
        "IngressClass",
        "CertificateSigningRequest",
        "FlowSchema",
        "PriorityLevelConfiguration",
        "ComponentStatus",
        "ClusterIssuer",
        "ClusterSecretStore",
    }
)


class SourceDoc:
    """A YAML document as written (plain data) with the line of every key and list item.

    Shared, never mutated: every object rendered from the document (in every environment)
    refers to the same instance. Lines are looked up lazily, by dotted path.
    """

    __slots__ = ("data", "lines", "root")

    def __init__(self, data: Any, lines: dict[Path, int], root: Path = ()):
        self.data = data  # the whole document
        self.lines = lines  # path from the document root -> 1-based line in the file
        self.root = root  # where the object sits in the document (`("items", 3)` in a List)

    def line(self, dotted: str) -> int | None:
        """Line of the field at `dotted` (below `root`), else of its nearest written ancestor;
        None when not even the first segment is written (then the whole object is meant)."""
        node: Any = self.data
        for key in self.root:
            node = node[key]
        found = resolve(node, dotted)
        while found:
            line = self.lines.get(self.root + found)
            if line is not None:
                return line
            found = found[:-1]
        return None


def resolve(node: Any, dotted: str) -> Path:
    """The longest prefix of `dotted` present in `node`, as keys and list indices."""
    out: list[str | int] = []
    rest = dotted
    while rest:
        if rest[0] == "[":
            end = _label_end(rest)
            label, rest = rest[1:end], rest[end + 1 :]
            if not isinstance(node, list):
                break
            idx = _item(node, label)
            if idx is None:
                break
            out.append(idx)
            node = node[idx]
            continue
        if rest[0] == ".":
            rest = rest[1:]
        if not isinstance(node, dict):
            break
        # Keys may contain dots: take the longest key that ends at a segment boundary.
        best: Any = None
        best_len = -1
        for key in node:
            k = str(key)
            if len(k) > best_len and rest.startswith(k) and (len(rest) == len(k) or rest[len(k)] in ".["):
                best, best_len = key, len(k)
        if best is None:
            break
        out.append(best)
        node = node[best]
        rest = rest[best_len:]
    return tuple(out)


def _label_end(rest: str) -> int:
    """Index of the `]` closing the label at the start of `rest` (values may hold `]`)."""
    end = rest.find("]")
    while end != -1 and end + 1 < len(rest) and rest[end + 1] not in ".[":
        end = rest.find("]", end + 1)
    return end if end != -1 else len(rest)


def _item(items: list[Any], label: str) -> int | None:
    key, eq, value = label.partition("=")
    if eq:
        return next(
            (i for i, it in enumerate(items) if isinstance(it, dict) and key in it and str(it[key]) == value), None
        )
    if label.isdigit() and int(label) < len(items):
        return int(label)
    return None


class K8sObject(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    api_version: str
    kind: str
    name: str
    namespace: str | None = None
    body: dict[str, Any]  # the rendered document (plain dicts/lists/scalars)
    span: Span  # the resource document that produced it (file, first and last line)
    field_origins: dict[str, Span] = Field(default_factory=dict)
    environment: str | None = None
    # The document in `span.path` as written, for the line of each field the overlays left alone.
    source: SourceDoc | None = Field(default=None, exclude=True, repr=False)
    # For a generated ConfigMap/Secret: its name before kustomize appended the content hash.
    generated_name: str | None = None
    # The name as written in its manifest when an overlay changed it (prefix, suffix, hash):
    # what a patch file in an overlay names it by.
    original_name: str | None = None

    @property
    def group(self) -> str:
        return self.api_version.split("/", 1)[0] if "/" in self.api_version else ""

    @property
    def address(self) -> str:
        """Stable id, e.g. `prod/apps/v1/Deployment/shop/checkout`.

        A generated ConfigMap/Secret is addressed by its name before the content hash
        (`prod/v1/ConfigMap/shop/app-config`, not `...-4g42b7dd9m`), so findings and
        baselines keep their fingerprint when its data changes."""
        ns = self.namespace or "_"
        return f"{self.environment or '_'}/{self.api_version}/{self.kind}/{ns}/{self.generated_name or self.name}"

    def origin(self, path: str) -> Span:
        """The span a user must edit to change `path`.

        The patch / kustomization entry that last changed `path` or an ancestor of it (the
        longest recorded prefix); else the line of the field in the resource file (or of its
        nearest written ancestor); else the resource document."""
        return field_origin(self.field_origins, self.source, self.span, path)


def field_origin(origins: dict[str, Span], source: SourceDoc | None, span: Span, path: str) -> Span:
    """See `K8sObject.origin` (shared with the renderer, which needs it mid-build)."""
    best, best_len = None, -1
    for key, where in origins.items():
        if (path == key or path.startswith((key + ".", key + "["))) and len(key) > best_len:
            best, best_len = where, len(key)
    if best is not None:
        return best
    line = source.line(path) if source is not None and path else None
    if line is None:
        return span
    return Span(path=span.path, line=line, end_line=line)


class Overlay(BaseModel):
    """A directory with a kustomization file."""

    path: str  # repo-relative directory
    span: Span  # the kustomization file
    resources: list[str] = Field(default_factory=list)  # repo-relative dirs/files it includes
    bases: list[str] = Field(default_factory=list)  # kustomization dirs it builds on
    is_leaf: bool = True  # not used as a base by another kustomization -> an environment
    # its own `images:` entries: the image `name` each one rewrites, and where it is written
    images: list[ImageEntry] = Field(default_factory=list)


class ImageEntry(BaseModel):
    """An entry of a kustomization's `images:` (what `kustomize edit set image` and CI edits
    rewrite): the image name it matches, and its `newName` / `newTag` when written."""

    name: str
    span: Span
    new_name: str | None = None
    new_tag: str | None = None


class Placement(BaseModel):
    """Where an Argo CD Application of this repository deploys an environment: the cluster (its
    server URL, or its name when no registered cluster says which server) and the destination
    namespace, which objects without a namespace of their own land in."""

    application: str  # the Application's address
    name: str  # the Application's name, for messages
    span: Span  # the Application (for a generated one: the ApplicationSet template)
    cluster: str  # `in-cluster`, a server URL, or a cluster name
    namespace: str | None = None


class Neighbour(BaseModel):
    """What another Application of this repository deploys into a cluster an environment is
    deployed to (see `K8sEnvironment.neighbours`)."""

    application: str  # the Application's name
    environment: str | None = None  # the Kubernetes environment it deploys, when it is one
    namespace: str  # where its objects without a namespace land
    objects: list[K8sObject] = Field(default_factory=list, exclude=True, repr=False)


class K8sEnvironment(BaseModel):
    """What one environment deploys: the render of a leaf overlay (`source == "kustomize"`),
    or the objects of a directory of plain manifests applied as they are (`"manifests"`,
    `kubectl apply -f DIR`; no overlay)."""

    name: str  # directory name of the leaf overlay or manifest directory: dev, kind, staging, prod
    path: str
    objects: list[K8sObject] = Field(default_factory=list)
    overlay: Overlay | None = None  # the leaf overlay it is built from (its kustomization file: overlay.span)
    source: Literal["kustomize", "manifests"] = "kustomize"
    # Why the render may lack objects (a remote resource not fetched, a field not rendered).
    # Checks that conclude from absence (`closed_world`) are undecided here.
    incomplete: list[str] = Field(default_factory=list)
    # What did not render (a missing file, invalid YAML, a patch without target): `kustomize build`
    # (and so an Argo CD sync of this overlay) fails on it. Also in `Project.errors`.
    render_errors: list[LoadError] = Field(default_factory=list)
    # Every kustomization directory the render read (the leaf, its bases, components).
    dirs: list[str] = Field(default_factory=list)
    # Where Argo CD Applications of this repository deploy it (empty: no Application does).
    placements: list[Placement] = Field(default_factory=list)
    # What other Applications deploy to the same cluster(s), with the namespace Argo CD gives
    # objects that have none: facts resolve names, selectors and namespace baselines against
    # these too, so a Service or a default-deny policy another Application deploys counts.
    neighbours: list[Neighbour] = Field(default_factory=list)
    # Namespace ("" when unknown: any) -> why what other Applications deploy there is not
    # read (a Helm chart, another repository): a conclusion from absence about that namespace
    # cannot be drawn from what is read.
    neighbours_unread: dict[str, list[str]] = Field(default_factory=dict)

    # typed facts (model/k8s_facts.py), built on first use and kept with the environment
    _facts: Any = PrivateAttr(default=None)

    @property
    def span(self) -> Span:
        """Where environment-wide additions belong: the kustomization file; for plain
        manifests, the first manifest file of the directory (a new file would sit beside it)."""
        if self.overlay is not None:
            return self.overlay.span
        if self.source == "manifests" and self.objects:
            return Span(path=min(o.span.path for o in self.objects), line=1, end_line=1)
        file = "kustomization.yaml" if self.path in ("", ".") else f"{self.path}/kustomization.yaml"
        return Span(path=file, line=1, end_line=1)

    def of_kind(self, *kinds: str) -> list[K8sObject]:
        return [o for o in self.objects if o.kind in kinds]

    @property
    def unread_beside(self) -> list[str]:
        """Why what shares this environment's namespaces in its cluster(s) is not fully read:
        the reasons of `neighbours_unread` for the namespaces its objects use (and for
        Applications whose namespace is unknown)."""
        if not self.neighbours_unread:
            return []
        own = {o.namespace or self.default_namespace for o in self.objects}
        return [r for ns, reasons in sorted(self.neighbours_unread.items()) if ns == "" or ns in own for r in reasons]

    @property
    def default_namespace(self) -> str:
        """The namespace objects without one land in: the destination namespace when every
        Application deploying the environment names the same one, else `default`."""
        names = {p.namespace for p in self.placements}
        only = next(iter(names)) if len(names) == 1 else None
        return only or "default"


class RemoteRef(BaseModel):
    """A resource, base or component a kustomization fetches at build time (never fetched by
    urr-audit)."""

    url: str
    span: Span  # the kustomization entry
    field: str  # resources, bases, components
    kustomization: str  # the directory of the kustomization that lists it


class StrayDoc(BaseModel):
    """A document of a file no kustomization references (see KubernetesProject.unreferenced)."""

    span: Span
    kind: str | None = None  # None: a JSON 6902 patch (a list of operations)
    name: str | None = None
    api_version: str | None = None
    directives: bool = False  # holds strategic-merge directives (`$patch`, `$setElementOrder/...`)
    fields: tuple[str, ...] = ()  # what it sets, two levels deep (`spec.replicas`, `data.LOG_LEVEL`)


def shallow_fields(body: Any) -> tuple[str, ...]:
    """Fields of an object two levels deep, leaving out metadata and status: enough to tell a
    partial patch from a complete copy of an object."""
    out: list[str] = []
    if isinstance(body, dict):
        for key, value in body.items():
            if key in ("apiVersion", "kind", "metadata", "status"):
                continue
            out.append(str(key))
            if isinstance(value, dict):
                out += [f"{key}.{sub}" for sub in value]
    return tuple(sorted(out))


class StrayFile(BaseModel):
    """A YAML/JSON file inside a kustomization's directory that no kustomization references:
    kustomize never reads it, whatever its author meant it to change."""

    path: str
    kustomization: str  # the directory of the nearest kustomization above it
    docs: list[StrayDoc] = Field(default_factory=list)


class KubernetesProject(BaseModel):
    overlays: list[Overlay] = Field(default_factory=list)
    environments: list[K8sEnvironment] = Field(default_factory=list)
    remote_refs: list[RemoteRef] = Field(default_factory=list)
    unreferenced: list[StrayFile] = Field(default_factory=list)

    def inventory(self) -> dict[str, int]:
        """What was read, for the report's summary (the interface every sub-project offers)."""
        manifest_files = {o.span.path for e in self.environments if e.source == "manifests" for o in e.objects}
        return {
            "kustomizations": len(self.overlays),
            "plain manifest files": len(manifest_files),
            "Kubernetes environments": len(self.environments),
            "rendered objects": sum(len(e.objects) for e in self.environments),
        }
