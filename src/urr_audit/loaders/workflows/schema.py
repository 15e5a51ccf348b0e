"""Validation against the JSON schemas GitHub's workflow and action files are published with.

The schemas are the ones the `check-jsonschema` package ships as data (SchemaStore's
`github-workflows.json` and `github-actions.json`), read from the installed package's files
without importing it. `fits` answers whether a document is valid from predicates compiled from
the schema; only a document that is not is handed to `jsonschema`, which says why (its import
costs more CPU than validating a dozen workflows, and a valid workflow never pays it). Nothing is
read or imported for `--help` or a repository without workflows. When the package is absent,
validation is skipped and `available()` says so.

Messages are the best error of each failing branch (jsonschema's `best_match` descends through
`anyOf`/`oneOf`), phrased briefly, and anchored at the offending key's line.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import re
from functools import cache
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any

from urr_audit.loaders.workflows import fits
from urr_audit.model.workflows import SchemaViolation

if TYPE_CHECKING:
    from urr_audit.loaders.workflows.positions import Located

WORKFLOW_SCHEMA = "github-workflows.json"
ACTION_SCHEMA = "github-actions.json"
MAX_PER_FILE = 20


def schema_file(name: str) -> FsPath | None:
    spec = importlib.util.find_spec("check_jsonschema")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = FsPath(next(iter(spec.submodule_search_locations))) / "builtin_schemas" / "vendor" / name
    return path if path.is_file() else None


def available() -> bool:
    return schema_file(WORKFLOW_SCHEMA) is not None


@cache
def _schema(name: str) -> Any:
    path = schema_file(name)
    return None if path is None else json.loads(path.read_text(encoding="utf-8"))


@cache
def _validator(name: str) -> Any:
    schema = _schema(name)
    if schema is None:
        return None
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


@cache
def _predicate(name: str) -> fits.Predicate | None:
    schema = _schema(name)
    return None if schema is None else fits.compile_schema(schema)


def _type_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    return "mapping" if isinstance(v, dict) else "sequence"


def _short(v: Any, n: int = 60) -> str:
    s = json.dumps(v, default=str) if not isinstance(v, str) else v
    return s if len(s) <= n else s[: n - 3] + "..."


_EXPRESSION_PATTERN = "^\\$\\{\\{"
_LEAF = frozenset({"type", "pattern", "enum", "const"})


def _wanted(err: Any) -> str:
    """What a leaf error wanted, for "expected A or B"."""
    v = err.validator
    if v == "type":
        return err.validator_value if isinstance(err.validator_value, str) else " or ".join(err.validator_value)
    if v == "pattern":
        if str(err.validator_value).startswith(_EXPRESSION_PATTERN):
            return "a `${{ }}` expression"
        return f"text matching `{err.validator_value}`"
    if v == "enum":
        return "one of: " + ", ".join(_short(o, 30) for o in err.validator_value[:10])
    return f"`{_short(err.validator_value)}`"


def _leaves(err: Any) -> list[Any]:
    """The errors to report for one failure: inside `anyOf`/`oneOf`, every error of the branch
    that fits best (the branch holding jsonschema's best match), recursively; a union of simple
    alternatives at the same place (number or expression) stays one error."""
    if err.validator in ("anyOf", "oneOf") and err.context:
        if all(c.validator in _LEAF and c.absolute_path == err.absolute_path for c in err.context):
            return [err]
        from jsonschema.exceptions import best_match

        best = best_match([err])
        while best.parent is not None and best.parent is not err:
            best = best.parent
        if best is err or best.parent is not err:
            branch = _closest_branch(err)
            if branch is None:
                return [err]
        else:
            branch = best.relative_schema_path[0] if best.relative_schema_path else None
        chosen = [c for c in err.context if c.relative_schema_path and c.relative_schema_path[0] == branch]
        return [leaf for c in chosen or [best] for leaf in _leaves(c)]
    return [err]


def _closest_branch(err: Any) -> Any:
    """When jsonschema cannot rank the branches (all fail at the same depth): the one with the
    fewest errors, preferring branches whose discriminator (an enum or const, such as
    `runs.using`) matched."""
    by_branch: dict[Any, list[Any]] = {}
    for c in err.context:
        if c.relative_schema_path:
            by_branch.setdefault(c.relative_schema_path[0], []).append(c)
    if not by_branch:
        return None

    def key(item: tuple[Any, list[Any]]) -> tuple[bool, int, str]:
        branch, errs = item
        return (any(e.validator in ("enum", "const") for e in errs), len(errs), str(branch))

    return min(by_branch.items(), key=key)[0]


def _messages(err: Any) -> list[tuple[str, tuple[Any, ...]]]:
    """Brief messages and the path of the value each is about."""
    path = tuple(err.absolute_path)
    v, inst = err.validator, err.instance
    if v == "additionalProperties" and isinstance(inst, dict):
        allowed = set((err.schema.get("properties") or {}).keys())
        extra = [k for k in inst if k not in allowed]
        patterns = err.schema.get("patternProperties") or {}
        if patterns:
            extra = [k for k in extra if not any(re.search(p, str(k)) for p in patterns)]
        out = []
        for key in extra:
            close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
            if close:
                hint = f" (did you mean `{close[0]}`?)"
            elif 0 < len(allowed) <= 30:
                hint = f" (expected one of: {', '.join(sorted(allowed))})"
            else:
                hint = ""
            out.append((f"unexpected key `{key}`{hint}", (*path, key)))
        if out:
            return out
    if v == "required":
        return [(err.message.replace("'", "`").replace(" is a required property", " is required"), path)]
    if v in ("anyOf", "oneOf") and err.context and all(c.validator in _LEAF for c in err.context):
        wanted = " or ".join(dict.fromkeys(_wanted(c) for c in err.context))
        return [(f"expected {wanted}, found {_type_name(inst)} `{_short(inst)}`", path)]
    if v in _LEAF:
        return [(f"expected {_wanted(err)}, found {_type_name(inst)} `{_short(inst)}`", path)]
    if v in ("minItems", "minProperties") and not inst:
        return [("must not be empty", path)]
    if v in ("oneOf", "anyOf"):
        same_place = [c for c in err.context if c.absolute_path == err.absolute_path]
        if same_place and all(c.validator == "required" for c in same_place):
            missing = list(dict.fromkeys(str(c.message).split("'")[1] for c in same_place if "'" in str(c.message)))
            return [("needs " + " or ".join(f"`{m}`" for m in missing), path)]
        return [(f"`{_short(inst)}` fits none of the allowed forms", path)]
    msg = err.message
    return [((msg if len(msg) <= 200 else msg[:197] + "..."), path)]


def _drop_typo_required(found: list[tuple[str, tuple[Any, ...]]]) -> list[tuple[str, tuple[Any, ...]]]:
    """`runs_on` for `runs-on` is one mistake: keep the unexpected key, drop the missing one."""
    hinted = {(p[:-1], m.split("did you mean `", 1)[1].split("`", 1)[0]) for m, p in found if "did you mean" in m}
    return [
        (m, p)
        for m, p in found
        if not (m.endswith(" is required") and (p, m.split("`")[1] if "`" in m else "") in hinted)
    ]


def _location(path: tuple[Any, ...]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(document)"


def validate(data: Any, located: Located, schema: str = WORKFLOW_SCHEMA) -> list[SchemaViolation]:
    predicate = _predicate(schema)
    if predicate is not None and fits.fits(predicate, data) is True:
        return []
    validator = _validator(schema)
    if validator is None:
        return []
    seen: set[tuple[int, str]] = set()
    out: list[SchemaViolation] = []
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    found = [m for err in errors for leaf in _leaves(err) for m in _messages(leaf)]
    for message, path in _drop_typo_required(found):
        span = located.span(path)
        pos = located.doc.at(path)
        key = (span.line, message)
        if key in seen:
            continue
        seen.add(key)
        out.append(
            SchemaViolation(
                span=span.model_copy(update={"end_line": span.line}),
                column=pos.key_column if pos is not None else 1,
                message=message,
                location=_location(path),
            )
        )
        if len(out) >= MAX_PER_FILE:
            break
    out.sort(key=lambda s: (s.span.line, s.column, s.message))
    return out
