"""Who a policy lets in: resource and trust policies open to any principal, and web identity
(OIDC) trust without a subject condition (any GitHub repository, any service account)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._model import literal_ends
from urr_audit.checks.terraform.iam import _as_list, _document_statements, _documents
from urr_audit.model.common import Severity, Span, UnknownLeaf
from urr_audit.model.terraform import BlockView, Environment, ResourceInstance


@dataclass
class Grant:
    """A statement in JSON form: Effect, Action, Principal (`{"AWS": [...]}` or "*"),
    Condition (`{operator: {key: values}}`); unknown parts are `UnknownLeaf`s."""

    data: dict[str, Any]
    span: Span
    resource: ResourceInstance

    @property
    def allows(self) -> bool:
        return bool(self.data.get("Effect", "Allow") == "Allow")

    def actions(self) -> list[Any]:
        return _as_list(self.data.get("Action", []))

    def principals(self) -> dict[str, list[Any]] | None:
        """{type: identifiers}; {"*": ["*"]} for `Principal: "*"`; None when not known."""
        p = self.data.get("Principal")
        if p is None:
            return {}
        if p == "*":
            return {"*": ["*"]}
        if isinstance(p, dict):
            return {k: _as_list(v) for k, v in p.items()}
        return None

    def conditions(self) -> dict[str, dict[str, Any]] | None:
        c = self.data.get("Condition")
        if c is None:
            return {}
        return c if isinstance(c, dict) else None


def _block_principals(b: BlockView, name: str) -> Any:
    out: dict[str, list[Any]] = {}
    for p in b.blocks(name):
        t, ids = p.get("type"), p.get("identifiers")
        if not t.is_known:
            return UnknownLeaf(t.reason or "principal type")
        out.setdefault(str(t.value), []).extend(_as_list(ids.parts()) if not ids.is_absent else [])
    return out


def _block_conditions(b: BlockView) -> Any:
    out: dict[str, dict[str, Any]] = {}
    for c in b.blocks("condition"):
        test, var, values = c.get("test"), c.get("variable"), c.get("values")
        key = str(var.value) if var.is_known else None
        if key is None:
            # `"${local.issuer}:sub"`: the key is unknown, but what it ends with is written
            a = c.attribute("variable")
            _, tail = literal_ends(a.expr.text) if a is not None else (None, "")
            key = f"(unknown){tail}" if tail.startswith(":") else None
        if not test.is_known or key is None:
            return UnknownLeaf(test.reason or var.reason or "condition")
        out.setdefault(str(test.value), {})[key] = values.parts()
    return out


def grants(ri: ResourceInstance, attributes: dict[str, list[str]]) -> Iterator[Grant]:
    """The statements of a policy document data source, or of the policy attributes of a
    resource, as JSON-shaped data."""
    if ri.type == "aws_iam_policy_document":
        for b in ri.blocks("statement"):
            data: dict[str, Any] = {}
            for hcl, js in (("effect", "Effect"), ("actions", "Action"), ("not_actions", "NotAction")):
                v = b.get(hcl)
                if not v.is_absent:
                    data[js] = v.parts()
            if b.blocks("principals"):
                data["Principal"] = _block_principals(b, "principals")
            if b.blocks("not_principals"):
                data["NotPrincipal"] = True
            if b.blocks("condition"):
                data["Condition"] = _block_conditions(b)
            yield Grant(data, b.span, ri)
        return
    for path in attributes.get(ri.type, []):
        for doc in _documents(ri, path):
            for st in _document_statements(doc, ri.span):
                yield Grant(st.data, st.span, ri)


class PublicPrincipalParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy_attributes: dict[str, list[str]]  # resource type -> attributes holding resource/trust policies
    read_prefixes: list[str] = Field(default_factory=list)  # action verbs that only read


def _anyone(principals: dict[str, list[Any]]) -> bool:
    return any(k in ("*", "AWS") and "*" in ids for k, ids in principals.items())


@check(
    "tf-policy-public-principal",
    scope="terraform.environment",
    params=PublicPrincipalParams,
    subjects=lambda p: [*p.policy_attributes, "aws_iam_policy_document"],
)
def policy_public_principal(ctx: Context, env: Environment, params: PublicPrincipalParams) -> Iterator[Hit]:
    """A resource or trust policy statement that allows any principal (`"*"`, `{"AWS": "*"}`)
    with no condition: anyone with an AWS account. Read-only grants (a public website bucket)
    may be deliberate: low severity, saying so."""
    for ri in env.resources(*params.policy_attributes, "aws_iam_policy_document"):
        if ri.exists.known_or(True) is False:
            continue
        who = ri.address if ri.key is not None and ri.reads_instance() else ri.resource_address
        for g in grants(ri, params.policy_attributes):
            principals = g.principals()
            if not g.allows or not principals or not _anyone(principals):
                continue
            conditions = g.conditions()
            if conditions is None:
                yield ctx.undecided(at=g.span, node=ri, address=who, message=f"{who}: conditions cannot be resolved")
                continue
            if conditions:
                continue
            actions = [a for a in g.actions() if isinstance(a, str)]
            reads = actions and all(
                any(a.split(":", 1)[-1].startswith(r) for r in params.read_prefixes) and "*" not in a for a in actions
            )
            shown = ", ".join(actions[:4]) or "(actions not resolved)"
            yield ctx.finding(
                at=g.span,
                node=ri,
                address=who,
                message=(
                    f"{who}: statement allows any principal, with no condition, to {shown}"
                    + (": if the content is public by design, say so with a suppression" if reads else "")
                ),
                severity=Severity.LOW if reads else None,
            )


class WebIdentityParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy_attributes: dict[str, list[str]]  # resource type -> attributes holding trust policies
    # federated principals that are not OIDC providers with subjects (Cognito identity pools)
    other_federations: list[str] = Field(default_factory=lambda: ["cognito-identity.amazonaws.com"])
    # issuer host (regex) -> what a subject must pin (regex on the literal start of each pattern)
    subject_prefixes: dict[str, str] = Field(default_factory=dict)


def _subject_values(conditions: dict[str, dict[str, Any]]) -> tuple[list[tuple[str, Any]], bool]:
    """(key, value) of every condition on a `...:sub` key, and whether one is unknown."""
    out: list[tuple[str, Any]] = []
    unknown = False
    for keys in conditions.values():
        if not isinstance(keys, dict):
            unknown = True
            continue
        for key, values in keys.items():
            if key.endswith(":sub"):
                for v in _as_list(values):
                    if isinstance(v, str):
                        out.append((key, v))
                    else:
                        unknown = True
    return out, unknown


@check(
    "tf-oidc-trust-without-subject",
    scope="terraform.environment",
    params=WebIdentityParams,
    subjects=lambda p: [*p.policy_attributes, "aws_iam_policy_document"],
)
def oidc_trust_without_subject(ctx: Context, env: Environment, params: WebIdentityParams) -> Iterator[Hit]:
    """A role trusting an OIDC provider (GitHub Actions, an EKS cluster) for web identity with no
    condition on the token's subject, or one that pins nothing (`*`, `repo:*`): every
    repository on GitHub, every service account of the cluster, may assume it."""
    for ri in env.resources(*params.policy_attributes, "aws_iam_policy_document"):
        if ri.exists.known_or(True) is False:
            continue
        who = ri.address if ri.key is not None and ri.reads_instance() else ri.resource_address
        for g in grants(ri, params.policy_attributes):
            actions = [a for a in g.actions() if isinstance(a, str)]
            if not g.allows or not any(a in ("sts:AssumeRoleWithWebIdentity", "sts:*", "*") for a in actions):
                continue
            principals = g.principals()
            if not principals or "Federated" not in principals:
                continue
            federated = [p for p in principals["Federated"] if isinstance(p, str)]
            if federated and all(p in params.other_federations for p in federated):
                continue
            conditions = g.conditions()
            if conditions is None:
                yield ctx.undecided(at=g.span, node=ri, address=who, message=f"{who}: conditions cannot be resolved")
                continue
            subjects, unknown = _subject_values(conditions)
            if not subjects:
                if unknown:
                    yield ctx.undecided(
                        at=g.span, node=ri, address=who, message=f"{who}: the subject condition cannot be resolved"
                    )
                    continue
                yield ctx.finding(
                    at=g.span,
                    node=ri,
                    address=who,
                    message=(
                        f"{who}: web identity trust with no condition on the token subject (`...:sub`): any identity "
                        "the provider issues tokens for (any GitHub repository, any service account) may assume the role"
                    ),
                )
                continue
            loose = [(k, v) for k, v in subjects if _pins_nothing(k, v, params)]
            if loose:
                key, value = loose[0]
                yield ctx.finding(
                    at=g.span,
                    node=ri,
                    address=who,
                    message=f'{who}: {key} matches "{value}", which pins no owner: far more identities than intended may assume the role',
                )


def _pins_nothing(key: str, value: str, params: WebIdentityParams) -> bool:
    head = value.split("*", 1)[0]
    if "*" in value and head == "":
        return True
    issuer = key.rsplit(":", 1)[0]
    for host, prefix in params.subject_prefixes.items():
        if re.search(host, issuer) and "*" in value and not re.match(prefix, head):
            return True
    return False
