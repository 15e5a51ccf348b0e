"""Argo CD model: Applications, ApplicationSets and AppProjects, and what each deploys here.

The loader (loaders/argocd) finds these objects anywhere in the repository: plain YAML files,
the render of Kustomize overlays, and directories or overlays another Application deploys (an
app-of-apps). ApplicationSets are expanded statically where their generators' inputs are in
the repository; the generated Applications are ordinary `Application`s with
`generated_by` set, their fields located at the template lines that produced them.

Each source of an Application says how it was tied to this repository (`repo_match`) and, when
it was, what it deploys (`target`: the overlay or directory, its rendered objects, the render
errors). Rules read these typed fields; they never see the raw documents.

Addresses are stable: `<origin>/Application/<name>` where the origin is the file (plain YAML),
the Kubernetes environment or overlay that rendered it, or the ApplicationSet that generated it.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.model.common import LoadError, Span
from urr_audit.model.kubernetes import K8sObject

IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
IN_CLUSTER_NAME = "in-cluster"


class Text(BaseModel):
    """A scalar as written, and where."""

    model_config = ConfigDict(frozen=True)

    value: str
    span: Span

    def __str__(self) -> str:
        return self.value


# How a source's repoURL was tied to this repository:
# - remote: it is one of the repository's remote URLs (.git/config) or of the URLs given as this repository
# - path: no remote is known; its `path` exists here (the only evidence: a path match)
# - same-url: no remote is known; another Application with the same repoURL matched by path
# - placeholder: the URL is a placeholder (YOUR_ORG, CHANGE_ME, example.com...); its path exists here
# - other: another repository (the remotes are known and differ) or a Helm chart repository
# - unknown: no remote is known and nothing ties the URL to this repository
RepoMatch = Literal["remote", "path", "same-url", "placeholder", "other", "unknown"]
THIS_REPO: frozenset[str] = frozenset({"remote", "path", "same-url", "placeholder"})

# What `targetRevision` names: HEAD (or nothing), a branch, a tag, a commit; for a Helm chart a
# version or a version range (`1.x`, `^1.2`, `*`). `branch` without .git refs is inferred from the name.
RevisionKind = Literal["head", "branch", "tag", "commit", "version", "version-range"]

# What a source deploys from this repository, as Argo CD detects the tool:
# kustomize (a kustomization file), helm (a Chart.yaml or a `helm` block), directory (plain
# manifests), plugin (a config management plugin: not rendered); missing (no such directory),
# outside-root (the path leaves the repository).
TargetKind = Literal["kustomize", "helm", "directory", "plugin", "missing", "outside-root"]


class ValueFile(BaseModel):
    """A Helm `valueFiles` entry resolved in this repository (`$ref/...` through a `ref` source)."""

    entry: Text
    path: str | None = None  # repo-relative file; None when it is not in this repository (a URL, another repo)
    exists: bool | None = None  # None when not in this repository


class SyncHook(BaseModel):
    """An object of a deployed directory with Argo CD sync annotations: a hook (PreSync, Sync,
    PostSync, SyncFail...) or an object placed in a sync wave."""

    kind: str
    name: str
    span: Span
    hook: str | None = None  # argocd.argoproj.io/hook (or helm.sh/hook, which Argo CD maps)
    delete_policy: str | None = None  # argocd.argoproj.io/hook-delete-policy
    wave: int | None = None  # argocd.argoproj.io/sync-wave


class Target(BaseModel):
    """The directory a source deploys from this repository and what is in it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kind: TargetKind
    path: str  # repo-relative directory as resolved ("." for the root)
    # the Kubernetes environment (leaf overlay or manifest directory) built from this directory
    environment: str | None = None
    overlay: str | None = None  # the kustomization directory (kind kustomize)
    namespace: Text | None = None  # the overlay's own `namespace:` (what every namespaced object gets)
    files: list[str] = Field(default_factory=list)  # kind directory: the manifest files Argo CD reads
    objects: list[K8sObject] = Field(default_factory=list, repr=False)  # what it deploys, as rendered
    # input that did not render (a missing file, invalid YAML): Argo CD's sync fails the same way
    errors: list[LoadError] = Field(default_factory=list)
    # input not read (remote bases, a Helm chart's templates, a plugin): the objects may be more
    incomplete: list[str] = Field(default_factory=list)
    hooks: list[SyncHook] = Field(default_factory=list)  # objects with sync hook / wave annotations
    near: str | None = None  # kind missing: the existing directory whose path is closest
    chart_name: str | None = None  # kind helm: Chart.yaml `name`
    chart_dependencies: list[str] = Field(default_factory=list)  # and its `dependencies[].name`

    @property
    def exists(self) -> bool:
        return self.kind not in ("missing", "outside-root")


class KustomizeOptions(BaseModel):
    """`source.kustomize`: what Argo CD changes on top of the overlay."""

    span: Span
    images: list[Text] = Field(default_factory=list)
    name_prefix: Text | None = None
    name_suffix: Text | None = None
    namespace: Text | None = None
    patches: list[Span] = Field(default_factory=list)
    components: list[Text] = Field(default_factory=list)
    common_labels: dict[str, str] = Field(default_factory=dict)


class HelmParameter(BaseModel):
    name: str
    value: str
    span: Span


class HelmOptions(BaseModel):
    """`source.helm`."""

    span: Span
    value_files: list[ValueFile] = Field(default_factory=list)
    values: Text | None = None  # the `values` string
    values_object: Span | None = None  # where `valuesObject` is written
    parameters: list[HelmParameter] = Field(default_factory=list)
    release_name: Text | None = None
    ignore_missing_value_files: bool = False
    skip_crds: bool = False


class DirectoryOptions(BaseModel):
    """`source.directory`."""

    span: Span
    recurse: bool = False
    include: Text | None = None
    exclude: Text | None = None
    jsonnet: bool = False


class Source(BaseModel):
    span: Span
    index: int | None = None  # position in `sources`; None for `source`
    repo_url: Text | None = None
    path: Text | None = None
    chart: Text | None = None
    target_revision: Text | None = None
    ref: Text | None = None
    name: Text | None = None
    kustomize: KustomizeOptions | None = None
    helm: HelmOptions | None = None
    directory: DirectoryOptions | None = None
    plugin: Span | None = None
    repo_match: RepoMatch = "unknown"
    revision: RevisionKind = "head"
    target: Target | None = None  # set when the source deploys a directory of this repository
    # `path` resolved in this repository whatever the repoURL (None for a chart or no path): what
    # `target` would be if the URL were this repository's (a rule given more URLs uses it)
    local: Target | None = Field(default=None, repr=False)

    @property
    def is_chart(self) -> bool:
        return self.chart is not None

    @property
    def in_this_repo(self) -> bool:
        return self.repo_match in THIS_REPO

    @property
    def deploys(self) -> bool:
        """False for a multi-source entry that only provides files (`ref` without path or chart)."""
        return self.chart is not None or self.path is not None or self.ref is None

    @property
    def revision_label(self) -> str:
        value = self.target_revision.value if self.target_revision else ""
        return f"{self.revision} {value}".strip() if value else "HEAD"


class Destination(BaseModel):
    span: Span | None = None
    server: Text | None = None
    name: Text | None = None
    namespace: Text | None = None

    @property
    def cluster(self) -> str | None:
        """The cluster as one comparable string (`in-cluster` and its server URL are the same)."""
        if self.server is not None:
            s = self.server.value.rstrip("/")
            return IN_CLUSTER_NAME if s == IN_CLUSTER_SERVER else s
        if self.name is not None:
            return self.name.value
        return None

    @property
    def label(self) -> str:
        ns = self.namespace.value if self.namespace else "-"
        return f"{self.cluster or '?'}/{ns}"


class SyncPolicy(BaseModel):
    span: Span | None = None  # the syncPolicy block; None when absent
    automated: bool = False
    automated_span: Span | None = None
    prune: bool = False
    self_heal: bool = False
    allow_empty: bool = False
    sync_options: list[Text] = Field(default_factory=list)

    def option(self, name: str) -> Text | None:
        """The `Name=value` entry of syncOptions for `name`, if written."""
        return next((o for o in self.sync_options if o.value.split("=", 1)[0] == name), None)

    @property
    def label(self) -> str:
        if not self.automated:
            return "manual sync"
        flags = [n for n, on in (("prune", self.prune), ("selfHeal", self.self_heal)) if on]
        return "automated sync" + (f" ({', '.join(flags)})" if flags else " (no prune, no selfHeal)")


class IgnoreDifference(BaseModel):
    span: Span
    group: str = ""
    kind: str = ""
    name: str | None = None
    namespace: str | None = None
    json_pointers: list[str] = Field(default_factory=list)
    jq_path_expressions: list[str] = Field(default_factory=list)
    managed_fields_managers: list[str] = Field(default_factory=list)


Origin = Literal["file", "rendered", "generated"]


class _ArgoObject(BaseModel):
    name: str
    namespace: str | None = None
    span: Span  # the document (or, for a generated Application, the ApplicationSet's template)
    address: str
    origin: Origin = "file"
    # the Kubernetes environment or overlay whose render holds it (origin rendered)
    rendered_in: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    # addresses of the Applications deploying the directory or overlay that defines it (app-of-apps)
    parents: list[str] = Field(default_factory=list)


class Application(_ArgoObject):
    kind: Literal["Application"] = "Application"
    name_span: Span
    project: Text | None = None
    sources: list[Source] = Field(default_factory=list)
    multi_source: bool = False
    destination: Destination = Field(default_factory=Destination)
    sync_policy: SyncPolicy = Field(default_factory=SyncPolicy)
    sync_wave: Text | None = None  # argocd.argoproj.io/sync-wave
    ignore_differences: list[IgnoreDifference] = Field(default_factory=list)
    generated_by: str | None = None  # address of the ApplicationSet
    # the Kubernetes environment this Application deploys (its first linked source's), e.g. `prod`
    environment: str | None = None

    @property
    def project_name(self) -> str:
        return self.project.value if self.project and self.project.value else "default"

    @property
    def targets(self) -> list[Target]:
        return [s.target for s in self.sources if s.target is not None]

    @property
    def deploying_sources(self) -> list[Source]:
        return [s for s in self.sources if s.deploys]


GeneratorKind = Literal["list", "git-directories", "git-files", "clusters", "matrix", "merge", "other"]
Expansion = Literal["complete", "partial", "unknown"]


class Generator(BaseModel):
    kind: GeneratorKind
    name: str  # the key as written (`list`, `git`, `clusters`, `scmProvider`...)
    span: Span
    children: list[Generator] = Field(default_factory=list)
    expansion: Expansion = "unknown"
    reason: str = ""  # why the parameters it yields are unknown or only partly known
    parameter_sets: int = 0  # how many it yielded (known ones)


class ApplicationSet(_ArgoObject):
    kind: Literal["ApplicationSet"] = "ApplicationSet"
    go_template: bool = False
    go_template_options: list[str] = Field(default_factory=list)
    generators: list[Generator] = Field(default_factory=list)
    template_span: Span
    # the template's source `path`s and `repoURL`s as written (may hold `{{...}}`)
    template_paths: list[Text] = Field(default_factory=list)
    template_repo_urls: list[Text] = Field(default_factory=list)
    template_charts: list[Text] = Field(default_factory=list)
    template_project: Text | None = None
    applications: list[Application] = Field(default_factory=list)
    # complete: every Application it generates is in `applications`; partial: these and maybe
    # others (clusters registered outside the repository); unknown: none could be generated
    expansion: Expansion = "unknown"
    reason: str = ""

    def could_deploy(self, path: str) -> bool:
        """Whether an Application it generates but urr-audit does not know could deploy `path`:
        some template path, with each `{{...}}` standing for anything, matches it."""
        if self.expansion == "complete":
            return False
        for t in self.template_paths:
            parts = re.split(r"\{\{.*?\}\}", t.value.strip().strip("/"))
            pattern = ".*".join(re.escape(p) for p in parts)
            if re.fullmatch(pattern, path.strip("/")):
                return True
        return False


class ProjectDestination(BaseModel):
    span: Span
    server: str | None = None
    name: str | None = None
    namespace: str | None = None


class GroupKind(BaseModel):
    span: Span
    group: str = ""
    kind: str = ""


class AppProject(_ArgoObject):
    kind: Literal["AppProject"] = "AppProject"
    spec_span: Span
    source_repos: list[Text] = Field(default_factory=list)
    destinations: list[ProjectDestination] = Field(default_factory=list)
    cluster_resource_whitelist: list[GroupKind] = Field(default_factory=list)
    cluster_resource_blacklist: list[GroupKind] = Field(default_factory=list)
    namespace_resource_whitelist: list[GroupKind] = Field(default_factory=list)
    namespace_resource_blacklist: list[GroupKind] = Field(default_factory=list)
    source_namespaces: list[Text] = Field(default_factory=list)


class ClusterSecret(BaseModel):
    """A cluster registered declaratively: a Secret labelled argocd.argoproj.io/secret-type: cluster."""

    name: str
    server: str
    span: Span
    project: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class ArgoCDProject(BaseModel):
    applications: list[Application] = Field(default_factory=list)  # generated ones included
    application_sets: list[ApplicationSet] = Field(default_factory=list)
    projects: list[AppProject] = Field(default_factory=list)
    clusters: list[ClusterSecret] = Field(default_factory=list)
    # normalized URLs taken as this repository (its remotes and the ones given)
    repo_urls: list[str] = Field(default_factory=list)

    def inventory(self) -> dict[str, int]:
        generated = sum(1 for a in self.applications if a.generated_by)
        return {
            "applications": len(self.applications) - generated,
            "application sets": len(self.application_sets),
            "generated applications": generated,
            "app projects": len(self.projects),
        }

    @property
    def used(self) -> bool:
        """Whether the repository uses Argo CD at all."""
        return bool(self.applications or self.application_sets)

    def project(self, name: str) -> list[AppProject]:
        return [p for p in self.projects if p.name == name]


def crd_defines(obj: K8sObject) -> tuple[str, str] | None:
    """(group, kind) a CustomResourceDefinition object defines; None for any other object."""
    if obj.kind != "CustomResourceDefinition":
        return None
    spec = obj.body.get("spec")
    if not isinstance(spec, dict):
        return None
    names = spec.get("names")
    kind = names.get("kind") if isinstance(names, dict) else None
    group = spec.get("group")
    return (group, kind) if isinstance(group, str) and isinstance(kind, str) else None
