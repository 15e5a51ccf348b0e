"""Steps whose failure cannot fail the job: `continue-on-error: true` on a step or job that runs
tests (or linters), `|| true` / `|| :` / `|| exit 0` / `|| echo ...` after the command, the
command piped into another without `pipefail`, and `set +e` before it with nothing reading its
status. What counts as a test (or lint) command is the rule's param."""

from __future__ import annotations

import re
from collections.abc import Iterator
from fnmatch import fnmatchcase, translate
from functools import lru_cache
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.checks.api import Context, Hit, check
from urr_audit.checks.github.security._common import is_true, matches
from urr_audit.model.workflows import Job, ShellCommand, Step


class IgnoredFailureParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # what the commands are, for messages: "test", "lint"
    what: str = "test"
    # command patterns: the first word matches the command's name (its basename: `./gradlew`,
    # `.venv/bin/pytest`), each further word one of its arguments, in any order (fnmatch globs)
    commands: list[str] = Field(default_factory=list)
    # actions whose step runs the commands (`owner/repo[/path]`, `owner/*`)
    actions: list[str] = Field(default_factory=list)
    # arguments that make a matching command run none of them (`-DskipTests`), and tasks that
    # `-x` excludes (`./gradlew build -x test`)
    skip_args: list[str] = Field(default_factory=lambda: ["-DskipTests", "-Dmaven.test.skip=true", "--no-run"])
    skip_tasks: list[str] = Field(default_factory=lambda: ["test", "check"])


_FALLBACKS = frozenset({"true", ":"})
_STATUS = re.compile(r"\$\?|\$\{\?\}|PIPESTATUS|pipestatus")


@lru_cache(maxsize=64)
def _first_words(patterns: tuple[tuple[str, ...], ...]) -> re.Pattern[str]:
    """One regex for the command names of all patterns: most commands match none."""
    return re.compile("|".join(f"(?:{translate(p[0])})" for p in patterns) or "(?!)")


def _runs(cmd: ShellCommand, patterns: list[list[str]], params: IgnoredFailureParams | None = None) -> str | None:
    """The pattern `cmd` matches, as written, else None."""
    if not cmd.argv:
        return None
    name = cmd.argv[0].rsplit("/", 1)[-1]
    if not _first_words(tuple(tuple(p) for p in patterns)).match(name):
        return None
    args = cmd.argv[1:]
    if params is not None:
        if any(a in params.skip_args for a in args):
            return None
        excluded = {b for a, b in pairwise(args) if a in ("-x", "--exclude-task")}
        if excluded & set(params.skip_tasks):
            return None
    for words in patterns:
        if not fnmatchcase(name, words[0]):
            continue
        if all(any(fnmatchcase(a, w) for a in args) for w in words[1:]):
            return " ".join(words)
    return None


def _pipefail(shell: str | None, before: list[ShellCommand]) -> bool | None:
    """Whether a failure inside a pipeline fails the script: GitHub runs `shell: bash` with
    `-eo pipefail`, the default shell (none written) and `sh` with `-e` only. None for a custom
    shell line that does not say."""
    if any(c.name == "set" and any("pipefail" in a for a in c.argv[1:]) for c in before):
        return not any(c.name == "set" and "+o" in c.argv and "pipefail" in c.argv for c in before)
    if shell is None or shell in ("sh", "dash"):
        return False
    if shell == "bash":
        return True
    return True if "pipefail" in shell else None


def _errexit_off(before: list[ShellCommand]) -> ShellCommand | None:
    """The `set +e` in effect (not undone by a later `set -e`), else None."""
    off: ShellCommand | None = None
    for c in before:
        if c.name != "set":
            continue
        for a in c.argv[1:]:
            if re.fullmatch(r"\+[a-zA-Z]*e[a-zA-Z]*", a):
                off = c
            elif re.fullmatch(r"-[a-zA-Z]*e[a-zA-Z]*", a):
                off = None
    return off


def _reads_status(script: str, cmd: ShellCommand) -> bool:
    """Whether the script reads a command's status (`$?`, `PIPESTATUS`) after `cmd`."""
    at = script.find(cmd.source)
    return _STATUS.search(script[at + len(cmd.source) :] if at >= 0 else script) is not None


def ignored_in_script(
    step: Step, patterns: list[list[str]], params: IgnoredFailureParams | None = None
) -> Iterator[tuple[ShellCommand, str, str]]:
    """(command, pattern, how its failure is ignored) for the commands of a `run:` script."""
    run = step.run
    if run is None:
        return
    cmds = run.commands
    for i, c in enumerate(cmds):
        pattern = _runs(c, patterns, params)
        if pattern is None or c.guard:
            continue  # `if pytest; then`, `! pytest`: the script decides what a failure means
        nxt = cmds[i + 1] if i + 1 < len(cmds) else None
        same_line = nxt is not None and nxt.span.line == c.span.line and bool(nxt.before)
        later = cmds[i + 1 :]
        if same_line and nxt is not None and nxt.before == ("||",):
            after = cmds[i + 2] if i + 2 < len(cmds) else None
            last_on_line = after is None or not after.before or after.span.line != nxt.span.line
            if nxt.name in _FALLBACKS or (nxt.name == "exit" and nxt.argv[1:] == ["0"]):
                yield c, pattern, f"`|| {' '.join(nxt.argv)}` after it turns a failure into success"
                continue
            if nxt.name in ("echo", "printf") and last_on_line:
                yield c, pattern, f"`|| {nxt.name} ...` after it prints the failure and carries on"
                continue
        if same_line and nxt is not None and nxt.before in (("|",), ("|&",)):
            # the pipeline's status is its last command's unless pipefail is on
            if _reads_status(run.text, c):
                continue
            if _pipefail(run.shell, cmds[:i]) is False:
                shell = f"`shell: {run.shell}`" if run.shell else "the default shell (`bash -e`, no pipefail)"
                yield (
                    c,
                    pattern,
                    f"it is piped into `{nxt.name}` and {shell} takes the pipeline's status from the last command",
                )
                continue
        off = _errexit_off(cmds[:i])
        if off is not None and later and not _reads_status(run.text, c):
            yield (
                c,
                pattern,
                f"`set +e` (line {off.span.line}) is in effect and later commands decide the step's status",
            )


@check(
    "gha-ignored-failures",
    scope="github.job",
    params=IgnoredFailureParams,
    subjects=lambda p: ("run", *p.actions),
)
def ignored_failures(ctx: Context, job: Job, params: IgnoredFailureParams) -> Iterator[Hit]:
    """A step running tests (the `commands` / `actions` of the params) whose failure cannot
    fail the job: `continue-on-error: true` on the step or the job, `|| true` (`|| :`, `|| exit
    0`, `|| echo ...`) after the command, the command piped into another (`| tee log`) under a
    shell without pipefail, or `set +e` before it with nothing later reading `$?`. A
    `continue-on-error` written as an expression (`${{ matrix.experimental }}`) is the
    allowed-failure idiom for chosen matrix entries: left out."""
    patterns = [p.split() for p in params.commands if p.split()]
    if any(lbl.text.lower().startswith("windows") for lbl in job.runs_on):
        return  # PowerShell by default: scripts are not split
    running: list[tuple[Step, str]] = []
    for step in job.steps:
        found = list(ignored_in_script(step, patterns, params))
        runs = [(_runs(c, patterns, params), c) for c in (step.run.commands if step.run else [])]
        first = next(((p, c) for p, c in runs if p is not None), None)
        if step.uses is not None and matches(step.uses.action, params.actions):
            running.append((step, f"`{step.uses.raw}`"))
        elif first is not None:
            running.append((step, f"`{' '.join(first[1].argv)}`"))
        else:
            continue
        if is_true(step.continue_on_error):
            assert step.continue_on_error is not None
            yield ctx.finding(
                at=step.continue_on_error,
                node=step,
                column=step.continue_on_error.column,
                message=(
                    f"step `{step.label}` runs {params.what}s ({running[-1][1]}) with `continue-on-error: true`: "
                    f"a failing {params.what} shows as a warning and the job succeeds"
                ),
            )
            continue
        for cmd, _pattern, how in found:
            yield ctx.finding(
                at=cmd,
                node=step,
                column=cmd.column,
                message=f"`{' '.join(cmd.argv)}` in step `{step.label}` cannot fail the job: {how}",
            )
    if running and is_true(job.continue_on_error):
        assert job.continue_on_error is not None
        step, what = running[0]
        yield ctx.finding(
            at=job.continue_on_error,
            node=job,
            column=job.continue_on_error.column,
            related=[s.span for s, _ in running],
            message=(
                f"job `{job.id}` runs {params.what}s ({what} in step `{step.label}`) with `continue-on-error: true`: "
                f"the workflow succeeds when they fail, and jobs that `need` it run anyway"
            ),
        )
