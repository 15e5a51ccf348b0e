"""GitHub Actions loader: `.github/workflows/*.y{a,}ml`, the local actions they reach, and the
actions the repository publishes: a root `action.y{a,}ml` (the repository is an action) and each
`.github/actions/**/action.y{a,}ml`, read whether or not a workflow here uses them (the runners
of other repositories do).

`load_workflows(ws)` returns a `WorkflowProject` (see `urr_audit.model.workflows`) and the load
errors. Errors (kind, level):

- `workflows.yaml` (error): the file is not valid YAML (line of the problem), holds several
  documents, or aliases expand far beyond what is written.
- `workflows.not-a-mapping` (error): the document is not a mapping (an empty file included).
- `workflows.expression` (error): a `${{ }}` (or an `if:`) that does not parse, with its line and
  column: GitHub refuses such a workflow.
- `workflows.remote` (note): a reusable workflow of another repository, recorded and not fetched.
- `workflows.nested` (note): a `.github/workflows` folder below the root (a vendored or example
  repository): GitHub runs only the root's, so its files are not read as workflows of this one.

A local `uses: ./path` that names nothing is not a load error: the model records it
(`Uses.target is None`) and rule URR-GHA-002 reports it. Schema violations are on the model
(`Workflow.schema_errors`, URR-GHA-001).

Nothing is fetched, executed, or read outside the workspace.
"""

from __future__ import annotations

import re

from urr_audit.loaders.kustomize.yamlsrc import YamlError
from urr_audit.loaders.workflows import schema
from urr_audit.loaders.workflows.build import FileBuilder
from urr_audit.loaders.workflows.yamlpos import load
from urr_audit.model.common import LoadError
from urr_audit.model.workflows import Action, CallSite, Workflow, WorkflowProject
from urr_audit.workspace import FileTooLarge, OutsideRoot, Workspace

WORKFLOW_FILE = re.compile(r"\.github/workflows/[^/]+\.ya?ml")
NESTED_WORKFLOW_FILE = re.compile(r"(.+?)/\.github/workflows/[^/]+\.ya?ml")
# Vendored `node_modules` of a JavaScript action are not actions of this repository.
PUBLISHED_ACTION_FILE = re.compile(r"(?:(\.github/actions/(?!(?:.*/)?node_modules/).+)/)?action\.ya?ml")
MAX_ACTIONS = 500


def _read(ws: Workspace, path: str, errors: list[LoadError]) -> FileBuilder | None:
    try:
        text = ws.read_text(path)
    except (OSError, OutsideRoot, FileTooLarge) as exc:
        errors.append(LoadError(kind="workflows.read", path=path, message=f"cannot read: {exc}"))
        return None
    return _builder(path, text, errors, ws)


def _builder(path: str, text: str, errors: list[LoadError], ws: Workspace | None) -> FileBuilder | None:
    try:
        doc = load(text)
    except YamlError as exc:
        errors.append(LoadError(kind="workflows.yaml", path=path, line=exc.line, message=f"invalid YAML: {exc}"))
        return None
    if not isinstance(doc.data, dict):
        what = "empty" if doc.data is None else f"a {type(doc.data).__name__}, not a mapping"
        errors.append(
            LoadError(kind="workflows.not-a-mapping", path=path, message=f"the document is {what}: nothing is read")
        )
        return None
    return FileBuilder(path, doc, errors, ws)


def workflow_from_text(path: str, text: str, errors: list[LoadError], ws: Workspace | None = None) -> Workflow | None:
    """One workflow from its text (local `uses:` are looked up in `ws` when given). Problems
    are appended to `errors`; nothing else is raised."""
    builder = _builder(path, text, errors, ws)
    if builder is None:
        return None
    wf = builder.workflow()
    violations = schema.validate(builder.doc.data, builder)
    return wf.model_copy(update={"schema_errors": violations}) if violations else wf


def load_workflow_file(ws: Workspace, path: str, errors: list[LoadError]) -> Workflow | None:
    try:
        text = ws.read_text(path)
    except (OSError, OutsideRoot, FileTooLarge) as exc:
        errors.append(LoadError(kind="workflows.read", path=path, message=f"cannot read: {exc}"))
        return None
    return workflow_from_text(path, text, errors, ws)


def load_action_file(ws: Workspace, directory: str, path: str, errors: list[LoadError]) -> Action | None:
    builder = _read(ws, path, errors)
    if builder is None:
        return None
    action = builder.action(directory)
    # The runner reads a local action without `name`/`description` (metadata for the
    # Marketplace): a missing one is not a broken action.
    violations = [
        v
        for v in schema.validate(builder.doc.data, builder, schema.ACTION_SCHEMA)
        if v.message not in ("`name` is required", "`description` is required")
    ]
    return action.model_copy(update={"schema_errors": violations}) if violations else action


def _published_actions(ws: Workspace) -> list[tuple[str, str]]:
    """(directory, file) of the root action and of each action under `.github/actions/`."""
    found: dict[str, str] = {}
    for f in ws.files:
        if (m := PUBLISHED_ACTION_FILE.fullmatch(f)) is not None:
            # `action.yml` wins over `action.yaml` in one directory, as for the runner (`build.parse_uses`)
            directory = m.group(1) or "."
            if directory not in found or f.endswith(".yml"):
                found[directory] = f
    return sorted(found.items())


def load_workflows(ws: Workspace) -> tuple[WorkflowProject, list[LoadError]]:
    errors: list[LoadError] = []
    files = [f for f in ws.files if WORKFLOW_FILE.fullmatch(f)]
    workflows = [w for f in files if (w := load_workflow_file(ws, f, errors)) is not None]
    nested: dict[str, list[str]] = {}
    for f in ws.files:
        if (m := NESTED_WORKFLOW_FILE.fullmatch(f)) is not None:
            nested.setdefault(m.group(1), []).append(f)
    for repo, found in sorted(nested.items()):
        errors.append(
            LoadError(
                kind="workflows.nested",
                path=found[0],
                line=1,
                level="note",
                message=(
                    f"{len(found)} workflow file{'s' if len(found) > 1 else ''} under `{repo}/.github/workflows` "
                    "not read: GitHub runs only the workflows of the repository root (scan that folder as "
                    f"its own root, `--root {repo}`, to audit them)"
                ),
            )
        )

    # Local actions reached by `uses: ./dir` (from workflows and from composite actions), then
    # the published ones no workflow here reaches, and what their steps reach in turn.
    actions: dict[str, Action] = {}
    pending = [s for w in workflows for s in w.steps()]
    published = _published_actions(ws)
    while (pending or published) and len(actions) < MAX_ACTIONS:
        if pending:
            uses = pending.pop(0).uses
            if uses is None or uses.kind != "local-action" or uses.target is None:
                continue
            directory, target = uses.local_path or ".", uses.target
        else:
            directory, target = published.pop(0)
        if target in actions:
            continue
        action = load_action_file(ws, directory, target, errors)
        if action is not None:
            actions[target] = action
            pending.extend(action.steps)

    # Reusable workflows: link callers; record remote ones.
    callers: dict[str, list[CallSite]] = {}
    for w in workflows:
        for job in w.jobs.values():
            u = job.uses
            if u is None:
                continue
            if u.kind == "local-workflow" and u.target is not None:
                callers.setdefault(u.target, []).append(CallSite(workflow=w.path, job=job.id, span=u.span))
            elif u.kind == "reusable-workflow":
                errors.append(
                    LoadError(
                        kind="workflows.remote",
                        path=w.path,
                        line=u.span.line,
                        level="note",
                        address=job.address,
                        message=f"reusable workflow `{u.raw}` of another repository is recorded, not fetched",
                    )
                )
    linked = []
    for w in workflows:
        update: dict[str, object] = {}
        if w.path in callers:
            update["callers"] = callers[w.path]
        jobs = {
            jid: j.model_copy(update={"called": j.uses.target})
            if j.uses is not None and j.uses.kind == "local-workflow" and j.uses.target is not None
            else j
            for jid, j in w.jobs.items()
        }
        if any(jobs[k] is not w.jobs[k] for k in jobs):
            update["jobs"] = jobs
        linked.append(w.model_copy(update=update) if update else w)
    project = WorkflowProject(workflows=linked, actions=sorted(actions.values(), key=lambda a: a.file))
    return project, errors
