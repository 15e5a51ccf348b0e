"""Static expansion of ApplicationSet generators, where their inputs are in the repository.

- `list`: its elements (`elementsYaml` only when it holds no template);
- `git` with `directories`: this repository's directories matching the patterns (Go's
  `path.Match`, one segment per `*`; `exclude: true` entries win; hidden directories skipped),
  when `repoURL` is this repository;
- `git` with `files`: this repository's JSON/YAML files matching the globs (git pathspec: `*`
  crosses `/`), each file (or each element of a file holding a list) one parameter set;
- `clusters`: the in-cluster destination and the clusters declared as Secrets in the
  repository, filtered by the selector. Clusters registered outside git are invisible, so the
  expansion is `partial`;
- `matrix` (the second generator templated with each parameter set of the first) and `merge`
  (by `mergeKeys`).

Parameters are built as the controller builds them: flat strings (`path.basename`,
`metadata.labels.env`) for fasttemplate, nested values (`.path.basename`) for Go templates.
Anything else (SCM provider, pull requests, plugins, a template function not evaluated) leaves
the set unknown, with the reason.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from urr_audit.loaders.argocd.templates import (
    TemplateError,
    Unsupported,
    fasttemplate,
    go_string,
    gotemplate,
    normalize_name,
    render_strings,
)
from urr_audit.loaders.kustomize.yamlsrc import YamlError, load_docs
from urr_audit.model.argocd import IN_CLUSTER_NAME, IN_CLUSTER_SERVER, ClusterSecret, Expansion, Generator
from urr_audit.model.common import Span, go_glob
from urr_audit.workspace import OutsideRoot, Workspace

Params = dict[str, Any]
# More parameter sets than this (a matrix of two long lists, hostile input) are not expanded.
MAX_SETS = 2000
_RANK: dict[Expansion, int] = {"complete": 0, "partial": 1, "unknown": 2}


@dataclass
class Result:
    sets: list[Params] = field(default_factory=list)
    expansion: Expansion = "complete"
    reason: str = ""
    error: str | None = None  # Argo CD itself would fail on this generator


def _worst(a: Result, b: Result) -> tuple[Expansion, str]:
    if _RANK[b.expansion] > _RANK[a.expansion]:
        return b.expansion, b.reason
    return a.expansion, a.reason or b.reason


@dataclass
class Context:
    ws: Workspace
    go: bool
    options: list[str]
    # Whether a git generator's repoURL is this repository: True, False, or None when nothing says
    # (then the generator's own matches in this repository decide)
    is_this_repo: Callable[[str], bool | None]
    clusters: list[ClusterSecret]
    dirs: list[str]
    files: list[str]
    at: Callable[[str], Span]

    def render(self, text: str, params: Params) -> str:
        if self.go:
            return gotemplate(text, params, self.options)
        return fasttemplate(text, params)


def _go_match(pattern: str, name: str) -> bool:
    rx = go_glob(pattern)
    return rx is not None and rx.match(name) is not None


def _selector_matches(selector: Any, labels: dict[str, str]) -> bool:
    if not isinstance(selector, dict):
        return True
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(str(k)) != str(v):
            return False
    for expr in selector.get("matchExpressions") or []:
        if not isinstance(expr, dict):
            continue
        key, op = str(expr.get("key", "")), str(expr.get("operator", ""))
        values = [str(v) for v in expr.get("values") or []]
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Nested data as the controller flattens it for fasttemplate (`a.b`, `list.0`)."""
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}.{i}" if prefix else str(i)))
    elif prefix:
        out[prefix] = "<nil>" if value is None else go_string(value)
    return out


def _string_labels(params: Params) -> dict[str, str]:
    return _flatten(params)


def _path_params(ctx: Context, path: str, prefix: str, filename: str | None = None) -> Params:
    base = path.rsplit("/", 1)[-1]
    segments = path.split("/") if path else []
    if ctx.go:
        p: Params = {
            "path": path,
            "basename": base,
            "basenameNormalized": normalize_name(base),
            "segments": segments,
        }
        if filename is not None:
            p["filename"] = filename
            p["filenameNormalized"] = normalize_name(filename)
        return {prefix: {"path": p}} if prefix else {"path": p}
    pre = f"{prefix}." if prefix else ""
    flat = {
        f"{pre}path": path,
        f"{pre}path.basename": base,
        f"{pre}path.basenameNormalized": normalize_name(base),
    }
    if filename is not None:
        flat[f"{pre}path.filename"] = filename
        flat[f"{pre}path.filenameNormalized"] = normalize_name(filename)
    for i, seg in enumerate(segments):
        flat[f"{pre}path[{i}]"] = seg
    return flat


def _with_values(ctx: Context, params: Params, values: Any) -> Params:
    """A generator's `values`, templated with its own parameters, added as `values`."""
    if not isinstance(values, dict) or not values:
        return params
    rendered = {str(k): ctx.render(str(v), params) if isinstance(v, str) else v for k, v in values.items()}
    if ctx.go:
        return {**params, "values": rendered}
    return {**params, **{f"values.{k}": go_string(v) for k, v in rendered.items()}}


def _list(ctx: Context, gen: dict[str, Any]) -> Result:
    elements = gen.get("elements")
    if elements is None and "elementsYaml" in gen:
        text = str(gen.get("elementsYaml") or "")
        if "{{" in text:
            return Result(expansion="unknown", reason="list generator `elementsYaml` is a template: not evaluated")
        try:
            docs = load_docs(text)
        except YamlError as exc:
            return Result(expansion="unknown", error=f"list generator `elementsYaml` is not valid YAML: {exc}")
        elements = docs[0].data if docs else []
    sets = []
    for el in elements or []:
        if not isinstance(el, dict):
            return Result(expansion="unknown", error="list generator element is not a mapping")
        if ctx.go:
            sets.append(dict(el))
            continue
        flat: Params = {}
        for k, v in el.items():
            if k == "values" and isinstance(v, dict):
                flat.update({f"values.{vk}": go_string(vv) for vk, vv in v.items()})
            elif isinstance(v, str):
                flat[str(k)] = v
            else:
                return Result(
                    expansion="unknown",
                    reason=f"list element value `{k}` is not a string (goTemplate is off): not expanded",
                )
        sets.append(flat)
    return Result(sets=sets)


def _git(ctx: Context, gen: dict[str, Any]) -> Result:
    url = str(gen.get("repoURL") or "")
    this = ctx.is_this_repo(url)
    if this is False:
        return Result(expansion="unknown", reason=f"git generator reads another repository ({url}): not expanded")
    prefix = str(gen.get("pathParamPrefix") or "")
    values = gen.get("values")
    sets: list[Params] = []
    if "directories" in gen:
        entries = [e for e in gen.get("directories") or [] if isinstance(e, dict)]
        include = [str(e.get("path", "")) for e in entries if not e.get("exclude")]
        exclude = [str(e.get("path", "")) for e in entries if e.get("exclude")]
        for d in ctx.dirs:
            if any(_go_match(p, d) for p in include) and not any(_go_match(p, d) for p in exclude):
                sets.append(_with_values(ctx, _path_params(ctx, d, prefix), values))
    elif "files" in gen:
        entries = [e for e in gen.get("files") or [] if isinstance(e, dict)]
        include = [str(e.get("path", "")) for e in entries if not e.get("exclude")]
        exclude = [str(e.get("path", "")) for e in entries if e.get("exclude")]
        for f in ctx.files:
            if not any(fnmatch.fnmatchcase(f, p) for p in include) or any(fnmatch.fnmatchcase(f, p) for p in exclude):
                continue
            try:
                text = ctx.ws.read_text(f)
            except (OSError, OutsideRoot):
                continue
            try:
                data = json.loads(text)
            except ValueError:
                try:
                    docs = load_docs(text)
                except YamlError as exc:
                    return Result(expansion="unknown", error=f"git files generator: {f} is not JSON or YAML: {exc}")
                data = docs[0].data if docs else {}
            items = data if isinstance(data, list) else [data]
            directory, _, filename = f.rpartition("/")
            for item in items:
                if not isinstance(item, dict):
                    continue
                content: Params = dict(item) if ctx.go else _flatten(item)
                sets.append(_with_values(ctx, {**content, **_path_params(ctx, directory, prefix, filename)}, values))
    else:
        return Result(expansion="unknown", reason="git generator without `directories` or `files`")
    if this is None and not sets:
        return Result(
            expansion="unknown",
            reason=f"git generator repoURL {url} is not known to be this repository and matches nothing here",
        )
    return Result(sets=sets)


def _clusters(ctx: Context, gen: dict[str, Any]) -> Result:
    selector = gen.get("selector")
    candidates: list[tuple[str, str, str | None, dict[str, str], dict[str, str]]] = [
        (IN_CLUSTER_NAME, IN_CLUSTER_SERVER, None, {}, {})
    ]
    candidates += [(c.name, c.server, c.project, c.labels, c.annotations) for c in ctx.clusters]
    sets = []
    seen_servers: set[str] = set()
    for name, server, project, labels, notes in candidates:
        if server in seen_servers or not _selector_matches(selector, labels):
            continue
        seen_servers.add(server)
        if ctx.go:
            p: Params = {
                "name": name,
                "nameNormalized": normalize_name(name),
                "server": server,
                "metadata": {"labels": dict(labels), "annotations": dict(notes)},
            }
            if project:
                p["project"] = project
        else:
            p = {"name": name, "nameNormalized": normalize_name(name), "server": server}
            if project:
                p["project"] = project
            p.update({f"metadata.labels.{k}": v for k, v in labels.items()})
            p.update({f"metadata.annotations.{k}": v for k, v in notes.items()})
        sets.append(_with_values(ctx, p, gen.get("values")))
    return Result(
        sets=sets,
        expansion="partial",
        reason="clusters registered outside the repository (`argocd cluster add`, secrets not in git) are not known",
    )


def _merge_params(a: Params, b: Params) -> Params:
    out = copy.deepcopy(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge_params(out[k], v)
        else:
            out[k] = v
    return out


def _lookup(params: Params, key: str) -> Any:
    if key in params:
        return params[key]
    node: Any = params
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


KIND_OF = {
    "list": "list",
    "clusters": "clusters",
    "matrix": "matrix",
    "merge": "merge",
}


def expand(ctx: Context, raw: Any, dotted: str) -> tuple[Generator, Result]:
    """One generator entry -> its model and the parameter sets it yields."""
    gen_raw = raw if isinstance(raw, dict) else {}
    name = next((k for k in gen_raw if k not in ("selector", "template", "values")), "?")
    body = gen_raw.get(name) if isinstance(gen_raw.get(name), dict) else {}
    span = ctx.at(f"{dotted}.{name}")
    children: list[Generator] = []
    try:
        if name == "list":
            kind, result = "list", _list(ctx, body)
        elif name == "git":
            kind = "git-files" if "files" in body else "git-directories"
            result = _git(ctx, body)
        elif name == "clusters":
            kind, result = "clusters", _clusters(ctx, body)
        elif name == "matrix":
            kind, result = "matrix", _matrix(ctx, body, f"{dotted}.matrix", children)
        elif name == "merge":
            kind, result = "merge", _merge(ctx, body, f"{dotted}.merge", children)
        else:
            kind = "other"
            result = Result(expansion="unknown", reason=f"`{name}` generator reads input outside the repository")
    except Unsupported as exc:
        kind, result = KIND_OF.get(name, "other"), Result(expansion="unknown", reason=str(exc))
    except TemplateError as exc:
        kind, result = KIND_OF.get(name, "other"), Result(expansion="unknown", error=str(exc))
    if result.error:
        result.expansion, result.reason = "unknown", result.error
    if len(result.sets) > MAX_SETS:
        result = Result(expansion="unknown", reason=f"more than {MAX_SETS} parameter sets: not expanded")
    selector = gen_raw.get("selector")
    if selector and result.sets:
        result.sets = [p for p in result.sets if _selector_matches(selector, _string_labels(p))]
    model = Generator(
        kind=kind,  # type: ignore[arg-type]
        name=name,
        span=span,
        children=children,
        expansion=result.expansion,
        reason=result.reason,
        parameter_sets=len(result.sets),
    )
    return model, result


def _matrix(ctx: Context, body: dict[str, Any], dotted: str, children: list[Generator]) -> Result:
    gens = body.get("generators") or []
    if len(gens) != 2:
        return Result(expansion="unknown", error="matrix generator needs exactly two child generators")
    first, r1 = expand(ctx, gens[0], f"{dotted}.generators[0]")
    children.append(first)
    if r1.error:
        return Result(expansion="unknown", error=r1.error)
    out = Result(expansion=r1.expansion, reason=r1.reason)
    second_model: Generator | None = None
    for p1 in r1.sets:
        raw2 = render_strings(gens[1], lambda s, p1=p1: ctx.render(s, p1))  # type: ignore[misc]
        m2, r2 = expand(ctx, raw2, f"{dotted}.generators[1]")
        second_model = second_model or m2
        if r2.error:
            return Result(expansion="unknown", error=r2.error)
        out.expansion, out.reason = _worst(out, r2)
        out.sets += [_merge_params(p1, p2) for p2 in r2.sets]
        if len(out.sets) > MAX_SETS:
            children.append(m2)
            return Result(expansion="unknown", reason=f"more than {MAX_SETS} parameter sets: not expanded")
    if second_model is None:
        # for the model only: with no parameter set from the first, the product is empty
        second_model, _ = expand(ctx, gens[1], f"{dotted}.generators[1]")
    children.append(second_model)
    if out.expansion == "unknown":
        out.sets = []
    return out


def _merge(ctx: Context, body: dict[str, Any], dotted: str, children: list[Generator]) -> Result:
    keys = [str(k) for k in body.get("mergeKeys") or []]
    gens = body.get("generators") or []
    if not keys or len(gens) < 2:
        return Result(expansion="unknown", error="merge generator needs mergeKeys and at least two generators")
    results = []
    for i, g in enumerate(gens):
        m, r = expand(ctx, g, f"{dotted}.generators[{i}]")
        children.append(m)
        if r.error:
            return Result(expansion="unknown", error=r.error)
        results.append(r)
    base = results[0]
    out = Result(expansion=base.expansion, reason=base.reason)
    for r in results[1:]:
        out.expansion, out.reason = _worst(out, r)
    if out.expansion == "unknown":
        return out
    merged = [copy.deepcopy(p) for p in base.sets]
    for r in results[1:]:
        for p in r.sets:
            key = tuple(go_string(_lookup(p, k)) for k in keys)
            for i, b in enumerate(merged):
                if tuple(go_string(_lookup(b, k)) for k in keys) == key:
                    merged[i] = _merge_params(b, p)
    out.sets = merged
    return out
