"""Kustomization processing: what `kustomize build DIR` does, in kustomize v5's order.

Per kustomization: resources (files, directories, nested kustomizations; legacy `bases`
after them), components, generators, then the built-in transformers in kustomize's fixed
order (legacy strategic-merge patches, patches, namespace, prefix, suffix, labels,
annotations, legacy JSON 6902 patches, replicas, images, replacements), and its legacy
`vars` are collected. Only the top-level build adds hash suffixes, fixes name references,
resolves vars and sorts.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from urr_audit.loaders.kustomize import transformers as tf
from urr_audit.loaders.kustomize.fieldspecs import COMMON_ANNOTATIONS, COMMON_LABELS, METADATA_LABELS, TEMPLATE_LABELS
from urr_audit.loaders.kustomize.generators import encode_secret_value, parse_env_file, parse_literal
from urr_audit.loaders.kustomize.jsonpatch import JsonPatchError, apply_op
from urr_audit.loaders.kustomize.replacements import (
    MISSING,
    ReplacementError,
    apply_replacement,
    field_value,
    selected_by,
    selector_id,
    substitute_vars,
)
from urr_audit.loaders.kustomize.resource import Res
from urr_audit.loaders.kustomize.smp import BUILTIN_GROUPS, merge_map
from urr_audit.loaders.kustomize.util import deep_copy
from urr_audit.loaders.kustomize.yamlsrc import Doc, YamlError, load_docs
from urr_audit.model.common import LoadError, Span
from urr_audit.model.kubernetes import RemoteRef, SourceDoc
from urr_audit.workspace import OutsideRoot, Workspace

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

KNOWN_FIELDS = frozenset(
    {
        "apiVersion",
        "kind",
        "metadata",
        "resources",
        "bases",
        "components",
        "patches",
        "patchesStrategicMerge",
        "patchesJson6902",
        "images",
        "replicas",
        "namespace",
        "namePrefix",
        "nameSuffix",
        "labels",
        "commonLabels",
        "commonAnnotations",
        "configMapGenerator",
        "secretGenerator",
        "generatorOptions",
        "sortOptions",
        "crds",
        "configurations",
        "openapi",
        "buildMetadata",
        "vars",
        "replacements",
        "generators",
        "transformers",
        "validators",
        "helmCharts",
        "helmGlobals",
        "imageTags",
    }
)
NOTE_KINDS = frozenset({"kustomize.remote", "kustomize.unsupported", "kustomize.incomplete"})
# Notes that leave the render whole (it is what kustomize prints), unlike the ones above.
COMPLETE_NOTE_KINDS = frozenset({"kustomize.env-without-value"})


def leaves_out(e: LoadError) -> bool:
    """Whether `e` says the render may lack something (a remote base, an unrendered field)."""
    return e.level == "note" and e.kind not in COMPLETE_NOTE_KINDS


UNSUPPORTED = ("generators", "transformers", "validators", "helmCharts", "configurations")

_REMOTE = re.compile(r"^(https?://|git@|ssh://|git::|github\.com/|gitlab\.com/|bitbucket\.org/)|\?ref=|\.git(//|$)")


@dataclass
class Kustomization:
    dir: str
    file: str
    data: dict
    doc: Doc

    def span(self, *path: Any) -> Span:
        line = self.doc.line(tuple(path))
        return Span(path=self.file, line=line, end_line=line)

    @property
    def file_span(self) -> Span:
        return Span(path=self.file, line=self.doc.start, end_line=self.doc.end)

    def list(self, key: str) -> list:
        v = self.data.get(key)
        return v if isinstance(v, list) else []

    @property
    def is_component(self) -> bool:
        return self.data.get("kind") == "Component"


@dataclass
class Patch:
    """Patch documents and where their lines are: a file, or an inline string in a kustomization."""

    docs: list[Doc]
    file: str
    line_offset: int  # added to a document line to get the file line
    entry: Span  # the kustomization entry that brought it in

    def span(self, doc: Doc, path: tuple) -> Span:
        line = doc.line(path) + self.line_offset
        return Span(path=self.file, line=line, end_line=line)


@dataclass
class Var:
    """A legacy `vars` entry, resolved once the whole build is done."""

    name: str
    objref: dict
    fieldpath: str
    entry: Span


@dataclass
class Built:
    resources: list[Res]
    errors: list[LoadError] = field(default_factory=list)
    vars: list[Var] = field(default_factory=list)
    dirs: set[str] = field(default_factory=set)  # kustomization directories read


class Renderer:
    """Renders kustomizations of one workspace; memoises files and sub-builds shared by overlays."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self._docs: dict[str, list[Doc] | YamlError] = {}
        self._kust: dict[str, Kustomization | LoadError | None] = {}
        self._acc: dict[str, Built] = {}
        # every local path a kustomization referenced (resources, patches, components, generator
        # files...), existing or not: plain-manifest discovery leaves them to Kustomize
        self.referenced: set[str] = set()
        # remote resources, bases and components, in the order met (never fetched)
        self.remotes: list[RemoteRef] = []

    # --- files -----------------------------------------------------------------------
    def docs(self, rel: str) -> list[Doc]:
        cached = self._docs.get(rel)
        if cached is None:
            try:
                cached = load_docs(self.ws.read_text(rel))
            except YamlError as exc:
                cached = exc
            except OSError as exc:
                cached = YamlError(f"cannot read file: {exc.strerror or exc}", 1)
            self._docs[rel] = cached
        if isinstance(cached, YamlError):
            raise cached
        return cached

    def kustomization_file(self, dir_rel: str) -> str | None:
        for name in KUSTOMIZATION_FILES:
            rel = name if dir_rel in ("", ".") else f"{dir_rel}/{name}"
            if self.ws.is_file(rel):
                return rel
        return None

    def kustomization(self, dir_rel: str) -> Kustomization | LoadError | None:
        if dir_rel in self._kust:
            return self._kust[dir_rel]
        result: Kustomization | LoadError | None = None
        file = self.kustomization_file(dir_rel)
        if file is not None:
            try:
                docs = self.docs(file)
                doc = docs[0] if docs else Doc(data={}, start=1, end=1)
                if not isinstance(doc.data, dict):
                    result = LoadError(
                        kind="kustomize.invalid", path=file, line=doc.start, message="kustomization is not a mapping"
                    )
                else:
                    result = Kustomization(dir=dir_rel, file=file, data=doc.data, doc=doc)
            except YamlError as exc:
                result = LoadError(kind="kustomize.invalid", path=file, line=exc.line, message=f"invalid YAML: {exc}")
        self._kust[dir_rel] = result
        return result

    # --- public ----------------------------------------------------------------------
    def build(self, dir_rel: str) -> Built:
        """The final rendered resources of `dir_rel`, as `kustomize build` prints them."""
        k = self.kustomization(dir_rel)
        if k is None:
            return Built(
                [],
                [LoadError(kind="kustomize.missing-file", path=dir_rel, message="no kustomization file in directory")],
            )
        if isinstance(k, LoadError):
            return Built([], [k])
        acc = self._accumulate(dir_rel, ())
        resources = [r.clone() for r in acc.resources]
        errors = list(acc.errors)
        tf.add_hashes(resources)
        tf.fix_references(resources)
        self._resolve_vars(acc, resources, errors)
        for r in resources:
            # kustomize keeps its bookkeeping in annotations and drops the map once it is empty
            if r.meta.get("annotations") == {}:
                del r.meta["annotations"]
        sort = k.data.get("sortOptions")
        if not (isinstance(sort, dict) and sort.get("order") == "fifo"):
            legacy = sort.get("legacySortOptions") if isinstance(sort, dict) else None
            if isinstance(legacy, dict):
                first, last = legacy.get("orderFirst"), legacy.get("orderLast")
                resources = tf.legacy_sort(
                    resources,
                    [str(x) for x in first] if isinstance(first, list) else None,
                    [str(x) for x in last] if isinstance(last, list) else None,
                )
            else:
                resources = tf.legacy_sort(resources)
        return Built(resources, errors, dirs=set(acc.dirs))

    # --- accumulation ----------------------------------------------------------------
    def _accumulate(self, dir_rel: str, stack: tuple[str, ...]) -> Built:
        cached = self._acc.get(dir_rel)
        if cached is not None:
            return cached
        k = self.kustomization(dir_rel)
        assert isinstance(k, Kustomization)
        out = Built([], [])
        self._run(k, out, stack + (dir_rel,))
        self._acc[dir_rel] = out
        return out

    def _run(self, k: Kustomization, out: Built, stack: tuple[str, ...]) -> None:
        errs = out.errors
        out.dirs.add(k.dir)
        for key in k.data:
            if key not in KNOWN_FIELDS:
                errs.append(
                    self._err(
                        "kustomize.invalid",
                        k.span(key),
                        f"unknown kustomization field {key!r}: kustomize refuses the file",
                    )
                )
            elif key in UNSUPPORTED and k.data[key]:
                errs.append(
                    self._err(
                        "kustomize.unsupported",
                        k.span(key),
                        f"{key!r} is not rendered by urr-audit: what it generates or changes is not audited",
                    )
                )
        for key in ("resources", "bases"):
            for i, ref in enumerate(k.list(key)):
                self._add_resource(k, str(ref), k.span(key, i), out, stack)
        for i, ref in enumerate(k.list("components")):
            self._add_component(k, str(ref), k.span("components", i), out, stack)
        self._generate(k, out)
        self._transform(k, out)
        self._replace(k, out)
        for i, v in enumerate(k.list("vars")):
            if not isinstance(v, dict) or not v.get("name") or not isinstance(v.get("objref"), dict):
                errs.append(self._err("kustomize.invalid", k.span("vars", i), "a var needs a name and an objref"))
                continue
            fieldref = v.get("fieldref") if isinstance(v.get("fieldref"), dict) else {}
            self._add_var(
                out,
                Var(str(v["name"]), v["objref"], str(fieldref.get("fieldpath") or "metadata.name"), k.span("vars", i)),
            )

    def _err(self, kind: str, span: Span, message: str) -> LoadError:
        # Valid input deliberately left out (a remote URL, a field we do not render) is a
        # note: the report says what was not audited, the exit code does not fail on it.
        level = "note" if kind in NOTE_KINDS else "error"
        return LoadError.at(span, kind, message, level=level)

    def _resolve(self, k: Kustomization, ref: str, entry: Span, errs: list[LoadError], what: str) -> str | None:
        if _REMOTE.search(ref):
            if not any(r.span == entry for r in self.remotes):
                self.remotes.append(RemoteRef(url=ref, span=entry, field=what, kustomization=k.dir))
            errs.append(
                self._err(
                    "kustomize.remote",
                    entry,
                    f"remote {what} {ref!r} is not fetched; its objects are missing from the render",
                )
            )
            return None
        try:
            rel = self.ws.join(k.dir, ref)
        except OutsideRoot:
            errs.append(
                self._err("kustomize.outside-root", entry, f"{what} {ref!r} lies outside the scanned root; not read")
            )
            return None
        self.referenced.add(rel)
        if not self.ws.exists(rel):
            if self.ws.escapes(rel):  # a symlink leading out of the root
                errs.append(
                    self._err(
                        "kustomize.outside-root", entry, f"{what} {ref!r} lies outside the scanned root; not read"
                    )
                )
                return None
            errs.append(self._err("kustomize.missing-file", entry, f"{what} {ref!r} does not exist{self._hint(rel)}"))
            return None
        return rel

    def _hint(self, rel: str) -> str:
        parent, _, base = rel.rpartition("/")
        try:
            names = self.ws.listdir(parent or ".")
        except OSError:
            return ""
        near = [
            n
            for n in names
            if n != base and n.startswith(base + ".") or n in (base + ".example", base + ".sample", base + ".template")
        ]
        near += [
            n
            for n in names
            if n not in near
            and n.startswith(base.rsplit(".", 1)[0])
            and n.endswith((".example", ".sample", ".template", ".dist"))
        ]
        if near:
            return f" (beside it: {', '.join(sorted(set(near)))} — probably a template of a git-ignored file)"
        return ""

    def _sub(
        self, k: Kustomization, rel: str, entry: Span, out: Built, stack: tuple[str, ...], component: bool
    ) -> Kustomization | None:
        if rel in stack:
            chain = " -> ".join(stack + (rel,))
            out.errors.append(self._err("kustomize.cycle", entry, f"kustomization cycle: {chain}"))
            return None
        sub = self.kustomization(rel)
        if sub is None:
            out.errors.append(
                self._err("kustomize.missing-file", entry, f"directory {rel!r} has no kustomization file")
            )
            return None
        if isinstance(sub, LoadError):
            out.errors.append(sub)
            return None
        if sub.is_component != component:
            what = "a Component" if sub.is_component else "not a Component"
            out.errors.append(self._err("kustomize.invalid", entry, f"{rel!r} is {what}; kustomize refuses it here"))
            return None
        return sub

    def _add_resource(self, k: Kustomization, ref: str, entry: Span, out: Built, stack: tuple[str, ...]) -> None:
        rel = self._resolve(k, ref, entry, out.errors, "resource")
        if rel is None:
            return
        if self.ws.is_dir(rel):
            sub = self._sub(k, rel, entry, out, stack, component=False)
            if sub is None:
                return
            built = self._accumulate(rel, stack)
            out.errors.extend(e for e in built.errors if e not in out.errors)
            for r in built.resources:
                self._append(out, r.clone(), entry)
            for v in built.vars:
                self._add_var(out, v)
            out.dirs |= built.dirs
            return
        try:
            docs = self.docs(rel)
        except YamlError as exc:
            out.errors.append(
                LoadError(kind="kustomize.invalid", path=rel, line=exc.line, message=f"invalid YAML: {exc}")
            )
            return
        for doc in docs:
            for body, start, end, root in _expand_list(doc):
                if not isinstance(body, dict) or not body.get("kind"):
                    out.errors.append(
                        LoadError(kind="kustomize.invalid", path=rel, line=start, message="document has no kind")
                    )
                    continue
                odd = next((key for key in body if not isinstance(key, str)), None)
                if odd is not None:  # no Kubernetes field is named by a number or a boolean
                    out.errors.append(
                        LoadError(
                            kind="kustomize.invalid",
                            path=rel,
                            line=doc.line((*root, odd), start),
                            message=f"field name {odd!r} is not a string: not a Kubernetes object",
                        )
                    )
                    continue
                if body.get("kind") in ("Kustomization", "Component") and str(body.get("apiVersion", "")).startswith(
                    "kustomize.config"
                ):
                    out.errors.append(
                        self._err(
                            "kustomize.invalid", entry, f"{ref!r} is a kustomization file; list its directory instead"
                        )
                    )
                    continue
                r = Res(
                    body=deep_copy(body),
                    span=Span(path=rel, line=start, end_line=end),
                    source=SourceDoc(doc.data, doc.lines, root),
                )
                self._append(out, r, entry)

    def _append(self, out: Built, r: Res, entry: Span) -> None:
        key = r.cur_key()
        if any(o.cur_key() == key for o in out.resources):
            out.errors.append(
                self._err(
                    "kustomize.invalid",
                    entry,
                    f"{r.kind} {r.name!r} is already registered: kustomize refuses duplicate ids",
                )
            )
            return
        out.resources.append(r)

    def _add_component(self, k: Kustomization, ref: str, entry: Span, out: Built, stack: tuple[str, ...]) -> None:
        rel = self._resolve(k, ref, entry, out.errors, "component")
        if rel is None:
            return
        if not self.ws.is_dir(rel):
            out.errors.append(self._err("kustomize.invalid", entry, f"component {ref!r} must be a directory"))
            return
        sub = self._sub(k, rel, entry, out, stack, component=True)
        if sub is not None:
            # A component is applied to what the parent accumulated so far, not built alone.
            self._run(sub, out, stack + (rel,))

    # --- generators ------------------------------------------------------------------
    def _generate(self, k: Kustomization, out: Built) -> None:
        global_opts = k.data.get("generatorOptions") if isinstance(k.data.get("generatorOptions"), dict) else {}
        for kind, key in (("ConfigMap", "configMapGenerator"), ("Secret", "secretGenerator")):
            for i, gen in enumerate(k.list(key)):
                if not isinstance(gen, dict):
                    continue
                r = self._make_generated(k, kind, gen, (key, i), global_opts, out.errors)
                if r is not None:
                    self._absorb(k, out, r, k.span(key, i))

    def _make_generated(
        self, k: Kustomization, kind: str, gen: dict, at: tuple, gopts: dict, errs: list[LoadError]
    ) -> Res | None:
        entry = k.span(*at)
        name = str(gen.get("name") or "")
        if not name:
            errs.append(self._err("kustomize.invalid", entry, f"{kind} generator without a name"))
            return None
        data: dict[str, str] = {}
        binary: dict[str, str] = {}
        origins: dict[str, Span] = {}
        dup_seen: dict[str, Span] = {}

        def put(key: str, value: str, span: Span, raw: bytes | None = None) -> None:
            if key in dup_seen:
                errs.append(
                    self._err(
                        "kustomize.duplicate-key",
                        span,
                        f"{kind} {name!r} repeats the key {key!r} (first at {dup_seen[key]})",
                    )
                )
                return
            dup_seen[key] = span
            if kind == "Secret":
                data[key] = encode_secret_value(value) if raw is None else _b64_raw(raw)
            elif raw is not None:
                binary[key] = base64.b64encode(raw).decode("ascii")
            else:
                data[key] = value
            origins[f"data.{key}"] = span

        envs = list(gen.get("envs") or [])
        env_key = "envs"
        if gen.get("env"):
            envs.append(gen["env"])
        for j, ref in enumerate(envs):
            espan = k.span(*at, env_key, j) if j < len(gen.get("envs") or []) else k.span(*at, "env")
            rel = self._resolve(k, str(ref), espan, errs, "env file")
            if rel is None:
                continue
            try:
                parsed = parse_env_file(self.ws.read_text(rel), rel)
            except OSError as exc:
                errs.append(self._err("kustomize.invalid", espan, f"cannot read {rel}: {exc.strerror or exc}"))
                continue
            for p in parsed.problems:
                errs.append(LoadError(kind=p.kind, path=p.path, line=p.line, message=p.message, level=p.level))
            for pair in parsed.pairs:
                put(pair.key, pair.value, Span(path=rel, line=pair.line, end_line=pair.line))
        for j, lit in enumerate(gen.get("literals") or []):
            parsed_lit = parse_literal(str(lit))
            lspan = k.span(*at, "literals", j)
            if parsed_lit is None:
                errs.append(self._err("kustomize.invalid", lspan, f"literal {lit!r} is not key=value"))
                continue
            put(parsed_lit[0], parsed_lit[1], lspan)
        for j, src in enumerate(gen.get("files") or []):
            fspan = k.span(*at, "files", j)
            src = str(src)
            key, _, path = src.partition("=") if "=" in src else (src.rsplit("/", 1)[-1], "", src)
            rel = self._resolve(k, path, fspan, errs, "file")
            if rel is None:
                continue
            try:
                raw = self.ws.read_bytes(rel)
            except OSError as exc:
                errs.append(self._err("kustomize.invalid", fspan, f"cannot read {rel}: {exc.strerror or exc}"))
                continue
            try:
                text = raw.decode("utf-8")
                put(key, text, fspan)
            except UnicodeDecodeError:
                put(key, "", fspan, raw=raw)

        local = gen.get("options") if isinstance(gen.get("options"), dict) else {}
        labels = {**(gopts.get("labels") or {}), **(local.get("labels") or {})}
        annotations = {**(gopts.get("annotations") or {}), **(local.get("annotations") or {})}
        disable_hash = bool(gopts.get("disableNameSuffixHash") or local.get("disableNameSuffixHash"))
        immutable = bool(gopts.get("immutable") or local.get("immutable"))

        meta: dict[str, Any] = {"name": name}
        if gen.get("namespace"):
            meta["namespace"] = str(gen["namespace"])
        if labels:
            meta["labels"] = {str(a): str(b) for a, b in labels.items()}
        if annotations:
            meta["annotations"] = {str(a): str(b) for a, b in annotations.items()}
        body: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": meta}
        if kind == "Secret":
            body["type"] = str(gen.get("type") or "Opaque")
        if data or kind == "Secret":
            body["data"] = data
        if binary:
            body["binaryData"] = binary
        if immutable:
            body["immutable"] = True
        r = Res(
            body=body,
            span=entry,
            origins=origins,
            needs_hash=not disable_hash,
            behavior=str(gen.get("behavior") or "create"),
        )
        r.name_origin = r.generator = entry
        return r

    def _absorb(self, k: Kustomization, out: Built, r: Res, entry: Span) -> None:
        matches = [
            o
            for o in out.resources
            if o.kind == r.kind
            and any(n == r.name and (ns == r.effective_ns(r.namespace) or not r.namespace) for ns, n in o.ids())
        ]
        if not matches:
            if r.behavior in ("merge", "replace"):
                out.errors.append(
                    self._err("kustomize.invalid", entry, f"{r.kind} {r.name!r} does not exist; cannot {r.behavior}")
                )
                return
            out.resources.append(r)
            return
        if r.behavior not in ("merge", "replace"):
            out.errors.append(
                self._err(
                    "kustomize.invalid",
                    entry,
                    f"{r.kind} {r.name!r} is already registered: use behavior merge or replace",
                )
            )
            return
        old = matches[0]
        idx = out.resources.index(old)
        meta = r.meta
        for field_name in ("labels", "annotations"):
            merged = {**(old.meta.get(field_name) or {}), **(meta.get(field_name) or {})}
            if merged:
                meta[field_name] = merged
        meta["name"] = old.name
        if old.namespace:
            meta["namespace"] = old.namespace
        elif "namespace" in meta:
            del meta["namespace"]
        if r.behavior == "merge":
            for field_name in ("data", "binaryData"):
                merged = {**(old.body.get(field_name) or {}), **(r.body.get(field_name) or {})}
                if merged:
                    r.body[field_name] = merged
            r.origins = {**old.origins, **r.origins}
            r.span, r.source = old.span, old.source
        r.history = list(old.history)
        r.prefixes, r.suffixes = list(old.prefixes), list(old.suffixes)
        r.needs_hash = old.needs_hash
        r.name_origin = r.generator = entry
        out.resources[idx] = r

    # --- replacements and vars -------------------------------------------------------
    def _refused(self, errs: list[LoadError], span: Span, message: str) -> None:
        """kustomize would refuse the build; unless what it needs may be in input that is not
        rendered (a remote base), then the environment is only incomplete."""
        if any(leaves_out(e) for e in errs):
            errs.append(self._err("kustomize.incomplete", span, f"{message}: it may be in input that is not rendered"))
        else:
            errs.append(self._err("kustomize.invalid", span, f"{message}: kustomize refuses the build"))

    def _replacement_entries(self, k: Kustomization, errs: list[LoadError]) -> list[tuple[dict, Span]]:
        out: list[tuple[dict, Span]] = []
        for i, entry in enumerate(k.list("replacements")):
            span = k.span("replacements", i)
            if not isinstance(entry, dict):
                errs.append(self._err("kustomize.invalid", span, "a replacement must be a mapping"))
                continue
            if entry.get("path") is None:
                out.append((entry, span))
                continue
            if entry.get("source") is not None or entry.get("targets"):
                errs.append(self._err("kustomize.invalid", span, "cannot specify both path and inline replacement"))
                continue
            rel = self._resolve(k, str(entry["path"]), k.span("replacements", i, "path"), errs, "replacement file")
            if rel is None:
                continue
            try:
                docs = self.docs(rel)
            except YamlError as exc:
                errs.append(
                    LoadError(kind="kustomize.invalid", path=rel, line=exc.line, message=f"invalid YAML: {exc}")
                )
                continue
            data = docs[0].data if docs else None
            items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
            for j, item in enumerate(items):
                if isinstance(item, dict):
                    line = docs[0].line((j,)) if isinstance(data, list) else docs[0].start
                    out.append((item, Span(path=rel, line=line, end_line=line)))
        return out

    def _replace(self, k: Kustomization, out: Built) -> None:
        for rep, span in self._replacement_entries(k, out.errors):
            try:
                apply_replacement(out.resources, rep, lambda r, dotted: r.origin(dotted), _label_selector_matches)
            except ReplacementError as exc:
                self._refused(out.errors, span, str(exc))

    def _add_var(self, out: Built, var: Var) -> None:
        if any(v.name == var.name for v in out.vars):
            if var not in out.vars:
                out.errors.append(
                    self._err(
                        "kustomize.invalid", var.entry, f"var {var.name!r} is already defined: kustomize refuses it"
                    )
                )
            return
        out.vars.append(var)

    def _resolve_vars(self, acc: Built, resources: list[Res], errs: list[LoadError]) -> None:
        """kustomize's ResolveVars, once at the top of the build: each var reads a field of the
        object its objref names (by any id it has had), then `$(NAME)` is substituted."""
        values: dict[str, Any] = {}
        origins: dict[str, Span] = {}
        for var in acc.vars:
            sel = selector_id(var.objref)
            hits = [
                r
                for r in resources
                if r.kind == sel.get("kind", "")
                and r.group == sel.get("group", "")
                and r.version == sel.get("version", "")
                and selected_by(r, {k: v for k, v in sel.items() if k in ("name", "namespace")})
            ]
            if len(hits) != 1:
                what = "matches several objects" if hits else "names no object of the build"
                self._refused(errs, var.entry, f"var {var.name!r}: its objref {what}")
                continue
            value, dotted = field_value(hits[0].body, var.fieldpath)
            if value is MISSING:
                self._refused(
                    errs, var.entry, f"var {var.name!r}: {hits[0].kind} {hits[0].name!r} has no {var.fieldpath}"
                )
                continue
            values[var.name] = value
            origins[var.name] = hits[0].origin(dotted)
        if not values:
            return
        try:
            substitute_vars(resources, values, origins)
        except ReplacementError as exc:
            self._refused(errs, acc.vars[0].entry, str(exc))

    # --- transformers ----------------------------------------------------------------
    def _transform(self, k: Kustomization, out: Built) -> None:
        res = out.resources
        errs = out.errors
        for i, p in enumerate(k.list("patchesStrategicMerge")):
            patch = self._load_patch(k, p, ("patchesStrategicMerge", i), errs, path_entry=not _looks_inline(p))
            if patch is not None:
                self._apply_patch(k, patch, None, out)
        for i, p in enumerate(k.list("patches")):
            if not isinstance(p, dict):
                errs.append(self._err("kustomize.invalid", k.span("patches", i), "patch entry must be a mapping"))
                continue
            patch = self._patch_of_entry(k, p, ("patches", i), errs)
            if patch is not None:
                opts = p.get("options") if isinstance(p.get("options"), dict) else {}
                self._apply_patch(k, patch, p.get("target") if isinstance(p.get("target"), dict) else None, out, opts)
        if k.data.get("namespace"):
            tf.set_namespace(res, str(k.data["namespace"]), k.span("namespace"))
        prefix, suffix = str(k.data.get("namePrefix") or ""), str(k.data.get("nameSuffix") or "")
        if prefix:
            tf.add_prefix_suffix(res, prefix, "", k.span("namePrefix"))
        if suffix:
            tf.add_prefix_suffix(res, "", suffix, k.span("nameSuffix"))
        self._check_string_maps(k, errs)
        common = k.data.get("commonLabels")
        if isinstance(common, dict) and common:
            for key, value in common.items():
                tf.set_map_entries(res, {str(key): _str(value)}, COMMON_LABELS, k.span("commonLabels", key))
        for i, entry in enumerate(k.list("labels")):
            if not isinstance(entry, dict) or not isinstance(entry.get("pairs"), dict):
                continue
            if entry.get("includeSelectors"):
                specs = COMMON_LABELS
            elif entry.get("includeTemplates"):
                specs = METADATA_LABELS + TEMPLATE_LABELS
            else:
                specs = METADATA_LABELS
            for key, value in entry["pairs"].items():
                tf.set_map_entries(res, {str(key): _str(value)}, specs, k.span("labels", i, "pairs", key))
        annotations = k.data.get("commonAnnotations")
        if isinstance(annotations, dict):
            for key, value in annotations.items():
                tf.set_map_entries(res, {str(key): _str(value)}, COMMON_ANNOTATIONS, k.span("commonAnnotations", key))
        for i, p in enumerate(k.list("patchesJson6902")):
            if not isinstance(p, dict) or not isinstance(p.get("target"), dict):
                errs.append(
                    self._err("kustomize.invalid", k.span("patchesJson6902", i), "patchesJson6902 entry needs a target")
                )
                continue
            patch = self._patch_of_entry(k, p, ("patchesJson6902", i), errs)
            if patch is not None:
                self._apply_patch(k, patch, p["target"], out)
        for i, rep in enumerate(k.list("replicas")):
            named = isinstance(rep, dict) and rep.get("name") is not None
            if named and not tf.set_replicas(res, str(rep["name"]), rep.get("count"), k.span("replicas", i, "count")):
                errs.append(
                    self._err(
                        "kustomize.invalid", k.span("replicas", i), f"replicas: no workload named {rep['name']!r}"
                    )
                )
        tf.set_images(
            res,
            [
                (img, k.span(key, i))
                for key in ("images", "imageTags")
                for i, img in enumerate(k.list(key))
                if isinstance(img, dict)
            ],
        )

    def _check_string_maps(self, k: Kustomization, errs: list[LoadError]) -> None:
        maps: list[tuple[tuple, Any]] = [
            (("commonLabels",), k.data.get("commonLabels")),
            (("commonAnnotations",), k.data.get("commonAnnotations")),
        ]
        maps += [
            (("labels", i, "pairs"), e.get("pairs")) for i, e in enumerate(k.list("labels")) if isinstance(e, dict)
        ]
        for at, m in maps:
            for key, value in (m or {}).items() if isinstance(m, dict) else ():
                if not isinstance(value, str):
                    errs.append(
                        self._err(
                            "kustomize.invalid",
                            k.span(*at, key),
                            f"{key!r} must be a string (quote it): kustomize refuses the file",
                        )
                    )

    # --- patches ---------------------------------------------------------------------
    def _patch_of_entry(self, k: Kustomization, p: dict, at: tuple, errs: list[LoadError]) -> Patch | None:
        if p.get("path") is not None and p.get("patch") is not None:
            errs.append(self._err("kustomize.invalid", k.span(*at), "patch has both `path` and `patch`"))
            return None
        if p.get("path") is not None:
            return self._load_patch(k, p["path"], at + ("path",), errs, path_entry=True)
        if p.get("patch") is not None:
            return self._load_patch(k, p["patch"], at + ("patch",), errs, path_entry=False)
        errs.append(self._err("kustomize.invalid", k.span(*at), "patch has neither `path` nor `patch`"))
        return None

    def _load_patch(
        self, k: Kustomization, value: Any, at: tuple, errs: list[LoadError], path_entry: bool
    ) -> Patch | None:
        entry = k.span(*at)
        if path_entry:
            rel = self._resolve(k, str(value), entry, errs, "patch")
            if rel is None:
                return None
            try:
                return Patch(self.docs(rel), rel, 0, entry)
            except YamlError as exc:
                errs.append(
                    LoadError(kind="kustomize.invalid", path=rel, line=exc.line, message=f"invalid YAML: {exc}")
                )
                return None
        text = str(value)
        try:
            docs = load_docs(text)
        except YamlError as exc:
            errs.append(self._err("kustomize.invalid", entry, f"invalid inline patch: {exc}"))
            return None
        # A block scalar starts on the line after its key; a one-line string sits on it.
        offset = entry.line if "\n" in text else entry.line - 1
        return Patch(docs, k.file, offset, entry)

    def _apply_patch(
        self, k: Kustomization, patch: Patch, target: dict | None, out: Built, options: dict | None = None
    ) -> None:
        for doc in patch.docs:
            if isinstance(doc.data, list):
                if target is None:
                    out.errors.append(self._err("kustomize.invalid", patch.entry, "a JSON 6902 patch needs a target"))
                    return
                for r in _select(out.resources, target):
                    self._json6902(r, doc, patch, out)
                continue
            if not isinstance(doc.data, dict):
                continue
            if target is not None:
                selected = _select(out.resources, target)
            else:
                selected = self._by_patch_id(doc.data, out.resources)
                if len(selected) != 1:
                    meta = doc.data.get("metadata") if isinstance(doc.data.get("metadata"), dict) else {}
                    what = f"no unique target for patch {doc.data.get('kind')} {meta.get('name')!r} ({len(selected)} matches)"
                    if not selected and any(leaves_out(e) for e in out.errors):
                        # The target may come from what was not rendered (a remote base):
                        # kustomize would find it, so this is no error of the repository.
                        out.errors.append(
                            self._err(
                                "kustomize.incomplete",
                                patch.span(doc, ()),
                                f"{what}: its target may be in input that is not rendered (remote or unsupported)",
                            )
                        )
                    else:
                        out.errors.append(self._err("kustomize.invalid", patch.span(doc, ()), what))
                    continue
            for r in selected:
                self._smp(r, doc, patch, out, options or {})

    def _by_patch_id(self, data: dict, resources: list[Res]) -> list[Res]:
        av = str(data.get("apiVersion") or "")
        group, version = av.split("/", 1) if "/" in av else ("", av)
        kind = data.get("kind")
        meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        name, ns = meta.get("name"), meta.get("namespace") or ""
        hits = []
        for r in resources:
            if r.kind != kind or r.group != group or r.version != version:
                continue
            want_ns = r.effective_ns(ns)
            if any(n == name and rns == want_ns for rns, n in r.ids()):
                hits.append(r)
        return hits

    def _smp(self, r: Res, doc: Doc, patch: Patch, out: Built, options: dict) -> None:
        data = doc.data
        if data.get("$patch") == "delete":
            out.resources.remove(r)
            return
        body = deep_copy(data)
        meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        # `options: {allowKindChange, allowNameChange}`: the patch's own kind and name then
        # replace the target's (without them they are only a selector).
        if options.get("allowKindChange") and data.get("kind") and data.get("kind") != r.kind:
            r.body["kind"] = data["kind"]
            r.origins["kind"] = patch.span(doc, ("kind",))
            if data.get("apiVersion"):
                r.body["apiVersion"] = data["apiVersion"]
                r.origins["apiVersion"] = patch.span(doc, ("apiVersion",))
        if options.get("allowNameChange") and meta.get("name") and str(meta["name"]) != r.name:
            r.rename(str(meta["name"]), patch.span(doc, ("metadata", "name")))
        # The target keeps its identity; a targeted patch's own kind/name are placeholders.
        body.pop("apiVersion", None)
        body.pop("kind", None)
        meta = body.get("metadata")
        if isinstance(meta, dict):
            meta.pop("name", None)
            meta.pop("namespace", None)

        def rec(dotted: str, ppath: tuple) -> None:
            r.origins[dotted] = patch.span(doc, ppath)

        builtin = r.group in BUILTIN_GROUPS
        if data.get("$patch") == "replace":
            keep = {
                "apiVersion": r.body.get("apiVersion"),
                "kind": r.body.get("kind"),
                "metadata": r.body.get("metadata"),
            }
            body.pop("$patch", None)
            r.body = merge_map(keep, body, "", (), rec, builtin) or keep
            return
        merged = merge_map(r.body, body, "", (), rec, builtin)
        if merged is not None:
            r.body = merged

    def _json6902(self, r: Res, doc: Doc, patch: Patch, out: Built) -> None:
        body = r.body
        for i, op in enumerate(doc.data):
            if not isinstance(op, dict):
                continue
            try:
                body, where = apply_op(body, op)
            except JsonPatchError as exc:
                out.errors.append(
                    self._err(
                        "kustomize.invalid", patch.span(doc, (i,)), f"JSON patch on {r.kind} {r.name!r} failed: {exc}"
                    )
                )
                return
            if where:
                r.origins[where] = patch.span(doc, (i,))
        if isinstance(body, dict):
            r.body = body


def _str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _b64_raw(raw: bytes) -> str:
    enc = base64.b64encode(raw).decode("ascii")
    if len(enc) < 70:
        return enc
    return "".join(enc[i : i + 70] + "\n" for i in range(0, len(enc), 70))


def _looks_inline(value: Any) -> bool:
    return isinstance(value, str) and ("\n" in value or value.lstrip().startswith(("apiVersion", "kind", "{")))


def _expand_list(doc: Doc) -> list[tuple[Any, int, int, tuple]]:
    """(object, first line, last line, its path in the document) for each object of `doc`."""
    data = doc.data
    if isinstance(data, dict) and str(data.get("kind", "")).endswith("List") and isinstance(data.get("items"), list):
        out = []
        for i, item in enumerate(data["items"]):
            line = doc.line(("items", i))
            out.append((item, line, line, ("items", i)))
        return out
    return [(data, doc.start, doc.end, ())]


# --- target selection ------------------------------------------------------------------


def _anchored(pattern: Any) -> re.Pattern[str] | None:
    if pattern in (None, ""):
        return None
    try:
        return re.compile(f"^(?:{pattern})$")
    except re.error:
        return re.compile(re.escape(str(pattern)))


def _label_selector_matches(selector: str, labels: dict) -> bool:
    for raw in _split_selector(selector):
        term = raw.strip()
        if not term:
            continue
        m = re.match(r"^([^\s!=]+)\s+(in|notin)\s+\((.*)\)$", term)
        if m:
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
            has = key in labels and str(labels[key]) in values
            if (op == "in") != has:
                return False
            continue
        if term.startswith("!"):
            if term[1:].strip() in labels:
                return False
            continue
        m = re.match(r"^([^!=]+?)\s*(==|!=|=)\s*(.*)$", term)
        if m:
            key, op, value = m.group(1).strip(), m.group(2), m.group(3).strip()
            equal = key in labels and str(labels[key]) == value
            if op == "!=":
                if key in labels and str(labels[key]) == value:
                    return False
            elif not equal:
                return False
            continue
        if term not in labels:
            return False
    return True


def _split_selector(selector: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def _select(resources: list[Res], target: dict) -> list[Res]:
    group, version, kind = (_anchored(target.get(k)) for k in ("group", "version", "kind"))
    name, namespace = _anchored(target.get("name")), _anchored(target.get("namespace"))
    out = []
    for r in resources:
        if namespace is not None and not (
            namespace.match(r.effective_ns(r.org_namespace)) or namespace.match(r.effective_ns(r.namespace))
        ):
            continue
        if name is not None and not (name.match(r.org_name) or name.match(r.name)):
            continue
        if group is not None and not group.match(r.group):
            continue
        if version is not None and not version.match(r.version):
            continue
        if kind is not None and not kind.match(r.kind):
            continue
        if target.get("labelSelector") and not _label_selector_matches(
            str(target["labelSelector"]), r.meta.get("labels") or {}
        ):
            continue
        if target.get("annotationSelector") and not _label_selector_matches(
            str(target["annotationSelector"]), r.meta.get("annotations") or {}
        ):
            continue
        out.append(r)
    return out
