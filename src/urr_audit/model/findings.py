"""Findings: what a scan reports."""

from __future__ import annotations

from pydantic import BaseModel, Field

from urr_audit.model.common import Confidence, Severity, Span


class Finding(BaseModel):
    rule_id: str
    title: str
    severity: Severity
    category: str
    path: str
    line: int
    end_line: int
    address: str | None = None
    environment: str | None = None  # "prod", or "prod, staging" when it holds in several
    environments: list[str] = Field(default_factory=list)
    message: str
    fingerprint: str
    suppressed: bool = False
    suppressed_by: str | None = None  # "comment" (inline urr-audit: ignore) or "baseline"
    justification: str | None = None  # what follows the ids of the suppressing comment
    related: list[Span] = Field(default_factory=list)
    column: int | None = None  # 1-based, when the rule locates the finding inside the line
    confidence: Confidence | None = None  # the rule's (or the finding's own), when the rule rates it

    def sort_key(self) -> tuple[str, int, str, str, str]:
        return (self.path, self.line, self.rule_id, self.address or "", self.message)


class SuppressionComment(BaseModel):
    """An inline `urr-audit: ignore[=ID,...]` comment, after the run: what it named and used.

    The engine fills `unknown` and `unused`; the suppression meta-rules report them."""

    span: Span
    ids: list[str] = Field(default_factory=list)  # upper-cased as written; empty: every rule
    justification: str = ""
    unknown: list[str] = Field(default_factory=list)  # ids naming no rule of the catalog
    suggestions: dict[str, str] = Field(default_factory=dict)  # unknown id -> a close known id
    # ids naming a rule that ran and suppressed nothing here; ["*"] for a bare comment that
    # suppressed nothing at all
    unused: list[str] = Field(default_factory=list)
