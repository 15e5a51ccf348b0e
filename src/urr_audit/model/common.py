"""Types shared by every part of the model: source spans, values, load errors."""

from __future__ import annotations

import re
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


def private(model: BaseModel) -> dict[str, Any]:
    """The private attributes (`PrivateAttr`) of a model, by name. Reading `model._x` goes
    through pydantic's `__getattr__` after a failed lookup (about 2.5 µs, 30 times a field's):
    hot paths that read one thousands of times per scan read it here."""
    found = model.__pydantic_private__
    assert found is not None, f"{type(model).__name__} has no private attributes"
    return found


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


# How sure a rule is that a finding is a real weakness (zizmor's second axis, beside severity).
Confidence = Literal["high", "medium", "low"]

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


class UnknownLeaf:
    """A part of a partially known value that is only known at apply time.

    Appears inside `Value.partial` (and in the documents of `get_structured`), never inside
    the `value` of a known `Value`. Equal only to itself.
    """

    __slots__ = ("choices", "decoded", "invalid_json", "reason")

    def __init__(
        self,
        reason: str,
        decoded: Any = None,
        choices: tuple[str, Any, Any] | None = None,
        invalid_json: str | None = None,
    ):
        self.reason = reason
        # a string made by jsonencode() of a partially known value (or a JSON template with
        # unknown interpolations): the document it encodes, with its own unknown leaves
        self.decoded = decoded
        # `cond ? a : b` whose condition is unknown: (the condition as written, a, b), each
        # value as far as known; a rule may report what one branch would do ("possibly *")
        self.choices = choices
        # a template that looks like a JSON document but is not valid JSON whatever its
        # interpolations are: why, with the line in the template
        self.invalid_json = invalid_json

    def __repr__(self) -> str:
        return f"UnknownLeaf({self.reason!r})"


class UnknownElements(UnknownLeaf):
    """Inside a list of a partially known value: zero or more elements only known at apply
    time, standing where this marker stands (`concat(["a"], var.unknown_list)` gives
    `["a", UnknownElements(...)]`). Unlike a plain `UnknownLeaf` element, it is not one element:

    - the list's length is unknown, and so are the positions of the elements after the marker;
      indexes of a partial list are positions in this representation (what `span_at` and
      `located` use), the same as Terraform's only before the first marker;
    - every known element is certainly in the list: a rule looking for *some* element with a
      property may conclude on a known one; a rule needing *all* elements (none has X, the
      count is N) must stay undecided when the list holds a marker.

    Only ever an element of a list, never a value on its own or a map value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"UnknownElements({self.reason!r})"


ValuePath = tuple[str | int, ...]


class Rejection(BaseModel):
    """An expression Terraform itself rejects in one environment, found while evaluating it:
    an index past the end of a list (`var.subnet_ids[0]` where the list is empty). The value
    is unknown (there is none); this says why, where, and where the indexed value was set."""

    model_config = ConfigDict(frozen=True)

    message: str  # "index 0 of an empty list"
    text: str = ""  # the failing expression as written: "var.subnet_ids[0]"
    span: Span | None = None  # where it is written; None when inside a template read from elsewhere
    origin: Span | None = None  # where the indexed value was set (a variable default, tfvars, argument)


class Value(BaseModel):
    """A value in one of three states. Rules must decide visibly what to do with unknowns.

    A known value is wholly known. An unknown collection may still be partially known: its
    known parts are in `partial`, the others are `UnknownLeaf`s (`{"a": "x", "b": aws_vpc.v.id}`
    gives `partial == {"a": "x", "b": UnknownLeaf(...)}`); rules that can decide on the known
    parts read it explicitly, the others see an unknown value as before. A list whose length
    is unknown (`concat(["a"], var.unknown_list)`) holds an `UnknownElements` marker for the
    unknown run of elements: see that class before counting elements or trusting positions.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    state: ValueState
    value: Any = None
    reason: str = ""
    span: Span | None = None  # where the value is used (the expression evaluated)
    # unknown values only: the known parts (see the class docstring); None when nothing is known.
    # A scalar whose leaf knows more than its reason (`UnknownLeaf.choices`, `.invalid_json`)
    # keeps that leaf here, so it survives module arguments and outputs.
    partial: Any = None
    # unknown JSON strings (jsonencode() of a partially known value...): the encoded document
    decoded: Any = None
    # where the value was set, for `var.x` (through module levels): the module argument,
    # tfvars attribute or variable default it comes from; None otherwise
    origin: Span | None = None
    # where parts of a collection are written, by path (`("Statement", 1)`); see `span_at`
    located: dict[ValuePath, Span] | None = None
    # unknown values: Terraform would reject the expression here (see `Rejection`); None otherwise
    rejected: Rejection | None = None

    @classmethod
    def known(cls, value: Any, span: Span | None = None) -> Value:
        return cls(state=ValueState.KNOWN, value=value, span=span)

    @classmethod
    def unknown(cls, reason: str = "", span: Span | None = None, partial: Any = None, decoded: Any = None) -> Value:
        return cls(state=ValueState.UNKNOWN, reason=reason, span=span, partial=partial, decoded=decoded)

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

    @property
    def is_partially_known(self) -> bool:
        return self.is_unknown and self.partial is not None

    def parts(self) -> Any:
        """As much of the value as is known: `value` when known, `partial` (with `UnknownLeaf`s,
        and `UnknownElements` in lists of unknown length) when partially known, an `UnknownLeaf`
        when unknown, None when absent."""
        if self.is_known:
            return self.value
        if self.is_unknown:
            return self.partial if self.partial is not None else UnknownLeaf(self.reason)
        return None

    def span_at(self, *path: str | int) -> Span | None:
        """Where the part at `path` of this collection is written: the innermost located
        collection on the path, else the value's span. List indexes are positions in `parts()`
        (after an `UnknownElements` marker they are not Terraform's)."""
        located = self.located or {}
        for n in range(len(path), -1, -1):
            hit = located.get(tuple(path[:n]))
            if hit is not None:
                return hit
        return self.span


def find_unknown(v: Any) -> UnknownLeaf | None:
    """The first `UnknownLeaf` (or `UnknownElements`) inside a (partially known) value,
    depth-first; None if none."""
    if isinstance(v, UnknownLeaf):
        return v
    if isinstance(v, list):
        for x in v:
            u = find_unknown(x)
            if u is not None:
                return u
    elif isinstance(v, dict):
        for x in v.values():
            u = find_unknown(x)
            if u is not None:
                return u
    return None


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

    @classmethod
    def at(cls, span: Span, kind: str, message: str, **kw: Any) -> LoadError:
        """An error located at a model node's span."""
        return cls(kind=kind, path=span.path, line=span.line, message=message, **kw)


def go_glob(pattern: str) -> re.Pattern[str] | None:
    """Go's `path.Match` pattern (Docker's COPY sources, Argo CD's git generator paths) as a
    regex to full-match: `*` and `?` never cross `/`, `[...]` classes (negated by `^`, never
    matching `/`), `\\` escapes. None for a malformed pattern (Go's ErrBadPattern)."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                return None
            cls = pattern[i + 1 : end]
            out.append("[^/" + cls[1:] + "]" if cls.startswith("^") else "[" + cls + "]")
            i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    try:
        return re.compile("".join(out) + r"\Z")
    except re.error:
        return None
