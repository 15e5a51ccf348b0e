"""Offline `terraform validate`: resources checked against their provider's schema table.

What Terraform rejects before any plan: an argument or block a resource type does not have, an
argument where the schema has a block (or the reverse), a read-only attribute given a value,
more blocks than allowed, a required argument or block missing, a type the provider does not
offer. Each module is checked with its own code (a module's arguments are its own; values
come from callers, and rules about values are elsewhere), against the tables its roots select
(see `_providers`): an issue is reported only when it holds in every table the configuration
may be given, and is undecided when a later release than the newest table may be the one used.

Meta-arguments (`count`, `for_each`, `provider`, `depends_on`, `lifecycle`, `provisioner`,
`connection`) are Terraform's, not the provider's; `lifecycle` is checked against Terraform's
own schema. `dynamic "x"` blocks count as `x` blocks, their `content` checked as one; `.tf.json`
is read the way Terraform reads it, with the schema deciding what is a block.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._providers import (
    Root,
    constraint_span,
    module_address,
    prefixed,
    resources_by_source,
    roots_of,
)
from urr_audit.model.common import Span
from urr_audit.model.project import Project
from urr_audit.model.terraform import Attribute, Block, ModuleDir, Resource
from urr_audit.providers import BlockSchema, Selection, Table, majors, table

RESOURCE_META_ATTRIBUTES = frozenset({"count", "for_each", "provider", "depends_on"})
RESOURCE_META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection"})
DATA_META_BLOCKS = frozenset({"lifecycle"})
_CONDITION = BlockSchema()  # precondition/postcondition: condition, error_message (not checked further)
_LIFECYCLE_RESOURCE = {
    "attributes": frozenset({"create_before_destroy", "prevent_destroy", "ignore_changes", "replace_triggered_by"}),
    "blocks": frozenset({"precondition", "postcondition", "action_trigger"}),
}
_LIFECYCLE_DATA = {"attributes": frozenset[str](), "blocks": frozenset({"precondition", "postcondition"})}

IssueKind = Literal[
    "unknown",
    "unknown-block",
    "read-only",
    "block-as-argument",
    "argument-as-block",
    "too-many",
    "missing",
    "missing-block",
]
_MISSING = frozenset({"missing", "missing-block"})
_LIFTABLE = frozenset({"unknown", "unknown-block", "read-only", "missing", "missing-block"})


@dataclass(frozen=True)
class Issue:
    kind: IssueKind
    span: Span
    name: str
    where: str = ""  # the nested block path, "" at the top level: "root_block_device", "a.b"

    @property
    def key(self) -> tuple[str, str, int, str, str]:
        return (self.kind, self.span.path, self.span.line, self.name, self.where)


def _json_value(attr: Attribute) -> Any:
    try:
        return json.loads(attr.expr.text)
    except ValueError:
        return None


class _Validator:
    def __init__(self, is_json: bool):
        self.is_json = is_json
        self.issues: list[Issue] = []

    def body(
        self,
        block: Block,
        schema: BlockSchema,
        where: str,
        meta_attributes: frozenset[str] = frozenset(),
        meta_blocks: frozenset[str] = frozenset(),
        lifecycle: dict[str, frozenset[str]] | None = None,
        required: bool = True,
    ) -> None:
        add = self.issues.append
        for name, attr in block.attributes.items():
            if name in meta_attributes:
                continue
            a = schema.attributes.get(name)
            bt = schema.blocks.get(name)
            if a is not None:
                if a.computed:
                    add(Issue("read-only", attr.span, name, where))
            elif bt is not None:
                if self.is_json:  # JSON syntax: an object (or list of them) for a block
                    self.json_blocks(_json_value(attr), bt.nested, bt.max_items, attr.span, name, _join(where, name))
                else:
                    add(Issue("block-as-argument", attr.span, name, where))
            else:
                add(Issue("unknown", attr.span, name, where))
        literal: Counter[str] = Counter()
        second: dict[str, Span] = {}
        dynamic: set[str] = set()
        for b in block.blocks:
            if b.type in meta_blocks:
                if b.type == "lifecycle" and lifecycle is not None:
                    self.lifecycle(b, lifecycle, where)
                continue
            is_dynamic = b.type == "dynamic"
            if is_dynamic and not b.labels:
                continue
            name = b.labels[0] if is_dynamic else b.type
            contents = b.blocks_of("content") if is_dynamic else [b]
            bt = schema.blocks.get(name)
            a = schema.attributes.get(name)
            if bt is not None:
                if is_dynamic:
                    dynamic.add(name)
                else:
                    literal[name] += 1
                    if literal[name] == 2:
                        second[name] = b.span
                if bt.nested is not None:
                    for c in contents:
                        # a dynamic block may produce none: what it lacks is not provably missing
                        self.body(c, bt.nested, _join(where, name), required=required and not is_dynamic)
            elif a is not None:
                if a.computed:
                    add(Issue("read-only", b.span, name, where))
                elif a.block_syntax and a.nested is not None:
                    # an attribute of object type in block syntax ("attributes as blocks"):
                    # accepted; its field names are checked, its required fields are not
                    for c in contents:
                        self.body(c, a.nested, _join(where, name), required=False)
                elif not self.is_json:
                    add(Issue("argument-as-block", b.span, name, where))
            else:
                add(Issue("unknown-block", b.span, name, where))
        for name, span in second.items():
            if schema.blocks[name].max_items == 1:
                add(Issue("too-many", span, name, where))
        if not required:
            return
        for name, a in schema.attributes.items():
            if a.required and name not in block.attributes and not (self.is_json and block.blocks_of(name)):
                add(Issue("missing", block.span, name, where))
        for name, bt in schema.blocks.items():
            if bt.min_items > 0 and not literal[name] and name not in dynamic and name not in block.attributes:
                add(Issue("missing-block", block.span, name, where))

    def json_blocks(
        self, value: Any, nested: BlockSchema | None, max_items: int, span: Span, name: str, where: str
    ) -> None:
        items = value if isinstance(value, list) else [value]
        if max_items == 1 and len(items) > 1:
            self.issues.append(Issue("too-many", span, name, where.rpartition(".")[0]))
        if nested is None:
            return
        for item in items:
            if isinstance(item, dict):
                self.json_object(item, nested, span, where)

    def json_object(self, obj: dict[str, Any], schema: BlockSchema, span: Span, where: str) -> None:
        for key, v in obj.items():
            if key in ("//", "dynamic"):
                continue
            a = schema.attributes.get(key)
            bt = schema.blocks.get(key)
            if a is not None:
                if a.computed:
                    self.issues.append(Issue("read-only", span, key, where))
            elif bt is not None:
                self.json_blocks(v, bt.nested, bt.max_items, span, key, _join(where, key))
            else:
                self.issues.append(Issue("unknown", span, key, where))
        for name, a in schema.attributes.items():
            if a.required and name not in obj:
                self.issues.append(Issue("missing", span, name, where))
        for name, bt in schema.blocks.items():
            if bt.min_items > 0 and name not in obj and "dynamic" not in obj:
                self.issues.append(Issue("missing-block", span, name, where))

    def lifecycle(self, b: Block, allowed: dict[str, frozenset[str]], where: str) -> None:
        for name, attr in b.attributes.items():
            if name not in allowed["attributes"]:
                self.issues.append(Issue("unknown", attr.span, name, _join(where, "lifecycle")))
        for child in b.blocks:
            if child.type not in allowed["blocks"]:
                self.issues.append(Issue("unknown-block", child.span, child.type, _join(where, "lifecycle")))


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def validate(resource: Resource, schema: BlockSchema) -> list[Issue]:
    """What Terraform would reject in a resource or data source block, given its type's schema."""
    v = _Validator(resource.span.path.endswith(".json"))
    managed = resource.mode == "managed"
    v.body(
        resource.body,
        schema,
        "",
        meta_attributes=RESOURCE_META_ATTRIBUTES,
        meta_blocks=RESOURCE_META_BLOCKS if managed else DATA_META_BLOCKS,
        lifecycle=_LIFECYCLE_RESOURCE if managed else _LIFECYCLE_DATA,
    )
    return v.issues


# --- findings -------------------------------------------------------------------------------


def _versions(tables: list[Table]) -> str:
    if not tables:
        return ""
    return f"{tables[0].source} " + " and ".join(t.version for t in tables)


def _suggest(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    return f"; did you mean `{close[0]}`?" if close else ""


def _elsewhere(
    source: str, mode: str, type_: str, where: str, name: str, selected: list[Table], want: str = "any"
) -> str:
    """Where else the name exists (`want` "any"), or is a block ("block") or an argument
    ("argument"): another major's table, so an upgrade removed, renamed or changed it."""
    chosen = {t.major for t in selected}
    found = []
    for m in majors(source):
        t = table(source, m)
        if m in chosen or t is None:
            continue
        s = t.schema(mode, type_)
        at = _at(s, where) if s is not None else None
        if at is None:
            continue
        is_block = name in at.blocks or (name in at.attributes and at.attributes[name].block_syntax)
        is_argument = name in at.attributes
        matches = {"any": is_block or is_argument, "block": is_block, "argument": is_argument and not is_block}
        if matches[want]:
            found.append(t.version)
    if not found:
        return ""
    what = {"any": "it exists in", "block": "a block in", "argument": "an argument in"}[want]
    return f" ({what} {source} {' and '.join(found)})"


def _owner(mode: str, type_: str, where: str) -> str:
    what = type_ if mode == "managed" else f"data source {type_}"
    return f"block `{where}` of {what}" if where else what


def _message(issue: Issue, mode: str, type_: str, schemas: list[BlockSchema], hint: str) -> str:
    owner, n = _owner(mode, type_, issue.where), issue.name
    if issue.where == "lifecycle":  # Terraform's own block
        lc = _LIFECYCLE_RESOURCE if mode == "managed" else _LIFECYCLE_DATA
        names = sorted(lc["attributes"] | lc["blocks"])
    else:
        names = sorted({x for s in schemas for x in _at(s, issue.where).names()})
    if issue.kind == "unknown":
        return f"`{n}` is not an argument of {owner}{hint}{_suggest(n, names)}"
    if issue.kind == "unknown-block":
        return f"{owner} has no `{n}` block{hint}{_suggest(n, names)}"
    if issue.kind == "read-only":
        return f"`{n}` of {owner} is read-only: the provider sets it, a configuration cannot"
    if issue.kind == "block-as-argument":
        return f"`{n}` is a block of {owner}: write `{n} {{ ... }}`, not `{n} = ...`{hint}"
    if issue.kind == "argument-as-block":
        return f"`{n}` is an argument of {owner}: write `{n} = ...`, not a `{n} {{ ... }}` block{hint}"
    if issue.kind == "too-many":
        return f"{owner} takes at most one `{n}` block"
    if issue.kind == "missing":
        return f"{owner} requires the argument `{n}`, which is not set"
    return f"{owner} requires a `{n}` block, which is not written"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _at(schema: BlockSchema, where: str) -> BlockSchema:
    s: BlockSchema | None = schema
    for step in [p for p in where.split(".") if p]:
        if s is None:
            break
        bt = s.blocks.get(step)
        a = s.attributes.get(step)
        s = bt.nested if bt is not None else (a.nested if a is not None else None)
    return s or BlockSchema()


@dataclass
class _Found:
    """One rule's hit before it is built: which rule, and what to say."""

    rule: Literal["argument", "required", "type", "all"]  # all: said by each of the three rules
    hit: Hit


def _selection_note(sel: Selection) -> str:
    return f"{_versions(sel.tables)}, {sel.how}"


def _newer_note(sel: Selection) -> str | None:
    """Why a later release may accept what the tables do not, or None when none can."""
    open_tables = [t for t in sel.tables if sel.may_be_newer(t)]
    if not open_tables:
        return None
    t = max(open_tables, key=lambda t: t.version_tuple())
    return (
        f"{t.source} {t.version} is the newest schema known here and {sel.how} admits later "
        f"{t.major}.x releases, which may accept it"
    )


def _module_findings(ctx: Context, mod: ModuleDir, roots: list[Root]) -> Iterator[_Found]:
    for root in roots:
        env = root.env
        base = module_address(env, mod)
        selections: dict[str, Selection] = {}
        undecided_sources: set[str] = set()
        for source, local, r in resources_by_source(mod):
            if source is None or not majors(source):
                continue  # a provider without a table: skipped (see coverage)
            sel = selections.get(source)
            if sel is None:
                sel = selections[source] = root.selection(source)
            address = prefixed(base, r.address)
            if not sel.tables:
                if source not in undecided_sources:
                    undecided_sources.add(source)
                    at = constraint_span(mod, local) or r.span
                    yield _Found(
                        "all",
                        ctx.undecided(
                            at=at,
                            message=f"{mod.path}: resources of {source} are not checked against a schema: {sel.reason}",
                            address=prefixed(base, f"provider[{source}]"),
                            environment=env.name,
                        ),
                    )
                continue
            pairs = [(t, t.schema(r.mode, r.type)) for t in sel.tables]
            have = [(t, s) for t, s in pairs if s is not None]
            newer = _newer_note(sel)
            if not have:
                kind = "resource" if r.mode == "managed" else "data source"
                candidates = sorted({x for t in sel.tables for x in t.types(r.mode)})
                hint = _elsewhere_type(source, r.mode, r.type, sel.tables)
                msg = (
                    f"{address}: {_versions(sel.tables)} has no {kind} type `{r.type}` ({sel.how}){hint}"
                    f"{_suggest(r.type, candidates) if not hint else ''}"
                )
                yield _Found("type", _hit(ctx, r.span, msg, address, env.name, newer, sel.deciding))
                continue
            tables = [t for t, _ in have]
            per_table = [{i.key: i for i in validate(r, s)} for _, s in have]
            common = set(per_table[0]).intersection(*per_table[1:])
            missing: dict[tuple[Span, str], list[Issue]] = {}
            for key in sorted(common, key=lambda k: (k[2], k[0], k[4], k[3])):
                issue = per_table[0][key]
                if issue.kind in _MISSING:  # said once per block: everything it lacks
                    missing.setdefault((issue.span, issue.where), []).append(issue)
                    continue
                hint = ""
                want = {"argument-as-block": "block", "block-as-argument": "argument"}.get(issue.kind, "any")
                if issue.kind in ("unknown", "unknown-block", "argument-as-block", "block-as-argument"):
                    hint = _elsewhere(source, r.mode, r.type, issue.where, issue.name, tables, want)
                text = _message(issue, r.mode, r.type, [s for _, s in have], hint)
                msg = f"{address}: {text} ({_versions(tables)} schema; {sel.how})"
                # a later minor release may add a name or make an attribute configurable; it
                # cannot turn a block into an argument or change how many blocks are allowed
                lifted = newer if issue.kind in _LIFTABLE else None
                yield _Found("argument", _hit(ctx, issue.span, msg, address, env.name, lifted, sel.deciding))
            for (span, where), issues in missing.items():
                owner = _owner(r.mode, r.type, where)
                args = [f"`{i.name}`" for i in issues if i.kind == "missing"]
                blocks = [f"a `{i.name}` block" for i in issues if i.kind == "missing-block"]
                what = " and ".join([*([_and(args)] if args else []), *blocks])
                noun = "argument" if len(args) == 1 and not blocks else ("arguments" if args and not blocks else "")
                text = f"{owner} requires {('the ' + noun + ' ') if noun else ''}{what}, not written here"
                msg = f"{address}: {text} ({_versions(tables)} schema; {sel.how})"
                yield _Found("required", _hit(ctx, span, msg, address, env.name, newer, sel.deciding))


def _elsewhere_type(source: str, mode: str, type_: str, selected: list[Table]) -> str:
    chosen = {t.major for t in selected}
    found = [
        t.version
        for t in (table(source, m) for m in majors(source) if m not in chosen)
        if t is not None and t.schema(mode, type_) is not None
    ]
    return f" (it exists in {source} {' and '.join(found)})" if found else ""


def _hit(
    ctx: Context, span: Span, message: str, address: str, environment: str, newer: str | None, related: list[Span]
) -> Hit:
    """`related`: the lock file entry or version constraints that chose the schema."""
    if newer is not None:
        message = f"{message} (not decided: {newer})"
        return ctx.undecided(at=span, message=message, address=address, environment=environment, related=related)
    return ctx.finding(at=span, message=message, address=address, environment=environment, related=related)


def _findings(ctx: Context, project: Project, rule: str) -> Iterator[Hit]:
    # The three rules validate the same resources against the same tables: done once per
    # scan, each rule taking its part (copies: the engine may amend a hit). A failure is
    # replayed after the hits found before it, as the rule would have met it.
    found, failure = project.fact(_findings, lambda: _all_findings(ctx, project))
    for f in found:
        if f.rule in (rule, "all"):
            yield dataclasses.replace(f.hit, related=list(f.hit.related))
    if failure is not None:
        raise failure


def _all_findings(ctx: Context, project: Project) -> tuple[list[_Found], Exception | None]:
    found: list[_Found] = []
    try:
        roots = roots_of(project.terraform)
        for path in sorted(project.terraform.modules):
            found.extend(_module_findings(ctx, project.terraform.modules[path], roots.get(path, [])))
    except Exception as exc:  # noqa: BLE001 -- replayed to each rule (see _findings)
        return found, exc
    return found, None


class SchemaParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


@check("tf-schema-arguments", scope="project", params=SchemaParams, subjects=("*",))
def schema_arguments(ctx: Context, project: Project, params: SchemaParams) -> Iterator[Hit]:
    """Arguments and blocks a resource or data source type does not accept (unknown names,
    read-only attributes, block/argument syntax swapped, too many blocks), against the provider
    schema table(s) the configuration selects. Undecided when no table fits the version
    constraint, or when a later release than the newest table may accept it."""
    yield from _findings(ctx, project, "argument")


@check("tf-schema-required", scope="project", params=SchemaParams, subjects=("*",))
def schema_required(ctx: Context, project: Project, params: SchemaParams) -> Iterator[Hit]:
    """Required arguments and blocks missing from a resource or data source, against the
    selected provider schema table(s). A `dynamic` block may create none: what its content
    lacks is not reported."""
    yield from _findings(ctx, project, "required")


@check("tf-schema-type", scope="project", params=SchemaParams, subjects=("*",))
def schema_type(ctx: Context, project: Project, params: SchemaParams) -> Iterator[Hit]:
    """Resource and data source types a tabled provider does not offer in the selected major
    version(s) (a typo, or a type removed or not yet added)."""
    yield from _findings(ctx, project, "type")
