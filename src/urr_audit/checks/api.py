"""The interface between check templates and the engine.

A check is a plain generator function over one typed model node:

    @check("tf-remote-backend", scope="terraform.environment", params=RemoteBackendParams)
    def remote_backend(ctx: Context, env: Environment, params: RemoteBackendParams):
        if not env.module.backends:
            yield ctx.finding(at=env.module, message="...")

The engine stamps rule id, title, severity, category, fingerprint; the check says where and
what. `ctx.undecided(...)` says a value needed to decide was unknown: reported apart, never
counted as a failure. Checks hold no state between calls and never read files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from urr_audit.model.common import Confidence, Severity, Span


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class CheckSpec:
    name: str
    scope: str
    params: type[BaseModel]
    fn: Callable[..., Iterable[Any]]
    types: tuple[str, ...] = ()  # resource types / object kinds this check applies to ("" = all)
    module: str = ""
    # "terraform" / "kubernetes": the check concludes from ABSENCE in an environment of that
    # framework (no PDB, no flow log, a selector matching nothing). Where the environment is
    # incomplete (a remote module or base not read) its findings become undecided.
    closed_world: str | None = None
    # What the check examines inside its scope node (an environment, the project), for coverage
    # reports: object kinds or resource types, or a function of the rule's params giving them
    # (`lambda p: p.resource_types`), in the vocabulary of `urr_audit.facts.subjects`
    # (`Deployment`, `aws_db_instance`, `actions/checkout`, `on:pull_request_target`,
    # `Application`...). A strength is claimed only where they exist. Never used for dispatch.
    subjects: tuple[str, ...] | Callable[[Any], Iterable[str]] = ()
    # Why the check declares no subjects: it examines each node of its scope as a whole (an
    # environment's backend, the repository's load errors). Its scope nodes are then counted.
    # A test requires `subjects`, `types` or this on every check.
    no_subjects: str = ""

    @property
    def doc(self) -> str:
        return (self.fn.__doc__ or "").strip()

    def subjects_for(self, params: Any) -> tuple[str, ...]:
        """The kinds / types this check examines, for a rule's validated params."""
        if callable(self.subjects):
            return tuple(self.subjects(params))
        return self.subjects


def check(
    name: str,
    *,
    scope: str,
    params: type[BaseModel] = NoParams,
    types: tuple[str, ...] = (),
    closed_world: str | None = None,
    subjects: tuple[str, ...] | Callable[[Any], Iterable[str]] = (),
    no_subjects: str = "",
) -> Callable[[Callable[..., Iterable[Any]]], Callable[..., Iterable[Any]]]:
    """Mark a function as a check template. Discovery is by this marker, not by import side effects."""

    def mark(fn: Callable[..., Iterable[Any]]) -> Callable[..., Iterable[Any]]:
        fn.__urr_check__ = CheckSpec(  # type: ignore[attr-defined]
            name=name,
            scope=scope,
            params=params,
            fn=fn,
            types=tuple(types),
            module=fn.__module__,
            closed_world=closed_world,
            subjects=subjects,
            no_subjects=no_subjects,
        )
        return fn

    return mark


@dataclass
class Hit:
    """What a check yields. The engine turns it into a `Finding`."""

    span: Span
    message: str
    address: str | None = None
    environment: str | None = None
    related: list[Span] = field(default_factory=list)
    undecided: bool = False
    # For a closed_world check: the check showed that nothing left unread in the environment
    # (a remote module, a remote base) can change this conclusion, so it stands as a finding.
    settled: bool = False
    # below the rule's severity when the check sees plausible intent (the message says which)
    severity: Severity | None = None
    # how sure the check is that the weakness is real here (zizmor's second axis), when it says
    confidence: Confidence | None = None
    column: int | None = None  # 1-based, when the check knows the exact place on the line


def _span_of(at: Any) -> Span:
    if isinstance(at, Span):
        return at
    span = getattr(at, "span", None)
    if isinstance(span, Span):
        return span
    raise TypeError(f"cannot locate {type(at).__name__}: give a Span or a node with .span")


class Context:
    """Handed to each check call; builds hits anchored at model nodes."""

    def __init__(self, rule_id: str, catalog: Sequence[Any] = ()):
        self.rule_id = rule_id
        # Every rule loaded (selected or not), for the few checks about the catalog itself:
        # the catch-all input-error rule reports the load errors no other rule claims.
        self.catalog = catalog

    def finding(
        self,
        *,
        at: Any,
        message: str,
        address: str | None = None,
        environment: str | None = None,
        related: Iterable[Any] = (),
        node: Any = None,
        settled: bool = False,
        severity: Severity | str | None = None,
        confidence: Confidence | None = None,
        column: int | None = None,
    ) -> Hit:
        """`at` is where the user must edit (a Span or node); `node` (default `at`) gives address/env.
        `severity`/`confidence` override the rule's for this finding (severity only downwards);
        `column` is the exact column on the line."""
        source = node if node is not None else at
        if environment is None:
            # the deployment environment a node belongs to; a workflow job's `environment:`
            # (an approval gate, not a Terraform/Kubernetes environment) is not one
            environment = getattr(source, "environment", None)
            environment = environment if isinstance(environment, str) else None
        return Hit(
            span=_span_of(at),
            message=message,
            address=address if address is not None else getattr(source, "address", None),
            environment=environment,
            related=[_span_of(r) for r in related],
            settled=settled,
            severity=Severity(severity) if severity is not None else None,
            confidence=confidence,
            column=column,
        )

    def undecided(self, *, at: Any, message: str, **kw: Any) -> Hit:
        hit = self.finding(at=at, message=message, **kw)
        hit.undecided = True
        return hit


def iter_hits(result: Iterable[Any] | None) -> Iterator[Hit]:
    for item in result or ():
        if not isinstance(item, Hit):
            raise TypeError(f"a check yielded {type(item).__name__}, expected ctx.finding(...)")
        yield item
