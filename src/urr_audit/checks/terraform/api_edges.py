"""API Gateway edges: routes and methods that anyone can call."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._model import attribute_targets, live_resources
from urr_audit.model.common import Severity
from urr_audit.model.terraform import Environment, ResourceInstance


class OpenRouteParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # paths anyone may call (shell patterns: `/health`, `/public/*`)
    public_paths: list[str] = Field(default_factory=list)
    # methods that never carry credentials (CORS preflight)
    public_methods: list[str] = Field(default_factory=lambda: ["OPTIONS"])
    # authorization values that mean none
    no_authorization: list[str] = Field(default_factory=lambda: ["NONE"])
    # paths that look public by design (inbound webhooks, OAuth callbacks), whose caller is
    # checked by a signature in the integration: reported at low severity, saying so
    webhook_paths: list[str] = Field(default_factory=list)


def _intent(path: str, params: OpenRouteParams) -> tuple[Severity | None, str]:
    if any(fnmatch.fnmatchcase(path.lower(), p) for p in params.webhook_paths):
        return Severity.LOW, (
            " The path looks like an inbound webhook or callback, public by design: make sure the integration "
            "verifies the caller's signature, then list the path in public_paths."
        )
    return None, ""


def _path(env: Environment, ri: ResourceInstance, by_address: dict[str, ResourceInstance], depth: int = 0) -> str:
    """The path of a REST API resource, from its `path_part` and its parents'."""
    if depth > 30:
        return "/{?}"
    part = ri.get("path_part")
    segment = str(part.value) if part.is_known else "{?}"
    parents = attribute_targets(env, ri, "parent_id") or set()
    parent = next((by_address[a] for a in sorted(parents) if a in by_address), None)
    if parent is None:
        return f"/{segment}" if any(".aws_api_gateway_rest_api." in f".{a}" for a in parents) else f"/{{?}}/{segment}"
    return f"{_path(env, parent, by_address, depth + 1).rstrip('/')}/{segment}"


def _method_path(env: Environment, ri: ResourceInstance, by_address: dict[str, ResourceInstance]) -> str | None:
    targets = attribute_targets(env, ri, "resource_id") or set()
    res = next((by_address[a] for a in sorted(targets) if a in by_address), None)
    if res is not None:
        return _path(env, res, by_address)
    if any(".aws_api_gateway_rest_api." in f".{a}" for a in targets):
        return "/"
    return None


def _private_api(env: Environment, ri: ResourceInstance) -> bool:
    """The method belongs to a REST API reachable only from inside VPCs (endpoint type PRIVATE)."""
    for address in attribute_targets(env, ri, "rest_api_id") or set():
        for api in live_resources(env, "aws_api_gateway_rest_api"):
            if api.resource_address == address:
                v = api.get("endpoint_configuration.types")
                if v.is_known and isinstance(v.value, list) and v.value == ["PRIVATE"]:
                    return True
    return False


def _public(path: str, method: str, params: OpenRouteParams) -> bool:
    return method.upper() in params.public_methods or any(fnmatch.fnmatchcase(path, p) for p in params.public_paths)


@check(
    "tf-api-route-without-authorization",
    scope="terraform.environment",
    params=OpenRouteParams,
    subjects=("aws_api_gateway_method", "aws_apigatewayv2_route"),
)
def api_route_without_authorization(ctx: Context, env: Environment, params: OpenRouteParams) -> Iterator[Hit]:
    """API Gateway REST methods (`authorization = "NONE"`) and HTTP/WebSocket API routes (no
    `authorization_type`, or NONE) that anyone on the internet can call, on paths that are not
    listed as public. Private REST APIs (endpoint type PRIVATE) are left out."""
    resources = {r.resource_address: r for r in live_resources(env, "aws_api_gateway_resource")}
    for ri in live_resources(env, "aws_api_gateway_method"):
        if ri.resource.mode != "managed":
            continue
        auth = ri.get("authorization")
        who = ri.address_for("authorization", "http_method", "resource_id")
        at = ri.attribute("authorization") or ri
        if auth.is_unknown:
            yield ctx.undecided(
                at=at, node=ri, address=who, message=f"{who}: authorization cannot be resolved ({auth.reason})"
            )
            continue
        if not (auth.is_known and str(auth.value).upper() in params.no_authorization):
            continue
        method = ri.get("http_method")
        verb = str(method.value) if method.is_known else "?"
        path = _method_path(env, ri, resources) or "{?}"
        if _public(path, verb, params) or _private_api(env, ri):
            continue
        severity, note = _intent(path, params)
        yield ctx.finding(
            at=at,
            node=ri,
            address=who,
            message=(
                f"{who}: {verb} {path} has no authorization: anyone who finds the API can call it (if the "
                "integration authenticates requests itself, or the path is public by design, list it in the rule's "
                f"public_paths or suppress this with the reason).{note}"
            ),
            severity=severity,
        )
    for ri in live_resources(env, "aws_apigatewayv2_route"):
        if ri.resource.mode != "managed":
            continue
        key = ri.get("route_key")
        if not (key.is_known and isinstance(key.value, str)):
            continue
        route = key.value
        if route.startswith("$") and route not in ("$default", "$connect"):
            continue  # WebSocket routes after $connect are authorised there
        verb, _, path = route.partition(" ") if " " in route else ("ANY", "", route)
        auth = ri.get("authorization_type")
        who = ri.address_for("route_key", "authorization_type")
        at = ri.attribute("authorization_type") or ri.attribute("route_key") or ri
        if auth.is_unknown:
            yield ctx.undecided(
                at=at, node=ri, address=who, message=f"{who}: authorization_type cannot be resolved ({auth.reason})"
            )
            continue
        if auth.is_known and auth.value is not None and str(auth.value).upper() not in params.no_authorization:
            continue
        if _public(path, verb, params):
            continue
        shown = "not set" if auth.is_absent or auth.value is None else f'"{auth.value}"'
        severity, note = _intent(path, params)
        yield ctx.finding(
            at=at,
            node=ri,
            address=who,
            message=(
                f"{who}: route `{route}` has authorization_type {shown}: anyone who finds the API can call it (if "
                "the integration authenticates requests itself, or the route is public by design, list it in the "
                f"rule's public_paths or suppress this with the reason).{note}"
            ),
            severity=severity,
        )
