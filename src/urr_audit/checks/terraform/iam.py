"""IAM policy statements that allow writes on every resource."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._model import resource_exists
from urr_audit.model.common import Severity, Span, UnknownLeaf, Value
from urr_audit.model.terraform import Environment, ResourceInstance


@dataclass
class Statement:
    data: dict[str, Any]  # parts only known at apply time are `UnknownLeaf`s
    span: Span


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def _documents(ri: ResourceInstance, path: str) -> Iterator[Value]:
    """The policy documents at `path` (dotted for nested blocks, each block in turn), as
    structures: `jsonencode({...})` with an interpolated ARN still shows its statements."""
    head, _, rest = path.partition(".")
    if not rest:
        yield ri.get_structured(head)
        return
    for b in ri.blocks(head):
        yield b.get_structured(rest)


def _document_statements(doc: Value, fallback: Span) -> Iterator[Statement]:
    """The known statements of a document. A list of statements may be partially known:
    `concat([...], var.x == null ? [] : [...])` gives its known statements and an
    `UnknownElements` marker for the others; the rule looks for *some* statement granting
    writes on "*", so the known ones are checked and the unknown ones add nothing."""
    body = doc.parts()
    if not isinstance(body, dict):
        return  # unknown as a whole (e.g. `data.aws_iam_policy_document.x.json`: checked there)
    listed = body.get("Statement", [])
    for i, st in enumerate(_as_list(listed)):
        if isinstance(st, dict):  # not an unknown statement (`UnknownLeaf`, `UnknownElements`)
            # `i` is the position in the partial list, which is what `span_at` locates
            where = doc.span_at("Statement", i) if isinstance(listed, list) else doc.span_at("Statement")
            yield Statement(st, where or fallback)


def _block_statements(ri: ResourceInstance) -> Iterator[Statement]:
    for b in ri.blocks("statement"):
        data: dict[str, Any] = {}
        for hcl, js in (
            ("effect", "Effect"),
            ("actions", "Action"),
            ("not_actions", "NotAction"),
            ("resources", "Resource"),
            ("not_resources", "NotResource"),
        ):
            v = b.get(hcl)
            if not v.is_absent:
                data[js] = v.parts()
        if b.block.blocks_of("condition") or any(d.labels == ["condition"] for d in b.block.blocks_of("dynamic")):
            data["Condition"] = True
        # a statement naming principals belongs to a resource policy (a key or bucket policy),
        # where Resource "*" is the resource the policy is attached to
        for block, key in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
            if b.block.blocks_of(block) or any(d.labels == [block] for d in b.block.blocks_of("dynamic")):
                data[key] = True
        yield Statement(data, b.span)


def _has_star(v: Any) -> bool:
    return v == "*" or (isinstance(v, list) and "*" in v)


@dataclass
class Fallback:
    when: str  # "when `cond` is false"
    reason: str  # why the condition is unknown

    @property
    def apply_time(self) -> bool:
        """The condition waits for a value known only after apply (an ARN compared to null):
        not an input someone may leave out, so only undecided."""
        return self.reason.startswith("depends on ")


def _star_fallback(resources: list[Any]) -> Fallback | None:
    """The branch of `cond ? x : "*"` (a Resource or one of its elements) that is "*", when
    the condition is unknown; None when no such fallback is there."""
    for r in resources:
        if isinstance(r, UnknownLeaf) and r.choices is not None:
            cond, yes, no = r.choices
            if _has_star(yes):
                return Fallback(f"when `{cond}` is true", r.reason)
            if _has_star(no):
                return Fallback(f"when `{cond}` is false", r.reason)
    return None


class WildcardWriteParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # resource type -> attributes holding a policy document (dotted for nested blocks)
    policy_attributes: dict[str, list[str]]
    read_prefixes: list[str]  # action verbs that only read
    # actions that support no resource-level permissions: "*" is the only possible Resource
    resource_star_only: list[str] = []


def _write_actions(actions: list[Any], p: WildcardWriteParams) -> tuple[list[str], bool]:
    """The known write actions, and whether some action cannot be resolved (an unknown one,
    or an unknown number of them: `concat(["s3:PutObject"], var.extra)`)."""
    out = []
    unresolved = False
    for a in actions:
        if isinstance(a, UnknownLeaf) or not isinstance(a, str):
            unresolved = True
            continue
        if a in p.resource_star_only:
            continue
        verb = a.split(":", 1)[-1]
        if (
            "*" in verb
            and not any(verb.startswith(r) and verb != "*" for r in p.read_prefixes)
            or "*" not in verb
            and not any(verb.startswith(r) for r in p.read_prefixes)
        ):
            out.append(a)
    return out, unresolved


@check(
    "tf-iam-wildcard-write",
    scope="terraform.environment",
    params=WildcardWriteParams,
    subjects=lambda p: [*p.policy_attributes, "aws_iam_policy_document"],
)
def iam_wildcard_write(ctx: Context, env: Environment, params: WildcardWriteParams) -> Iterator[Hit]:
    """Allow statements granting write actions on Resource "*" (identity policies)."""
    for ri in env.resources(*params.policy_attributes, "aws_iam_policy_document"):
        if not resource_exists(ri):
            continue
        if ri.type == "aws_iam_policy_document":
            statements = list(_block_statements(ri))
        else:
            statements = [
                st
                for path in params.policy_attributes.get(ri.type, [])
                for doc in _documents(ri, path)
                for st in _document_statements(doc, ri.span)
            ]
        # the policy may differ between instances only when it reads each/count
        who = (
            ri.address_for(*params.policy_attributes.get(ri.type, []))
            if ri.type != "aws_iam_policy_document"
            else (ri.address if ri.reads_instance() else ri.resource_address)
        )
        for st in statements:
            d = st.data
            if d.get("Effect", "Allow") != "Allow" or "Principal" in d or "NotPrincipal" in d or "NotResource" in d:
                continue
            resources = _as_list(d.get("Resource", []))
            fallback = None
            if "*" not in resources:
                fallback = _star_fallback(resources)
                if fallback is None:
                    continue
            unresolved = False
            if "NotAction" in d:
                writes = ["NotAction " + ", ".join(map(str, _as_list(d["NotAction"])))]
            else:
                writes, unresolved = _write_actions(_as_list(d.get("Action", [])), params)
            if not writes and unresolved:  # a known write action decides, an unknown one cannot
                yield ctx.undecided(
                    at=st.span,
                    node=ri,
                    address=who,
                    message=f'{who}: statement on Resource "*" has actions that cannot be resolved',
                )
                continue
            if not writes:
                continue
            shown = ", ".join(writes[:4]) + (f" (+{len(writes) - 4} more)" if len(writes) > 4 else "")
            if unresolved:
                shown += " (and actions that cannot be resolved)"
            if fallback is not None:
                message = (
                    f'{who}: statement possibly allows write actions on Resource "*": {fallback.when} '
                    f'({fallback.reason}), Resource falls back to "*": {shown}'
                )
                if fallback.apply_time:
                    yield ctx.undecided(at=st.span, node=ri, address=who, message=message)
                else:
                    yield ctx.finding(at=st.span, node=ri, address=who, message=message, severity=Severity.MEDIUM)
                continue
            yield ctx.finding(
                at=st.span,
                node=ri,
                address=who,
                message=f'{who}: statement allows write actions on Resource "*": {shown}',
            )


class PolicyJsonParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # resource type -> attributes holding a JSON policy document (dotted for nested blocks)
    policy_attributes: dict[str, list[str]]


def _json_error(text: str) -> str:
    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        return f"{e.msg} at line {e.lineno}, column {e.colno} of the document"
    except RecursionError:
        return "nested too deeply"
    return "not a JSON object"


@check(
    "tf-policy-not-json",
    scope="terraform.resource",
    params=PolicyJsonParams,
    subjects=lambda p: list(p.policy_attributes),
)
def policy_not_json(ctx: Context, ri: ResourceInstance, params: PolicyJsonParams) -> Iterator[Hit]:
    """A policy attribute whose value is not a JSON document: AWS rejects it at apply time
    (`MalformedPolicyDocument`), and no rule can read what it grants. Known strings are parsed;
    templates with interpolations are judged where every interpolation sits inside a JSON
    string, so that no value could make them valid."""
    if ri.resource.mode != "managed":
        return
    for path in params.policy_attributes.get(ri.type, []):
        head, _, rest = path.partition(".")
        views: list[tuple[Value, Any]] = (
            [(ri.get_structured(head), ri.attribute(head))]
            if not rest
            else [(b.get_structured(rest), b.attribute(rest)) for b in ri.blocks(head)]
        )
        for doc, attr in views:
            why = None
            if doc.is_known and isinstance(doc.value, str):
                why = _json_error(doc.value) if doc.value.strip() else "an empty string"
            elif doc.is_unknown and isinstance(doc.partial, UnknownLeaf) and doc.partial.invalid_json:
                why = doc.partial.invalid_json
            if why is None:
                continue
            who = ri.address_for(path)
            yield ctx.finding(
                at=attr or ri,
                node=ri,
                address=who,
                message=f"{who}: `{path}` is not a valid JSON policy document ({why}): AWS rejects it at apply",
            )
