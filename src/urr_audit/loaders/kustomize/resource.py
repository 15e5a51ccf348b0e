"""A resource being rendered: its body plus the history kustomize keeps about it."""

from __future__ import annotations

from dataclasses import dataclass, field

from urr_audit.loaders.kustomize.util import deep_copy
from urr_audit.model.common import Span
from urr_audit.model.kubernetes import CLUSTER_SCOPED, SourceDoc, field_origin


@dataclass
class Res:
    body: dict
    span: Span
    origins: dict[str, Span] = field(default_factory=dict)
    # (namespace, name) pairs this resource was known by before its current one, oldest first
    history: list[tuple[str, str]] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    suffixes: list[str] = field(default_factory=list)
    needs_hash: bool = False
    behavior: str = "create"
    name_origin: Span | None = None  # what last renamed it (namePrefix, generator hash, ...)
    generator: Span | None = None  # the generator entry that made (or last merged into) it
    source: SourceDoc | None = None  # the document as written in `span.path` (shared, read-only)
    unhashed_name: str | None = None  # set when the content-hash suffix is appended

    def origin(self, dotted: str) -> Span:
        """Where `dotted` was last set (see K8sObject.origin)."""
        return field_origin(self.origins, self.source, self.span, dotted)

    def clone(self) -> Res:
        return Res(
            body=deep_copy(self.body),
            span=self.span,
            origins=dict(self.origins),
            history=list(self.history),
            prefixes=list(self.prefixes),
            suffixes=list(self.suffixes),
            needs_hash=self.needs_hash,
            behavior=self.behavior,
            name_origin=self.name_origin,
            generator=self.generator,
            source=self.source,
            unhashed_name=self.unhashed_name,
        )

    # --- identity --------------------------------------------------------------------
    @property
    def api_version(self) -> str:
        return str(self.body.get("apiVersion") or "")

    @property
    def group(self) -> str:
        av = self.api_version
        return av.split("/", 1)[0] if "/" in av else ""

    @property
    def version(self) -> str:
        av = self.api_version
        return av.split("/", 1)[1] if "/" in av else av

    @property
    def kind(self) -> str:
        return str(self.body.get("kind") or "")

    @property
    def meta(self) -> dict:
        m = self.body.get("metadata")
        if not isinstance(m, dict):
            m = self.body["metadata"] = {}
        return m

    @property
    def name(self) -> str:
        return str(self.meta.get("name") or "")

    @property
    def namespace(self) -> str:
        ns = self.meta.get("namespace")
        return str(ns) if ns else ""

    @property
    def namespaced(self) -> bool:
        return self.kind not in CLUSTER_SCOPED

    def effective_ns(self, ns: str) -> str:
        if not self.namespaced:
            return ""
        return ns or "default"

    def ids(self) -> list[tuple[str, str]]:
        """Every (effective namespace, name) this resource has had, current last."""
        return [(self.effective_ns(ns), n) for ns, n in self.history] + [(self.effective_ns(self.namespace), self.name)]

    @property
    def org_name(self) -> str:
        return self.history[0][1] if self.history else self.name

    @property
    def org_namespace(self) -> str:
        return self.history[0][0] if self.history else self.namespace

    def cur_key(self) -> tuple[str, str, str, str, str]:
        # (group, version, kind, effective_ns(namespace), name), read in one pass: every
        # resource added to a build is compared with all those before it
        av = self.api_version
        group, version = av.split("/", 1) if "/" in av else ("", av)
        kind = self.kind
        meta = self.meta
        ns = meta.get("namespace")
        namespace = "" if kind in CLUSTER_SCOPED else (str(ns) if ns else "") or "default"
        return (group, version, kind, namespace, str(meta.get("name") or ""))

    def remember(self) -> None:
        self.history.append((self.namespace, self.name))

    def rename(self, name: str, why: Span | None) -> None:
        if name != self.name:
            self.remember()
            self.meta["name"] = name
            if why is not None:
                self.name_origin = why
                self.origins["metadata.name"] = why

    def set_namespace(self, ns: str, why: Span | None) -> None:
        if ns != self.namespace:
            self.remember()
            self.meta["namespace"] = ns
        if why is not None:
            self.origins["metadata.namespace"] = why
