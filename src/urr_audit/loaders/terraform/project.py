"""Directories -> `ModuleDir`s; root modules -> evaluated `Environment`s."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from urr_audit.loaders.naming import environment_names
from urr_audit.loaders.terraform.evaluate import Context, Evaluator, ModuleInstances
from urr_audit.loaders.terraform.jsonsyntax import parse_tf_json, parse_tfvars_json
from urr_audit.loaders.terraform.module import add_blocks
from urr_audit.loaders.terraform.parse import ParsedFile, parse_hcl
from urr_audit.model.common import LoadError, Span, Value
from urr_audit.model.terraform import (
    NO_SYMBOLS,
    Environment,
    LockedProvider,
    ModuleCall,
    ModuleDir,
    ModuleInstance,
    SkippedModule,
    Symbols,
    TerraformProject,
    TfvarsFile,
    existence,
    format_key,
    instance_keys,
    unexpanded_symbols,
)
from urr_audit.workspace import OutsideRoot, Workspace

TF_SUFFIXES = (".tf", ".tf.json")


def _dirname(rel: str) -> str:
    return rel.rsplit("/", 1)[0] if "/" in rel else "."


def _basename(rel: str) -> str:
    return rel.rsplit("/", 1)[-1]


def tfvars_kind(name: str) -> str | None:
    """How Terraform treats a variables file found in a root module directory."""
    if name in ("terraform.tfvars",):
        return "tfvars"
    if name == "terraform.tfvars.json":
        return "json"
    if name.endswith((".auto.tfvars", ".auto.tfvars.json")):
        return "auto"
    if ".tfvars" in name:
        return "example"  # *.tfvars.example, prod.tfvars (needs -var-file): never loaded implicitly
    return None


def _read(ws: Workspace, rel: str, errors: list[LoadError]) -> str | None:
    try:
        return ws.read_text(rel)
    except OutsideRoot:
        errors.append(
            LoadError(kind="fs.outside-root", path=rel, message="file resolves outside the scanned root; not read")
        )
    except OSError as e:
        errors.append(LoadError(kind="terraform.parse", path=rel, message=f"cannot read file: {e.strerror or e}"))
    return None


TOO_DEEP = "expressions nested too deeply to read; the file is skipped"


def parse_file(ws: Workspace, rel: str, errors: list[LoadError]) -> ParsedFile | None:
    text = _read(ws, rel, errors)
    if text is None:
        return None
    try:
        parsed = parse_tf_json(text, rel) if rel.endswith(".json") else parse_hcl(text, rel)
    except RecursionError:
        errors.append(LoadError(kind="terraform.parse", path=rel, message=TOO_DEEP))
        return None
    errors.extend(parsed.errors)
    return parsed


def load_module_dirs(ws: Workspace, errors: list[LoadError]) -> dict[str, ModuleDir]:
    by_dir: dict[str, list[str]] = {}
    for rel in ws.glob(TF_SUFFIXES):
        if "/.terraform/" in f"/{rel}":
            continue
        by_dir.setdefault(_dirname(rel), []).append(rel)
    tfvars_by_dir: dict[str, list[str]] = {}
    for rel in ws.files:
        if ".tfvars" in _basename(rel) and _dirname(rel) in by_dir:
            tfvars_by_dir.setdefault(_dirname(rel), []).append(rel)
    lock_files = {rel for rel in ws.files if _basename(rel) == LOCK_FILE}
    modules: dict[str, ModuleDir] = {}
    for d in sorted(by_dir):
        mod = ModuleDir(path=d, files=sorted(by_dir[d]))
        for rel in mod.files:
            parsed = parse_file(ws, rel, errors)
            if parsed is not None:
                add_blocks(mod, parsed.blocks, errors)
        lock = f"{d}/{LOCK_FILE}" if d != "." else LOCK_FILE
        if lock in lock_files:
            mod.locked_providers = load_lock_file(ws, lock, errors)
        for rel in sorted(tfvars_by_dir.get(d, [])):
            kind = tfvars_kind(_basename(rel))
            if kind is None:
                continue
            mod.tfvars.append(load_tfvars(ws, rel, kind, errors))
        modules[d] = mod
    return modules


LOCK_FILE = ".terraform.lock.hcl"


def load_lock_file(ws: Workspace, rel: str, errors: list[LoadError]) -> dict[str, LockedProvider]:
    """The provider versions a dependency lock file pins, by source address as written."""
    text = _read(ws, rel, errors)
    if text is None:
        return {}
    parsed = parse_hcl(text, rel)
    errors.extend(parsed.errors)
    out: dict[str, LockedProvider] = {}
    for b in parsed.blocks:
        if b.type != "provider" or len(b.labels) != 1:
            continue
        version = b.attr("version")
        v = version.expr.literal if version is not None else None
        if v is None or not (v.is_known and isinstance(v.value, str)):
            continue
        c = b.attr("constraints")
        cv = c.expr.literal if c is not None else None
        constraints = cv.value if cv is not None and cv.is_known and isinstance(cv.value, str) else None
        out[b.labels[0]] = LockedProvider(source=b.labels[0], version=v.value, constraints=constraints, span=b.span)
    return out


def load_tfvars(ws: Workspace, rel: str, kind: str, errors: list[LoadError]) -> TfvarsFile:
    own: list[LoadError] = []
    text = _read(ws, rel, own)
    values = {}
    lines = 1
    if text is not None:
        lines = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
        try:
            parsed = parse_tfvars_json(text, rel) if rel.endswith(".json") else parse_hcl(text, rel)
        except RecursionError:  # as for .tf files (parse_file): a value nested deeper than the stack
            own.append(LoadError(kind="terraform.parse", path=rel, message=TOO_DEEP))
        else:
            own.extend(parsed.errors)
            values = parsed.attributes
    if kind != "example":  # an example file is documentation: its syntax is not ours to judge
        errors.extend(own)
    return TfvarsFile(path=rel, span=Span(path=rel, line=1, end_line=lines), kind=kind, values=values)


def resolve_sources(ws: Workspace, modules: dict[str, ModuleDir], errors: list[LoadError]) -> set[str]:
    """Fill `resolved_dir` of local module calls; return every directory used as a source."""
    used: set[str] = set()
    for mod in modules.values():
        for call in mod.module_calls.values():
            if call.source_kind != "local":
                # Recorded, never fetched: the report names what it did not audit.
                version = f" {call.version}" if call.version else ""
                errors.append(
                    LoadError.at(
                        call.span,
                        kind="terraform.remote-module",
                        message=f'module "{call.name}" comes from {call.source}{version} ({call.source_kind}), '
                        "which is not fetched: its resources are not audited",
                        address=f"module.{call.name}",
                        level="note",
                    )
                )
                continue
            try:
                target = ws.join(mod.path, call.source.split("//", 1)[0] if "//" in call.source[3:] else call.source)
            except OutsideRoot:
                errors.append(
                    LoadError.at(
                        call.span,
                        kind="terraform.module-outside-root",
                        message=f'module "{call.name}" source {call.source!r} resolves outside the scanned root; not read',
                        address=f"module.{call.name}",
                    )
                )
                continue
            if not ws.is_dir(target) or target not in modules:
                kind = (
                    "terraform.module-outside-root"
                    if ws.exists(target) is False and ws.escapes(target)
                    else "terraform.module-missing"
                )
                errors.append(
                    LoadError.at(
                        call.span,
                        kind=kind,
                        message=f'module "{call.name}" source {call.source!r}: no Terraform module at {target}',
                        address=f"module.{call.name}",
                    )
                )
                continue
            call.resolved_dir = target
            used.add(target)
    return used


class LazyVariables(Mapping[str, Value]):
    """Variable values computed on first use: a module argument may read a sibling module's
    output, whose instance must exist before the value can be computed."""

    def __init__(self, names: list[str], resolve: Callable[[str], Value]):
        self._names = names
        self._resolve = resolve
        self._cache: dict[str, Value] = {}
        self._busy: set[str] = set()

    def __getitem__(self, name: str) -> Value:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._cache:
            if name in self._busy:
                return Value.unknown(f"var.{name} depends on itself")
            self._busy.add(name)
            try:
                self._cache[name] = self._resolve(name)
            finally:
                self._busy.discard(name)
        return self._cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _relpath(from_dir: str, to_dir: str) -> str:
    a = [] if from_dir == "." else from_dir.split("/")
    b = [] if to_dir == "." else to_dir.split("/")
    i = 0
    while i < len(a) and i < len(b) and a[i] == b[i]:
        i += 1
    parts = [".."] * (len(a) - i) + b[i:]
    return "/".join(parts) if parts else "."


class _EnvBuilder:
    def __init__(
        self,
        ws: Workspace,
        modules: dict[str, ModuleDir],
        root: ModuleDir,
        name: str,
        errors: list[LoadError],
        planned: bool = False,
    ):
        self.ws, self.modules, self.root, self.name, self.errors = ws, modules, root, name, errors
        self.planned = planned  # evaluate as a first plan (see Environment.planned)
        self.instances: list[tuple[ModuleInstance, LazyVariables]] = []
        self.tfvars_loaded: list[str] = []
        self.tfvars_ignored: list[str] = []
        self.skipped: list[SkippedModule] = []
        self.order: dict[int, tuple] = {}  # id(instance) -> its place, depth-first as written
        self.skip_order: dict[str, tuple] = {}
        self.located: dict = {}  # shared by every evaluator of the environment (see evaluate.Located)
        self.texts: dict[str, tuple[str, int]] = {}

    def build(self) -> Environment:
        tfvars = self.root_tfvars()
        self.instantiate(self.root, "", None, None, tfvars, [self.root.path], (), None, NO_SYMBOLS)
        # calls are built when first needed (a for_each may read a sibling's output), so the
        # order built is not the order written: depth-first, calls as declared, keys sorted
        self.instances.sort(key=lambda t: self.order[id(t[0])])
        for inst, lazy in self.instances:
            inst.variables = {n: lazy[n] for n in lazy}
        return Environment(
            name=self.name,
            path=self.root.path,
            module=self.root,
            instances=[i for i, _ in self.instances],
            tfvars_loaded=self.tfvars_loaded,
            tfvars_ignored=self.tfvars_ignored,
            skipped_modules=sorted(self.skipped, key=lambda s: self.skip_order[s.address]),
        )

    def root_tfvars(self) -> dict[str, Any]:
        order = {"tfvars": 0, "json": 1, "auto": 2}
        files = sorted((f for f in self.root.tfvars if f.kind in order), key=lambda f: (order[f.kind], f.path))
        values: dict[str, Any] = {}
        for f in files:
            self.tfvars_loaded.append(f.path)
            values.update(f.values)
        self.tfvars_ignored = [f.path for f in self.root.tfvars if f.kind not in order]
        return values

    def instantiate(
        self,
        mod: ModuleDir,
        address: str,
        call: ModuleCall | None,
        parent: Evaluator | None,
        tfvars: dict[str, Any],
        stack: list[str],
        order: tuple,
        key: str | int | None,
        symbols: Symbols,
        exists: Value | None = None,
    ) -> ModuleInstance:
        """Build one module instance; `symbols` binds `each`/`count` for the call's arguments."""
        ctx = Context(
            ws=self.ws,
            module=mod,
            root_dir=self.root.path,
            path_module=_relpath(self.root.path, mod.path),
            located=self.located,
            texts=self.texts,
            planned=self.planned,
        )
        ev = Evaluator(ctx)
        inst = ModuleInstance(environment=self.name, address=address, module=mod, call=call, key=key)
        if exists is not None:
            inst.exists = exists
        inst._evaluate = ev.evaluate
        inst._structured = ev.structured
        inst._keys_read = ev.keys_read
        bound = symbols if symbols.values else None

        def resolve(name: str) -> Value:
            return ev.convert(given(name), mod.variables[name].type_expr)

        def given(name: str) -> Value:
            var = mod.variables[name]
            if call is not None and parent is not None:
                arg = call.arguments.get(name)
                if arg is not None:
                    v = parent.evaluate(arg.expr, bound)
                    if not (v.is_known and v.value is None and not var.nullable):
                        return v if v.origin is not None else v.model_copy(update={"origin": arg.span})
            elif name in tfvars:
                return ev.evaluate(tfvars[name].expr).model_copy(update={"origin": tfvars[name].span})
            if var.default is not None:
                return ev.evaluate(var.default).model_copy(update={"origin": var.default.span})
            return Value.absent(var.span)

        lazy = LazyVariables(list(mod.variables), resolve)
        ctx.variables = lazy  # type: ignore[assignment]
        self.instances.append((inst, lazy))
        self.order[id(inst)] = order
        pending = []
        for i, (name, c) in enumerate(mod.module_calls.items()):
            child_addr = f"{address}.module.{name}" if address else f"module.{name}"
            if c.source_kind != "local":
                ctx.children[name] = f"module.{name} has a {c.source_kind} source ({c.source}), not fetched"
                continue
            if c.resolved_dir is None or c.resolved_dir not in self.modules:
                ctx.children[name] = f"module.{name} source {c.source!r} could not be resolved"
                continue
            if c.resolved_dir in stack:
                self.errors.append(
                    LoadError.at(
                        c.span,
                        kind="terraform.module-cycle",
                        message=f'module "{name}" calls {c.resolved_dir}, which is already being evaluated: cycle',
                        address=child_addr,
                        environment=self.name,
                    )
                )
                ctx.children[name] = f"module.{name} is part of a module cycle"
                continue
            force = _Once(lambda c=c, a=child_addr, i=i: self.expand(inst, ev, c, a, stack, (*order, i)))
            ctx.children[name] = force
            pending.append(force)
        for force in pending:
            force()
        return inst

    def expand(
        self, parent: ModuleInstance, parent_ev: Evaluator, c: ModuleCall, address: str, stack: list[str], order: tuple
    ) -> Evaluator | ModuleInstances | str:
        """Instantiate a call once per key (or once, unexpanded); what `module.<name>` reads."""
        name = c.name
        parent_ev.ctx.children[name] = f"module.{name}: its count/for_each depends on the module itself"
        built = self._expand(parent, parent_ev, c, address, stack, order)
        parent_ev.ctx.children[name] = built
        return built

    def _expand(
        self, parent: ModuleInstance, parent_ev: Evaluator, c: ModuleCall, address: str, stack: list[str], order: tuple
    ) -> Evaluator | ModuleInstances:
        mod, below = self.modules[c.resolved_dir], stack + [c.resolved_dir]  # type: ignore[index]
        self.skip_order[address] = order
        if c.count is None and c.for_each is None:
            child = self.instantiate(
                mod, address, c, parent_ev, {}, below, (*order, 0), None, NO_SYMBOLS, parent.exists
            )
            return _evaluator_of(child)
        keys = instance_keys(parent, c.count, c.for_each)
        mi = ModuleInstances(by_count=c.for_each is None)
        if keys is None:
            own = existence(parent, c.count, c.for_each)
            if own.is_known and own.value is False:
                keys = []
            else:
                symbols = unexpanded_symbols(parent, c.count, c.for_each)
                exists = parent.exists if not parent.exists.is_known else own
                child = self.instantiate(mod, address, c, parent_ev, {}, below, (*order, 0), None, symbols, exists)
                mi.unresolved = own.reason or "its keys are unknown"
                mi.instances[None] = _evaluator_of(child)
                return mi
        if not keys:
            what = c.count if c.count is not None else c.for_each
            kind = "count" if c.count is not None else "for_each"
            reason = f"{kind} = {what.text.strip()} creates no instance in this environment" if what else "no instance"
            self.skipped.append(SkippedModule(address=address, span=c.span, reason=reason))
            return mi
        for j, (k, symbols) in enumerate(keys):
            child = self.instantiate(
                mod, address + format_key(k), c, parent_ev, {}, below, (*order, j), k, symbols, parent.exists
            )
            mi.instances[k] = _evaluator_of(child)
        return mi


class _Once:
    """Builds a module call the first time it is read (or at the end of its caller), once;
    it then stands in the caller's `children` as what it built."""

    def __init__(self, build: Callable[[], Any]):
        self.build = build
        self.result: Any = None
        self.done = False

    def __call__(self) -> Any:
        if not self.done:
            self.done = True
            self.result = self.build()
        return self.result


def _evaluator_of(inst: ModuleInstance) -> Evaluator:
    return inst._evaluate.__self__  # type: ignore[union-attr]


def load(ws: Workspace) -> tuple[TerraformProject, list[LoadError]]:
    errors: list[LoadError] = []
    modules = load_module_dirs(ws, errors)
    used = resolve_sources(ws, modules, errors)
    roots = [d for d in modules if d not in used]
    names = environment_names(roots, ws.root.name)
    environments = []
    for d in roots:
        env = _EnvBuilder(ws, modules, modules[d], names[d], errors).build()
        # the same environment as a first plan sees it, built when a rule asks (its load
        # errors are the environment's own, already reported)
        env._planned = _Once(lambda d=d: _EnvBuilder(ws, modules, modules[d], names[d], [], planned=True).build())
        environments.append(env)
    errors.sort(key=lambda e: (e.path, e.line, e.kind, e.message))
    return TerraformProject(modules=modules, environments=environments), errors
