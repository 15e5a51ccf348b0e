"""Types shared by every part of the model: source spans, values, load errors."""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Span(BaseModel):
    """Where something is written: a path relative to the scanned root ('/' separators)."""

    model_config = ConfigDict(frozen=True)

    path: str
    line: int
    end_line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class Severity(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


class ValueState(str, Enum):
    KNOWN = "known"
    UNKNOWN = "unknown"  # depends on something only known at apply time (a resource attribute, ...)
    ABSENT = "absent"  # not written at all


class Value(BaseModel):
    """A value in one of three states. Rules must decide visibly what to do with unknowns."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    state: ValueState
    value: Any = None
    reason: str = ""
    span: Span | None = None

    @classmethod
    def known(cls, value: Any, span: Span | None = None) -> Value:
        return cls(state=ValueState.KNOWN, value=value, span=span)

    @classmethod
    def unknown(cls, reason: str = "", span: Span | None = None) -> Value:
        return cls(state=ValueState.UNKNOWN, reason=reason, span=span)

    @classmethod
    def absent(cls, span: Span | None = None) -> Value:
        return cls(state=ValueState.ABSENT, span=span)

    @property
    def is_known(self) -> bool:
        return self.state is ValueState.KNOWN

    @property
    def is_unknown(self) -> bool:
        return self.state is ValueState.UNKNOWN

    @property
    def is_absent(self) -> bool:
        return self.state is ValueState.ABSENT

    def known_or(self, default: Any) -> Any:
        return self.value if self.is_known else default


class LoadError(BaseModel):
    """Input a loader could not (fully) read. It becomes a finding; the scan goes on.

    `kind` is dotted, e.g. `terraform.parse`, `kustomize.missing-file`, `fs.outside-root`.
    """

    model_config = ConfigDict(frozen=True)

    kind: str
    path: str
    line: int = 1
    message: str
    address: str | None = None
    environment: str | None = None
    # "note": deliberately not read (a remote URL recorded, never fetched); it does not make
    # the exit code fail. "error": input that should have been readable and was not.
    level: Literal["error", "note"] = "error"
