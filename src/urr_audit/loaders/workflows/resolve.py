"""Strings of a workflow as `Template`s: what `env:` (workflow, job, step) and constant
expressions make literal is filled in; the rest are holes with the reason they are unknown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from urr_audit.loaders.workflows.expressions import ExprSyntaxError, find
from urr_audit.loaders.workflows.positions import parse_cached
from urr_audit.model.gha_expr import ContextName, Node, Property, Unknown, evaluate, refs, to_string
from urr_audit.model.gha_images import Hole, Template

if TYPE_CHECKING:
    from urr_audit.loaders.workflows.positions import Located
    from urr_audit.model.workflows import Scalar

MAX_DEPTH = 8
# Variables every runner sets (https://docs.github.com/actions/reference/variables-reference)
RUNNER_PREFIXES = ("GITHUB_", "RUNNER_", "ACTIONS_")
RUNNER_VARS = frozenset({"CI", "HOME", "PATH", "PWD", "USER", "RANDOM", "SHELL", "TMPDIR"})


def _merge(parts: list[str | Hole]) -> tuple[str | Hole, ...]:
    out: list[str | Hole] = []
    for p in parts:
        if isinstance(p, str) and out and isinstance(out[-1], str):
            out[-1] += p
        elif p != "":
            out.append(p)
    return tuple(out)


def describe_unknown(node: Node, step_actions: Mapping[str, str] | None = None) -> str:
    """Why an expression's value is not known before the run, in a reviewer's words."""
    for r in refs(node):
        ctx, dotted = r.context, r.dotted
        if ctx == "inputs":
            return f"`{dotted}` is an input, given by the caller or at dispatch"
        if ctx == "steps" and len(r.parts) > 1:
            action = (step_actions or {}).get(r.parts[1])
            by = f" ({action})" if action else ""
            return f"`{dotted}` is an output of step `{r.parts[1]}`{by}, known at run time"
        if ctx == "needs":
            return f"`{dotted}` is an output of an earlier job, known at run time"
        if ctx == "secrets":
            return f"`{dotted}` is a secret"
        if ctx == "vars":
            return f"`{dotted}` is a configuration variable, set in the repository or organisation"
        if ctx == "matrix":
            return f"`{dotted}` differs per matrix combination"
        if ctx == "env":
            return f"`{dotted}` is not set to a literal in this workflow"
        return f"`{dotted}` is known at run time"
    return "known at run time"


class EnvChain:
    """The `env:` layers in scope (outermost first) of one file, resolving names to templates."""

    def __init__(
        self,
        located: Located,
        layers: tuple[Mapping[str, Scalar], ...] = (),
        step_actions: Mapping[str, str] | None = None,
    ):
        self.located = located
        self.layers = layers
        self.step_actions = dict(step_actions or {})

    def inner(self, env: Mapping[str, Scalar], step_actions: Mapping[str, str] | None = None) -> EnvChain:
        return EnvChain(
            self.located, (*self.layers, env), step_actions if step_actions is not None else self.step_actions
        )

    def _find(self, name: str, upto: int) -> tuple[Scalar, int] | None:
        for i in range(min(upto, len(self.layers)) - 1, -1, -1):
            if name in self.layers[i]:
                return self.layers[i][name], i
        return None

    def env(self, name: str, upto: int | None = None, depth: int = 0) -> Template | None:
        """The template of `env.NAME` as seen from layer `upto` (default: innermost)."""
        hit = self._find(name, len(self.layers) if upto is None else upto)
        if hit is None or depth > MAX_DEPTH:
            return None
        scalar, layer = hit
        return self.text(scalar.text, upto=layer, depth=depth + 1)

    def known_env(self, names: set[str], upto: int, depth: int) -> dict[str, Any]:
        """The env context for evaluating an expression: the names it reads, literal or not."""
        out: dict[str, Any] = {}
        for k in sorted(names):
            t = self.env(k, upto, depth)
            if t is not None:
                out[k] = t.value if t.is_known else Unknown(f"`env.{k}` is not literal")
        return out

    def template(self, scalar: Scalar | None) -> Template | None:
        return None if scalar is None else self.text(scalar.text)

    def text(self, text: str, upto: int | None = None, depth: int = 0) -> Template:
        upto = len(self.layers) if upto is None else upto
        try:
            occurrences = find(text)
        except ExprSyntaxError:
            return Template(parts=(Hole(source=text, reason="the expression cannot be read"),))
        parts: list[str | Hole] = []
        last = 0
        for occ in occurrences:
            parts.append(text[last : occ.start])
            parts.extend(self.expression(occ.inner, text[occ.start : occ.end], upto, depth))
            last = occ.end
        parts.append(text[last:])
        return Template(parts=_merge(parts))

    def expression(self, inner: str, source: str, upto: int, depth: int) -> list[str | Hole]:
        try:
            node = parse_cached(inner)
        except ExprSyntaxError:
            return [Hole(source=source, reason="the expression cannot be read")]
        if isinstance(node, Property) and isinstance(node.obj, ContextName) and node.obj.name.lower() == "env":
            t = self.env(node.name, upto, depth)
            if t is not None:
                return list(t.parts)
            return [Hole(source=source, reason=describe_unknown(node, self.step_actions), node=node)]
        names = {r.parts[1] for r in refs(node) if r.context == "env" and len(r.parts) > 1}
        value = (
            evaluate(node, {"env": self.known_env(names, upto, depth + 1)})
            if depth < MAX_DEPTH
            else Unknown("too deep")
        )
        if isinstance(value, Unknown):
            return [Hole(source=source, reason=describe_unknown(node, self.step_actions), node=node)]
        return [to_string(value)]

    def shell_var(self, name: str) -> Template:
        """`$NAME` in a `run:` script, from `env:` (step, job, workflow)."""
        t = self.env(name)
        if t is not None:
            return t
        if name.startswith(RUNNER_PREFIXES) or name in RUNNER_VARS:
            return Template(parts=(Hole(source=f"${name}", reason=f"`${name}` is set by the runner"),))
        return Template(
            parts=(Hole(source=f"${name}", reason=f"`${name}` is not set in `env:` of the step, job or workflow"),)
        )
