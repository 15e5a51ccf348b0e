"""`urr-audit checks list`: the check templates a rule file can configure, with their scope,
the resource types or kinds they apply to, their params (type, default) and the rules using
them, so a team can write rules without reading the code."""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticUndefined, to_jsonable_python

from urr_audit.catalog import Rule
from urr_audit.checks.api import CheckSpec
from urr_audit.wording import value_text


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if not getattr(annotation, "__args__", None) else None
    text = text or str(annotation)
    return text.replace("typing.", "").replace("NoneType", "None")


def check_entries(checks: dict[str, CheckSpec], rules: list[Rule]) -> list[dict[str, Any]]:
    used: dict[str, list[str]] = {}
    for r in rules:
        used.setdefault(r.check, []).append(r.id)
    out = []
    for name in sorted(checks):
        spec = checks[name]
        params = []
        for pname, fld in spec.params.model_fields.items():
            required = fld.default is PydanticUndefined and fld.default_factory is None
            default = None if required else (fld.default_factory() if fld.default_factory else fld.default)  # type: ignore[call-arg]
            params.append(
                {
                    "name": pname,
                    "type": _type_name(fld.annotation),
                    "required": required,
                    "default": to_jsonable_python(default),  # nested models and lists of them
                }
            )
        out.append(
            {
                "name": name,
                "scope": spec.scope,
                "types": list(spec.types),
                "closed_world": spec.closed_world,
                "doc": spec.doc,
                "params": params,
                "rules": sorted(used.get(name, [])),
                "module": spec.module,
            }
        )
    return out


def render_checks(entries: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for e in entries:
        lines.append(f"{e['name']}  (scope: {e['scope']})")
        doc = " ".join(e["doc"].split())
        if doc:
            lines.append(f"  {doc}")
        if e["types"]:
            lines.append(f"  applies to: {', '.join(e['types'])}")
        if e["closed_world"]:
            lines.append(f"  concludes from absence: undecided where a {e['closed_world']} environment is incomplete")
        for p in e["params"]:
            default = "required" if p["required"] else f"default {value_text(p['default'], code=True)}"
            lines.append(f"  param {p['name']}: {p['type']} ({default})")
        if not e["params"]:
            lines.append("  no params")
        lines.append(f"  used by: {', '.join(e['rules']) or 'no rule'}")
        lines.append("")
    lines.append("A rule file names one of these in `check:` and sets its params; see `urr-audit rules explain ID`.")
    return "\n".join(line.rstrip() for line in lines) + "\n"
