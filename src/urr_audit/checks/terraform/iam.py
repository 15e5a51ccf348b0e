"""IAM policy statements that allow writes on every resource."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, check
from urr_audit.checks.terraform._model import plain, resource_exists
from urr_audit.model.common import Span
from urr_audit.model.terraform import Attribute, Environment, ResourceInstance

UNKNOWN = object()  # a part of a policy only known at apply time


@dataclass
class Statement:
    data: dict[str, Any]
    span: Span


# --- a lenient reader for policy objects written in HCL (jsonencode({...})) or JSON ----------
# The evaluator gives up on a whole jsonencode() as soon as one ARN is interpolated; the parts
# that matter here (Effect, Action, Resource = "*") are literals, so the expression text is read
# with unknown leaves kept as UNKNOWN. Contract gap: reported to the lead.

_TOKEN = re.compile(
    r'"(?:[^"\\$]|\\.|\$(?!\{)|\$\{(?:[^{}]|\{[^{}]*\})*\})*"|<<-?\w+|[{}\[\]()=:,?\n]|[^\s{}\[\]()=:,?"]+'
)


class _Reader:
    def __init__(self, text: str, first_line: int):
        self.toks: list[tuple[str, int]] = []
        line = first_line
        for m in _TOKEN.finditer(text):
            self.toks.append((m.group(0), line))
            line += m.group(0).count("\n")
        self.i = 0

    def peek(self, skip_nl: bool = True) -> str | None:
        while skip_nl and self.i < len(self.toks) and self.toks[self.i][0] == "\n":
            self.i += 1
        return self.toks[self.i][0] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, int]:
        self.peek()
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def value(self) -> Any:
        tok, line = self.take()
        if tok == "{":
            return self.obj(line)
        if tok == "[":
            out = []
            while self.peek() not in ("]", None):
                out.append(self.value())
                if self.peek() == ",":
                    self.take()
            self.take()
            return out
        if tok.startswith('"'):
            v: Any = UNKNOWN if "${" in tok else json.loads(tok) if _jsonable(tok) else tok[1:-1]
        elif self.peek(False) == "(":
            self.take()
            args = []
            while self.peek() not in (")", None):
                args.append(self.value())
                if self.peek() == ",":
                    self.take()
            self.take()
            v = args[0] if tok == "jsonencode" and args else UNKNOWN
        elif tok in ("true", "false"):
            v = tok == "true"
        else:
            v = UNKNOWN
        if self.peek(False) == "?":  # a conditional: not read further
            while self.peek(False) not in ("\n", ",", "}", "]", None):
                self.take()
            return UNKNOWN
        return v

    def obj(self, line: int) -> dict[str, Any]:
        out: dict[str, Any] = {"__line__": line}
        while self.peek() not in ("}", None):
            key, _ = self.take()
            if self.peek() not in ("=", ":"):
                continue
            self.take()
            out[key.strip('"')] = self.value()
            if self.peek() == ",":
                self.take()
        if self.peek() == "}":
            self.take()
        return out


def _jsonable(tok: str) -> bool:
    try:
        json.loads(tok)
        return True
    except ValueError:
        return False


def _read(text: str, line: int) -> Any:
    try:
        return _Reader(text, line).value()
    except (IndexError, ValueError):
        return UNKNOWN


# --- statements ----------------------------------------------------------------------------


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def _document_statements(attr: Attribute, ri: ResourceInstance) -> Iterator[Statement]:
    value = ri.instance.eval(attr.expr)
    if value.is_known and isinstance(value.value, str):
        try:
            doc: Any = json.loads(value.value)
        except ValueError:
            return
        lines = _statement_lines(attr)
        for i, st in enumerate(_as_list(doc.get("Statement", [])) if isinstance(doc, dict) else []):
            line = lines[i] if i < len(lines) else attr.span.line
            yield Statement(st, Span(path=attr.span.path, line=line, end_line=line))
        return
    text = attr.expr.text
    body = _heredoc_body(text)
    shift = 1 if body != text else 0
    doc = _read(body, attr.expr.span.line + shift)
    if not isinstance(doc, dict):
        return
    for st in _as_list(doc.get("Statement", [])):
        if isinstance(st, dict):
            line = st.pop("__line__", attr.span.line)
            yield Statement(st, Span(path=attr.span.path, line=line, end_line=line))


def _heredoc_body(text: str) -> str:
    return re.sub(r"^\s*<<-?(\w+)\n(.*)\n\s*\1\s*$", r"\2", text, flags=re.DOTALL)


def _statement_lines(attr: Attribute) -> list[int]:
    body = _heredoc_body(attr.expr.text)
    doc = _read(body, attr.expr.span.line + (1 if body != attr.expr.text else 0))
    if isinstance(doc, dict):
        return [s.get("__line__", attr.span.line) for s in _as_list(doc.get("Statement", [])) if isinstance(s, dict)]
    return []


def _block_statements(ri: ResourceInstance) -> Iterator[Statement]:
    for b in ri.blocks("statement"):
        data: dict[str, Any] = {}
        for hcl, js in (("effect", "Effect"), ("actions", "Action"), ("not_actions", "NotAction"),
                        ("resources", "Resource"), ("not_resources", "NotResource")):
            v = b.get(hcl)
            if v.is_known:
                data[js] = plain(v.value)
            elif v.is_unknown:
                attr = b.block.attr(hcl)
                data[js] = _read(attr.expr.text, attr.span.line) if attr else UNKNOWN
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


def _write_actions(actions: list[Any], p: WildcardWriteParams) -> list[str] | None:
    out = []
    for a in actions:
        if a is UNKNOWN or not isinstance(a, str):
            return None
        if a in p.resource_star_only:
            continue
        verb = a.split(":", 1)[-1]
        if "*" in verb and not any(verb.startswith(r) and verb != "*" for r in p.read_prefixes) or "*" not in verb and not any(verb.startswith(r) for r in p.read_prefixes):
            out.append(a)
    return out


def _attrs(ri: ResourceInstance, path: str) -> list[Attribute]:
    head, _, rest = path.partition(".")
    if not rest:
        a = ri.resource.body.attr(head)
        return [a] if a else []
    return [b.attr(rest) for b in ri.resource.body.blocks_of(head) if b.attr(rest)]


@check("tf-iam-wildcard-write", scope="terraform.environment", params=WildcardWriteParams)
def iam_wildcard_write(ctx: Context, env: Environment, params: WildcardWriteParams):
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
                for attr in _attrs(ri, path)
                if "data.aws_iam_policy_document." not in attr.expr.text  # checked at the data source
                for st in _document_statements(attr, ri)
            ]
        for st in statements:
            d = st.data
            if d.get("Effect", "Allow") != "Allow" or "Principal" in d or "NotResource" in d:
                continue
            resources = _as_list(d.get("Resource", []))
            if "*" not in resources:
                continue
            if "NotAction" in d:
                writes: list[str] | None = ["NotAction " + ", ".join(map(str, _as_list(d["NotAction"])))]
            else:
                writes = _write_actions(_as_list(d.get("Action", [])), params)
            if writes is None:
                yield ctx.undecided(at=st.span, node=ri, message=f"{ri.address}: statement on Resource \"*\" has actions that cannot be resolved")
                continue
            if not writes:
                continue
            shown = ", ".join(writes[:4]) + (f" (+{len(writes) - 4} more)" if len(writes) > 4 else "")
            yield ctx.finding(
                at=st.span,
                node=ri,
                message=f'{ri.address}: statement allows write actions on Resource "*": {shown}',
            )
