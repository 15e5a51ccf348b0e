"""IAM policy statements that allow writes on every resource."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._model import resource_exists
from urr_audit.model.common import Span, UnknownLeaf, Value
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
        if b.block.blocks_of("condition"):
            data["Condition"] = True
        yield Statement(data, b.span)


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
            if d.get("Effect", "Allow") != "Allow" or "Principal" in d or "NotResource" in d:
                continue
            resources = _as_list(d.get("Resource", []))
            if "*" not in resources:
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
            yield ctx.finding(
                at=st.span,
                node=ri,
                address=who,
                message=f'{who}: statement allows write actions on Resource "*": {shown}',
            )
