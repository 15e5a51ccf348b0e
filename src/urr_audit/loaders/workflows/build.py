"""Workflow and action files to model nodes. Tolerant: a value of the wrong shape is skipped
here (the schema check reports it); only unreadable YAML, a non-mapping document and invalid
expressions are load errors."""

from __future__ import annotations

import itertools
import re
from typing import Any

from urr_audit.loaders.workflows.positions import Located
from urr_audit.loaders.workflows.recognise import Recogniser
from urr_audit.loaders.workflows.resolve import EnvChain
from urr_audit.model.common import Span
from urr_audit.model.workflows import (
    Action,
    ActionInput,
    CallOutput,
    CallSecret,
    Concurrency,
    Container,
    EnvironmentRef,
    Job,
    Matrix,
    MatrixAxis,
    NeedRef,
    Permissions,
    Run,
    RunDefaults,
    Scalar,
    Step,
    Strategy,
    Trigger,
    Uses,
    Workflow,
    WorkflowInput,
    classify_ref,
)
from urr_audit.workspace import OutsideRoot, Workspace

Path = tuple[str | int, ...]
MAX_MATRIX = 256  # GitHub refuses a matrix of more jobs than this
_REUSABLE = re.compile(r"\.github/workflows/[^/]+\.ya?ml")
_LEVELS = ("read", "write", "none")


def _strs(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, (str, int, float)) and not isinstance(v, bool)]
    return None


def parse_uses(raw: str, span: Span, column: int, ws: Workspace | None, job_level: bool) -> Uses:
    """Split a `uses:` value; local targets are looked up in the workspace (never outside it)."""
    raw = raw.strip()
    if raw.startswith("./") or raw == ".":
        try:
            norm = ws.join("", raw) if ws is not None else raw[2:]
        except OutsideRoot:
            norm = raw
        if job_level or norm.endswith((".yml", ".yaml")):
            target = norm if ws is not None and ws.is_file(norm) else None
            return Uses(raw=raw, span=span, column=column, kind="local-workflow", local_path=norm, target=target)
        target = None
        if ws is not None:
            base = "" if norm == "." else f"{norm}/"
            target = next((f"{base}{n}" for n in ("action.yml", "action.yaml") if ws.is_file(f"{base}{n}")), None)
        return Uses(raw=raw, span=span, column=column, kind="local-action", local_path=norm, target=target)
    if raw.startswith("docker://"):
        return Uses(raw=raw, span=span, column=column, kind="docker", image=raw[len("docker://") :])
    name, _, ref = raw.partition("@")
    parts = name.split("/")
    owner = parts[0] or None
    repo = parts[1] if len(parts) > 1 and parts[1] else None
    path = "/".join(parts[2:]) or None
    kind = "reusable-workflow" if path and _REUSABLE.fullmatch(path) else "action"
    return Uses(
        raw=raw,
        span=span,
        column=column,
        kind=kind,
        owner=owner,
        repo=repo,
        path=path,
        ref=ref or None,
        ref_kind=classify_ref(ref or None),
    )


def expand_matrix(
    axes: dict[str, list[Any]], include: list[dict[str, Any]], exclude: list[dict[str, Any]]
) -> list[dict[str, Any]] | None:
    """GitHub's expansion: the product of the axes, minus every combination an `exclude` entry
    matches (all its keys equal), then each `include` entry is added to every original
    combination whose original keys it does not overwrite, or appended as a new one if it fits
    none. None when it would exceed MAX_MATRIX combinations."""
    total = 1
    for values in axes.values():
        total *= len(values)
        if total > MAX_MATRIX * 4:
            return None
    keys = list(axes)
    combos = [dict(zip(keys, vals, strict=True)) for vals in itertools.product(*axes.values())] if axes else []
    combos = [c for c in combos if not any(all(k in c and c[k] == v for k, v in ex.items()) for ex in exclude)]
    originals = list(combos)
    extra: list[dict[str, Any]] = []
    for inc in include:
        matched = False
        for c in originals:
            if all(c[k] == v for k, v in inc.items() if k in keys):
                c.update({k: v for k, v in inc.items() if k not in keys})
                matched = True
        if not matched:
            extra.append(dict(inc))
    out = originals + extra
    return out if len(out) <= MAX_MATRIX else None


class FileBuilder(Located):
    """Builds the nodes of one workflow or action file."""

    def __init__(self, file: str, doc: Any, errors: list[Any], ws: Workspace | None):
        super().__init__(file, doc, errors)
        self.ws = ws

    # --- small shapes -----------------------------------------------------------------------
    def scalar_map(self, path: Path) -> dict[str, Scalar]:
        value = self.get(path)
        if not isinstance(value, dict):
            return {}
        out = {}
        for k in value:
            s = self.scalar((*path, k))
            if s is not None:
                out[str(k)] = s
        return out

    def scalar_list(self, path: Path) -> list[Scalar]:
        value = self.get(path)
        if isinstance(value, list):
            return [s for i in range(len(value)) if (s := self.scalar((*path, i))) is not None]
        s = self.scalar(path)
        return [s] if s is not None else []

    def permissions(self, path: Path) -> Permissions | None:
        value = self.get(path, None)
        if path not in self.doc.pos:
            return None
        span = self.span(path)
        if value in ("read-all", "write-all"):
            return Permissions(span=span, preset=value)
        if isinstance(value, dict):
            scopes = {str(k): v for k, v in value.items() if v in _LEVELS}
            spans = {str(k): self.span((*path, k)) for k in value}
            return Permissions(span=span, scopes=scopes, scope_spans=spans)
        return Permissions(span=span)

    def defaults(self, path: Path) -> RunDefaults | None:
        if not isinstance(self.get((*path, "run")), dict):
            return None
        return RunDefaults(
            span=self.span(path),
            shell=self.scalar((*path, "run", "shell")),
            working_directory=self.scalar((*path, "run", "working-directory")),
        )

    def concurrency(self, path: Path) -> Concurrency | None:
        value = self.get(path)
        if value is None:
            return None
        if isinstance(value, dict):
            return Concurrency(
                span=self.span(path),
                group=self.scalar((*path, "group")),
                cancel_in_progress=self.scalar((*path, "cancel-in-progress")),
            )
        return Concurrency(span=self.span(path), group=self.scalar(path))

    def uses(self, path: Path, job_level: bool) -> Uses | None:
        value = self.get(path)
        if not isinstance(value, str):
            return None
        pos = self.doc.at(path)
        return parse_uses(value, self.span(path), pos.column if pos else 1, self.ws, job_level)

    # --- triggers ---------------------------------------------------------------------------
    def triggers(self) -> list[Trigger]:
        on = self.get(("on",))
        if isinstance(on, str):
            return [Trigger(event=on, span=self.span(("on",)))]
        if isinstance(on, list):
            return [Trigger(event=e, span=self.span(("on", i))) for i, e in enumerate(on) if isinstance(e, str)]
        if not isinstance(on, dict):
            return []
        return [self.trigger(str(event), cfg) for event, cfg in on.items()]

    def trigger(self, event: str, cfg: Any) -> Trigger:
        base: Path = ("on", event)
        if not isinstance(cfg, dict):
            crons = []
            if event == "schedule" and isinstance(cfg, list):
                crons = [s for i in range(len(cfg)) if (s := self.scalar(("on", event, i, "cron"))) is not None]
            return Trigger(event=event, span=self.span(base), crons=crons)
        inputs = {}
        for name, spec in (cfg.get("inputs") or {}).items() if isinstance(cfg.get("inputs"), dict) else ():
            p = (*base, "inputs", name)
            spec = spec if isinstance(spec, dict) else {}
            inputs[str(name)] = WorkflowInput(
                name=str(name),
                span=self.span(p),
                type=str(spec.get("type") or "string"),
                required=spec.get("required") is True,
                default=self.scalar((*p, "default")),
                options=[str(o) for o in spec.get("options") or [] if not isinstance(o, (dict, list))],
                description=spec.get("description") if isinstance(spec.get("description"), str) else None,
            )
        secrets = {}
        for name, spec in (cfg.get("secrets") or {}).items() if isinstance(cfg.get("secrets"), dict) else ():
            spec = spec if isinstance(spec, dict) else {}
            secrets[str(name)] = CallSecret(
                name=str(name),
                span=self.span((*base, "secrets", name)),
                required=spec.get("required") is True,
                description=spec.get("description") if isinstance(spec.get("description"), str) else None,
            )
        outputs = {}
        for name, spec in (cfg.get("outputs") or {}).items() if isinstance(cfg.get("outputs"), dict) else ():
            spec = spec if isinstance(spec, dict) else {}
            outputs[str(name)] = CallOutput(
                name=str(name),
                span=self.span((*base, "outputs", name)),
                value=self.scalar((*base, "outputs", name, "value")),
                description=spec.get("description") if isinstance(spec.get("description"), str) else None,
            )
        return Trigger(
            event=event,
            span=self.span(base),
            types=_strs(cfg.get("types")),
            branches=_strs(cfg.get("branches")),
            branches_ignore=_strs(cfg.get("branches-ignore")),
            tags=_strs(cfg.get("tags")),
            tags_ignore=_strs(cfg.get("tags-ignore")),
            paths=_strs(cfg.get("paths")),
            paths_ignore=_strs(cfg.get("paths-ignore")),
            workflows=_strs(cfg.get("workflows")),
            inputs=inputs,
            secrets=secrets,
            outputs=outputs,
        )

    # --- jobs -------------------------------------------------------------------------------
    def container(self, path: Path, name: str | None = None) -> Container | None:
        value = self.get(path)
        if value is None:
            return None
        if not isinstance(value, dict):
            return Container(name=name, span=self.span(path), image=self.scalar(path))
        return Container(
            name=name,
            span=self.span(path),
            image=self.scalar((*path, "image")),
            username=self.scalar((*path, "credentials", "username")),
            password=self.scalar((*path, "credentials", "password")),
            env=self.scalar_map((*path, "env")),
            ports=self.scalar_list((*path, "ports")) if "ports" in value else [],
            volumes=self.scalar_list((*path, "volumes")) if "volumes" in value else [],
            options=self.scalar((*path, "options")),
        )

    def matrix(self, path: Path) -> Matrix | None:
        value = self.get(path)
        if value is None:
            return None
        span = self.span(path)
        if not isinstance(value, dict):
            return Matrix(span=span, expr=self.scalar(path), unknown_reason="the matrix is an expression")
        axes: dict[str, MatrixAxis] = {}
        entries: dict[str, list[dict[str, Scalar]] | None] = {"include": None, "exclude": None}
        entry_exprs: dict[str, Scalar | None] = {"include": None, "exclude": None}
        reason = ""
        for key, v in value.items():
            p = (*path, key)
            if key in entries:
                if isinstance(v, list):
                    entries[key] = [
                        {str(k): s for k in item if (s := self.scalar((*p, i, k))) is not None}
                        for i, item in enumerate(v)
                        if isinstance(item, dict)
                    ]
                else:
                    entry_exprs[key] = self.scalar(p)
                    reason = reason or f"`{key}` is an expression"
                continue
            if isinstance(v, list):
                values = [s for i in range(len(v)) if (s := self.scalar((*p, i))) is not None]
                axes[str(key)] = MatrixAxis(name=str(key), span=self.span(p), values=values)
                if any(s.exprs for s in values):
                    reason = reason or f"values of `{key}` are expressions"
            else:
                axes[str(key)] = MatrixAxis(name=str(key), span=self.span(p), expr=self.scalar(p))
                reason = reason or f"`{key}` is an expression"
        for key in ("include", "exclude"):
            if any(s.exprs for e in entries[key] or [] for s in e.values()):
                reason = reason or f"`{key}` holds expressions"
        combinations = None
        if not reason:
            combinations = expand_matrix(
                {k: [s.value for s in a.values or []] for k, a in axes.items()},
                [{k: s.value for k, s in e.items()} for e in entries["include"] or []],
                [{k: s.value for k, s in e.items()} for e in entries["exclude"] or []],
            )
            if combinations is None:
                reason = f"more than {MAX_MATRIX} combinations"
        return Matrix(
            span=span,
            axes=axes,
            include=entries["include"],
            exclude=entries["exclude"],
            include_expr=entry_exprs["include"],
            exclude_expr=entry_exprs["exclude"],
            combinations=combinations,
            unknown_reason=reason,
        )

    def job(self, jid: str, chain: EnvChain, wf_defaults: RunDefaults | None) -> Job | None:
        base: Path = ("jobs", jid)
        jd = self.get(base)
        if not isinstance(jd, dict):
            return None
        address = f"{self.file}/jobs/{jid}"
        needs_value = jd.get("needs")
        needs = []
        if isinstance(needs_value, str):
            needs = [NeedRef(job=needs_value, span=self.span((*base, "needs")))]
        elif isinstance(needs_value, list):
            needs = [NeedRef(job=str(n), span=self.span((*base, "needs", i))) for i, n in enumerate(needs_value)]
        runs_on = jd.get("runs-on")
        labels: list[Scalar] = []
        group = None
        if isinstance(runs_on, dict):
            group = self.scalar((*base, "runs-on", "group"))
            labels = self.scalar_list((*base, "runs-on", "labels")) if "labels" in runs_on else []
        elif runs_on is not None:
            labels = self.scalar_list((*base, "runs-on"))
        env_value = jd.get("environment")
        environment = None
        if isinstance(env_value, dict):
            environment = EnvironmentRef(
                span=self.span((*base, "environment")),
                name=self.scalar((*base, "environment", "name")),
                url=self.scalar((*base, "environment", "url")),
            )
        elif env_value is not None:
            environment = EnvironmentRef(
                span=self.span((*base, "environment")), name=self.scalar((*base, "environment"))
            )
        strategy = None
        if isinstance(jd.get("strategy"), dict):
            sp = (*base, "strategy")
            strategy = Strategy(
                span=self.span(sp),
                matrix=self.matrix((*sp, "matrix")),
                fail_fast=self.scalar((*sp, "fail-fast")),
                max_parallel=self.scalar((*sp, "max-parallel")),
            )
        services = {}
        if isinstance(jd.get("services"), dict):
            for name in jd["services"]:
                c = self.container((*base, "services", name), str(name))
                if c is not None:
                    services[str(name)] = c
        job_env = self.scalar_map((*base, "env"))
        defaults = self.defaults((*base, "defaults"))
        job_chain = chain.inner(job_env)
        steps = []
        if isinstance(jd.get("steps"), list):
            recogniser = Recogniser(self, self.ws)
            for i in range(len(jd["steps"])):
                st = self.step((*base, "steps", i), i, f"{address}/steps/{i}", jid, job_chain, defaults or wf_defaults)
                if st is not None:
                    steps.append(recogniser.recognise(st, (*base, "steps", i), job_chain, jd["steps"]))
        secrets_value = jd.get("secrets")
        return Job(
            id=jid,
            address=address,
            span=self.span(base),
            file=self.file,
            name=self.scalar((*base, "name")),
            needs=needs,
            condition=self.condition((*base, "if")),
            runs_on=labels,
            runs_on_group=group,
            environment=environment,
            permissions=self.permissions((*base, "permissions")),
            env=job_env,
            defaults=defaults,
            concurrency=self.concurrency((*base, "concurrency")),
            continue_on_error=self.scalar((*base, "continue-on-error")),
            timeout_minutes=self.scalar((*base, "timeout-minutes")),
            strategy=strategy,
            container=self.container((*base, "container")),
            services=services,
            outputs=self.scalar_map((*base, "outputs")),
            steps=steps,
            uses=self.uses((*base, "uses"), job_level=True),
            with_=self.scalar_map((*base, "with")),
            secrets=self.scalar_map((*base, "secrets")) if isinstance(secrets_value, dict) else {},
            secrets_inherit=self.span((*base, "secrets")) if secrets_value == "inherit" else None,
        )

    def step(
        self, path: Path, index: int, address: str, job: str | None, chain: EnvChain, defaults: RunDefaults | None
    ) -> Step | None:
        sd = self.get(path)
        if not isinstance(sd, dict):
            return None
        run = None
        script = self.scalar((*path, "run"))
        shell = self.scalar((*path, "shell"))
        workdir = self.scalar((*path, "working-directory"))
        if script is not None:
            eff_shell = shell or (defaults.shell if defaults else None)
            run = Run(
                script=script,
                shell=eff_shell.text if eff_shell is not None else None,
                shell_span=eff_shell.span if eff_shell is not None else None,
                working_directory=workdir or (defaults.working_directory if defaults else None),
            )
        return Step(
            index=index,
            address=address,
            span=self.span(path),
            file=self.file,
            job=job,
            id=self.scalar((*path, "id")),
            name=self.scalar((*path, "name")),
            uses=self.uses((*path, "uses"), job_level=False),
            run=run,
            with_=self.scalar_map((*path, "with")),
            env=self.scalar_map((*path, "env")),
            condition=self.condition((*path, "if")),
            continue_on_error=self.scalar((*path, "continue-on-error")),
            timeout_minutes=self.scalar((*path, "timeout-minutes")),
            working_directory=workdir,
            shell=shell,
        )

    # --- files ------------------------------------------------------------------------------
    def workflow(self) -> Workflow:
        data = self.doc.data
        wf_env = self.scalar_map(("env",))
        chain = EnvChain(self).inner(wf_env)
        defaults = self.defaults(("defaults",))
        jobs = {}
        if isinstance(data.get("jobs"), dict):
            for jid in data["jobs"]:
                job = self.job(str(jid), chain, defaults)
                if job is not None:
                    jobs[job.id] = job
        return Workflow(
            path=self.file,
            span=Span(path=self.file, line=1, end_line=self.n_lines),
            name=self.scalar(("name",)),
            run_name=self.scalar(("run-name",)),
            triggers=self.triggers(),
            permissions=self.permissions(("permissions",)),
            env=wf_env,
            defaults=defaults,
            concurrency=self.concurrency(("concurrency",)),
            jobs=jobs,
        )

    def action(self, directory: str) -> Action:
        runs = self.get(("runs",))
        runs = runs if isinstance(runs, dict) else {}
        inputs = {}
        if isinstance(self.get(("inputs",)), dict):
            for name, spec in self.get(("inputs",)).items():
                spec = spec if isinstance(spec, dict) else {}
                inputs[str(name)] = ActionInput(
                    name=str(name),
                    span=self.span(("inputs", name)),
                    required=spec.get("required") is True,
                    default=self.scalar(("inputs", name, "default")),
                    description=spec.get("description") if isinstance(spec.get("description"), str) else None,
                )
        outputs = {}
        if isinstance(self.get(("outputs",)), dict):
            for name in self.get(("outputs",)):
                s = self.scalar(("outputs", name, "value")) or self.scalar(("outputs", name))
                if s is not None:
                    outputs[str(name)] = s
        using = runs.get("using")
        steps = []
        # Only a composite action has steps: the runner ignores `steps:` beside `using: docker`
        # or `node20`, so nothing judges them as steps that run.
        if isinstance(using, str) and using.lower() == "composite" and isinstance(runs.get("steps"), list):
            chain = EnvChain(self)
            recogniser = Recogniser(self, self.ws)
            for i in range(len(runs["steps"])):
                st = self.step(("runs", "steps", i), i, f"{self.file}/steps/{i}", None, chain, None)
                if st is not None:
                    steps.append(recogniser.recognise(st, ("runs", "steps", i), chain, runs["steps"]))
        return Action(
            path=directory,
            file=self.file,
            span=Span(path=self.file, line=1, end_line=self.n_lines),
            name=self.scalar(("name",)),
            using=str(using) if isinstance(using, str) else None,
            inputs=inputs,
            outputs=outputs,
            steps=steps,
            image=self.scalar(("runs", "image")),
        )
