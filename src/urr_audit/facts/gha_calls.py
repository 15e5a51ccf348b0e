"""Facts about how workflows run, derived from the workflow model for the pipeline rules:
local reusable-workflow calls with the token each calling job really holds (nested calls
followed), the values `github.event_name`, `github.ref` and `inputs.*` take in a workflow's
runs (for the three-state `if:` evaluation), and the branches a `git push` or a committing
action writes to."""

from __future__ import annotations

import re
from collections.abc import Iterator
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


def upstream(project: WorkflowProject, wf: Workflow) -> Iterator[Workflow]:
    """`wf`, then (for a reusable workflow) every workflow calling it, up the chains of calls,
    each once."""
    seen: set[str] = set()
    todo = [wf]
    while todo:
        w = todo.pop()
        if w.path in seen:
            continue
        seen.add(w.path)
        yield w
        if w.trigger("workflow_call") is not None:
            todo.extend(c for c, _ in project.callers_of(w.path))


def _open_callers(project: WorkflowProject, wf: Workflow) -> bool:
    return any(w.trigger("workflow_call") is not None and not project.callers_of(w.path) for w in upstream(project, wf))


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
        if w == "--tags":
            tags_only = True
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


# --- where a job's commits go ---------------------------------------------------------------------


@dataclass(frozen=True)
class PushSite:
    """A step writing commits to a branch: `branch` as named, or None for the branch the job
    has checked out; `checked_out` that branch (`actions/checkout` `ref:`, a `git checkout`/`git
    switch` earlier in the job): None when the run's own, '' when not known before the run."""

    job: Job
    step: Step
    span: Any
    column: int
    branch: str | None
    checked_out: str | None
    how: str
    # the branch pushed is one the job created (`git checkout -b`, `git switch -c`): a new
    # branch, typically for a pull request, never the default or a watched branch
    new_branch: bool = False


@dataclass(frozen=True)
class CommitSite:
    """A `git commit -m` (or a committing action's message input) and its message as written."""

    step: Step
    span: Any
    column: int
    message: str


def _checkout_ref(step: Step) -> tuple[bool, str | None, bool]:
    """(changes the branch, which, created): for `actions/checkout` or a `git checkout`/`git
    switch` in a script. The branch is None for the run's own branch (a checkout without
    `ref:`), '' when it is not known before the run; created when the command makes a new
    branch (`-b`, `-c`, `--orphan`), whose name is then kept as written."""
    if step.uses is not None and step.uses.action == "actions/checkout":
        ref = step.with_.get("ref")
        if ref is None:
            return True, None, False
        text = literal(ref)
        return True, text.removeprefix("refs/heads/") if text else "", False
    changed, branch, created = False, None, False
    for cmd in step.run.commands if step.run is not None else ():
        argv = normalized(cmd.argv)
        if len(argv) < 3 or argv[0] != "git" or argv[1] not in ("checkout", "switch"):
            continue
        if "--" in argv:
            continue  # `git checkout main -- file` restores a file
        args = argv[2:]
        new = next((args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-b", "-B", "-c", "-C", "--orphan")), None)
        names = [a for a in args if not a.startswith("-")]
        changed, branch = True, new if new is not None else (names[0] if len(names) == 1 else "")
        created = new is not None
    return changed, branch, created


def _action_entry(action: str, table: dict[str, tuple[str, str]]) -> tuple[str, str] | None:
    """The entry of `table` for an action (`owner/repo[/path]`, case-insensitive, `*` globs)."""
    from fnmatch import fnmatchcase

    want = action.lower()
    return next((v for k, v in table.items() if fnmatchcase(want, k.lower())), None)


def branch_pushes(job: Job, push_actions: dict[str, tuple[str, str]]) -> list[PushSite]:
    """Every push of commits in the job's steps: `git push` command lines (tag-only and delete
    pushes left out) and actions that commit and push (`push_actions`: action -> (input naming
    the branch, input turning the push off), either may be '')."""
    out: list[PushSite] = []
    checked_out: str | None = None
    created: set[str] = set()  # branches the job made
    for step in job.steps:
        changed, branch, new = _checkout_ref(step)
        if changed:
            checked_out = branch
            if new and branch:
                created.add(branch)
        if step.run is not None:
            for cmd in step.run.commands:
                targets = git_push_targets(cmd)
                if targets is None or not targets[0]:
                    continue
                for dest in targets[1]:
                    shown = " ".join(cmd.argv)
                    fresh = (dest if dest is not None else checked_out) in created
                    out.append(PushSite(job, step, cmd.span, cmd.column, dest, checked_out, f"`{shown}`", fresh))
        if step.uses is not None and step.uses.action:
            spec = _action_entry(step.uses.action, push_actions)
            if spec is None:
                continue
            branch_input, off_input = spec
            if off_input and literal(step.with_.get(off_input)) in ("false", "False"):
                continue
            named = literal(step.with_.get(branch_input)) if branch_input else None
            if branch_input and branch_input in step.with_ and named is None:
                continue  # the branch is an expression: not known
            out.append(
                PushSite(
                    job,
                    step,
                    step.uses.span,
                    step.uses.column,
                    named.removeprefix("refs/heads/") if named else None,
                    checked_out,
                    f"`{step.uses.action}`",
                )
            )
    return out


def commit_messages(job: Job, message_inputs: dict[str, tuple[str, str]]) -> list[CommitSite]:
    """`git commit -m/--message` messages in the job's scripts, and the commit-message input
    of committing actions (`message_inputs`: action -> (input, ''))."""
    out: list[CommitSite] = []
    for step in job.steps:
        if step.run is not None:
            for cmd in step.run.commands:
                argv = normalized(cmd.argv)
                if len(argv) < 2 or argv[0] != "git" or argv[1] != "commit":
                    continue
                msgs: list[str] = []
                for i, a in enumerate(argv[2:], 2):
                    if a.startswith("--message="):
                        msgs.append(a.split("=", 1)[1])
                    elif (
                        a == "--message" or (a.startswith("-") and not a.startswith("--") and a.endswith("m"))
                    ) and i + 1 < len(argv):
                        msgs.append(argv[i + 1])
                if msgs:
                    out.append(CommitSite(step, cmd.span, cmd.column, "\n".join(msgs)))
        if step.uses is not None and step.uses.action:
            spec = _action_entry(step.uses.action, message_inputs)
            if spec is not None and spec[0] in step.with_:
                v = step.with_[spec[0]]
                out.append(CommitSite(step, v.span, v.column, v.text))
    return out


def push_to_default(project: WorkflowProject, wf: Workflow, site: PushSite, names: list[str]) -> str | None:
    """Why the push lands on a default branch (one of `names`), or None when it is not known to:
    the branch it names, the branch the job checked out by name, or the run's own branch when
    the workflow runs on the default branch (`runs_on_branch`). A branch the job created is new."""
    if site.new_branch:
        return None
    if site.branch is not None:
        return f"it names `{site.branch}`" if site.branch in names else None
    if site.checked_out is not None:  # '' (not known before the run) is in no list of names
        return f"the job checked out `{site.checked_out}`" if site.checked_out in names else None
    how = runs_on_branch(project, wf, names)
    return f"it pushes the branch the run is on, and {how}" if how else None


def opens_pull_request(job: Job) -> bool:
    """The job opens a pull request from what it pushes (`gh pr create`, `hub pull-request`)."""
    for step in job.steps:
        for cmd in step.run.commands if step.run is not None else ():
            argv = normalized(cmd.argv)
            if argv[:3] == ["gh", "pr", "create"] or argv[:2] == ["hub", "pull-request"]:
                return True
    return False


def delivering_push(project: WorkflowProject, wf: Workflow, site: PushSite, names: list[str]) -> bool:
    """Whether the push can reach a branch something deploys from: the default branch
    (`push_to_default`), or another existing branch a deployment tool may watch (`env/prod`,
    `deploy`, a branch known only at run time). Not a branch the job created, nor, in a job
    that opens a pull request, any branch but the default: the change is reviewed before it
    lands."""
    if site.new_branch:
        return False
    if push_to_default(project, wf, site, names) is not None:
        return True
    return not opens_pull_request(site.job)


def runs_on_branch(
    project: WorkflowProject,
    wf: Workflow,
    names: list[str],
    default_branch_events: tuple[str, ...] = ("schedule", "repository_dispatch"),
) -> str | None:
    """How runs of `wf` can be on one of the branches `names` (the default branch): a push
    trigger whose branch filter lets it through (or has none), an event whose runs GitHub
    always starts on the default branch (`schedule`, `repository_dispatch`); for a reusable
    workflow, the same of a caller. None when no trigger does."""
    from fnmatch import fnmatchcase

    for w in upstream(project, wf):
        for t in w.triggers:
            if t.event in default_branch_events:
                return f"`{w.path}` runs on `{t.event}`, always on the default branch"
            if t.event != "push":
                continue
            if t.branches is None and (t.tags is not None or t.tags_ignore is not None):
                continue  # tag pushes only
            if t.branches is not None:
                hit = next(
                    (n for n in names if any(fnmatchcase(n, b) for b in t.branches if not b.startswith("!"))), None
                )
            else:
                hit = next((n for n in names if not any(fnmatchcase(n, b) for b in t.branches_ignore or [])), None)
            if hit is not None:
                return f"`{w.path}` runs on pushes to `{hit}`"
    return None


# --- deployments ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deploy:
    """A step that changes what runs in an environment, and what names its target: a deploy
    command (`kubectl apply`, `helm upgrade`, `argocd app sync`, `terraform apply`...) or
    action, or a rewrite of a manifest the job then pushes (GitOps)."""

    step: Step
    span: Any
    column: int
    what: str  # the command or action and its target, as resolved for the run
    target: str  # the resolved word or path naming the environment


_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def _env_value(scalar: Scalar, inputs: dict[str, Any]) -> str | None:
    from urr_audit.model.gha_expr import Unknown, evaluate, to_string

    if scalar.is_literal:
        return scalar.text
    if not scalar.is_expression:
        return None
    v = evaluate(scalar.exprs[0].node, {"inputs": dict(inputs)})
    return None if isinstance(v, Unknown) else to_string(v)


def resolve_word(word: str, step: Step, job: Job, wf: Workflow, inputs: dict[str, Any]) -> str | None:
    """A command-line word with its `${{ }}` (evaluated with the run's inputs) and `$VAR`
    (from `env:` of the step, job or workflow) replaced; None when a part is not known."""
    from urr_audit.model.gha_expr import Unknown, evaluate, to_string

    exprs = {e.text.strip(): e for e in (step.run.script.exprs if step.run is not None else ())}
    failed = False

    def expr(m: re.Match[str]) -> str:
        nonlocal failed
        e = exprs.get(m.group(1).strip())
        v = evaluate(e.node, {"inputs": dict(inputs)}) if e is not None else Unknown("not parsed")
        if isinstance(v, Unknown):
            failed = True
            return ""
        return to_string(v)

    def var(m: re.Match[str]) -> str:
        nonlocal failed
        name = m.group(1)
        for env in (step.env, job.env, wf.env):
            if name in env:
                v = _env_value(env[name], inputs)
                if v is None:
                    failed = True
                    return ""
                return v
        failed = True
        return ""

    out = _VAR.sub(var, _EXPR.sub(expr, word))
    return None if failed else out


def _dry_run(argv: list[str]) -> bool:
    """`kubectl apply --dry-run=client`, `helm upgrade --dry-run`: a check, not a deployment."""
    return any(a == "--dry-run" or (a.startswith("--dry-run=") and a != "--dry-run=none") for a in argv)


def deploys(
    project: WorkflowProject,
    wf: Workflow,
    job: Job,
    inputs: dict[str, Any],
    push_actions: dict[str, tuple[str, str]],
    default_branches: list[str],
) -> list[Deploy]:
    """What the job deploys in a run with these inputs: deploy commands and actions (as
    `facts.activities` recognises them) with their words resolved, and the files it rewrites
    when it also pushes them where a deployment reads them (`delivering_push`)."""
    from urr_audit.facts.activities import step_activities

    out: list[Deploy] = []
    pushes = any(delivering_push(project, wf, p, default_branches) for p in branch_pushes(job, push_actions))
    for step in job.steps:
        acts = [a for a in step_activities(step) if a.kind == "deploy"]
        if step.run is not None:
            lines = {(a.span.line) for a in acts}
            for cmd in step.run.commands:
                if cmd.span.line not in lines or _dry_run(cmd.argv):
                    continue
                words = [resolve_word(w, step, job, wf, inputs) for w in normalized(cmd.argv)]
                what = "`" + " ".join(w if w is not None else "…" for w in words) + "`"
                wd = step.run.working_directory
                if wd is not None:  # `terraform apply` in `terraform/environments/prod`
                    where = resolve_word(wd.text, step, job, wf, inputs)
                    words.append(where)
                    what += f" (in `{where}`)" if where is not None else ""
                known = [w for w in words if w is not None]
                out += [Deploy(step, cmd.span, cmd.column, what, k) for k in known]
        elif step.uses is not None and acts:
            for key, v in step.with_.items():
                value = _env_value(v, inputs)
                if value is not None:
                    out.append(
                        Deploy(step, step.uses.span, step.uses.column, f"`{step.uses.action}` ({key}: {value})", value)
                    )
        if pushes:
            from urr_audit.model.gha_expr import Closed

            for edit in step.edits:
                bound = edit.path.bind({"inputs": Closed(inputs)}) if edit.path.holes else edit.path
                if bound.is_known and bound.value:
                    out.append(
                        Deploy(
                            step,
                            edit.span,
                            edit.column,
                            f"rewrites `{bound.value}` ({edit.tool}) and pushes it",
                            bound.value,
                        )
                    )
    return out


def gated(wf: Workflow, job: Job) -> Job | None:
    """The job itself or a job it needs (directly or not) that has an `environment:`."""
    seen: set[str] = set()
    todo = [job]
    while todo:
        j = todo.pop()
        if j.id in seen:
            continue
        seen.add(j.id)
        if j.environment is not None:
            return j
        todo.extend(wf.jobs[n.job] for n in j.needs if n.job in wf.jobs)
    return None
