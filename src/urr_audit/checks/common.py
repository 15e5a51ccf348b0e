"""Checks that apply to the whole repository, whatever its frameworks: input that could not
be read, and the inline suppression comments themselves."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from urr_audit.checks.api import Context, Hit, NoParams, check
from urr_audit.model.common import LoadError, Span
from urr_audit.model.findings import SuppressionComment
from urr_audit.model.project import Project

LOAD_ERRORS = "load-errors"


class LoadErrorParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kinds: list[str] = []  # LoadError kind prefixes, e.g. ["terraform."]
    levels: list[Literal["error", "note"]] = ["error"]  # notes: input deliberately not read (remote URLs)
    # The catch-all: every load error (of these levels) that no other load-errors rule of the
    # catalog claims, so a new loader's errors always have a rule id.
    unclaimed: bool = False


def claims(params: LoadErrorParams, err: LoadError) -> bool:
    return err.level in params.levels and any(err.kind == k.rstrip(".") or err.kind.startswith(k) for k in params.kinds)


def _claiming(catalog: Iterable[Any]) -> list[tuple[str, LoadErrorParams]]:
    out = []
    for rule in catalog:
        if getattr(rule, "check", None) != LOAD_ERRORS:
            continue
        try:
            params = LoadErrorParams.model_validate(rule.params)
        except ValidationError:
            continue  # reported when that rule is bound
        if not params.unclaimed:
            out.append((str(rule.id), params))
    return out


def claimant(err: LoadError, catalog: Iterable[Any]) -> str | None:
    """The id of the rule that reports `err`: the first load-errors rule of the catalog whose
    kinds and levels claim it, else the catch-all's; None when the catalog has neither."""
    rules = list(catalog)
    for rule_id, params in _claiming(rules):
        if claims(params, err):
            return rule_id
    for rule in rules:
        catch_all = getattr(rule, "check", None) == LOAD_ERRORS and rule.params.get("unclaimed")
        if catch_all and err.level in rule.params.get("levels", ["error"]):
            return str(rule.id)
    return None


@check(
    LOAD_ERRORS,
    scope="project",
    params=LoadErrorParams,
    no_subjects="a meta-rule over what the loaders could not read (Project.errors), not over artifacts",
)
def load_errors(ctx: Context, project: Project, params: LoadErrorParams) -> Iterator[Hit]:
    """Input a loader could not read (parse errors, missing files, refused paths) as findings;
    with `levels: [note]`, input it deliberately did not read (remote URLs, unrendered fields);
    with `unclaimed: true`, those of any kind no other load-errors rule claims."""
    others = _claiming(ctx.catalog) if params.unclaimed else []
    for err in project.errors:
        if params.unclaimed:
            if err.level not in params.levels or any(claims(p, err) for _, p in others):
                continue
        elif not claims(params, err):
            continue
        yield ctx.finding(
            at=Span(path=err.path, line=err.line, end_line=err.line),
            message=err.message if not params.unclaimed else f"{err.message} ({err.kind})",
            address=err.address,
            environment=err.environment,
        )


@check(
    "suppression-unknown-rule",
    scope="suppression",
    params=NoParams,
    no_subjects="a meta-rule over the repository's suppression comments, not over artifacts",
)
def suppression_unknown_rule(ctx: Context, comment: SuppressionComment, params: NoParams) -> Iterator[Hit]:
    """An inline suppression naming a rule id that no rule (nor former id) has: a typo
    suppresses nothing, silently."""
    for rule_id in comment.unknown:
        hint = f" (did you mean {comment.suggestions[rule_id]}?)" if rule_id in comment.suggestions else ""
        yield ctx.finding(at=comment.span, message=f"suppression names unknown rule {rule_id}{hint}")


@check(
    "suppression-unused",
    scope="suppression",
    params=NoParams,
    no_subjects="a meta-rule over the repository's suppression comments, not over artifacts",
)
def suppression_unused(ctx: Context, comment: SuppressionComment, params: NoParams) -> Iterator[Hit]:
    """An inline suppression that suppressed nothing in this run (only rules that ran count)."""
    if comment.unused == ["*"]:
        yield ctx.finding(at=comment.span, message="suppression comment suppresses nothing")
        return
    for rule_id in comment.unused:
        yield ctx.finding(at=comment.span, message=f"suppression of {rule_id} suppresses nothing")
