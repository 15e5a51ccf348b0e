"""Facts about how workflows run, derived from the workflow model for the pipeline rules:
local reusable-workflow calls with the token each calling job really holds (nested calls
followed), the values `github.event_name`, `github.ref` and `inputs.*` take in a workflow's
runs (for the three-state `if:` evaluation), and the branches a `git push` or a committing
action writes to."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from urr_audit.facts.activities import input_values, normalized
from urr_audit.model.workflows import (
    SCOPES,
    Job,
    Level,
    Permissions,
    Scalar,
    ShellCommand,
    Step,
    Workflow,
    WorkflowProject,
    default_permissions,
)

Default = Literal["permissive", "restricted"]
RANK: dict[str, int] = {"none": 0, "read": 1, "write": 2}


@dataclass(frozen=True)
class Call:
    """A job of `caller` calling the local reusable workflow `callee`."""

    caller: Workflow
    job: Job
    callee: Workflow


def local_calls(project: WorkflowProject) -> list[Call]:
    """Every job calling a local reusable workflow the loader read and linked."""
    out: list[Call] = []
    for wf, job in project.jobs():
        callee = project.workflow(job.called) if job.called else None
        if callee is not None:
            out.append(Call(wf, job, callee))
    return out


@dataclass(frozen=True)
class Grant:
    """The token a job holds in one way it runs. `how` says where the levels come from; `chain`
    lists the calls it was inherited through (outermost first), for a called workflow's job
    that writes no `permissions:`."""

    levels: dict[str, Level]
    how: str
    span: Any = None  # the `permissions:` block that decided, None for the repository default
    chain: tuple[tuple[Workflow, Job], ...] = ()

    @property
    def origin(self) -> tuple[Workflow, Job] | None:
        """The outermost calling job, whose token was inherited (None when decided here)."""
        return self.chain[0] if self.chain else None


def _levels(block: Permissions) -> dict[str, Level]:
    return {s: block.level(s) for s in SCOPES}


def job_grants(
    project: WorkflowProject, wf: Workflow, job: Job, default: Default, seen: frozenset[str] = frozenset()
) -> list[Grant]:
    """The token `job` of `wf` holds, once per way it runs: its own `permissions:`, else the
    workflow's; without either, in a called workflow the calling job's token (per caller,
    followed up nested calls), else the repository default (`default`, a rule param). Empty
    when the job runs only when called and no caller is known."""
    block = job.permissions or wf.permissions
    if block is not None:
        where = f"job `{job.id}`" if job.permissions is not None else f"`{wf.path}`"
        return [Grant(_levels(block), f"the `permissions:` of {where}", block.span)]
    out: list[Grant] = []
    if wf.trigger("workflow_call") is not None and wf.path not in seen:
        for caller, cjob in project.callers_of(wf.path):
            for g in job_grants(project, caller, cjob, default, seen | {wf.path}):
                out.append(Grant(g.levels, g.how, g.span, (*g.chain, (caller, cjob)) if g.chain else ((caller, cjob),)))
    if any(t.event != "workflow_call" for t in wf.triggers):
        out.append(Grant(default_permissions(default), f"the repository's default token (`{default}`)"))
    return out


def requested(callee: Workflow, job: Job) -> tuple[dict[str, Level], Permissions] | None:
    """What a job of a called workflow asks for: its `permissions:`, else its workflow's.
    None when neither is written (it then takes the caller's token as it is)."""
    block = job.permissions or callee.permissions
    return (_levels(block), block) if block is not None else None


def shortfall(granted: dict[str, Level], wanted: dict[str, Level]) -> list[tuple[str, Level, Level]]:
    """(scope, wanted, granted) for each scope asked above what is granted."""
    return [(s, w, granted.get(s, "none")) for s, w in wanted.items() if RANK[w] > RANK[granted.get(s, "none")]]


# --- the values a workflow's runs give to what an `if:` reads -------------------------------------


@dataclass
class RunDomains:
    """Finite sets of values for context paths in a workflow's runs (dotted path -> values),
    and why the others were left out."""

    values: dict[str, list[Any]] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    # a workflow on the way up the callers (or this one) is reusable and called by nothing in
    # the repository: another repository may call it with any event, so the event is open
    open_callers: bool = False
    # the inputs come from the callers in this repository (a reusable workflow)
    called: bool = False


def _open_callers(project: WorkflowProject, wf: Workflow) -> bool:
    seen: set[str] = set()
    todo = [wf]
    while todo:
        w = todo.pop()
        if w.path in seen:
            continue
        seen.add(w.path)
        if w.trigger("workflow_call") is None:
            continue
        callers = project.callers_of(w.path)
        if not callers:
            return True
        todo.extend(c for c, _ in callers)
    return False


_GLOB = re.compile(r"[*?\[\]!]")


def run_domains(project: WorkflowProject, wf: Workflow) -> RunDomains:
    """`github.event_name` (the workflow's events; a reusable workflow sees its callers'),
    `github.ref` when every run is a push to branches listed literally, and each input whose
    values are enumerable (what every caller passes or the default it falls back to, dispatch
    choices and booleans, null where another event starts the workflow)."""
    out = RunDomains()
    events = project.triggering_events(wf.path)
    out.events = events
    out.open_callers = _open_callers(project, wf)
    if events and not out.open_callers:
        out.values["github.event_name"] = list(events)
    refs = _push_refs(project, wf)
    if refs:
        out.values["github.ref"] = refs
    out.called = wf.trigger("workflow_call") is not None
    own = [t.event for t in wf.triggers]
    no_inputs = any(e not in ("workflow_call", "workflow_dispatch") for e in own)
    for name, values in input_values(project, wf).items():
        if values is None:
            continue
        vals = list(values)
        if no_inputs and None not in vals:
            vals.append(None)
        out.values[f"inputs.{name}"] = vals
    return out


def _push_refs(project: WorkflowProject, wf: Workflow) -> list[str]:
    """`refs/heads/<b>` for each branch when the workflow runs only on pushes to branches named
    without wildcards (and no tag pushes); else empty (the ref is not enumerable)."""
    if wf.trigger("workflow_call") is not None or not wf.triggers:
        return []
    out: list[str] = []
    for t in wf.triggers:
        if t.event != "push" or not t.branches or t.tags is not None or t.branches_ignore is not None:
            return []
        if any(_GLOB.search(b) for b in t.branches):
            return []
        out += [f"refs/heads/{b}" for b in t.branches if f"refs/heads/{b}" not in out]
    return out


# --- pushes to a branch ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BranchPush:
    """A step that writes commits to a branch: `branch` as named (None: the branch the run
    checked out), `span` where it is written, `how` a short description."""

    step: Step
    span: Any
    column: int
    branch: str | None
    how: str


# `${{ github.ref_name }}` / `${{ github.ref }}`: the branch the run is on
_CURRENT = re.compile(r"\$\{\{github\.(ref_name|ref)\}\}", re.IGNORECASE)
_OPTS_WITH_VALUE = {"-o", "--push-option", "--repo", "--receive-pack", "--exec"}


def git_push_targets(cmd: ShellCommand) -> tuple[bool, list[str | None]] | None:
    """For a `git push` command line: (pushes branches at all, destinations) where a
    destination is a branch name as written (`refs/heads/` removed), or None for the checked-out
    branch (no refspec, `HEAD`, `@`). None when the command is not a `git push`. Tag-only and
    delete pushes give (False, [])."""
    argv = normalized(cmd.argv)
    if len(argv) < 2 or argv[0].rsplit("/", 1)[-1] != "git":
        return None
    i = 1
    while i < len(argv) and argv[i].startswith("-") and argv[i] not in ("push",):
        i += 2 if argv[i] in ("-C", "-c") else 1  # `git -C dir push`, `git -c k=v push`
    if i >= len(argv) or argv[i] != "push":
        return None
    words: list[str] = []
    rest = argv[i + 1 :]
    skip = False
    tags_only = False
    for w in rest:
        if skip:
            skip = False
            continue
        if w in _OPTS_WITH_VALUE:
            skip = True
            continue
        if w in ("--tags", "--follow-tags") and not words:
            tags_only = w == "--tags"
            continue
        if w in ("-d", "--delete", "--mirror", "--all", "--prune"):
            return (False, []) if w in ("-d", "--delete") else (True, [])
        if w.startswith("-"):
            continue
        words.append(w)
    refspecs = words[1:]
    if not refspecs:
        return (False, []) if tags_only else (True, [None])
    dests: list[str | None] = []
    for spec in refspecs:
        spec = spec.lstrip("+")
        if spec.startswith(":"):
            continue  # `:branch` deletes it
        dst = spec.split(":", 1)[1] if ":" in spec else spec
        if dst in ("HEAD", "@") or _CURRENT.fullmatch(dst.replace(" ", "")):
            dests.append(None)
            continue
        if not dst:
            continue
        if dst.startswith("refs/tags/"):
            continue
        dests.append(dst.removeprefix("refs/heads/"))
    return (bool(dests), dests)


def literal(s: Scalar | None) -> str | None:
    return s.text if s is not None and s.is_literal else None
