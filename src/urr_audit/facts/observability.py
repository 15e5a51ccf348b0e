"""Monitoring facts of one Terraform environment: alarms and their conditions, log groups with
their retention and who writes to them, log and trace settings of each resource."""

from __future__ import annotations

from dataclasses import dataclass, field

from urr_audit.facts import aws_catalog
from urr_audit.facts.tf import Setting, existing, resource_type, setting, targets
from urr_audit.model.common import Span
from urr_audit.model.terraform import Environment, ResourceInstance

# what an alarm notifies or acts on (its other references are what it watches)
ALARM_ACTIONS = frozenset({"aws_sns_topic", "aws_autoscaling_policy", "aws_appautoscaling_policy"})

COMPARISONS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": ">=",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
    "LessThanLowerOrGreaterThanUpperThreshold": "outside band",
    "LessThanLowerThreshold": "< lower band",
    "GreaterThanUpperThreshold": "> upper band",
}


@dataclass(frozen=True)
class Alarm:
    address: str
    span: Span
    name: Setting | None
    namespace: Setting | None
    metric: Setting | None
    statistic: Setting | None
    comparison: Setting | None
    threshold: Setting | None
    period: Setting | None
    evaluation_periods: Setting | None
    actions: tuple[str, ...]  # resources the alarm notifies
    subject: tuple[str, ...]  # resources its dimensions refer to
    description: str = ""


@dataclass(frozen=True)
class LogGroup:
    address: str
    span: Span
    name: Setting | None
    retention: Setting | None  # None: not written (kept forever)
    writers: tuple[str, ...]  # resources that write to it (by reference or AWS naming convention)


@dataclass
class ObservabilityFacts:
    alarms: list[Alarm] = field(default_factory=list)
    log_groups: list[LogGroup] = field(default_factory=list)
    # (resource address, label, setting) for log and trace settings
    logging: list[tuple[str, str, Setting]] = field(default_factory=list)
    tracing: list[tuple[str, str, Setting]] = field(default_factory=list)


def _text(s: Setting | None) -> str | None:
    return str(s.value.value) if s is not None and s.value.is_known and s.value.value is not None else None


def observability_facts(env: Environment) -> ObservabilityFacts:
    out = ObservabilityFacts()
    for ri in existing(env, "aws_cloudwatch_metric_alarm"):

        def g(p: str, ri: ResourceInstance = ri) -> Setting | None:
            return setting(ri, p)

        out.alarms.append(
            Alarm(
                ri.address,
                ri.span,
                g("alarm_name"),
                g("namespace"),
                g("metric_name"),
                g("statistic") or g("extended_statistic"),
                g("comparison_operator"),
                g("threshold"),
                g("period"),
                g("evaluation_periods"),
                tuple(t for t in targets(env, ri, "alarm_actions") if resource_type(t) in ALARM_ACTIONS),
                tuple(t for t in targets(env, ri, "dimensions") if resource_type(t) not in ALARM_ACTIONS),
                _text(g("alarm_description")) or "",
            )
        )
    groups = list(existing(env, "aws_cloudwatch_log_group"))
    names = {ri.address: _text(setting(ri, "name")) for ri in groups}
    writers: dict[str, set[str]] = {ri.address: set() for ri in groups}
    group_of_resource: dict[str, list[str]] = {}
    for ri in groups:
        group_of_resource.setdefault(ri.resource_address, []).append(ri.address)
    for ri in existing(env):
        if ri.type == "aws_cloudwatch_log_group" or ri.resource.mode != "managed":
            continue
        for label, path in aws_catalog.LOG_SETTINGS.get(ri.type, ()):
            s = setting(ri, path)
            if s is not None:
                out.logging.append((ri.address, label, s))
        for label, path in aws_catalog.TRACING_SETTINGS.get(ri.type, ()):
            s = setting(ri, path)
            if s is not None:
                out.tracing.append((ri.address, label, s))
    # writers by reference: any attribute of a logging block naming the group
    for ri in existing(env):
        if ri.type in ("aws_cloudwatch_log_group",) or ri.type.startswith("aws_cloudwatch_metric"):
            continue
        for path in _log_reference_paths(ri.type):
            for t in targets(env, ri, path):
                if t in writers:
                    writers[t].add(ri.address)
                else:
                    for address in group_of_resource.get(t, ()):
                        writers[address].add(ri.address)
    # writers by AWS naming convention (Lambda writes to /aws/lambda/<function name>)
    for type_, attribute, pattern in aws_catalog.LOG_GROUP_CONVENTIONS:
        for ri in existing(env, type_):
            v = ri.get(attribute)
            if not v.is_known:
                continue
            expected = pattern.format(v.value)
            for address, name in names.items():
                if name is not None and (name == expected or name.rstrip("/") == expected.rstrip("/")):
                    writers[address].add(ri.address)
    for ri in groups:
        out.log_groups.append(
            LogGroup(
                ri.address,
                ri.span,
                setting(ri, "name"),
                setting(ri, "retention_in_days"),
                tuple(sorted(writers[ri.address])),
            )
        )
    return out


_LOG_REFERENCES: dict[str, tuple[str, ...]] = {
    "aws_msk_cluster": ("logging_info.broker_logs.cloudwatch_logs.log_group",),
    "aws_elasticache_replication_group": ("log_delivery_configuration.destination",),
    "aws_api_gateway_stage": ("access_log_settings.destination_arn",),
    "aws_apigatewayv2_stage": ("access_log_settings.destination_arn",),
    "aws_flow_log": ("log_destination", "log_group_name"),
    "aws_lambda_function": ("logging_config.log_group",),
    "aws_ecs_task_definition": ("container_definitions",),
    "aws_sfn_state_machine": ("logging_configuration.log_destination",),
}


def _log_reference_paths(type_: str) -> tuple[str, ...]:
    return _LOG_REFERENCES.get(type_, ())


def condition(alarm: Alarm) -> str:
    """`Maximum ActiveControllerCount < 1 for 3 x 60 s`, with unknown parts said to be unknown."""

    def text(s: Setting | None, fallback: str = "?") -> str:
        if s is None:
            return fallback
        return str(s.value.value) if s.value.is_known else f"unknown ({s.value.reason})"

    op = text(alarm.comparison)
    op = COMPARISONS.get(op, op)
    periods = f" for {text(alarm.evaluation_periods)} x {text(alarm.period)} s" if alarm.period else ""
    return f"{text(alarm.statistic, '')} {text(alarm.metric)} {op} {text(alarm.threshold)}{periods}".strip()
