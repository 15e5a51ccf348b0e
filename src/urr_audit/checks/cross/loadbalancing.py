"""Load balancing: Terraform target groups nothing registers targets into."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.cross._common import spans
from urr_audit.facts.installed import what_is_installed
from urr_audit.facts.tf import existing, targets
from urr_audit.model.kubernetes import K8sObject
from urr_audit.model.project import Project


class TargetGroupParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_types: list[str] = Field(default_factory=lambda: ["ip", "instance"])
    default_target_type: str = "instance"
    # resource type -> attributes naming the target groups it registers targets into
    registrars: dict[str, list[str]]
    # regexes searched in the names of what the repository installs: a controller that
    # registers targets from TargetGroupBinding objects
    controllers: list[str]


def _bindings(project: Project) -> list[K8sObject]:
    out: dict[str, K8sObject] = {}
    for env in project.kubernetes.environments:
        for o in env.objects:
            if o.kind == "TargetGroupBinding" and o.group == "elbv2.k8s.aws":
                out.setdefault(f"{o.span.path}:{o.span.line}", o)
    for app in project.argocd.applications:
        for t in app.targets:
            for o in t.objects:
                if o.kind == "TargetGroupBinding" and o.group == "elbv2.k8s.aws":
                    out.setdefault(f"{o.span.path}:{o.span.line}", o)
    return list(out.values())


def _binding_names(o: K8sObject) -> tuple[str | None, bool]:
    """(target group name the binding names, whether it names one at all). The name comes from
    `targetGroupName` or the ARN (`...:targetgroup/<name>/<id>`); an ARN that is not literal
    (a placeholder, a substitution) names one that cannot be told."""
    spec = o.body.get("spec")
    if not isinstance(spec, dict):
        return None, False
    name = spec.get("targetGroupName")
    if isinstance(name, str) and name:
        return name, True
    arn = spec.get("targetGroupARN")
    if isinstance(arn, str) and arn:
        m = re.search(r":targetgroup/([^/]+)/", arn)
        return (m.group(1) if m else None), True
    return None, False


@check(
    "cross-target-group-unregistered",
    scope="project",
    params=TargetGroupParams,
    subjects=("terraform:aws_lb_target_group",),
)
def target_group_unregistered(ctx: Context, project: Project, params: TargetGroupParams) -> Iterator[Hit]:
    """Target groups of type `ip` or `instance` that nothing registers targets into: no
    attachment, Auto Scaling group or ECS service in the same environment names them, no
    TargetGroupBinding object of the repository names them, and no load balancer controller
    that could bind them is installed. Their listener answers 503. Undecided where a binding
    names a target group that cannot be told, or where a controller is installed (a binding may
    come from outside the repository), or where the repository deploys what it does not read."""
    bindings = _bindings(project)
    named = {n for n, _ in map(_binding_names, bindings) if n}
    unclear = [o for o in bindings if _binding_names(o) == (None, True)]
    installed = None
    for env in project.terraform.environments:
        registered: set[str] = set()
        for rtype, attrs in params.registrars.items():
            for ri in existing(env, rtype):
                for a in attrs:
                    registered.update(targets(env, ri, a))
        seen: set[str] = set()
        for tg in existing(env, "aws_lb_target_group"):
            if tg.resource.mode != "managed" or tg.resource_address in seen:
                continue
            seen.add(tg.resource_address)
            t = tg.get("target_type")
            kind = str(t.value) if t.is_known else (params.default_target_type if t.is_absent else None)
            if kind is None or kind not in params.target_types:
                continue
            if tg.resource_address in registered or tg.address in registered:
                continue
            name_v = tg.get("name")
            name = name_v.value if name_v.is_known and isinstance(name_v.value, str) else None
            if name is not None and name in named:
                continue
            at = tg.span_of("target_type") if tg.attribute("target_type") else tg.span
            subject = f"target group {tg.resource_address} (target_type {kind})"
            if unclear or (name is None and bindings):
                ob = (unclear or bindings)[0]
                yield ctx.undecided(
                    at=at,
                    node=tg,
                    related=spans([ob.span]),
                    message=f"nothing in Terraform registers targets into {subject}, and TargetGroupBinding "
                    f"{ob.name} names a target group that cannot be told",
                )
                continue
            if env.incomplete:
                yield ctx.undecided(
                    at=at,
                    node=tg,
                    message=f"nothing read registers targets into {subject}, but {env.incomplete[0]}",
                )
                continue
            installed = installed or what_is_installed(project)
            controller = next(
                (n for n in installed.names for p in params.controllers if re.search(p, n, re.IGNORECASE)), None
            )
            if controller is not None or installed.unknown:
                why = (
                    f"{controller} is installed, and a TargetGroupBinding may come from outside the repository"
                    if controller is not None
                    else installed.unknown[0]
                )
                yield ctx.undecided(
                    at=at,
                    node=tg,
                    message=f"nothing in the repository registers targets into {subject}, but {why}",
                )
                continue
            listeners = [
                ri.span
                for ri in existing(env, "aws_lb_listener", "aws_lb_listener_rule")
                if tg.resource_address in targets(env, ri, "default_action.target_group_arn")
                or tg.resource_address in targets(env, ri, "action.target_group_arn")
            ]
            yield ctx.finding(
                at=at,
                node=tg,
                related=spans(listeners),
                message=f"nothing registers targets into {subject}: no attachment, Auto Scaling group or ECS "
                "service names it, no TargetGroupBinding does, and no load balancer controller is installed: it "
                "stays empty, and the listeners forwarding to it answer 503",
            )
