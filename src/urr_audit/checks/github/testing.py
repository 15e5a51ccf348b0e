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
from urr_audit.model.gha_expr import condition_truthiness, with_values
from urr_audit.model.workflows import Condition, Job, ShellCommand, Step


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
    # commands that run what precedes the real tool (`poetry run pytest`, `python -m tox`):
    # stripped (with their options) before the patterns are matched again
    prefixes: list[str] = Field(
        default_factory=lambda: [
            "poetry run",
            "uv run",
            "pipenv run",
            "pdm run",
            "hatch run",
            "rye run",
            "bundle exec",
            "npx",
            "yarn",
            "pnpm",
            "python* -m",
        ]
    )
    # task runners -> the options naming the tasks they run (no option: the words after the
    # runner): `tox -e lint`, `nox -s docs`, `make lint`, `hatch run lint:check`. A run that names
    # tasks counts only when one matches `task_names` (globs); one naming none (`tox`) is
    # matched by `commands` as any other command
    task_runners: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "tox": ["-e", "--env"],
            "tox run": ["-e", "--env"],
            "nox": ["-s", "-e", "--session", "--sessions"],
            "make": [],
            "just": [],
            "hatch run": [],
            "hatch test": [],
        }
    )
    task_names: list[str] = Field(default_factory=list)
    # report actions that fail the job when a test in the report failed: action -> (the input
    # turning that on, its default): a failure ignored by an earlier step is surfaced there
    failing_reporters: dict[str, tuple[str, bool]] = Field(default_factory=dict)


_FALLBACKS = frozenset({"true", ":"})
_STATUS = re.compile(r"\$\?|\$\{\?\}|PIPESTATUS|pipestatus")


@lru_cache(maxsize=64)
def _first_words(patterns: tuple[tuple[str, ...], ...]) -> re.Pattern[str]:
    """One regex for the command names of all patterns: most commands match none."""
    return re.compile("|".join(f"(?:{translate(p[0])})" for p in patterns) or "(?!)")


def _match(name: str, args: list[str], patterns: list[list[str]]) -> str | None:
    if not _first_words(tuple(tuple(p) for p in patterns)).match(name):
        return None
    for words in patterns:
        if not fnmatchcase(name, words[0]):
            continue
        if all(any(fnmatchcase(a, w) for a in args) for w in words[1:]):
            return " ".join(words)
    return None


def _after(argv: list[str], words: list[str]) -> list[str] | None:
    """The words after `words` (fnmatch globs, the first against the basename), options after
    them skipped; None when `argv` does not start with them."""
    if len(argv) <= len(words) or not fnmatchcase(argv[0].rsplit("/", 1)[-1], words[0]):
        return None
    if any(a != w for a, w in zip(argv[1 : len(words)], words[1:], strict=True)):
        return None
    return argv[len(words) :]


def _task_names(rest: list[str], options: list[str]) -> list[str]:
    """The tasks a runner is told to run: the values of `options` (`-e a,b`, `-ea`, `--env=a`),
    or without options the words that are neither options nor `VAR=value`; `env:script` gives both."""
    raw: list[str] = []
    if options:
        for i, a in enumerate(rest):
            for o in options:
                if a == o and i + 1 < len(rest):
                    raw.append(rest[i + 1])
                elif a.startswith(o + "=") or (not o.startswith("--") and a.startswith(o) and len(a) > len(o)):
                    raw.append(a[len(o) :].lstrip("="))
    else:
        raw = [a for a in rest if not a.startswith("-") and "=" not in a]
    return [n for r in raw for n in re.split(r"[,:]", r) if n]


def _runs(cmd: ShellCommand, patterns: list[list[str]], params: IgnoredFailureParams | None = None) -> str | None:
    """The pattern `cmd` matches, as written (a task runner's run as `runner task`), else None.
    Runner prefixes (`poetry run`) are stripped and the rest matched again."""
    argv = list(cmd.argv)
    if not argv:
        return None
    if params is not None:
        if any(a in params.skip_args for a in argv[1:]):
            return None
        excluded = {b for a, b in pairwise(argv[1:]) if a in ("-x", "--exclude-task")}
        if excluded & set(params.skip_tasks):
            return None
    for _ in range(4):  # `uv run python -m tox -e py312`: a few prefixes deep at most
        if params is not None:
            for runner, options in params.task_runners.items():
                rest = _after(argv, runner.split())
                names = _task_names(rest, options) if rest is not None else []
                if not names:
                    continue
                hit = next((n for n in names if any(fnmatchcase(n, g) for g in params.task_names)), None)
                if hit is not None:
                    return f"{runner} {hit}"
                if runner not in params.prefixes:
                    return None  # `tox -e docs`: the tasks it names are not of this kind
        found = _match(argv[0].rsplit("/", 1)[-1], argv[1:], patterns)
        if found is not None or params is None:
            return found
        stripped = next(
            (r for p in params.prefixes if (r := _after(argv, p.split())) is not None),
            None,
        )
        while stripped and stripped[0].startswith("-"):
            stripped = stripped[1:]
        if not stripped:
            return None
        argv = stripped
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


def _fails(step: Step) -> bool:
    """The step's script fails on purpose: `exit 1` (any non-zero literal) or `false`."""
    cmds = step.run.commands if step.run is not None else []
    return any((c.name == "exit" and c.argv[1:2] not in ([], ["0"])) or c.argv == ["false"] for c in cmds)


def _on_failure_of(cond: Condition | None, step_id: str) -> bool:
    """The `if:` runs the step when step `step_id` failed and not when it passed
    (`steps.<id>.outcome == 'failure'`, `!= 'success'`)."""
    if cond is None or cond.expr is None:
        return False
    key = f"steps.{step_id}.outcome"
    failed = condition_truthiness(cond.expr.node, with_values({}, {key: "failure"}), "success")
    passed = condition_truthiness(cond.expr.node, with_values({}, {key: "success"}), "success")
    return failed is True and passed is False


def surfaced(job: Job, step: Step, params: IgnoredFailureParams) -> Step | None:
    """A later step of the job that turns the ignored failure back into a failed job: one run
    only when the step's outcome is a failure that then exits non-zero, or a report action
    (`failing_reporters`) set to fail on failed tests."""
    step_id = step.id.text if step.id is not None and step.id.is_literal else None
    at = next(i for i, s in enumerate(job.steps) if s is step)
    for later in job.steps[at + 1 :]:
        if later.uses is not None and later.uses.action:
            entry = next((v for k, v in params.failing_reporters.items() if matches(later.uses.action, [k])), None)
            if entry is not None:
                name, default = entry
                value = later.with_.get(name)
                if (is_true(value) if value is not None else default) and (value is None or value.is_literal):
                    return later
        if step_id and _fails(later) and _on_failure_of(later.condition, step_id):
            return later
    return None


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
        if surfaced(job, step, params) is not None:
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
