"""The policy catalog: one YAML file per rule, shipped inside the wheel.

A rule is data: id, title, severity, category, rationale, remediation, references, and the
check template it configures with its params. Teams add rules with `--rules DIR` without
writing code.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from urr_audit.model.common import Confidence, Severity

RULE_ID = re.compile(r"^URR-(TF|K8S|GHA|DOCKER|ARGO|X|SUP|IO)-\d{3}$|^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*-\d{3}$")


class CatalogError(Exception):
    """A rule file that cannot be used: a configuration error (exit code 2)."""


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    severity: Severity
    confidence: Confidence | None = None  # how sure the rule is, when it says (zizmor's second axis)
    category: str
    check: str
    params: dict[str, Any] = Field(default_factory=dict)
    rationale: str
    remediation: str
    references: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)  # former ids, still accepted by --select/--ignore
    # Environment scoping (regexes, full match): a rule about production hardening can skip a
    # local `kind` overlay, a prod-only rule can name its environments.
    environments: list[str] = Field(default_factory=list)
    skip_environments: list[str] = Field(default_factory=list)
    # Path scoping (regexes searched in the finding's repo-relative path), e.g. to leave
    # `examples/` and `tests/` roots out of a rule about deployed environments.
    skip_paths: list[str] = Field(default_factory=list)
    source: str = ""  # the YAML file it came from

    @field_validator("environments", "skip_environments", "skip_paths")
    @classmethod
    def _regexes(cls, v: list[str]) -> list[str]:
        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from exc
        return v

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not RULE_ID.match(v):
            raise ValueError(f"rule id {v!r} must look like URR-TF-001")
        return v


def builtin_rules_dir() -> Path:
    """`urr_audit/_rules` inside an installed wheel, else the repository's `rules/`."""
    here = Path(__file__).resolve().parent
    packaged = here / "_rules"
    if packaged.is_dir():
        return packaged
    return here.parent.parent / "rules"


@cache
def _yaml(pure: bool) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=pure)


def load_yaml_text(text: str) -> Any:
    """A rule file's data. libyaml (ruamel's C loader) reads the catalog about five times faster
    than the pure-Python one, which matters at every start; it follows YAML 1.1 and refuses some
    YAML 1.2 a team may write (`[https://x, ::/0]` in a flow list), so those files are read again
    by the pure loader, which decides."""
    try:
        return _yaml(False).load(text)
    except Exception:  # noqa: BLE001 -- any refusal: the pure loader gives the real answer
        return _yaml(True).load(text)


def load_rule_file(path: Path) -> Rule:
    try:
        data = load_yaml_text(path.read_text(encoding="utf-8"))
    except Exception as exc:  # ruamel raises many types; all mean "not valid YAML"
        raise CatalogError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: a rule file must be a mapping")
    try:
        return Rule.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        raise CatalogError(_problems(path, exc)) from exc


def _problems(path: Path, exc: ValidationError) -> str:
    """One line per problem: the file, the key, what is wrong, and the closest known key."""
    import difflib

    known = sorted(k for k in Rule.model_fields if k != "source")
    lines = []
    for err in exc.errors():
        key = ".".join(str(x) for x in err["loc"]) or "(file)"
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(err["loc"][0]), known, n=1, cutoff=0.6)
            what = f"unknown key{f' (did you mean {close[0]!r}?)' if close else ''}; known: {', '.join(known)}"
        elif err["type"] == "missing":
            what = "required key missing"
        else:
            what = err["msg"].removeprefix("Value error, ")
            if err["type"] == "enum" and key == "severity":
                what += f" (got {err.get('input')!r})"
        lines.append(f"{path}: {key}: {what}")
    return "\n".join(lines)


def load_rules(extra_dirs: tuple[Path, ...] = ()) -> list[Rule]:
    rules = list(_builtin_rules())
    problems: list[str] = []
    for d in extra_dirs:
        if not d.is_dir():
            problems.append(f"{d}: not a directory of rule files")
            continue
        for p in sorted(d.glob("*.yaml")):
            try:
                rules.append(load_rule_file(p))
            except CatalogError as exc:
                problems.append(str(exc))
    seen: dict[str, str] = {}
    for r in rules:
        for key in (r.id, *r.aliases):
            if key in seen:
                problems.append(f"{r.source}: id: rule id {key} already used by {seen[key]}")
            seen[key] = r.source
    if problems:
        raise CatalogError("\n".join(problems))
    return sorted(rules, key=lambda r: r.id)


@cache
def _builtin_rules() -> tuple[Rule, ...]:
    d = builtin_rules_dir()
    return tuple(load_rule_file(p) for p in sorted(d.glob("*.yaml")))


def applies_to(rule: Rule, environment: str | None, path: str = "") -> bool:
    """Whether a finding at `path` in `environment` (None: not about one) is in the rule's scope."""
    if path and any(re.search(p, path) for p in rule.skip_paths):
        return False
    if environment is None:
        return True
    if rule.environments and not any(re.fullmatch(p, environment) for p in rule.environments):
        return False
    return not any(re.fullmatch(p, environment) for p in rule.skip_environments)


def matches(rule: Rule, patterns: list[str]) -> bool:
    """`URR-TF` selects every URR-TF-* rule, and `URR-GHA-05` every URR-GHA-05x one (as ruff's
    `E5` selects E501): ids and aliases match exactly, by whole parts, or by leading digits."""
    keys = (rule.id.upper(), *(a.upper() for a in rule.aliases))
    ups = [p.upper() for p in patterns]
    return any(
        k == p or k.startswith(p.rstrip("-") + "-") or (p[-1:].isdigit() and k.startswith(p)) for p in ups for k in keys
    )
