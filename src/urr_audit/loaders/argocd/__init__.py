"""Argo CD loader: Applications, ApplicationSets and AppProjects wherever they are defined.

Where they are found:
- plain YAML files anywhere (a directory of Applications is not a Kubernetes environment, so
  the Kubernetes loader leaves it alone), except hidden directories, Helm charts (templates, not
  YAML) and Terraform modules (templatefile templates);
- the render of every Kustomize environment (an overlay of Applications, patched per cluster);
- what an Application deploys from this repository (an app-of-apps): a directory read as Argo
  CD reads it, or an overlay rendered, repeatedly until nothing new appears.

Each source is tied to this repository (see `RepoMatch`): the repository's own remote URLs
(`.git/config`, plus `repo_urls`), placeholders, or, when no remote is known, a `path` that
exists here. ApplicationSets are expanded where their inputs are in the repository
(loaders/argocd/generators.py). Nothing is fetched, nothing executed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from urr_audit.loaders.argocd import parse
from urr_audit.loaders.argocd.generators import Context, Params, expand
from urr_audit.loaders.argocd.link import PLACEHOLDERS, FileObjects, RepoMatcher, Targets, revision_kind
from urr_audit.loaders.argocd.templates import TemplateError, Unsupported, fasttemplate, gotemplate, render_strings
from urr_audit.loaders.kustomize.build import KUSTOMIZATION_FILES
from urr_audit.loaders.kustomize.manifests import HELM_CHART_FILE
from urr_audit.loaders.kustomize.yamlsrc import YamlError
from urr_audit.model.argocd import (
    Application,
    ApplicationSet,
    AppProject,
    ArgoCDProject,
    Generator,
    Origin,
    Text,
)
from urr_audit.model.common import LoadError, Span
from urr_audit.model.kubernetes import K8sObject, KubernetesProject
from urr_audit.model.project import GitMeta
from urr_audit.workspace import Workspace

__all__ = ["PLACEHOLDERS", "load_argocd"]


@dataclass
class _Found:
    obj: K8sObject
    origin: Origin
    rendered_in: str | None  # environment name or overlay path
    prefix: str  # address prefix: the file, or what rendered it


# cheap refusal of files that cannot hold an Argo CD object or a cluster Secret
_MAY_HOLD = re.compile(
    r"^\s*kind:\s*[\"']?(Application|ApplicationSet|AppProject)\b|argocd\.argoproj\.io/secret-type", re.MULTILINE
)


def _dir_of(rel: str) -> str:
    return rel.rpartition("/")[0] or "."


def _candidate_files(ws: Workspace) -> list[str]:
    """YAML files that may hold Argo CD objects written as they are applied."""
    owners: set[str] = set()
    tf_dirs: set[str] = set()
    for f in ws.files:
        base = f.rpartition("/")[2]
        if base == HELM_CHART_FILE:
            owners.add(_dir_of(f))
        elif base.endswith((".tf", ".tf.json")):
            tf_dirs.add(_dir_of(f))
    owners |= tf_dirs - {"."}
    out = []
    for f in ws.files:
        if not f.endswith((".yaml", ".yml")) or f.rpartition("/")[2] in KUSTOMIZATION_FILES:
            continue
        if any(part.startswith(".") for part in f.split("/")):
            continue
        d = _dir_of(f)
        if d in tf_dirs or any(o == d or d.startswith(o + "/") or o == "." for o in owners):
            continue
        out.append(f)
    return out


class _Loader:
    def __init__(
        self,
        ws: Workspace,
        kubernetes: KubernetesProject,
        git: GitMeta,
        known_errors: list[LoadError],
        repo_urls: Iterable[str],
        placeholders: Iterable[str],
    ):
        self.ws = ws
        self.kubernetes = kubernetes
        self.git = git
        self.files = FileObjects(ws)
        self.targets = Targets(ws, kubernetes.environments, self.files)
        self.matcher = RepoMatcher([*git.remotes.values(), *repo_urls], placeholders)
        self.errors: list[LoadError] = []
        self.known_error_paths = {e.path for e in known_errors if e.level == "error"}
        self.project = ArgoCDProject(repo_urls=sorted(self.matcher.known))
        self.by_object: dict[int, list[Application | ApplicationSet | AppProject]] = {}
        self.pending: list[Application] = []
        self.pending_sets: list[_Found] = []
        self.parents: dict[int, set[str]] = {}  # document -> Applications deploying it
        self.remote_generated: dict[tuple[str, Span], list[tuple[Application, Any]]] = {}
        self.branches = set(git.branches)
        self.tags = set(git.tags)

    # --- discovery -----------------------------------------------------------------------
    def discover(self) -> list[_Found]:
        found: list[_Found] = []
        rendered_paths: set[str] = set()  # a file in a render had its Argo CD objects found there
        for env in self.kubernetes.environments:
            if env.source != "kustomize":
                continue
            for o in env.objects:
                rendered_paths.add(o.span.path)
                if parse.is_argo(o.api_version, o.kind) or self._is_cluster_secret(o):
                    found.append(_Found(o, "rendered", env.name, env.name))
        for rel in _candidate_files(self.ws):
            if rel in rendered_paths:
                continue
            try:
                text = self.ws.read_text(rel)
            except OSError:
                continue
            if not _MAY_HOLD.search(text):
                continue
            got = self.files.get(rel)
            if isinstance(got, YamlError):
                # also when the Kubernetes loader reported the file: this is Argo CD input not read
                if "apiVersion: argoproj.io" in text:
                    self.errors.append(
                        LoadError(kind="argocd.invalid", path=rel, line=got.line, message=f"invalid YAML: {got}")
                    )
                continue
            found += [
                _Found(o, "file", None, rel)
                for o in got
                if parse.is_argo(o.api_version, o.kind) or self._is_cluster_secret(o)
            ]
        return found

    @staticmethod
    def _is_cluster_secret(o: K8sObject) -> bool:
        labels = o.body.get("metadata", {}).get("labels")
        return parse.is_cluster_secret(o.kind, labels if isinstance(labels, dict) else {})

    def add(self, found: list[_Found]) -> None:
        """Model objects for newly found documents (projects and clusters first: generators use them)."""
        fresh = [f for f in found if id(f.obj) not in self.by_object]
        for f in fresh:
            o = f.obj
            if self._is_cluster_secret(o):
                c = parse.cluster_secret(o.body, o.span)
                if c is not None and all(x.server != c.server for x in self.project.clusters):
                    self.project.clusters.append(c)
                self.by_object[id(o)] = []
            elif o.kind == "AppProject":
                p = parse.app_project(
                    o.body, o.origin, o.span, f"{f.prefix}/AppProject/{o.name}", f.origin, f.rendered_in
                )
                self.project.projects.append(p)
                self.by_object[id(o)] = [p]
        for f in fresh:
            o = f.obj
            if id(o) in self.by_object:
                continue
            if not isinstance(o.body.get("spec"), dict):
                self.errors.append(
                    LoadError.at(
                        o.span, "argocd.invalid", f"{o.kind} {o.name} has no `spec` mapping: Argo CD refuses it"
                    )
                )
                self.by_object[id(o)] = []
                continue
            if o.kind == "Application":
                app = parse.application(
                    o.body, o.origin, o.span, f"{f.prefix}/Application/{o.name}", f.origin, f.rendered_in
                )
                self.project.applications.append(app)
                self.pending.append(app)
                self.by_object[id(o)] = [app]
            elif o.kind == "ApplicationSet":
                # expanded once the Applications found so far are linked: a git generator's
                # repoURL is this repository when an Application with that URL matched by path
                self.pending_sets.append(f)
                self.by_object[id(o)] = []

    # --- ApplicationSets -------------------------------------------------------------------
    def application_set(self, o: K8sObject, f: _Found) -> ApplicationSet:
        spec: dict[str, Any] = o.body["spec"]
        address = f"{f.prefix}/ApplicationSet/{o.name}"
        go = spec.get("goTemplate") is True
        options = [str(x) for x in spec.get("goTemplateOptions") or []]
        template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
        tspec = template.get("spec") if isinstance(template.get("spec"), dict) else {}
        located: list[tuple[str, dict[str, Any]]] = []
        if isinstance(tspec.get("source"), dict):
            located.append(("spec.template.spec.source", tspec["source"]))
        for i, src in enumerate(tspec.get("sources") or []):
            if isinstance(src, dict):
                located.append((f"spec.template.spec.sources[{i}]", src))

        def texts(key: str) -> list[Text]:
            return [
                Text(value=str(src[key]), span=o.origin(f"{dotted}.{key}"))
                for dotted, src in located
                if src.get(key) is not None
            ]

        project_raw = tspec.get("project")
        appset = ApplicationSet(
            name=o.name,
            namespace=o.namespace,
            span=o.span,
            address=address,
            origin=f.origin,
            rendered_in=f.rendered_in,
            labels={str(k): str(v) for k, v in (o.body.get("metadata", {}).get("labels") or {}).items()},
            go_template=go,
            go_template_options=options,
            template_span=o.origin("spec.template"),
            template_paths=texts("path"),
            template_repo_urls=texts("repoURL"),
            template_charts=texts("chart"),
            template_project=Text(value=str(project_raw), span=o.origin("spec.template.spec.project"))
            if project_raw is not None
            else None,
        )
        self.project.application_sets.append(appset)
        self.by_object[id(o)] = [appset]
        ctx = Context(
            ws=self.ws,
            go=go,
            options=options,
            is_this_repo=self.matcher.is_this_repo,
            clusters=self.project.clusters,
            dirs=self.targets.dirs,
            files=self.ws.files,
            at=lambda d: o.origin(d),
        )
        results = []
        for i, raw in enumerate(spec.get("generators") or []):
            model, result = expand(ctx, raw, f"spec.generators[{i}]")
            appset.generators.append(model)
            results.append((raw, result))
            if result.error:
                self.errors.append(
                    LoadError.at(
                        model.span,
                        "argocd.applicationset",
                        f"ApplicationSet {o.name}: {result.error}: Argo CD cannot generate its Applications",
                    )
                )
        if not results:
            appset.expansion, appset.reason = "complete", ""
            return appset
        ranks = {"complete": 0, "partial": 1, "unknown": 2}
        worst = max(results, key=lambda r: ranks[r[1].expansion])[1]
        appset.expansion, appset.reason = worst.expansion, worst.reason
        if appset.expansion == "unknown":
            self.note_unexpanded(appset)
            return appset
        patch = spec.get("templatePatch")
        names: dict[str, int] = {}
        for raw, result in results:
            gen_template = (
                raw.get("template") if isinstance(raw, dict) and isinstance(raw.get("template"), dict) else {}
            )
            for params in result.sets:
                try:
                    app = self.generate(o, appset, _deep_merge(template, gen_template), patch, params, go, options)
                except Unsupported as exc:
                    appset.applications.clear()
                    appset.expansion, appset.reason = "unknown", str(exc)
                    self.note_unexpanded(appset)
                    return appset
                except TemplateError as exc:
                    appset.applications.clear()
                    appset.expansion, appset.reason = "unknown", f"template error: {exc}"
                    self.errors.append(
                        LoadError.at(
                            appset.template_span,
                            "argocd.applicationset",
                            f"ApplicationSet {o.name}: template error: {exc}: Argo CD cannot generate its Applications",
                        )
                    )
                    return appset
                if app.name in names:
                    continue  # the same parameters twice (a list repeated): one Application
                names[app.name] = 1
                appset.applications.append(app)
        if appset.expansion == "partial":
            self.note_unexpanded(appset)
        for app in appset.applications:
            self.project.applications.append(app)
            self.pending.append(app)
        return appset

    def generate(
        self,
        o: K8sObject,
        appset: ApplicationSet,
        template: dict[str, Any],
        patch: Any,
        params: Params,
        go: bool,
        options: list[str],
    ) -> Application:
        def render(s: str) -> str:
            return gotemplate(s, params, options) if go else fasttemplate(s, params)

        body = render_strings(template, render)
        if go and isinstance(patch, str) and patch.strip():
            from urr_audit.loaders.kustomize.yamlsrc import load_docs

            try:
                docs = load_docs(render(patch))
            except YamlError as exc:
                raise TemplateError(f"templatePatch is not valid YAML once rendered: {exc}") from exc
            if docs and isinstance(docs[0].data, dict):
                body = _deep_merge(body, docs[0].data)
        body = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", **body}
        name = str(body.get("metadata", {}).get("name") or "")

        def at(dotted: str) -> Span:
            return o.origin(f"spec.template.{dotted}")

        return parse.application(
            body, at, appset.template_span, f"{appset.address}/{name}", "generated", appset.rendered_in, appset.address
        )

    def note_unexpanded(self, appset: ApplicationSet) -> None:
        what = "only partly known" if appset.expansion == "partial" else "not known"
        self.errors.append(
            LoadError.at(
                _first_open(appset.generators) or appset.template_span,
                "argocd.unexpanded",
                f"ApplicationSet {appset.name}: the Applications it generates are {what} ({appset.reason})",
                level="note",
                address=appset.address,
            )
        )

    # --- links ---------------------------------------------------------------------------
    def link_sources(self, apps: list[Application]) -> None:
        undecided = []
        for app in apps:
            for src in app.sources:
                url = src.repo_url.value if src.repo_url else ""
                src.revision = revision_kind(
                    src.target_revision.value if src.target_revision else None,
                    src.is_chart,
                    self.branches,
                    self.tags,
                )
                exists = False
                if src.path is not None and not src.is_chart:
                    src.local = self.targets.resolve(src)
                    exists = src.local.exists
                match = self.matcher.first(url, src.is_chart, exists)
                if match is None:
                    undecided.append(src)
                else:
                    src.repo_match = match
        for src in undecided:
            src.repo_match = self.matcher.second(src.repo_url.value if src.repo_url else "")
        for app in apps:
            refs = {s.ref.value: s for s in app.sources if s.ref is not None}
            for src in app.sources:
                if src.local is not None and src.in_this_repo:
                    src.target = src.local
                    if src.target.errors:
                        for e in src.target.errors:
                            if e.path not in self.known_error_paths:
                                self.known_error_paths.add(e.path)
                                self.errors.append(e)
                elif src.deploys and not src.in_this_repo and src.repo_url is not None:
                    self.note_remote(app, src)
                self.value_files(src, refs)
            if app.environment is None:
                app.environment = next((t.environment for t in app.targets if t.environment), None)

    def note_remote(self, app: Application, src: Any) -> None:
        if app.generated_by is not None:
            # one note per template line for what an ApplicationSet generates
            self.remote_generated.setdefault((app.generated_by, src.repo_url.span), []).append((app, src))
            return
        url = src.repo_url.value
        what = f"chart {src.chart.value}" if src.chart else f"path {src.path.value}" if src.path else "its root"
        why = (
            "a Helm chart repository"
            if src.chart
            else "another repository"
            if src.repo_match == "other"
            else "not known to be this repository (no remote in .git/config and the path is not here)"
        )
        self.errors.append(
            LoadError.at(
                src.repo_url.span,
                "argocd.remote",
                f"Application {app.name} deploys {what} from {url} ({why}): not fetched, not audited",
                level="note",
                address=app.address,
            )
        )

    def value_files(self, src: Any, refs: dict[str, Any]) -> None:
        """Resolve `helm.valueFiles` in this repository: relative to the chart path, or `$ref/...`."""
        if src.helm is None:
            return
        for vf in src.helm.value_files:
            entry = vf.entry.value
            if entry.startswith("$"):
                name, _, rest = entry[1:].partition("/")
                ref = refs.get(name)
                if ref is None or not ref.in_this_repo:
                    continue
                base = "."
            elif "://" in entry:
                continue
            elif src.in_this_repo and src.path is not None and not src.is_chart:
                base, rest = src.target.path if src.target else src.path.value, entry
            else:
                continue
            try:
                rel = self.ws.join(base if base != "." else "", rest)
            except Exception:  # noqa: BLE001 -- OutsideRoot: leaves the repository, as missing
                vf.path, vf.exists = rest, False
                continue
            vf.path, vf.exists = rel, self.ws.is_file(rel)

    # --- app of apps -----------------------------------------------------------------------
    def children(self, app: Application) -> list[_Found]:
        """Argo CD objects in what `app` deploys, found or not yet."""
        out = []
        for t in app.targets:
            for o in t.objects:
                if not (parse.is_argo(o.api_version, o.kind) or self._is_cluster_secret(o)):
                    continue
                if t.kind == "kustomize":
                    where = t.environment or t.path
                    out.append(_Found(o, "rendered", where, where))
                else:
                    out.append(_Found(o, "file", None, o.span.path))
        return out

    def run(self) -> tuple[ArgoCDProject, list[LoadError]]:
        self.add(self.discover())
        rounds = 0
        while (self.pending or self.pending_sets) and rounds < 50:
            rounds += 1
            batch, self.pending = self.pending, []
            self.link_sources(batch)
            sets, self.pending_sets = self.pending_sets, []
            for f in sets:
                self.application_set(f.obj, f)
            for app in batch:
                found = self.children(app)
                self.add(found)
                for f in found:
                    # by document: an ApplicationSet found here is modelled in a later round
                    self.parents.setdefault(id(f.obj), set()).add(app.address)
        for key, models in self.by_object.items():
            for m in models:
                m.parents = sorted(self.parents.get(key, ()))
        p = self.project
        for (appset_address, span), items in self.remote_generated.items():
            appset_name = appset_address.rsplit("/", 1)[-1]
            urls = sorted({s.repo_url.value for _, s in items})
            charts = sorted({s.chart.value for _, s in items if s.chart})
            names = sorted(a.name for a, _ in items)
            what = f"charts {', '.join(charts[:5])}" if charts else "paths"
            self.errors.append(
                LoadError.at(
                    span,
                    "argocd.remote",
                    f"ApplicationSet {appset_name}: {len(names)} generated Applications ({', '.join(names[:3])}"
                    f"{' ...' if len(names) > 3 else ''}) deploy {what} from {', '.join(urls[:3])}"
                    f"{' ...' if len(urls) > 3 else ''}: not fetched, not audited",
                    level="note",
                    address=appset_address,
                )
            )
        for appset in p.application_sets:
            for g in appset.applications:
                g.parents = sorted(set(g.parents) | set(appset.parents))
        p.applications.sort(key=lambda a: (a.span.path, a.span.line, a.address))
        p.application_sets.sort(key=lambda a: (a.span.path, a.span.line, a.address))
        p.projects.sort(key=lambda a: (a.span.path, a.span.line, a.address))
        return p, self.errors


def _first_open(generators: list[Generator]) -> Span | None:
    """Where the first generator whose parameters are not all known is written (innermost)."""
    for g in generators:
        if g.expansion != "complete":
            return _first_open(g.children) or g.span
    return None


def _deep_merge(a: Any, b: Any) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = _deep_merge(a.get(k), v) if k in a else v
        return out
    return b if b not in (None, {}, [], "") else a


def load_argocd(
    ws: Workspace,
    kubernetes: KubernetesProject,
    git: GitMeta,
    known_errors: list[LoadError] = (),  # type: ignore[assignment]
    *,
    repo_urls: Iterable[str] = (),
    placeholders: Iterable[str] = PLACEHOLDERS,
) -> tuple[ArgoCDProject, list[LoadError]]:
    """`repo_urls`: URLs of this repository besides the remotes in .git/config; `placeholders`:
    regexes recognising a repoURL that stands for this repository once filled in."""
    return _Loader(ws, kubernetes, git, list(known_errors), repo_urls, placeholders).run()
