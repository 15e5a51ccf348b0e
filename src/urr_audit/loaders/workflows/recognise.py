"""What a step does to images and files: `docker/build-push-action`, registry logins, and the
`docker build|buildx build|push|tag|login`, `sed -i`, `yq -i` and `kustomize edit set image`
command lines of its `run:` script (split by `shell.py`, never executed)."""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, Any

from urr_audit.loaders.workflows.expressions import ExprSyntaxError, find
from urr_audit.loaders.workflows.resolve import EnvChain
from urr_audit.loaders.workflows.shell import (
    Command,
    CommandSubstitution,
    Expression,
    ShellVar,
    Word,
    commands,
)
from urr_audit.model.common import Span
from urr_audit.model.gha_images import FileEdit, Hole, ImageBuild, ImageName, RegistryLogin, Template
from urr_audit.model.workflows import FileWrite, Scalar, ShellCommand, Step

if TYPE_CHECKING:
    from urr_audit.loaders.workflows.positions import Located
    from urr_audit.workspace import Workspace

Path = tuple[str | int, ...]

# docker build / buildx build options that take a value (the others are switches)
_BUILD_VALUE = frozenset(
    [
        "-f",
        "--file",
        "-t",
        "--tag",
        "--platform",
        "--build-arg",
        "--target",
        "--label",
        "--cache-from",
        "--cache-to",
        "-o",
        "--output",
        "--secret",
        "--ssh",
        "--network",
        "--progress",
        "--builder",
        "--iidfile",
        "--metadata-file",
        "--add-host",
        "--shm-size",
        "--ulimit",
        "--allow",
        "--attest",
        "--annotation",
        "--cgroup-parent",
        "--isolation",
        "-m",
        "--memory",
        "--memory-swap",
        "--cpu-shares",
        "-c",
        "--cpu-period",
        "--cpu-quota",
        "--cpuset-cpus",
        "--cpuset-mems",
        "--build-context",
        "--call",
        "--security-opt",
        "--policy",
    ]
)
_DOCKER_GLOBAL_VALUE = frozenset(
    ["--config", "--context", "-c", "-H", "--host", "-l", "--log-level", "--tlscacert", "--tlscert", "--tlskey"]
)
_LOGIN_VALUE = frozenset(["-u", "--username", "-p", "--password"])
_PUSH_VALUE = frozenset()
_SED_VALUE = frozenset(["-e", "--expression", "-f", "--file", "-l", "--line-length"])
_YQ_VALUE = frozenset(
    [
        "-o",
        "--output-format",
        "-p",
        "--input-format",
        "-I",
        "--indent",
        "--from-file",
        "--expression",
        "--split-exp",
        "-s",
    ]
)


def _parse_args(words: list[Word], value_flags: frozenset[str]) -> tuple[list[tuple[str, Word | None]], list[Word]]:
    opts: list[tuple[str, Word | None]] = []
    pos: list[Word] = []
    i = 0
    while i < len(words):
        w = words[i]
        raw = w.raw
        if raw == "--":
            pos.extend(words[i + 1 :])
            break
        if raw.startswith("-") and len(raw) > 1:
            if "=" in raw and raw.startswith("--"):
                flag = raw.partition("=")[0]
                opts.append((flag, _strip_word(w, len(flag) + 1)))
            elif raw in value_flags:
                opts.append((raw, words[i + 1] if i + 1 < len(words) else None))
                i += 1
            else:
                opts.append((raw, None))
        else:
            pos.append(w)
        i += 1
    return opts, pos


def _strip_word(w: Word, n: int) -> Word:
    """The word without its first `n` characters (the `--flag=` of `--flag=value`)."""
    parts: list[Any] = list(w.parts)
    if parts and isinstance(parts[0], str):
        parts[0] = parts[0][n:]
        if not parts[0]:
            parts.pop(0)
    return Word(w.raw[n:], tuple(parts))


def _values(opts: list[tuple[str, Word | None]], *flags: str) -> list[Word]:
    return [v for f, v in opts if f in flags and v is not None]


def _has(opts: list[tuple[str, Word | None]], *flags: str) -> bool:
    return any(f in flags for f, _ in opts)


def split_list(text: str) -> list[str]:
    """A newline- or comma-separated list (build-push-action's `tags`, `platforms`), commas
    inside `${{ }}` kept."""
    try:
        occ = find(text)
    except ExprSyntaxError:
        occ = []
    masked = list(text)
    for o in occ:
        for i in range(o.start, o.end):
            if masked[i] in ",\n":
                masked[i] = "\0"
    pieces = re.split(r"[,\n]", "".join(masked))
    out, at = [], 0
    for p in pieces:
        raw = text[at : at + len(p)]
        at += len(p) + 1
        if raw.strip():
            out.append(raw.strip())
    return out


def _bool(t: Template | None, default: bool | None) -> bool | None:
    if t is None:
        return default
    v = t.value
    if v is None:
        return None
    return v.strip().lower() == "true"


def _join(base: Template | None, rel: Template) -> Template:
    if base is None or not base.parts or (rel.parts and isinstance(rel.parts[0], str) and rel.parts[0].startswith("/")):
        return _norm(rel)
    return _norm(Template(parts=(*base.parts, "/", *rel.parts)))


def _norm(t: Template) -> Template:
    if t.is_known and t.value is not None:
        v = posixpath.normpath(t.value) if t.value else t.value
        return Template.literal(v)
    parts: list[str | Hole] = []
    for p in t.parts:
        if isinstance(p, str):
            p = re.sub(r"/(\./)+", "/", re.sub(r"/{2,}", "/", p))
            if not parts and p.startswith("./"):
                p = p[2:]
        if isinstance(p, str) and parts and isinstance(parts[-1], str):
            parts[-1] += p
        elif p != "":
            parts.append(p)
    return Template(parts=tuple(parts))


class Recogniser:
    def __init__(self, located: Located, ws: Workspace | None):
        self.located = located
        self.ws = ws

    def recognise(self, step: Step, path: Path, chain: EnvChain, raw_steps: list[Any]) -> Step:
        step_actions = {
            str(sd["id"]): str(sd.get("uses") or "run")
            for sd in raw_steps[: step.index]
            if isinstance(sd, dict) and isinstance(sd.get("id"), str)
        }
        chain = chain.inner(step.env, step_actions)
        builds: list[ImageBuild] = []
        logins: list[RegistryLogin] = []
        edits: list[FileEdit] = []
        uses = step.uses
        if uses is not None and uses.kind == "action":
            if uses.action == "docker/build-push-action":
                builds.append(self.build_push_action(step, path, chain))
            elif uses.action == "docker/login-action":
                registry = chain.template(step.with_.get("registry"))
                logins.append(
                    RegistryLogin(tool="docker/login-action", span=uses.span, step=step.address, registry=registry)
                )
            elif uses.action == "aws-actions/amazon-ecr-login":
                accounts = split_list(step.with_["registries"].text) if "registries" in step.with_ else []
                ident = step.id.text if step.id is not None else "ID"
                hole = Hole(
                    source=f"${{{{ steps.{ident}.outputs.registry }}}}",
                    reason="the account's ECR registry, output by aws-actions/amazon-ecr-login at run time",
                )
                logins.append(
                    RegistryLogin(
                        tool="aws-actions/amazon-ecr-login",
                        span=uses.span,
                        step=step.address,
                        registry=Template(parts=(hole,)),
                        accounts=accounts,
                    )
                )
        shell_commands: list[ShellCommand] = []
        writes: list[FileWrite] = []
        if step.run is not None:
            shell_commands = self.script(step, path, chain, builds, logins, edits, writes)
        if not (builds or logins or edits or shell_commands or writes):
            return step
        update: dict[str, Any] = {"builds": builds, "logins": logins, "edits": edits}
        if (shell_commands or writes) and step.run is not None:
            update["run"] = step.run.model_copy(update={"commands": shell_commands, "writes": writes})
        return step.model_copy(update=update)

    # --- docker/build-push-action -----------------------------------------------------------
    def build_push_action(self, step: Step, path: Path, chain: EnvChain) -> ImageBuild:
        w = step.with_
        assert step.uses is not None

        def t(key: str) -> Template | None:
            return chain.template(w.get(key))

        platforms, unknown = None, ""
        p = t("platforms")
        if p is not None:
            if p.is_known and p.value is not None:
                platforms = split_list(p.value)
            else:
                unknown = p.reason
        push = _bool(t("push"), False)
        load = _bool(t("load"), False)
        outputs = t("outputs")
        if outputs is not None and outputs.value is not None:
            if "type=registry" in outputs.value or "push=true" in outputs.value:
                push = True
            if "type=docker" in outputs.value:
                load = True
        build_args: dict[str, Template] = {}
        if "build-args" in w:
            for line in w["build-args"].text.splitlines():
                k, sep, v = line.strip().partition("=")
                if sep and k:
                    build_args[k] = chain.text(v)
        target = w["target"].text if "target" in w and w["target"].is_literal else None
        return ImageBuild(
            tool="docker/build-push-action",
            span=step.uses.span,
            column=step.uses.column,
            step=step.address,
            context=t("context"),
            file=t("file"),
            platforms=platforms,
            platforms_unknown=unknown,
            push=push,
            load=load,
            tags=self.names(w.get("tags"), (*path, "with", "tags"), chain),
            build_args=build_args,
            target=target,
        )

    def names(self, scalar: Scalar | None, path: Path, chain: EnvChain) -> list[ImageName]:
        if scalar is None:
            return []
        out = []
        cursor = 0
        for raw in split_list(scalar.text):
            line, _col, cursor = self.located.locate(path, raw, cursor)
            span = Span(path=self.located.file, line=line, end_line=line)
            out.append(ImageName.parse(chain.text(raw), span=span))
        return out

    # --- run: scripts -----------------------------------------------------------------------
    def script(
        self,
        step: Step,
        path: Path,
        chain: EnvChain,
        builds: list[ImageBuild],
        logins: list[RegistryLogin],
        edits: list[FileEdit],
        writes: list[FileWrite],
    ) -> list[ShellCommand]:
        """Recognise what the script does; return its commands (POSIX shells only)."""
        assert step.run is not None
        text = step.run.script.text
        shell = (step.run.shell or "bash").split()[0].rsplit("/", 1)[-1]
        if shell not in ("bash", "sh", "dash", "zsh", "ksh"):
            # pwsh, python, cmd...: not split as a POSIX shell; a line naming a command file
            # is a write of unknown text
            writes.extend(self.unsplit_writes(step, path))
            return []
        try:
            occ = find(text)
        except ExprSyntaxError:
            return []  # reported by the expression pass
        script_exprs = step.run.script.exprs if len(step.run.script.exprs) == len(occ) else ()
        files = _Writes(self, step, path, script_exprs, lines=text.split("\n"))
        inners = [o.inner for o in occ]
        sources = [text[o.start : o.end] for o in occ]
        lines = text.split("\n")
        base = chain.template(step.run.working_directory)
        cursor = 0
        within: dict[int, int] = {}  # per script line, where the previous command's name was
        found: list[ShellCommand] = []
        for cmd in commands(text, [(o.start, o.end) for o in occ]):
            name = cmd.words[0].raw
            physical = lines[cmd.line].strip() if cmd.line < len(lines) else ""
            lp = physical.find(name, within.get(cmd.line, 0))
            within[cmd.line] = lp + len(name) if lp >= 0 else within.get(cmd.line, 0)
            line, col, after = self.located.locate((*path, "run"), physical, cursor)
            cursor = max(cursor, after - len(physical))
            column = col + lp if lp >= 0 else col
            span = Span(path=self.located.file, line=line, end_line=line)
            found.append(
                ShellCommand(
                    argv=[w.text(inners) for w in cmd.words],
                    span=span,
                    column=column,
                    source=cmd.source,
                    redirects=[(op, w.text(inners)) for op, w in cmd.redirects],
                    before=cmd.before,
                    guard=cmd.guard,
                )
            )
            writes.extend(files.of(cmd, span, column))
            if name not in ("docker", "sed", "yq", "kustomize"):
                continue
            ctx = _Cmd(self, cmd, chain, inners, sources, base, span, column, step.address)
            if name == "docker":
                ctx.docker(builds, logins)
            elif name == "sed":
                ctx.sed(edits)
            elif name == "yq":
                ctx.yq(edits)
            else:
                ctx.kustomize(edits)
        return found

    def unsplit_writes(self, step: Step, path: Path) -> list[FileWrite]:
        assert step.run is not None
        out = []
        cursor = 0
        for raw in step.run.script.text.split("\n"):
            m = _COMMAND_FILE.search(raw)
            if m is None:
                continue
            line, col, cursor = self.located.locate((*path, "run"), raw.strip(), cursor)
            exprs = tuple(e for e in step.run.script.exprs if e.span.line == line)
            out.append(
                FileWrite(
                    file=m.group(1),  # type: ignore[arg-type]
                    span=Span(path=self.located.file, line=line, end_line=line),
                    column=col,
                    exprs=exprs,
                    computed=True,
                    via="script",
                )
            )
        return out


# `$GITHUB_ENV`, `${GITHUB_ENV}`, `$env:GITHUB_ENV`, `%GITHUB_ENV%`, `os.environ["GITHUB_ENV"]`...
_COMMAND_FILE = re.compile(r"\b(GITHUB_ENV|GITHUB_OUTPUT|GITHUB_PATH|GITHUB_STATE|GITHUB_STEP_SUMMARY)\b")
_COMMAND_FILES = frozenset({"GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_STATE", "GITHUB_STEP_SUMMARY"})
_NAMED = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*)(=|<<)(.*)", re.DOTALL)
_WRITE_OPS = frozenset({">", ">>", ">|", "&>", "&>>"})


class _Writes:
    """The writes of one script's commands to the runner's command files."""

    def __init__(self, rec: Recogniser, step: Step, path: Path, exprs: tuple[Any, ...], lines: list[str]):
        self.rec, self.step, self.path, self.exprs, self.lines = rec, step, path, exprs, lines
        self.open: dict[str, tuple[str, str]] = {}  # file -> (name, delimiter) of a `NAME<<EOF` value
        self.cursor = 0

    @staticmethod
    def _file(w: Word) -> str | None:
        """The command file a word names (`$GITHUB_ENV`, `"${GITHUB_OUTPUT}"`), else None."""
        return next((p.name for p in w.parts if isinstance(p, ShellVar) and p.name in _COMMAND_FILES), None)

    def of(self, cmd: Command, span: Span, column: int) -> list[FileWrite]:
        targets = [f for op, w in cmd.redirects if op in _WRITE_OPS and (f := self._file(w))]
        name = cmd.words[0].raw
        words = cmd.words[1:]
        via = name
        if name == "tee":
            targets += [f for w in words if (f := self._file(w))]
            words = []  # it writes its standard input
        elif name == "echo" and words and words[0].raw.startswith("::set-output"):
            m = re.match(r"::set-output name=([^:]+)::", words[0].raw)
            return [
                self._write("GITHUB_OUTPUT", span, column, m.group(1) if m else None, cmd.words[1:], "::set-output")
            ]
        if not targets:
            return []
        if cmd.heredoc is not None:
            return [w for f in targets for w in self._heredoc(f, cmd.heredoc)]
        if name == "echo":
            while words and re.fullmatch(r"-[neE]+", words[0].raw):
                words = words[1:]
        elif name not in ("printf", "tee"):
            via = "command"
        return [self._named(f, span, column, words, via) for f in targets]

    def _named(self, file: str, span: Span, column: int, words: list[Word], via: str) -> FileWrite:
        first = words[0].raw if words else ""
        name = None
        m = _NAMED.match(first) if via in ("echo", "printf") else None
        if file in self.open:
            opened, delim = self.open[file]
            if first.strip() == delim:
                del self.open[file]
            name = opened
        elif m:
            name = m.group(1)
            if m.group(2) == "<<":
                self.open[file] = (name, m.group(3).strip())
        return self._write(file, span, column, name, words, via)

    def _write(self, file: str, span: Span, column: int, name: str | None, words: list[Word], via: str) -> FileWrite:
        exprs = tuple(
            self.exprs[p.index]
            for w in words
            for p in w.parts
            if isinstance(p, Expression) and p.index < len(self.exprs)
        )
        variables = tuple(dict.fromkeys(p.name for w in words for p in w.parts if isinstance(p, ShellVar)))
        dynamic = any(isinstance(p, (Expression, ShellVar, CommandSubstitution)) for w in words for p in w.parts)
        output = any(isinstance(p, CommandSubstitution) for w in words for p in w.parts)
        return FileWrite(
            file=file,  # type: ignore[arg-type]
            span=span,
            column=column,
            name=None if file == "GITHUB_PATH" else name,
            exprs=exprs,
            variables=variables,
            literal=via in ("echo", "printf", "::set-output") and not dynamic,
            computed=output or via in ("tee", "command"),
            via=via,
        )

    def _heredoc(self, file: str, body: tuple[int, int]) -> list[FileWrite]:
        out = []
        for i in range(*body):
            raw = self.lines[i] if i < len(self.lines) else ""
            if not raw.strip():
                continue
            line, col, self.cursor = self.rec.located.locate((*self.path, "run"), raw.strip(), self.cursor)
            exprs = tuple(e for e in self.exprs if e.span.line == line)
            variables = tuple(dict.fromkeys(m.group(1) or m.group(2) for m in _VAR_IN_TEXT.finditer(raw)))
            m = _NAMED.match(raw.strip())
            name = m.group(1) if m and m.group(2) == "=" and file != "GITHUB_PATH" else None
            out.append(
                FileWrite(
                    file=file,  # type: ignore[arg-type]
                    span=Span(path=self.rec.located.file, line=line, end_line=line),
                    column=col,
                    name=name,
                    exprs=exprs,
                    variables=variables,
                    literal=not exprs and not variables and "$(" not in raw and "`" not in raw,
                    computed="$(" in raw or "`" in raw,
                    via="heredoc",
                )
            )
        return out


_VAR_IN_TEXT = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|\$([A-Za-z_][A-Za-z0-9_]*)")


class _Cmd:
    """One command line being recognised."""

    def __init__(
        self,
        rec: Recogniser,
        cmd: Command,
        chain: EnvChain,
        inners: list[str],
        sources: list[str],
        base: Template | None,
        span: Span,
        column: int,
        step: str,
    ):
        self.rec, self.cmd, self.chain = rec, cmd, chain
        self.inners, self.sources = inners, sources
        self.span, self.column, self.step = span, column, step
        cwd = base
        for w in cmd.cwd:
            cwd = _join(cwd, self.t(w))
        self.cwd = cwd

    def t(self, w: Word, depth: int = 0) -> Template:
        parts: list[str | Hole] = []
        for p in w.parts:
            if isinstance(p, str):
                parts.append(p)
            elif isinstance(p, ShellVar):
                assigned = self.cmd.assigned.get(p.name)
                if assigned is not None and depth < 4:
                    parts.extend(self.t(assigned, depth + 1).parts)
                else:
                    parts.extend(self.chain.shell_var(p.name).parts)
            elif isinstance(p, CommandSubstitution):
                parts.append(Hole(source=f"$({p.text})", reason="the output of a command, known at run time"))
            elif isinstance(p, Expression) and p.index < len(self.inners):
                parts.extend(
                    self.chain.expression(self.inners[p.index], self.sources[p.index], len(self.chain.layers), 0)
                )
        return _norm_parts(parts)

    def path(self, w: Word) -> Template:
        return _join(self.cwd, self.t(w))

    def _subcommand(self) -> tuple[str, list[Word]] | None:
        rest = self.cmd.words[1:]
        while rest and rest[0].raw.startswith("-"):
            rest = rest[2:] if rest[0].raw in _DOCKER_GLOBAL_VALUE else rest[1:]
        names = [w.raw for w in rest[:2]]
        if names[:2] in (["buildx", "build"], ["buildx", "b"]):
            return "docker buildx build", rest[2:]
        if names[:2] in (["image", "build"], ["builder", "build"]):
            return "docker build", rest[2:]
        if names[:2] in (["image", "push"], ["image", "tag"]):
            return f"docker {names[1]}", rest[2:]
        if names[:1] in (["build"], ["push"], ["tag"], ["login"]):
            return f"docker {names[0]}", rest[1:]
        return None

    def docker(self, builds: list[ImageBuild], logins: list[RegistryLogin]) -> None:
        sub = self._subcommand()
        if sub is None:
            return
        tool, args = sub
        common = {"span": self.span, "column": self.column, "step": self.step}
        if tool == "docker login":
            _opts, pos = _parse_args(args, _LOGIN_VALUE)
            registry = self.t(pos[0]) if pos else None
            logins.append(RegistryLogin(tool="docker login", span=self.span, step=self.step, registry=registry))
            return
        if tool == "docker push":
            opts, pos = _parse_args(args, _PUSH_VALUE)
            if pos:
                builds.append(ImageBuild(tool="docker push", tags=[self.name(pos[0])], push=True, **common))
            return
        if tool == "docker tag":
            _opts, pos = _parse_args(args, _PUSH_VALUE)
            if len(pos) >= 2:
                builds.append(
                    ImageBuild(tool="docker tag", source=self.name(pos[0]), tags=[self.name(pos[1])], **common)
                )
            return
        opts, pos = _parse_args(args, _BUILD_VALUE)
        platforms: list[str] | None = None
        unknown = ""
        for w in _values(opts, "--platform"):
            t = self.t(w)
            if t.value is None:
                unknown = t.reason
            else:
                platforms = [*(platforms or []), *(x.strip() for x in t.value.split(",") if x.strip())]
        if unknown:
            platforms = None
        outputs = [self.t(w).value or "" for w in _values(opts, "-o", "--output")]
        push = _has(opts, "--push") or any("type=registry" in o or "push=true" in o for o in outputs)
        load = _has(opts, "--load") or any("type=docker" in o for o in outputs) or tool == "docker build"
        build_args = {}
        for w in _values(opts, "--build-arg"):
            k, sep, _v = w.raw.partition("=")
            if sep:
                build_args[k] = _strip_template(self.t(w), len(k) + 1)
        files = _values(opts, "-f", "--file")
        targets = _values(opts, "--target")
        builds.append(
            ImageBuild(
                tool="docker buildx build" if tool == "docker buildx build" else "docker build",
                context=self.path(pos[0]) if pos and pos[0].raw != "-" else None,
                file=self.path(files[-1]) if files and files[-1].raw != "-" else None,
                platforms=platforms,
                platforms_unknown=unknown,
                push=push,
                load=load,
                tags=[self.name(w) for w in _values(opts, "-t", "--tag")],
                build_args=build_args,
                target=targets[-1].raw if targets else None,
                **common,
            )
        )

    def name(self, w: Word) -> ImageName:
        return ImageName.parse(self.t(w), span=self.span)

    def edit(
        self,
        tool: Any,
        path: Template,
        edits: list[FileEdit],
        images: list[str] | None = None,
        script: Template | None = None,
    ) -> None:
        edits.append(
            FileEdit(
                tool=tool,
                span=self.span,
                column=self.column,
                step=self.step,
                path=path,
                images=images or [],
                command=self.cmd.source.strip(),
                script=script,
            )
        )

    def sed(self, edits: list[FileEdit]) -> None:
        args = self.cmd.words[1:]
        in_place = False
        cleaned: list[Word] = []
        i = 0
        while i < len(args):
            raw = args[i].raw
            if raw == "-i" or raw.startswith("--in-place") or (raw.startswith("-i") and not raw.startswith("--")):
                in_place = True
                if raw == "-i" and i + 1 < len(args) and args[i + 1].raw == "":  # BSD `sed -i '' ...`
                    i += 1
            elif re.fullmatch(r"-[nErsuz]*i[nErsuz]*", raw):
                in_place = True
            else:
                cleaned.append(args[i])
            i += 1
        if not in_place:
            return
        opts, pos = _parse_args(cleaned, _SED_VALUE)
        has_script = _has(opts, "-e", "--expression", "-f", "--file")
        files = pos if has_script else pos[1:]
        scripts = _values(opts, "-e", "--expression") if has_script else pos[:1]
        script = self.t(scripts[0]) if len(scripts) == 1 else None
        for w in files:
            self.edit("sed -i", self.path(w), edits, script=script)

    def yq(self, edits: list[FileEdit]) -> None:
        opts, pos = _parse_args(self.cmd.words[1:], _YQ_VALUE)
        if not any(f in ("-i", "--inplace") or f.startswith("--inplace=") for f, _ in opts):
            return
        if pos and pos[0].raw in ("e", "eval", "ea", "eval-all"):
            pos = pos[1:]
        elif pos and pos[0].raw in ("w", "write", "d", "delete", "m", "merge", "n", "new", "p", "prefix"):
            pos = pos[1:2]  # yq v3: `yq w -i FILE PATH VALUE`
            for w in pos:
                self.edit("yq -i", self.path(w), edits)
            return
        has_expression = _has(opts, "--from-file", "--expression")
        files = pos if has_expression else pos[1:]
        expression = _values(opts, "--expression") if has_expression else pos[:1]
        script = self.t(expression[0]) if len(expression) == 1 else None
        for w in files:
            self.edit("yq -i", self.path(w), edits, script=script)

    def kustomize(self, edits: list[FileEdit]) -> None:
        words = [w.raw for w in self.cmd.words[1:5]]
        if words[:3] != ["edit", "set", "image"]:
            return
        images = [str(self.t(w)) for w in self.cmd.words[4:] if not w.raw.startswith("-")]
        directory = self.cwd
        name = "kustomization.yaml"
        ws = self.rec.ws
        if ws is not None and directory is not None and directory.value is not None:
            for candidate in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
                if ws.is_file(f"{directory.value}/{candidate}"):
                    name = candidate
                    break
        self.edit("kustomize edit set image", _join(directory, Template.literal(name)), edits, images)


def _norm_parts(parts: list[str | Hole]) -> Template:
    out: list[str | Hole] = []
    for p in parts:
        if isinstance(p, str) and out and isinstance(out[-1], str):
            out[-1] += p
        elif p != "":
            out.append(p)
    return Template(parts=tuple(out))


def _strip_template(t: Template, n: int) -> Template:
    parts = list(t.parts)
    if parts and isinstance(parts[0], str):
        parts[0] = parts[0][n:]
    return _norm_parts(parts)
