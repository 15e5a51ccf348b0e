"""Edge and TLS wiring, and service settings read across nested blocks: CloudFront behaviours
and certificates, load balancer listeners, MSK client authentication."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, NoParams, check
from urr_audit.checks.terraform._model import (
    EnvironmentFilter,
    attribute_targets,
    fmt,
    live_resources,
    provider_region,
    trace,
)
from urr_audit.model.terraform import BlockView, Environment, ResourceInstance

# --- an attribute in every block of some types -----------------------------------------------


class BlocksAttributeParams(EnvironmentFilter):
    model_config = ConfigDict(extra="forbid")

    resource_types: list[str]
    blocks: list[
        str
    ]  # dotted block paths, every block of each: "ordered_cache_behavior", "origin.custom_origin_config"
    attribute: str
    bad_values: list[Any] = Field(default_factory=list)
    absent_is_bad: bool = False
    problem: str


def block_views(ri: ResourceInstance, path: str) -> list[BlockView]:
    """Every block at a dotted path (literal and dynamic, expanded where known)."""
    head, _, rest = path.partition(".")
    views = ri.blocks(head)
    for step in rest.split(".") if rest else []:
        views = [c for v in views for c in v.blocks(step)]
    return views


@check(
    "tf-blocks-attribute-value",
    scope="terraform.resource",
    params=BlocksAttributeParams,
    subjects=lambda p: p.resource_types,
)
def blocks_attribute_value(ctx: Context, ri: ResourceInstance, params: BlocksAttributeParams) -> Iterator[Hit]:
    """An attribute that must not have a bad value in any of a resource's blocks of some types
    (every cache behaviour of a distribution, every origin)."""
    if ri.type not in params.resource_types or ri.resource.mode != "managed" or not params.applies_to(ri.environment):
        return
    for path in params.blocks:
        for b in block_views(ri, path):
            v = b.get(params.attribute)
            attr = b.attribute(params.attribute)
            who = ri.address if ri.key is not None and ri.reads_instance() else ri.resource_address
            where = path
            if v.is_unknown:
                yield ctx.undecided(
                    at=attr or b,
                    node=ri,
                    address=who,
                    message=f"{who}: {where}.{params.attribute} cannot be resolved ({v.reason})",
                )
                continue
            if v.is_absent or (v.is_known and v.value is None):
                if params.absent_is_bad:
                    yield ctx.finding(
                        at=b,
                        node=ri,
                        address=who,
                        message=f"{who}: {where}.{params.attribute} not set (provider default): {params.problem}",
                    )
                continue
            if v.value in params.bad_values:
                yield ctx.finding(
                    at=attr or b,
                    node=ri,
                    address=who,
                    message=f"{who}: {where}.{params.attribute} = {fmt(v.value)}: {params.problem}",
                )


# --- load balancer listeners on plain HTTP ---------------------------------------------------


class HttpListenerParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    load_balancer_types: list[str] = Field(default_factory=lambda: ["aws_lb", "aws_alb"])
    # default action types that answer without serving the application
    harmless_actions: list[str] = Field(default_factory=lambda: ["fixed-response"])


def _load_balancers(env: Environment, listener: ResourceInstance, types: list[str]) -> list[ResourceInstance]:
    targets = attribute_targets(env, listener, "load_balancer_arn") or set()
    return [lb for lb in live_resources(env, *types) if lb.resource_address in targets]


@check(
    "tf-lb-http-listener",
    scope="terraform.environment",
    params=HttpListenerParams,
    subjects=("aws_lb_listener", "aws_alb_listener"),
)
def lb_http_listener(ctx: Context, env: Environment, params: HttpListenerParams) -> Iterator[Hit]:
    """An internet-facing application load balancer listener on plain HTTP whose default
    action serves the application (forward, authenticate) or redirects to HTTP, instead of
    redirecting to HTTPS. Internal load balancers are left out."""
    for ri in live_resources(env, "aws_lb_listener", "aws_alb_listener"):
        if ri.resource.mode != "managed":
            continue
        protocol = ri.get("protocol")
        lbs = _load_balancers(env, ri, params.load_balancer_types)
        if not lbs:
            continue  # a load balancer outside the configuration: its scheme is not known
        lb = lbs[0]
        kind = lb.get("load_balancer_type")
        if kind.is_known and kind.value not in ("application", None):
            continue
        who = ri.address_for("protocol", "default_action.type")
        if protocol.is_unknown:
            yield ctx.undecided(
                at=ri, node=ri, address=who, message=f"{who}: protocol cannot be resolved ({protocol.reason})"
            )
            continue
        if (protocol.value if protocol.is_known else "HTTP") not in ("HTTP", None):
            continue
        internal = lb.get("internal")
        if internal.is_unknown:
            yield ctx.undecided(
                at=ri,
                node=ri,
                address=who,
                message=f"{who}: whether {lb.resource_address} is internal cannot be resolved",
            )
            continue
        if internal.is_known and internal.value is True:
            continue
        actions = ri.blocks("default_action")
        if not actions:
            continue
        first = actions[0]
        t = first.get("type")
        if t.is_unknown:
            yield ctx.undecided(
                at=first, node=ri, address=who, message=f"{who}: default_action.type cannot be resolved"
            )
            continue
        kind_ = t.value if t.is_known else None
        if kind_ in params.harmless_actions:
            continue
        if kind_ == "redirect":
            redirects = first.blocks("redirect")
            to = redirects[0].get("protocol") if redirects else None
            if to is not None and to.is_known and to.value == "HTTPS":
                continue
            if to is not None and to.is_unknown:
                continue
            shown = "redirects to HTTP"
        else:
            shown = f"answers with `{kind_}`"
        yield ctx.finding(
            at=first,
            node=ri,
            address=who,
            message=(
                f"{who}: listener on plain HTTP of internet-facing {lb.resource_address} {shown} instead of redirecting "
                "to HTTPS: requests, cookies and tokens cross the internet unencrypted"
            ),
            related=[lb.span],
        )


# --- CloudFront certificates outside us-east-1 -------------------------------------------------


class CertificateRegionParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str = "us-east-1"
    certificate_types: list[str] = Field(
        default_factory=lambda: ["aws_acm_certificate", "aws_acm_certificate_validation"]
    )


def _arn_region(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 4 and parts[0] == "arn" and parts[2] == "acm" else None


@check(
    "tf-cloudfront-certificate-region",
    scope="terraform.environment",
    params=CertificateRegionParams,
    subjects=("aws_cloudfront_distribution",),
)
def cloudfront_certificate_region(ctx: Context, env: Environment, params: CertificateRegionParams) -> Iterator[Hit]:
    """A CloudFront distribution given an ACM certificate from another region than us-east-1:
    CloudFront only takes certificates from us-east-1, so the apply fails. The region is read
    from a known ARN, or from the provider configuration the certificate resource is created
    with (followed through module `providers` maps)."""
    for ri in live_resources(env, "aws_cloudfront_distribution"):
        path = "viewer_certificate.acm_certificate_arn"
        attr = ri.attribute(path)
        if attr is None:
            continue
        who = ri.address_for(path)
        v = ri.get(path)
        if v.is_known and isinstance(v.value, str):
            region = _arn_region(v.value)
            if region is not None and region != params.region:
                yield ctx.finding(
                    at=attr,
                    node=ri,
                    address=who,
                    message=f"{who}: the certificate {v.value} is in {region}; CloudFront takes certificates from {params.region} only",
                )
            continue
        certs = [
            r
            for r in trace(env, ri.instance, attr.expr)
            if r.kind == "resource" and r.resource_type in params.certificate_types
        ]
        for reach in certs:
            for cert in live_resources(env, reach.resource_type or ""):
                if cert.resource_address != reach.address:
                    continue
                region_v = provider_region(env, cert)
                if region_v.is_unknown:
                    yield ctx.undecided(
                        at=attr,
                        node=ri,
                        address=who,
                        message=f"{who}: the region of {cert.resource_address} cannot be resolved ({region_v.reason})",
                    )
                elif region_v.is_known and region_v.value != params.region:
                    yield ctx.finding(
                        at=attr,
                        node=ri,
                        address=who,
                        message=(
                            f"{who}: the certificate {cert.resource_address} is created in {region_v.value} (its provider "
                            f"configuration); CloudFront takes certificates from {params.region} only"
                        ),
                        related=[cert.span],
                    )
                break


# --- MSK without client authentication --------------------------------------------------------


@check("tf-msk-unauthenticated", scope="terraform.resource", types=("aws_msk_cluster",))
def msk_unauthenticated(ctx: Context, ri: ResourceInstance, params: NoParams) -> Iterator[Hit]:
    """An MSK cluster that lets clients in without authentication: no `client_authentication`
    block (unauthenticated access is then on), or `unauthenticated = true`."""
    if ri.resource.mode != "managed":
        return
    who = ri.address_for("client_authentication.unauthenticated")
    if not ri.has_block("client_authentication"):
        yield ctx.finding(
            at=ri,
            node=ri,
            address=who,
            message=f"{who}: no client_authentication block: any client that reaches the brokers may produce and consume",
        )
        return
    v = ri.get("client_authentication.unauthenticated")
    at = ri.attribute("client_authentication.unauthenticated")
    if v.is_unknown:
        yield ctx.undecided(
            at=at or ri, node=ri, address=who, message=f"{who}: unauthenticated cannot be resolved ({v.reason})"
        )
    elif v.is_known and v.value is True:
        yield ctx.finding(
            at=at or ri,
            node=ri,
            address=who,
            message=f"{who}: client_authentication.unauthenticated = true: any client that reaches the brokers may produce and consume",
        )
