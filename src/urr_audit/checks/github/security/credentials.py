"""Credentials a workflow leaves within reach: the checkout token persisted in `.git/config`,
registry passwords written in the file, workflow commands re-enabled to set environment
variables, and conditions that trust a spoofable actor name."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, NoParams, check
from urr_audit.checks.github.security._common import is_true, line, literal_text, matches, steps_of
from urr_audit.model.gha_expr import Binary, Call, Literal, Node, Not, Property, refs
from urr_audit.model.workflows import Action, Condition, Job, Scalar, Step, Workflow

# --- persisted checkout credentials -----------------------------------------------------------


class PersistParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checkout: list[str] = Field(default_factory=lambda: ["actions/checkout"])
    upload: list[str] = Field(default_factory=lambda: ["actions/upload-artifact"])
    # actions that push with the credentials a checkout left (a job using them needs them)
    pushers: list[str] = Field(
        default_factory=lambda: [
            "stefanzweifel/git-auto-commit-action",
            "EndBug/add-and-commit",
            "ad-m/github-push-action",
        ]
    )


# before v4.4.0 hidden files (`.git`) were uploaded; `v4` itself now resolves to a later v4
_OLD_UPLOAD = re.compile(r"v?[123](\.\d+)*|v?4\.[0-3](\.\d+)*")


def _upload_leaks(step: Step, checkout_path: str) -> bool:
    """Whether an upload step's `path:` takes in the checkout's `.git` directory."""
    paths = [p.strip() for p in (step.with_["path"].text if "path" in step.with_ else "").splitlines() if p.strip()]
    root = checkout_path.strip("/").removeprefix("./")
    covers = False
    for p in paths:
        if p.startswith("!"):
            continue
        q = p.strip("/").removeprefix("./").replace("${{ github.workspace }}", "").strip("/")
        if q in ("", ".", "*", "**") or (root and (q == root or root.startswith(q + "/"))) or ".git" in q.split("/"):
            covers = True
    if not covers:
        return False
    # upload-artifact 4.4 and later leave hidden files (`.git`) out unless asked
    if is_true(step.with_.get("include-hidden-files")) or ".git" in "".join(paths):
        return True
    u = step.uses
    return u is not None and u.ref_kind == "version" and _OLD_UPLOAD.fullmatch(u.ref or "") is not None


def _pushes(step: Step, params: PersistParams) -> bool:
    if step.uses is not None and matches(step.uses.action, params.pushers):
        return True
    if step.run is None:
        return False
    for c in step.run.commands:
        argv = [a for a in c.argv if not a.startswith("-")]
        if c.name == "git" and any(a in ("push", "fetch", "pull", "ls-remote") for a in argv[1:3]):
            return True
    return False


@check("gha-persisted-credentials", scope="github.file", params=PersistParams, subjects=("actions/checkout",))
def persisted_credentials(ctx: Context, node: Workflow | Action, params: PersistParams) -> Iterator[Hit]:
    """`actions/checkout` without `persist-credentials: false`: the job's token stays in
    `.git/config` for every later step (third-party actions, build scripts, dependencies they
    install) and for any artifact that uploads the working tree. Severity rises when an upload
    takes in `.git`, and falls when the job visibly pushes with git later (it needs the token;
    `persist-credentials: true` says so)."""
    groups: list[list[Step]] = [job.steps for job in node.jobs.values()] if isinstance(node, Workflow) else [node.steps]
    for steps in groups:
        for i, step in enumerate(steps):
            u = step.uses
            if u is None or not matches(u.action, params.checkout):
                continue
            if "persist-credentials" in step.with_:
                continue  # false, true (deliberate) or an expression: said explicitly
            later = steps[i + 1 :]
            path = literal_text(step.with_.get("path")) or ""
            upload = next(
                (
                    s
                    for s in later
                    if s.uses is not None and matches(s.uses.action, params.upload) and _upload_leaks(s, path)
                ),
                None,
            )
            push = next((s for s in later if _pushes(s, params)), None)
            base = f"`{u.raw}` keeps the job's GITHUB_TOKEN in `.git/config` (no `persist-credentials: false`)"
            at = line(step.span.path, step.span.line)  # the step, where `with:` goes
            if upload is not None:
                yield ctx.finding(
                    at=at,
                    node=step,
                    related=[upload.span],
                    confidence="high",
                    message=f"{base}, and the artifact uploaded by step `{upload.label}` includes `.git`: anyone who can download the artifact gets the token",
                )
            elif push is not None:
                yield ctx.finding(
                    at=at,
                    node=step,
                    related=[push.span],
                    severity="low",
                    message=(
                        f"{base}; step `{push.label}` later uses git with it, so this looks intended: if so, write "
                        "`persist-credentials: true` to say so (or pass the token to that command only)"
                    ),
                )
            else:
                yield ctx.finding(
                    at=at,
                    node=step,
                    severity="medium",
                    message=f"{base}: every later step and the code it runs can read it; set `persist-credentials: false`",
                )


# --- literal registry passwords -----------------------------------------------------------------


@check("gha-container-credentials", scope="github.job", subjects=("container",))
def container_credentials(ctx: Context, job: Job, params: NoParams) -> Iterator[Hit]:
    """`credentials.password` of a job container or service written as text rather than an
    expression (`${{ secrets.X }}`): the password is in the repository for anyone who can read it."""
    containers = [("container", job.container), *((f"service `{n}`", c) for n, c in job.services.items())]
    for what, c in containers:
        if c is None or c.password is None:
            continue
        if c.password.exprs or not c.password.text.strip():
            continue
        yield ctx.finding(
            at=c.password,
            node=job,
            address=f"{job.address}/{what}",
            message=f"job `{job.id}` {what}: the registry password is written in the workflow; use `${{{{ secrets.NAME }}}}`",
        )


# --- workflow commands that set environment variables -----------------------------------------

_UNSECURE = "ACTIONS_ALLOW_UNSECURE_COMMANDS"


def _env_maps(node: Workflow | Action) -> Iterator[tuple[str, object, dict[str, Scalar]]]:
    if isinstance(node, Workflow):
        yield "the workflow", node, node.env
        for job in node.jobs.values():
            yield f"job `{job.id}`", job, job.env
    for _job, step in steps_of(node):
        yield f"step `{step.label}`", step, step.env


@check("gha-insecure-commands", scope="github.file", subjects=("workflow", "action"))
def insecure_commands(ctx: Context, node: Workflow | Action, params: NoParams) -> Iterator[Hit]:
    """`ACTIONS_ALLOW_UNSECURE_COMMANDS` set true: the runner again accepts `::set-env` and
    `::add-path` from any step's output, so whoever controls printed text (a PR title echoed in
    a log, a dependency's output) sets environment variables such as `LD_PRELOAD` or `PATH`."""
    for where, owner, env in _env_maps(node):
        value = env.get(_UNSECURE)
        if value is None:
            continue
        text = literal_text(value)
        if text is None:
            yield ctx.undecided(
                at=value,
                node=owner,
                message=f"{where} sets {_UNSECURE} from `{value.text}`: insecure workflow commands are on when it is true",
            )
        elif text.strip().lower() in ("true", "1"):
            yield ctx.finding(
                at=value,
                node=owner,
                message=f"{where} sets {_UNSECURE}: {text.strip()}, re-enabling `::set-env` and `::add-path` for every step's output",
            )
    for _job, step in steps_of(node):
        for w in step.run.writes_to("GITHUB_ENV") if step.run is not None else ():
            if w.name == _UNSECURE:
                yield ctx.finding(
                    at=w.span,
                    column=w.column,
                    node=step,
                    message=f"step `{step.label}` writes {_UNSECURE} to GITHUB_ENV, re-enabling `::set-env` for the steps after it",
                )


# --- spoofable actor conditions ----------------------------------------------------------------

_ACTORS = frozenset({("github", "actor"), ("github", "triggering_actor"), ("github", "event", "sender", "login")})


def _bot_comparisons(node: Node, positive: bool = True) -> Iterator[tuple[str, str, Node]]:
    """(actor context, bot name, comparison) for `actor == 'x[bot]'` where it grants the
    condition (under `&&`/`||`, not negated, not inside a function)."""
    if isinstance(node, Binary):
        if node.op in ("&&", "||"):
            yield from _bot_comparisons(node.left, positive)
            yield from _bot_comparisons(node.right, positive)
            return
        if node.op == "==" and positive:
            for a, b in ((node.left, node.right), (node.right, node.left)):
                rs = refs(a) if isinstance(a, Property) else []
                if (
                    len(rs) == 1
                    and tuple(p.lower() for p in rs[0].parts) in _ACTORS
                    and isinstance(b, Literal)
                    and isinstance(b.value, str)
                    and b.value.lower().endswith("[bot]")
                ):
                    yield rs[0].dotted, b.value, node
    elif isinstance(node, Not):
        yield from _bot_comparisons(node.operand, not positive)
    elif isinstance(node, Call) and node.name in ("success", "always"):
        return


def _checks_event(cond: Condition) -> bool:
    return cond.expr is not None and any(r.parts[:2] == ("github", "event_name") for r in cond.expr.refs)


@check("gha-bot-conditions", scope="github.file", subjects=("workflow", "action"))
def bot_conditions(ctx: Context, node: Workflow | Action, params: NoParams) -> Iterator[Hit]:
    """`if:` conditions that trust a bot by actor name (`github.actor == 'dependabot[bot]'`):
    the actor is whoever caused the latest event, which an attacker can arrange to be the bot
    (re-running, or making the bot update a pull request) while the code comes from them."""
    conditions: list[tuple[object, Condition]] = []
    if isinstance(node, Workflow):
        conditions += [(job, job.condition) for job in node.jobs.values() if job.condition is not None]
    conditions += [(step, step.condition) for _j, step in steps_of(node) if step.condition is not None]
    for owner, cond in conditions:
        if cond.expr is None:
            continue
        for actor, bot, _cmp in _bot_comparisons(cond.expr.node):
            ref = next(r for r in cond.expr.refs if r.dotted == actor)
            yield ctx.finding(
                at=line(cond.span.path, ref.line),
                column=ref.column,
                node=owner,
                address=f"{getattr(owner, 'address', '')}/if/{actor}",
                confidence="medium" if _checks_event(cond) else "high",
                message=(
                    f"the condition trusts `{actor} == '{bot}'`: the actor is whoever triggered the latest event, "
                    f"not who wrote the code; check the pull request's author instead "
                    f"(`github.event.pull_request.user.login == '{bot}'`)"
                ),
            )
