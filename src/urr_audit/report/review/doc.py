"""Building blocks of the review: sections, GFM tables, evidence links, Mermaid diagrams, and
the context every section builder reads (the scan, the chosen environments, facts built once)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import quote

from urr_audit.facts.flows import FlowFacts, flow_facts
from urr_audit.facts.kubernetes import Dependency, dependencies, endpoint_names
from urr_audit.facts.network import NetworkFacts, network_facts
from urr_audit.facts.observability import ObservabilityFacts, observability_facts
from urr_audit.facts.services import SecretFlow, ServiceUse, inventory, secret_flow
from urr_audit.facts.tf import Setting, display
from urr_audit.loaders.gitmeta import web_url
from urr_audit.model.common import Span, UnknownElements, UnknownLeaf, Value
from urr_audit.model.k8s_facts import EnvironmentFacts, facts
from urr_audit.model.kubernetes import K8sEnvironment
from urr_audit.model.terraform import Environment
from urr_audit.workspace import Workspace


@dataclass
class Section:
    title: str
    blocks: list[str] = field(default_factory=list)  # markdown blocks, joined by blank lines
    subsections: list[Section] = field(default_factory=list)

    def add(self, *blocks: str) -> Section:
        self.blocks.extend(b for b in blocks if b)
        return self

    def sub(self, title: str, *blocks: str) -> Section:
        s = Section(title).add(*blocks)
        self.subsections.append(s)
        return s

    @property
    def empty(self) -> bool:
        return not self.blocks and all(s.empty for s in self.subsections)


# --- text ----------------------------------------------------------------------------------


def cell(text: Any) -> str:
    """Text for a table cell: one line, pipes escaped."""
    return str(text).replace("\r", " ").replace("\n", " ").replace("|", "\\|")


def code(text: Any) -> str:
    """An inline code span that survives backticks in the text."""
    s = str(text).replace("\n", " ")
    if not s:
        return ""
    ticks = max((len(m) for m in re.findall(r"`+", s)), default=0) + 1
    fence = "`" * ticks
    pad = " " if s.startswith("`") or s.endswith("`") or ticks > 1 else ""
    return f"{fence}{pad}{s}{pad}{fence}"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def plain(text: Any) -> str:
    """Repository text shown as prose: markdown syntax characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", str(text).replace("\n", " "))


def prose(text: Any) -> str:
    r"""urr-audit's own sentences that quote repository text in backticks (a model's reason:
    "\`service\` is an expression"): the code spans kept, the rest escaped as `plain`."""
    parts = str(text).replace("\n", " ").split("`")
    if len(parts) % 2 == 0:  # an unmatched backtick (text cut short): what follows it is prose
        return prose("`".join(parts[:-1])) + plain("`" + parts[-1])
    return "".join(code(p) if i % 2 else plain(p) for i, p in enumerate(parts))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    rows = [list(r) for r in rows]
    if not rows:
        return ""
    out = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        r = r + [""] * (len(headers) - len(r))
        out.append("| " + " | ".join(cell(c) for c in r) + " |")
    return "\n".join(out)


def bullets(items: Iterable[str]) -> str:
    return "\n".join(f"- {i}" for i in items)


def fmt(v: Any) -> str:
    """A known value as Terraform would print it, compactly."""
    if isinstance(v, UnknownElements):
        return "(more, unknown)"
    if isinstance(v, UnknownLeaf):
        return "(unknown)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {fmt(x)}" for k, x in v.items()) + "}"
    return str(v)


def shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def value_text(v: Value) -> str:
    if v.is_known:
        return shorten(fmt(v.value))
    if v.is_unknown:
        return f"unknown ({v.reason or 'only known after apply'})"
    return "not set"


# --- evidence ------------------------------------------------------------------------------


class Linker:
    """Links to the file and line behind a fact: `path#L12` relative to the repository root,
    or a blob URL at the checked-out commit when `.git` names a web remote and the commit."""

    def __init__(self, remotes: dict[str, str], commit: str | None):
        self.base: str | None = None
        self.style = "github"
        url = remotes.get("origin") or next((remotes[k] for k in sorted(remotes)), None)
        web = web_url(url) if url else None
        if web and commit:
            host = web.split("/")[2]
            if "gitlab" in host:
                self.base, self.style = f"{web}/-/blob/{commit}/", "gitlab"
            elif "bitbucket" in host:
                self.base, self.style = f"{web}/src/{commit}/", "bitbucket"
            else:
                self.base = f"{web}/blob/{commit}/"

    def url(self, path: str, line: int | None = None, end: int | None = None) -> str:
        target = quote(path)
        if line is None:
            return (self.base or "") + target
        end = end if end and end > line else None
        if self.base is None or self.style == "github":
            anchor = f"#L{line}-L{end}" if end else f"#L{line}"
        elif self.style == "gitlab":
            anchor = f"#L{line}-{end}" if end else f"#L{line}"
        else:
            anchor = f"#lines-{line}:{end}" if end else f"#lines-{line}"
        return (self.base or "") + target + anchor

    def span(self, span: Span | None, text: str | None = None, whole: bool = False) -> str:
        """`[path:12](path#L12)`; `whole`: link the span's line range."""
        if span is None:
            return text or ""
        end = span.end_line if whole else None
        label = text if text is not None else f"{span.path}:{span.line}"
        return f"[{label}]({self.url(span.path, span.line, end)})"

    def file(self, path: str, text: str | None = None) -> str:
        return f"[{text or path}]({self.url(path)})"


def setting_text(s: Setting | None, link: Linker) -> str:
    """A setting's value linked to where it is set; an unknown one says why, with the known
    inputs its expression reads."""
    if s is None:
        return "not set"
    if s.value.is_known:
        return link.span(s.span, code(shorten(fmt(s.value.value), 60)))
    text = f"unknown ({s.value.reason or 'only known after apply'})"
    if s.inputs:
        known = "; ".join(f"{code(n)} = {code(shorten(fmt(v.value), 60))}" for n, v in s.inputs)
        text += f": {code(shorten(s.written, 60))} with {known}"
    return link.span(s.span, text)


# --- diagrams ------------------------------------------------------------------------------


class Mermaid:
    """A flowchart with stable node ids; labels quoted so any text is safe."""

    def __init__(self, direction: str = "LR"):
        self.lines = [f"flowchart {direction}"]
        self.ids: dict[str, str] = {}
        self._edges: set[tuple[str, str, str]] = set()

    def id(self, key: str) -> str:
        if key not in self.ids:
            self.ids[key] = f"n{len(self.ids)}"
        return self.ids[key]

    @staticmethod
    def label(text: str) -> str:
        return '"' + text.replace('"', "#quot;").replace("\n", " ") + '"'

    def node(self, key: str, text: str, shape: str = "box", indent: str = "  ") -> None:
        new = key not in self.ids
        nid = self.id(key)
        if not new:
            return
        opening, closing = {"box": ("[", "]"), "round": ("(", ")"), "db": ("[(", ")]"), "queue": ("[[", "]]")}.get(
            shape, ("[", "]")
        )
        self.lines.append(f"{indent}{nid}{opening}{self.label(text)}{closing}")

    def group(self, key: str, title: str, members: list[tuple[str, str, str]]) -> None:
        """A subgraph of (key, label, shape) nodes."""
        if not members:
            return
        self.lines.append(f"  subgraph {self.id('group:' + key)}[{self.label(title)}]")
        for k, text, shape in members:
            self.node(k, text, shape, indent="    ")
        self.lines.append("  end")

    def edge(self, a: str, b: str, text: str = "", dotted: bool = False) -> None:
        if (a, b, text) in self._edges:
            return
        self._edges.add((a, b, text))
        arrow = "-.->" if dotted else "-->"
        label = f"|{self.label(text)}|" if text else ""
        self.lines.append(f"  {self.id(a)} {arrow}{label} {self.id(b)}")

    def render(self) -> str:
        if len(self.lines) <= 1:
            return ""
        return "```mermaid\n" + "\n".join(self.lines) + "\n```"


# --- context -------------------------------------------------------------------------------


class ReviewContext:
    """What a section builder reads. Facts are built once per environment and shared."""

    def __init__(self, report: Any, environments: Sequence[str] = (), date: str | None = None):
        self.report = report
        self.project = report.project
        self.result = report.result
        self.date = date
        wanted = set(environments)
        self.tf_envs: list[Environment] = sorted(
            (e for e in self.project.terraform.environments if not wanted or e.name in wanted), key=lambda e: e.name
        )
        self.k8s_envs: list[K8sEnvironment] = sorted(
            (e for e in self.project.kubernetes.environments if not wanted or e.name in wanted), key=lambda e: e.name
        )
        self.link = Linker(self.project.git.remotes, self.project.git.commit)
        self._cache: dict[tuple[str, str], Any] = {}

    def _memo(self, kind: str, name: str, build: Any) -> Any:
        key = (kind, name)
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def network(self, env: Environment) -> NetworkFacts:
        out: NetworkFacts = self._memo("network", env.name, lambda: network_facts(env))
        return out

    def flows(self, env: Environment) -> FlowFacts:
        out: FlowFacts = self._memo("flows", env.name, lambda: flow_facts(env, self.network(env)))
        return out

    def inventory(self, env: Environment) -> dict[str, ServiceUse]:
        out: dict[str, ServiceUse] = self._memo("inventory", env.name, lambda: inventory(env))
        return out

    def observability(self, env: Environment) -> ObservabilityFacts:
        out: ObservabilityFacts = self._memo("observability", env.name, lambda: observability_facts(env))
        return out

    def secrets(self, env: Environment) -> SecretFlow:
        out: SecretFlow = self._memo("secrets", env.name, lambda: secret_flow(env))
        return out

    def k8s(self, env: K8sEnvironment) -> EnvironmentFacts:
        return facts(env)

    def dependencies(self, env: K8sEnvironment) -> dict[str, list[Dependency]]:
        """What each pod-defining workload's configuration points at, by workload name; hosts
        carrying the endpoint name of a resource of the same-named Terraform environment are
        matched to it."""

        def build() -> dict[str, list[Dependency]]:
            f = self.k8s(env)
            tf = self.tf_env(env.name)
            names = endpoint_names(tf) if tf is not None else {}
            out: dict[str, list[Dependency]] = {}
            for w in f.pod_workloads():
                out.setdefault(w.name, []).extend(dependencies(f, w, names))
            return out

        out: dict[str, list[Dependency]] = self._memo("dependencies", env.name, build)
        return out

    def scope_nodes(self, scope: str) -> list[Any]:
        """The model nodes a check of `scope` is called with (see engine.SCOPES)."""
        from urr_audit.engine import SCOPES

        out: list[Any] = self._memo("scope", scope, lambda: list(SCOPES[scope](self.project)))
        return out

    @cached_property
    def workspace(self) -> Workspace:
        """The scanned root, for the few facts the model does not hold (whether a file a
        workflow names exists); reads stay inside the root."""
        return Workspace(self.report.root)

    def tf_env(self, name: str) -> Environment | None:
        return next((e for e in self.tf_envs if e.name == name), None)

    @cached_property
    def findings(self) -> list[Any]:
        """Findings in the chosen environments (all of them when none was chosen)."""
        return [f for f in self.result.findings if self._in_scope(f)]

    @cached_property
    def undecided(self) -> list[Any]:
        return [f for f in self.result.undecided if self._in_scope(f)]

    def _in_scope(self, f: Any) -> bool:
        names = {e.name for e in self.tf_envs} | {e.name for e in self.k8s_envs}
        all_names = {e.name for e in self.project.terraform.environments} | {
            e.name for e in self.project.kubernetes.environments
        }
        if names == all_names or not f.environments:
            return True
        return bool(set(f.environments) & names)


def envs_text(names: Iterable[str], every: Iterable[str]) -> str:
    """`all` when a fact holds in every environment, else the names."""
    got, alls = sorted(set(names)), sorted(set(every))
    return "all" if got == alls and len(alls) > 1 else ", ".join(got)


def short(address: str) -> str:
    return display(address)
