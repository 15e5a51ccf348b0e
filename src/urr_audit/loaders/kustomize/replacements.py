"""kustomize's `replacements` (api/filters/replacement) and legacy `vars` (refvar), as
`kubectl kustomize` (kustomize v5) applies them.

Replacements copy one field of a source object into fields of target objects:

- the source is the one object whose id (current or former name) a selector picks
  (group/version/kind/name/namespace, exact); `fieldPath` defaults to `metadata.name`;
  `options.delimiter` + `index` take one part of a scalar;
- targets are picked by `select` minus `reject` (ids, label and annotation selectors); each
  of their `fieldPaths` (kyaml path syntax: `a.b`, `[name=re]` list entries with an anchored
  regex, `N` positions, `*` every list entry, `[a.b/c]` keys holding dots) must exist unless
  `options.create`; a scalar target keeps its type and takes the source's text, a created
  field takes the text as YAML would read it; `delimiter` + `index` replace one part of the
  target's text (a negative index prepends, one past the end appends).

Vars (`$(NAME)` in the fields of `VAR_REFERENCES`) are collected across the whole build and
resolved once at the end, after hash suffixes and name references: each var reads a field of
the object its objref names (by any of its ids), `$$` escapes a `$`, an unknown name stays as
written, and a whole-field reference keeps the value's type (an int port stays an int).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML

from urr_audit.loaders.kustomize.resource import Res
from urr_audit.loaders.kustomize.util import deep_copy
from urr_audit.model.common import Span


class ReplacementError(Exception):
    """What kustomize refuses (a missing source field, an ambiguous source, a target field
    that does not exist): the message is kustomize's, in our words."""


# --- selection ---------------------------------------------------------------------------


def _gv(api_version: str) -> tuple[str, str]:
    return tuple(api_version.split("/", 1)) if "/" in api_version else ("", api_version)  # type: ignore[return-value]


def selector_id(sel: dict) -> dict[str, str]:
    """A ResId selector (group/version/kind/name/namespace) from a kustomization mapping;
    `apiVersion` stands for group and version (vars' objref)."""
    out = {k: str(sel[k]) for k in ("group", "version", "kind", "name", "namespace") if sel.get(k) not in (None, "")}
    if sel.get("apiVersion") and "group" not in out and "version" not in out:
        group, version = _gv(str(sel["apiVersion"]))
        if group:
            out["group"] = group
        out["version"] = version
    return out


def _effective_ns(r: Res, ns: str) -> str:
    return r.effective_ns(ns)


def selected_by(r: Res, sel: dict[str, str]) -> bool:
    """kustomize's ResId.IsSelectedBy over every id the object has had (current and former)."""
    if sel.get("group", r.group) != r.group or sel.get("version", r.version) != r.version:
        return False
    if sel.get("kind", r.kind) != r.kind:
        return False
    for ns, name in r.ids():
        if "name" in sel and sel["name"] != name:
            continue
        if "namespace" in sel and r.namespaced and (sel["namespace"] or "default") != ns:
            continue
        return True
    return False


def _map_selector_matches(selector: Any, labels: Any, matches: Callable[[str, dict], bool]) -> bool:
    return not selector or matches(str(selector), labels if isinstance(labels, dict) else {})


# --- paths ---------------------------------------------------------------------------------


def split_path(path: str) -> list[str]:
    """kyaml's SmarterPathSplitter: `.` separates parts except inside `[...]`; a bracketed part
    without `=` is a plain key that may hold dots (`[app.kubernetes.io/name]`)."""
    parts: list[str] = []
    cur, depth = "", 0
    for ch in path:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(depth - 1, 0)
        if ch == "." and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p[1:-1] if p.startswith("[") and p.endswith("]") and "=" not in p else p for p in parts]


def _is_entry(part: str) -> bool:
    return part.startswith("[") and part.endswith("]") and "=" in part


def _label(parent: list, i: int) -> str:
    item = parent[i]
    if isinstance(item, dict) and "name" in item and not isinstance(item["name"], (dict, list)):
        return f"[name={item['name']}]"
    return f"[{i}]"


def _join(dotted: str, key: str) -> str:
    return f"{dotted}.{key}" if dotted else key


@dataclass
class Slot:
    """A place a value can be written: `parent[key]`, `created` when the path made it."""

    parent: dict | list
    key: Any
    dotted: str
    created: bool = False


class _WrongKind(Exception):
    pass


MISSING = object()


def _new_container(next_part: str | None) -> dict | list | None:
    if next_part is None:
        return None
    return [] if _is_entry(next_part) or next_part.isdigit() or next_part == "*" else {}


def target_slots(node: Any, parts: list[str], create: bool) -> list[Slot]:
    """kyaml's PathMatcher: every place `parts` leads to in `node`; with `create`, missing
    mapping fields and list entries `[k=v]` are made on the way."""
    out: list[Slot] = []

    def walk(cur: Any, i: int, dotted: str) -> None:
        part = parts[i]
        last = i == len(parts) - 1
        nxt = None if last else parts[i + 1]
        if isinstance(cur, dict):
            if _is_entry(part) or part == "*" or part.isdigit():
                raise _WrongKind(f"wrong node kind: expected a list at {dotted or 'the object'}, found a mapping")
            here = _join(dotted, part)
            if part not in cur or (cur[part] is None and not last):
                if not create:
                    return
                if last:
                    out.append(Slot(cur, part, here, created=True))
                    return
                cur[part] = _new_container(nxt)
            if last:
                out.append(Slot(cur, part, here))
            else:
                walk(cur[part], i + 1, here)
            return
        if isinstance(cur, list):
            if part == "*":
                indices = list(range(len(cur)))
            elif part.isdigit():
                indices = [int(part)] if int(part) < len(cur) else []
            elif _is_entry(part):
                key, _, want = part[1:-1].partition("=")
                try:
                    pattern = re.compile(f"^(?:{want})$")
                except re.error:
                    pattern = re.compile(re.escape(want))
                if key:
                    indices = [
                        j
                        for j, item in enumerate(cur)
                        if isinstance(item, dict) and key in item and pattern.match(_text(item[key]))
                    ]
                else:
                    indices = [
                        j
                        for j, item in enumerate(cur)
                        if not isinstance(item, (dict, list)) and pattern.match(_text(item))
                    ]
                if not indices and create:
                    cur.append({key: want} if key else want)
                    indices = [len(cur) - 1]
            else:
                raise _WrongKind(f"wrong node kind: expected a mapping at {dotted}, found a list")
            for j in indices:
                here = dotted + _label(cur, j)
                if last:
                    out.append(Slot(cur, j, here))
                else:
                    walk(cur[j], i + 1, here)

    try:
        walk(node, 0, "")
    except _WrongKind as exc:
        raise ReplacementError(str(exc)) from exc
    return out


def lookup(node: Any, parts: list[str]) -> tuple[Any, str]:
    """kyaml's Lookup (PathGetter): the value at `parts` and its dotted path; `MISSING` when
    absent. List entries `[k=v]` match exactly; `N` is a position."""
    dotted = ""
    cur = node
    for part in parts:
        if isinstance(cur, dict) and not _is_entry(part):
            if part not in cur:
                return MISSING, dotted
            cur, dotted = cur[part], _join(dotted, part)
        elif isinstance(cur, list) and (_is_entry(part) or part.isdigit()):
            if part.isdigit():
                j = int(part)
                if j >= len(cur):
                    return MISSING, dotted
            else:
                key, _, want = part[1:-1].partition("=")
                found = next(
                    (
                        j
                        for j, item in enumerate(cur)
                        if isinstance(item, dict) and _text(item.get(key, MISSING)) == want
                    ),
                    None,
                )
                if found is None:
                    return MISSING, dotted
                j = found
            dotted += _label(cur, j)
            cur = cur[j]
        else:
            return MISSING, dotted
    return cur, dotted


# --- values ----------------------------------------------------------------------------------


def _text(v: Any) -> str:
    """The text kyaml keeps for a scalar node (`yaml.GetValue`)."""
    if v is MISSING or v is None or isinstance(v, (dict, list)):
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


_PLAIN = YAML(typ="safe", pure=True)
_PLAIN_SAFE = re.compile(r"^[^\s:#{}\[\],&*!|>'\"%@`]([^:#]|:(?!\s)|#(?<!\s#))*$")


def read_plain(text: str) -> Any:
    """What a plain (unquoted, untagged) scalar with this text reads as: kustomize writes a
    created field without a tag, so `5432` comes back as a number."""
    if text == "":
        return ""
    if not _PLAIN_SAFE.match(text):
        return text
    try:
        value = _PLAIN.load(text)
    except Exception:  # noqa: BLE001 -- not a scalar YAML reads: it stays text
        return text
    return value if isinstance(value, (str, int, float, bool)) or value is None else text


def _set(slot: Slot, value: Any, options: dict) -> None:
    """kustomize's setFieldValue."""
    cur = MISSING if slot.created else slot.parent[slot.key]  # type: ignore[index]
    value = deep_copy(value)
    delimiter = str(options.get("delimiter") or "")
    if delimiter:
        if isinstance(cur, (dict, list)):
            raise ReplacementError("delimiter option can only be used with scalar nodes")
        parts = _text(cur).split(delimiter)
        index = _int(options.get("index"))
        v = _text(value)
        if index < 0:
            parts = [v, *parts]
        elif index >= len(parts):
            parts.append(v)
        else:
            parts[index] = v
        value = delimiter.join(parts)
    if cur is MISSING:
        new = read_plain(_text(value)) if not isinstance(value, (dict, list)) else value
    elif isinstance(cur, (dict, list)):
        new = value
    elif isinstance(cur, str):
        new = _text(value)
    else:  # a typed scalar keeps its tag: the text is read again as that type would be
        new = read_plain(_text(value))
    slot.parent[slot.key] = new  # type: ignore[index]


def _int(v: Any) -> int:
    try:
        return int(v or 0)
    except (TypeError, ValueError):
        return 0


# --- replacements --------------------------------------------------------------------------


def _select_source(resources: list[Res], source: dict) -> Res:
    sel = selector_id(source)
    hits = [r for r in resources if selected_by(r, sel)]
    what = "/".join(sel.get(k, "") for k in ("kind", "name")) or "{}"
    if not hits:
        raise ReplacementError(f"replacement source {what}: no object selected")
    if len(hits) > 1:
        raise ReplacementError(f"replacement source {what}: several objects selected")
    return hits[0]


def source_value(resources: list[Res], source: dict) -> tuple[Any, Res, str]:
    """(value, source object, dotted path of the field) of a replacement's source."""
    r = _select_source(resources, source)
    field_path = str(source.get("fieldPath") or "metadata.name")
    value, dotted = lookup(r.body, split_path(field_path))
    if value is MISSING or value is None or value == {} or value == []:
        raise ReplacementError(f"fieldPath {field_path!r} is missing for replacement source {r.kind} {r.name!r}")
    options = source.get("options") if isinstance(source.get("options"), dict) else {}
    delimiter = str(options.get("delimiter") or "")
    if delimiter:
        if isinstance(value, (dict, list)):
            raise ReplacementError("delimiter option can only be used with scalar nodes")
        parts = _text(value).split(delimiter)
        index = _int(options.get("index"))
        if index < 0 or index >= len(parts):
            raise ReplacementError(f"options.index {index} is out of bounds for value {_text(value)!r}")
        value = parts[index]
    return value, r, dotted


def targets(resources: list[Res], target: dict, matches: Callable[[str, dict], bool]) -> Iterator[Res]:
    select = target.get("select")
    if not isinstance(select, dict):
        raise ReplacementError("a replacement target must say which objects it selects (`select`)")
    sel = selector_id(select)
    rejects = [r for r in target.get("reject") or [] if isinstance(r, dict)]
    for r in resources:
        if not _map_selector_matches(select.get("labelSelector"), r.meta.get("labels"), matches):
            continue
        if not _map_selector_matches(select.get("annotationSelector"), r.meta.get("annotations"), matches):
            continue
        if any(
            (rej.get("labelSelector") or rej.get("annotationSelector"))
            and _map_selector_matches(rej.get("labelSelector"), r.meta.get("labels"), matches)
            and _map_selector_matches(rej.get("annotationSelector"), r.meta.get("annotations"), matches)
            for rej in rejects
        ):
            continue
        if not selected_by(r, sel):
            continue
        if any(selector_id(rej) and selected_by(r, selector_id(rej)) for rej in rejects):
            continue
        yield r


def apply_replacement(
    resources: list[Res], rep: dict, why: Callable[[Res, str], Span], matches: Callable[[str, dict], bool]
) -> None:
    """Apply one replacement in place. `why(source, dotted)` is where the copied value is
    written: recorded as the origin of every field it lands in, since that is where a user
    changes what the target receives."""
    source = rep.get("source")
    if not isinstance(source, dict):
        raise ReplacementError("a replacement needs a `source`")
    value, src, src_path = source_value(resources, source)
    origin = why(src, src_path)
    for target in rep.get("targets") or []:
        if not isinstance(target, dict):
            continue
        options = target.get("options") if isinstance(target.get("options"), dict) else {}
        paths = [str(p) for p in target.get("fieldPaths") or []] or ["metadata.name"]
        for r in targets(resources, target, matches):
            for fp in paths:
                slots = target_slots(r.body, split_path(fp), bool(options.get("create")))
                if not slots:
                    verb = "find or create" if options.get("create") else "find"
                    raise ReplacementError(f"unable to {verb} field {fp!r} in replacement target {r.kind} {r.name!r}")
                for slot in slots:
                    _set(slot, value, options)
                    r.origins[slot.dotted] = origin


# --- vars ------------------------------------------------------------------------------------

_POD_FIELDS = (
    "containers/args",
    "containers/command",
    "containers/env/value",
    "containers/volumeMounts/mountPath",
    "initContainers/args",
    "initContainers/command",
    "initContainers/env/value",
    "initContainers/volumeMounts/mountPath",
)
_POD_SPECS = {
    "Deployment": "spec/template/spec",
    "StatefulSet": "spec/template/spec",
    "DaemonSet": "spec/template/spec",
    "ReplicaSet": "spec/template/spec",
    "Job": "spec/template/spec",
    "CronJob": "spec/jobTemplate/spec/template/spec",
    "Pod": "spec",
}
# kustomize's varReference field specs (kind None: every kind), as `kubectl kustomize`
# substitutes them: measured field by field against it (tests/loaders/kustomize).
VAR_REFERENCES: tuple[tuple[str, str | None], ...] = (
    ("metadata/labels", None),
    ("metadata/annotations", None),
    *((f"{pod}/{f}", kind) for kind, pod in _POD_SPECS.items() for f in _POD_FIELDS),
    *(
        (f"{pod}/volumes/nfs/server", kind)
        for kind, pod in _POD_SPECS.items()
        if kind not in ("StatefulSet", "CronJob")
    ),
    ("spec/template/metadata/annotations", "Deployment"),
    ("spec/rules/host", "Ingress"),
    ("spec/tls/hosts", "Ingress"),
    ("spec/tls/secretName", "Ingress"),
    ("spec/ports/targetPort", "Service"),
    ("spec/nfs/server", "PersistentVolume"),
)


def expand(text: str, mapping: dict[str, Any], used: set[str]) -> Any:
    """kustomize's expansion.Expand: `$(NAME)` -> its value, `$$` -> `$`; a field that is
    exactly `$(NAME)` takes the value with its type."""
    out: list[str] = []
    checkpoint = 0
    cursor = 0
    n = len(text)
    while cursor < n:
        if text[cursor] == "$" and cursor + 1 < n:
            out.append(text[checkpoint:cursor])
            rest = text[cursor + 1 :]
            if rest[0] == "$":
                read, is_var, advance = "$", False, 1
            elif rest[0] == "(":
                close = rest.find(")", 1)
                if close == -1:
                    read, is_var, advance = "$(", False, 1
                else:
                    read, is_var, advance = rest[1:close], True, close + 1
            else:
                read, is_var, advance = "$" + rest[0], False, 1
            if is_var:
                if read in mapping and isinstance(mapping[read], (str, int, float, bool)):
                    used.add(read)
                    mapped: Any = mapping[read]
                else:
                    mapped = f"$({read})"
                if text == f"$({read})":
                    return mapped
                out.append(_go_format(mapped))
            else:
                out.append(read)
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    return "".join(out) + text[checkpoint:]


def _go_format(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def field_value(body: Any, fieldpath: str) -> tuple[Any, str]:
    """kyaml's GetFieldValue: `.`-separated parts, `name[N]` for a list position."""
    parts: list[str] = []
    for part in fieldpath.split("."):
        m = re.fullmatch(r"(.*)\[(\d+)\]", part)
        if m:
            parts += [m.group(1), m.group(2)] if m.group(1) else [m.group(2)]
        else:
            parts.append(part)
    return lookup(body, parts)


def var_sites(r: Res) -> Iterator[tuple[dict | list, Any, str]]:
    """(holder, key, dotted path) of every value in a var-reference field of `r`."""
    for path, kind in VAR_REFERENCES:
        if kind is not None and r.kind != kind:
            continue
        yield from _walk_sites(r.body, path.split("/"), "")


def _walk_sites(node: Any, parts: list[str], dotted: str) -> Iterator[tuple[dict | list, Any, str]]:
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk_sites(item, parts, dotted + _label(node, i))
        return
    if not isinstance(node, dict) or not parts:
        return
    head = parts[0]
    if head not in node or node[head] is None:
        return
    here = _join(dotted, head)
    if len(parts) > 1:
        yield from _walk_sites(node[head], parts[1:], here)
        return
    value = node[head]
    if isinstance(value, list):
        for i in range(len(value)):
            yield value, i, here + f"[{i}]"
    elif isinstance(value, dict):
        for k in value:
            yield value, k, _join(here, str(k))
    else:
        yield node, head, here


def substitute_vars(resources: list[Res], values: dict[str, Any], origins: dict[str, Span]) -> set[str]:
    """Replace `$(NAME)` in every var-reference field; returns the names used. Raises
    ReplacementError where kustomize refuses (a non-string in a list of strings)."""
    used: set[str] = set()
    for r in resources:
        for holder, key, dotted in list(var_sites(r)):
            v = holder[key]
            if isinstance(v, str):
                names: set[str] = set()
                new = expand(v, values, names)
                used |= names
                if new != v:
                    holder[key] = new
                    origin = next((origins[n] for n in sorted(names) if n in origins), None)
                    if origin is not None:
                        r.origins[dotted] = origin
            elif isinstance(holder, list) and v is not None:
                raise ReplacementError(f"{r.kind} {r.name!r}: {dotted} holds {v!r}, not a string")
    return used
