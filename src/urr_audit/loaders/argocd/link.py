"""Tying Argo CD sources to this repository: is the repoURL this repository, what does the
revision name, and which directory (overlay, plain manifests, Helm chart) does the path deploy."""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Iterable

from urr_audit.loaders.gitmeta import normalize_repo_url
from urr_audit.loaders.kustomize.build import KUSTOMIZATION_FILES, Kustomization, Renderer
from urr_audit.loaders.kustomize.manifests import HELM_CHART_FILE, parse_objects
from urr_audit.loaders.kustomize.project import to_objects
from urr_audit.loaders.kustomize.yamlsrc import YamlError, load_docs
from urr_audit.model.argocd import RepoMatch, RevisionKind, Source, SyncHook, Target, Text
from urr_audit.model.common import LoadError
from urr_audit.model.kubernetes import K8sEnvironment, K8sObject
from urr_audit.workspace import OutsideRoot, Workspace

# Placeholders written in templates and tutorials instead of a real repository (regexes searched
# in the URL). The same list is a param of URR-ARGO-001.
PLACEHOLDERS: tuple[str, ...] = (
    r"(?i)your[-_]?(org|organi[sz]ation|user(name)?|name|account|company|team|repo(sitory)?|project|github|gitlab)",
    r"(?i)change[-_]?me",
    r"(?i)replace[-_]?me",
    r"(?i)<[^>/]+>",
    r"\$\{[^}]*\}",
    r"(?i)(^|[/.@])example\.(com|org|net)([/:]|$)",
    r"(?i)(^|/)(my|some)[-_]?(org|company|user)(/|$)",
    r"(?i)\btodo\b",
)

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
JSONNET_SUFFIXES = (".jsonnet", ".libsonnet")


def is_placeholder(url: str, patterns: Iterable[str]) -> bool:
    return any(re.search(p, url) for p in patterns)


def _norm(url: str) -> str:
    # Forges treat owner and repository names case-insensitively (and Argo CD lower-cases URLs)
    return normalize_repo_url(url).lower()


class RepoMatcher:
    """Decides whether a repoURL is this repository (see `RepoMatch` in model/argocd.py)."""

    def __init__(self, urls: Iterable[str], placeholders: Iterable[str]):
        self.known = {_norm(u) for u in urls if u.strip()}
        self.placeholders = tuple(placeholders)
        self.linked_by_path: set[str] = set()  # URLs (normalized) seen with a path that exists here

    def first(self, url: str, is_chart: bool, path_exists: bool) -> RepoMatch | None:
        """The match from this source alone; None when only other sources can tell (same-url)."""
        if is_chart or url.startswith("oci://"):
            return "other"
        if is_placeholder(url, self.placeholders):
            return "placeholder"
        norm = _norm(url)
        if norm in self.known:
            return "remote"
        if self.known:
            return "other"
        if path_exists:
            self.linked_by_path.add(norm)
            return "path"
        return None

    def second(self, url: str) -> RepoMatch:
        return "same-url" if _norm(url) in self.linked_by_path else "unknown"

    def is_this_repo(self, url: str) -> bool | None:
        """For a git generator: True, False, or None when nothing says either way."""
        if is_placeholder(url, self.placeholders):
            return True
        norm = _norm(url)
        if norm in self.known or norm in self.linked_by_path:
            return True
        return False if self.known else None


_SHA = re.compile(r"^[0-9a-f]{7,40}$")
_VERSION = re.compile(r"^v?\d+(\.\d+){1,3}([-+][0-9A-Za-z.+-]+)?$")
_RANGE = re.compile(r"[*^~<>=|,\s]|(^|\.)[xX](\.|$)")


def revision_kind(value: str | None, is_chart: bool, branches: set[str], tags: set[str]) -> RevisionKind:
    v = (value or "").strip()
    if is_chart:
        if v in ("", "*") or _RANGE.search(v):
            return "version-range"
        return "version"
    if v in ("", "HEAD"):
        return "head"
    if v in tags or v.startswith("refs/tags/"):
        return "tag"
    if v in branches or v.startswith("refs/heads/"):
        return "branch"
    if _SHA.match(v) and (len(v) == 40 or any(c.isdigit() for c in v)):
        return "commit"
    if _VERSION.match(v):
        return "tag"
    if _RANGE.search(v) and any(c.isdigit() for c in v):
        return "version-range"  # a semver constraint over the repository's tags
    return "branch"


def _expand_braces(pattern: str) -> list[str]:
    m = re.search(r"\{([^{}]*)\}", pattern)
    if not m:
        return [pattern]
    out = []
    for alt in m.group(1).split(","):
        out += _expand_braces(pattern[: m.start()] + alt + pattern[m.end() :])
    return out


def glob_match(pattern: str, path: str) -> bool:
    """Argo CD's directory include/exclude: `*` crosses `/`, `{a,b}` alternatives."""
    return any(fnmatch.fnmatchcase(path, p) for p in _expand_braces(pattern))


class FileObjects:
    """Kubernetes objects of single YAML/JSON files, parsed once."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self._cache: dict[str, list[K8sObject] | YamlError] = {}

    def get(self, rel: str) -> list[K8sObject] | YamlError:
        hit = self._cache.get(rel)
        if hit is None:
            try:
                hit = parse_objects(rel, self.ws.read_text(rel))
            except YamlError as exc:
                hit = exc
            except (OSError, OutsideRoot) as exc:
                hit = YamlError(f"cannot read file: {exc}", 1)
            self._cache[rel] = hit
        return hit


def repo_path(path: str) -> str:
    """An Argo CD source path as a repo-relative path (leading `/` and `./` dropped)."""
    p = path.strip().lstrip("/")
    while p.startswith("./"):
        p = p[2:]
    return p.rstrip("/") or "."


HOOK = "argocd.argoproj.io/hook"
HELM_HOOK = "helm.sh/hook"
HOOK_DELETE = "argocd.argoproj.io/hook-delete-policy"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"


def sync_hooks(objects: list[K8sObject]) -> list[SyncHook]:
    out = []
    for o in objects:
        meta = o.body.get("metadata")
        notes = meta.get("annotations") if isinstance(meta, dict) else None
        if not isinstance(notes, dict) or not ({HOOK, HELM_HOOK, SYNC_WAVE} & set(notes)):
            continue
        wave = str(notes.get(SYNC_WAVE, "")).strip()
        out.append(
            SyncHook(
                kind=o.kind,
                name=o.name,
                span=o.span,
                hook=str(notes.get(HOOK) or notes.get(HELM_HOOK) or "") or None,
                delete_policy=str(notes.get(HOOK_DELETE) or "") or None,
                wave=int(wave) if re.fullmatch(r"-?\d+", wave) else None,
            )
        )
    return out


class Targets:
    """Resolves what a source deploys from this repository; memoised by directory and options."""

    def __init__(self, ws: Workspace, environments: list[K8sEnvironment], files: FileObjects):
        self.ws = ws
        self.env_by_path = {e.path: e for e in environments}
        self.files = files
        self._renderer: Renderer | None = None
        self._cache: dict[tuple, Target] = {}
        self._dirs: list[str] | None = None

    @property
    def dirs(self) -> list[str]:
        """Every directory holding a file (hidden ones left out)."""
        if self._dirs is None:
            seen: set[str] = set()
            for f in self.ws.files:
                parts = f.split("/")[:-1]
                for i in range(1, len(parts) + 1):
                    if parts[i - 1].startswith("."):
                        break
                    seen.add("/".join(parts[:i]))
            self._dirs = sorted(seen)
        return self._dirs

    def resolve(self, src: Source) -> Target:
        t = self._resolve_cached(src)
        if t.objects and not t.hooks:
            t.hooks = sync_hooks(t.objects)
        return t

    def _resolve_cached(self, src: Source) -> Target:
        assert src.path is not None
        raw = src.path.value
        rel_guess = repo_path(raw)
        d = src.directory
        key = (
            rel_guess,
            src.plugin is not None,
            src.helm is not None,
            d.recurse if d else False,
            d.include.value if d and d.include else None,
            d.exclude.value if d and d.exclude else None,
        )
        if key not in self._cache:
            self._cache[key] = self._resolve(src, rel_guess)
        return self._cache[key]

    def _resolve(self, src: Source, rel_guess: str) -> Target:
        try:
            rel = self.ws.join(".", rel_guess) if rel_guess != "." else "."
        except OutsideRoot:
            return Target(kind="outside-root", path=rel_guess)
        if self.ws.escapes(rel):
            return Target(kind="outside-root", path=rel)
        if not self.ws.is_dir(rel):
            near = difflib.get_close_matches(rel, self.dirs, n=1, cutoff=0.8)
            return Target(kind="missing", path=rel, near=near[0] if near else None)
        prefix = "" if rel == "." else rel + "/"
        if src.plugin is not None:
            return Target(
                kind="plugin",
                path=rel,
                incomplete=[f"config management plugin: what it renders from {rel} is not audited"],
            )
        if src.helm is not None or self.ws.is_file(prefix + HELM_CHART_FILE):
            return self._helm(rel, prefix)
        if any(self.ws.is_file(prefix + n) for n in KUSTOMIZATION_FILES):
            return self._kustomize(rel)
        return self._directory(src, rel, prefix)

    def _helm(self, rel: str, prefix: str) -> Target:
        name, deps = None, []
        try:
            docs = load_docs(self.ws.read_text(prefix + HELM_CHART_FILE))
            chart = docs[0].data if docs and isinstance(docs[0].data, dict) else {}
            name = str(chart.get("name")) if chart.get("name") else None
            deps = [
                str(d.get("name")) for d in chart.get("dependencies") or [] if isinstance(d, dict) and d.get("name")
            ]
        except (OSError, OutsideRoot, YamlError):
            pass
        return Target(
            kind="helm",
            path=rel,
            chart_name=name,
            chart_dependencies=deps,
            incomplete=[f"Helm chart {rel} is not rendered: what its templates deploy is not audited"],
        )

    @property
    def renderer(self) -> Renderer:
        if self._renderer is None:
            self._renderer = Renderer(self.ws)
        return self._renderer

    def _namespace(self, rel: str) -> Text | None:
        k = self.renderer.kustomization(rel)
        if not isinstance(k, Kustomization):
            return None
        ns = k.data.get("namespace")
        return Text(value=str(ns), span=k.span("namespace")) if isinstance(ns, str) and ns else None

    def _kustomize(self, rel: str) -> Target:
        env = self.env_by_path.get(rel)
        if env is not None and env.source == "kustomize":
            return Target(
                kind="kustomize",
                path=rel,
                environment=env.name,
                overlay=rel,
                namespace=self._namespace(rel),
                objects=env.objects,
                errors=env.render_errors,
                incomplete=env.incomplete,
            )
        # An overlay other overlays also build on (not an environment of its own): render it here.
        try:
            built = self.renderer.build(rel)
        except RecursionError:
            return Target(kind="kustomize", path=rel, overlay=rel, incomplete=["nesting too deep to render"])
        return Target(
            kind="kustomize",
            path=rel,
            overlay=rel,
            namespace=self._namespace(rel),
            objects=to_objects(built.resources, None),
            errors=[e for e in built.errors if e.level == "error"],
            incomplete=[f"{e.path}:{e.line}: {e.message}" for e in built.errors if e.level == "note"],
        )

    def _directory(self, src: Source, rel: str, prefix: str) -> Target:
        d = src.directory
        recurse = bool(d and d.recurse)
        files, jsonnet = [], []
        for f in self.ws.files:
            if prefix and not f.startswith(prefix):
                continue
            below = f[len(prefix) :]
            if any(part.startswith(".") for part in below.split("/")) or (not recurse and "/" in below):
                continue
            if d and d.exclude and glob_match(d.exclude.value, below):
                continue
            if d and d.include and not glob_match(d.include.value, below):
                continue
            if f.endswith(MANIFEST_SUFFIXES):
                files.append(f)
            elif f.endswith(JSONNET_SUFFIXES):
                jsonnet.append(f)
        objects: list[K8sObject] = []
        errors: list[LoadError] = []
        for f in files:
            got = self.files.get(f)
            if isinstance(got, YamlError):
                errors.append(LoadError(kind="argocd.manifest", path=f, line=got.line, message=f"invalid YAML: {got}"))
            else:
                objects.extend(got)
        env = self.env_by_path.get(rel)
        return Target(
            kind="directory",
            path=rel,
            environment=env.name if env is not None and env.source == "manifests" else None,
            files=files,
            objects=objects,
            errors=errors,
            incomplete=[f"jsonnet file {f} is not evaluated: what it deploys is not audited" for f in jsonnet],
        )
