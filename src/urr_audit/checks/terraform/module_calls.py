"""Module calls checked against the variables of the module they call (Terraform's
"Unsupported argument" and "Missing required argument" for `module` blocks).

A `module` block's arguments, apart from its meta-arguments, are the called module's input
variables: one it does not declare stops `terraform validate`, and so does a variable it
declares without `default` that the call leaves out. Only modules read from the repository
(local sources) are checked; registry and git modules are never fetched, so nothing is known
of their variables (URR-TF-024 lists them).

What the model cannot show makes a finding undecided, not silent, with the reason: a called
module with a file that did not parse whole may declare the variable in the part not read;
override files (`override.tf`, `*_override.tf`) merge into the blocks they name, which the
model does not do, so a call or variable they touch may differ from what is read here.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.terraform._providers import Root, each_root, roots_of
from urr_audit.model.common import LoadError, Span
from urr_audit.model.project import Project
from urr_audit.model.terraform import ModuleCall, ModuleDir

_OVERRIDE_SUFFIXES = ("_override.tf", "_override.tf.json")
_OVERRIDE_NAMES = ("override.tf", "override.tf.json")


class ModuleArgumentsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # difflib ratio a variable name needs to be offered as "did you mean"
    suggestion_cutoff: float = 0.6


@dataclass
class _Call:
    """A local module call with the module it reads, and why the model may not show it whole."""

    caller: ModuleDir
    call: ModuleCall
    child: ModuleDir
    roots: list[Root]
    unread: str | None  # why the child's variables may be incomplete
    merged: str | None  # why the call or the child's variables may differ (override files)


def _overrides(mod: ModuleDir) -> list[str]:
    return [f for f in mod.files if f.rsplit("/", 1)[-1] in _OVERRIDE_NAMES or f.endswith(_OVERRIDE_SUFFIXES)]


def _parse_errors(project: Project) -> dict[str, LoadError]:
    """The first error of each Terraform file that could not be read whole."""
    out: dict[str, LoadError] = {}
    for err in project.errors:
        if err.kind == "terraform.parse":
            out.setdefault(err.path, err)
    return out


def _local_calls(project: Project) -> list[_Call]:
    """Built once per scan, shared by both rules."""
    return project.fact(_build_local_calls, lambda: list(_build_local_calls(project)))


def _build_local_calls(project: Project) -> Iterator[_Call]:
    tf = project.terraform
    roots = roots_of(tf)
    broken = _parse_errors(project)
    for path in sorted(tf.modules):
        caller = tf.modules[path]
        for name in sorted(caller.module_calls):
            call = caller.module_calls[name]
            child = tf.modules.get(call.resolved_dir or "")
            if child is None:  # remote, missing or outside the root: reported as load errors
                continue
            errors = [broken[f] for f in child.files if f in broken]
            unread = None
            if errors:
                e = errors[0]
                unread = f"{e.path}:{e.line} could not be parsed whole, and may declare it in the part not read"
            merged = None
            files = sorted({*_overrides(caller), *_overrides(child)})
            if files:
                merged = f"override files ({', '.join(files)}) merge into these blocks, which urr-audit does not do"
            yield _Call(caller, call, child, roots.get(path, []), unread, merged)


def _closest(name: str, candidates: list[str], cutoff: float) -> str | None:
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=cutoff)
    return close[0] if close else None


def _variables_span(child: ModuleDir) -> Span:
    """The file declaring most of the module's variables (at its first declaration), else the
    module's first file: where a reader looks for the names the module accepts."""
    if not child.variables:
        first = child.files[0] if child.files else child.path
        return Span(path=first, line=1, end_line=1)
    per_file = Counter(v.span.path for v in child.variables.values())
    path = min(per_file, key=lambda p: (-per_file[p], p))
    line = min(v.span.line for v in child.variables.values() if v.span.path == path)
    return Span(path=path, line=line, end_line=line)


@check(
    "tf-module-unknown-argument",
    scope="project",
    params=ModuleArgumentsParams,
    subjects=("module-call",),
)
def module_unknown_argument(ctx: Context, project: Project, params: ModuleArgumentsParams) -> Iterator[Hit]:
    """A call of a local module that sets an argument the module declares no variable for
    (meta-arguments aside): Terraform stops with "Unsupported argument". The message offers the
    closest variable the call does not set yet. Undecided when a file of the called module did
    not parse whole or override files are involved."""
    for c in _local_calls(project):
        declared = c.child.variables
        unset = sorted(n for n in declared if n not in c.call.arguments)
        for name in sorted(c.call.arguments, key=lambda n: (c.call.arguments[n].span.line, n)):
            if name in declared:
                continue
            arg = c.call.arguments[name]
            close = _closest(name, unset, params.suggestion_cutoff)
            hint = f" (did you mean `{close}`?)" if close else ""
            doubt = c.unread or c.merged
            text = f"argument `{name}` is not a variable of {c.child.path}{hint}: " + (
                f"undecided, {doubt}" if doubt else 'Terraform stops with "Unsupported argument"'
            )
            yield from each_root(
                ctx,
                c.roots,
                c.caller,
                f"module.{c.call.name}",
                arg.span,
                text,
                related=[_variables_span(c.child)],
                undecided=doubt is not None,
            )


@check(
    "tf-module-missing-argument",
    scope="project",
    params=ModuleArgumentsParams,
    subjects=("module-call",),
)
def module_missing_argument(ctx: Context, project: Project, params: ModuleArgumentsParams) -> Iterator[Hit]:
    """A call of a local module that leaves out a variable the module declares without a
    `default` (`default = null` makes one optional): Terraform stops with "Missing required
    argument". An argument of the call that is no variable but close to the missing name is
    named as the likely typo. Undecided when override files are involved; a called module's
    file that did not parse whole changes nothing (a variable read whole stays required)."""
    for c in _local_calls(project):
        unknown = [n for n in c.call.arguments if n not in c.child.variables]
        for var in sorted(c.child.variables.values(), key=lambda v: (v.span.path, v.span.line)):
            if not var.required or var.name in c.call.arguments:
                continue
            close = _closest(var.name, unknown, params.suggestion_cutoff)
            typo = f" (it sets `{close}`: a typo?)" if close else ""
            text = f"does not set `{var.name}`, which {c.child.path} declares without a default{typo}: " + (
                f"undecided, {c.merged}" if c.merged else 'Terraform stops with "Missing required argument"'
            )
            yield from each_root(
                ctx,
                c.roots,
                c.caller,
                f"module.{c.call.name}",
                c.call.span,
                text,
                related=[var.span],
                undecided=c.merged is not None,
            )
