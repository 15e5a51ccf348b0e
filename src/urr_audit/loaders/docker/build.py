"""Raw instructions -> the typed Dockerfile model, with the errors Docker's instruction layer
raises (unknown instruction, FROM arity, instructions before the first FROM, invalid image
references...). Variables are resolved as the builder resolves them, where the Dockerfile
says their values; otherwise they stay unknown with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from urr_audit.loaders.docker.parse import (
    DockerfileSyntaxError,
    ParsedDockerfile,
    RawInstruction,
    json_array,
    split_words,
)
from urr_audit.loaders.docker.shellwords import Expansion, Lookup, expand
from urr_audit.model.common import Span, Value
from urr_audit.model.docker import (
    ArgDef,
    ArgInstruction,
    CmdInstruction,
    CommandLine,
    CopyInstruction,
    CopySource,
    Dockerfile,
    EnvInstruction,
    EnvPair,
    ExposeInstruction,
    Flag,
    FromInstruction,
    HealthcheckInstruction,
    Heredoc,
    ImageRef,
    ImageUse,
    Instruction,
    Mount,
    OtherInstruction,
    RunInstruction,
    Stage,
    UserInstruction,
    WorkdirInstruction,
)

KNOWN_INSTRUCTIONS = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)

# Set by the builder for every build, usable in FROM without being declared.
PLATFORM_ARGS = {
    "BUILDPLATFORM": "the platform of the machine running the build",
    "BUILDOS": "the OS of the machine running the build",
    "BUILDARCH": "the architecture of the machine running the build",
    "BUILDVARIANT": "the architecture variant of the machine running the build",
    "TARGETPLATFORM": "the platform the build targets (--platform)",
    "TARGETOS": "the OS the build targets (--platform)",
    "TARGETARCH": "the architecture the build targets (--platform)",
    "TARGETVARIANT": "the architecture variant the build targets (--platform)",
}

# The distribution reference grammar (github.com/distribution/reference, regexp.go).
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_REFERENCE = re.compile(rf"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?")
_STAGE_NAME = re.compile(r"[a-z][a-z0-9-_.]*", re.IGNORECASE)
_HEREDOC_SOURCE = re.compile(r"^[0-9]*<<-?(.+)$")
_URL = re.compile(r"^https?://", re.IGNORECASE)


def parse_image_ref(text: str) -> ImageRef | None:
    """Split an image reference; None when the grammar refuses it (the build would fail)."""
    m = _REFERENCE.fullmatch(text)
    if not m or len(m.group(1)) > 255:
        return None
    name, tag, digest = m.group(1), m.group(2), m.group(3)
    registry = None
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first.lower() != first):
        registry, name = first, rest
    if name.lower() != name:
        return None
    return ImageRef(raw=text, registry=registry, repository=name, tag=tag, digest=digest)


def is_git_source(src: str) -> bool:
    """What BuildKit's ADD fetches with git: `git@`, `git://`, `ssh://`, or an http(s) URL
    whose path ends in `.git` (a `#ref` may follow)."""
    low = src.lower()
    if low.startswith(("git@", "git://", "ssh://")):
        return True
    if _URL.match(src):
        path = src.split("#", 1)[0].split("?", 1)[0]
        return path.endswith(".git")
    return False


class _Vars:
    """Variables of one scope: ARGs and ENVs (ENV wins over an ARG of the same name)."""

    def __init__(self, undefined: Callable[[str], tuple[str | None, str] | None]):
        self.args: dict[str, tuple[str | None, str]] = {}
        self.envs: dict[str, tuple[str | None, str]] = {}
        self.undefined = undefined

    def lookup(self, name: str) -> tuple[str | None, str] | None:
        if name in self.envs:
            return self.envs[name]
        if name in self.args:
            return self.args[name]
        return self.undefined(name)

    def copy_envs(self, undefined: Callable[[str], tuple[str | None, str] | None]) -> _Vars:
        out = _Vars(undefined)
        out.envs = dict(self.envs)
        return out


def _value(exp: Expansion, span: Span) -> Value:
    if exp.text is None:
        return Value.unknown(exp.reason, span=span)
    return Value.known(exp.text, span=span)


def _global_undefined(name: str) -> tuple[str | None, str] | None:
    if name in PLATFORM_ARGS:
        return (None, f"${name} is set by the builder: {PLATFORM_ARGS[name]}")
    return None  # Docker substitutes an empty string for an undeclared ARG in FROM


def _from_image_undefined(name: str) -> tuple[str | None, str] | None:
    return (None, f"${name} is not set in this Dockerfile (the base image's ENV may set it)")


def _scratch_undefined(name: str) -> tuple[str | None, str] | None:
    return None


class _Builder:
    def __init__(self, path: str, parsed: ParsedDockerfile, n_lines: int):
        self.path = path
        self.parsed = parsed
        self.escape = parsed.escape
        self.n_lines = n_lines
        self.globals = _Vars(_global_undefined)
        self.global_args: list[ArgInstruction] = []
        self.stage_names: list[str | None] = []
        self.stages: list[Stage] = []
        self.current: list[Instruction] = []
        self.vars = self.globals
        self.stage_vars: list[_Vars] = []
        # COPY --from may name any stage of the file, even a later one (BuildKit), so all
        # stage names are collected first, in order (None for an unnamed stage).
        self.all_names: list[str | None] = []
        for raw in parsed.instructions:
            if raw.keyword.upper() == "FROM":
                words = raw.text.split()
                self.all_names.append(words[2] if len(words) == 3 and words[1].lower() == "as" else None)

    # --- helpers ------------------------------------------------------------------------
    def span(self, raw: RawInstruction) -> Span:
        return Span(path=self.path, line=raw.line, end_line=raw.end_line)

    def expand(self, word: str, lookup: Lookup | None = None) -> Expansion:
        return expand(word, lookup or self.vars.lookup, self.escape)

    def common(self, raw: RawInstruction) -> dict[str, Any]:
        in_stage = bool(self.stage_names)
        if in_stage:
            stage = len(self.stage_names) - 1
            address = f"{self.path}/stages/{self.stage_names[stage] or stage}/instructions/{len(self.current)}"
        else:
            address = f"{self.path}/global/instructions/{len(self.global_args)}"
        return {
            "span": self.span(raw),
            "address": address,
            "keyword_as_written": raw.keyword,
            "text": raw.text,
            "flags": [_flag(f) for f in raw.flags],
            "heredocs": [
                Heredoc(
                    name=h.name,
                    content=h.content,
                    expand=h.expand,
                    chomp=h.chomp,
                    fd=h.fd,
                    span=Span(path=self.path, line=h.line, end_line=h.end_line),
                )
                for h in raw.heredocs
            ],
            "stage_index": len(self.stage_names) - 1 if in_stage else None,
        }

    # --- the file -----------------------------------------------------------------------
    def build(self) -> Dockerfile:
        for raw in self.parsed.instructions:
            keyword = raw.keyword.upper()
            if keyword not in KNOWN_INSTRUCTIONS:
                raise DockerfileSyntaxError(f"unknown instruction: {raw.keyword}", raw.line)
            if keyword == "FROM":
                self.close_stage()
                self.start_stage(raw)
                continue
            if not self.stage_names:
                if keyword != "ARG":
                    raise DockerfileSyntaxError(
                        f"{raw.keyword} before the first FROM: no build stage in current context", raw.line
                    )
                self.global_args.append(self.arg(raw))
                continue
            self.current.append(self.instruction(keyword, raw))
        if not self.stage_names:
            raise DockerfileSyntaxError("no FROM instruction: the file has no build stage", 1)
        self.close_stage()
        return Dockerfile(
            path=self.path,
            span=Span(path=self.path, line=1, end_line=max(self.n_lines, 1)),
            directives={k: v for k, (v, _) in self.parsed.directives.items()},
            escape=self.escape,
            global_args=self.global_args,
            stages=self.stages,
        )

    def close_stage(self) -> None:
        if not self.current:
            return
        first = self.current[0]
        assert isinstance(first, FromInstruction)
        index = len(self.stages)
        name = first.stage_name
        end = max(i.span.end_line for i in self.current)
        self.stages.append(
            Stage(
                index=index,
                name=name,
                address=f"{self.path}/stages/{name or index}",
                span=Span(path=self.path, line=first.span.line, end_line=end),
                instructions=self.current,
            )
        )
        self.current = []

    def start_stage(self, raw: RawInstruction) -> None:
        words = raw.text.split()
        if len(words) not in (1, 3) or (len(words) == 3 and words[1].lower() != "as"):
            raise DockerfileSyntaxError("FROM requires either one or three arguments", raw.line)
        name = words[2] if len(words) == 3 else None
        if name is not None and not _STAGE_NAME.fullmatch(name):
            raise DockerfileSyntaxError(
                f'invalid name for build stage: "{name}", name can\'t start with a number or contain symbols',
                raw.line,
            )
        self.stage_names.append(name)
        common = self.common(raw)
        span = common["span"]
        base = self.image_use(words[0], self.globals.lookup, raw.line, earlier_only=True)
        platform_flag = next((f for f in reversed(common["flags"]) if f.name == "platform"), None)
        if platform_flag is None:
            platform = Value.absent(span=span)
        else:
            platform = _value(self.expand(platform_flag.value or "", self.globals.lookup), span)
        inst = FromInstruction(**common, base=base, platform=platform, stage_name=name)
        # What a stage can read: ENV inherited from a parent stage; an image's own ENV is not seen.
        if base.kind == "stage" and base.stage_index is not None:
            parent_vars = self.stage_vars[base.stage_index]
            self.vars = parent_vars.copy_envs(parent_vars.undefined)
        elif base.kind == "scratch":
            self.vars = _Vars(_scratch_undefined)
        else:
            self.vars = _Vars(_from_image_undefined)
        self.stage_vars.append(self.vars)
        self.current = [inst]

    def image_use(self, written: str, lookup: Lookup, line: int, earlier_only: bool) -> ImageUse:
        exp = self.expand(written, lookup)
        args = sorted({n for n in exp.names if n in self.globals.args})
        if exp.text is None:
            return ImageUse(written=written, kind="unknown", reason=exp.reason, args=args)
        text = exp.text
        if text == "":
            raise DockerfileSyntaxError(f"base name ({written}) should not be blank", line)
        # FROM builds on an earlier stage only; --from may name any stage
        candidates = self.all_names[: len(self.stage_names) - 1] if earlier_only else self.all_names
        low = text.lower()
        index = next((i for i, n in enumerate(candidates) if n is not None and n.lower() == low), None)
        if index is not None:
            return ImageUse(written=written, kind="stage", resolved=text, stage_index=index, args=args)
        if text == "scratch":
            return ImageUse(written=written, kind="scratch", resolved=text, args=args)
        ref = parse_image_ref(text)
        if ref is None:
            raise DockerfileSyntaxError(f'"{text}" is not a valid image reference (invalid reference format)', line)
        return ImageUse(written=written, kind="image", resolved=text, image=ref, args=args)

    def from_ref(self, written: str, line: int) -> ImageUse:
        """`--from` of COPY / RUN --mount: a stage index, a stage name (any stage) or an image."""
        exp = self.expand(written)
        # an index is ASCII digits only (Go's strconv.Atoi); `²` is a name like any other
        if exp.text is not None and exp.text.isascii() and exp.text.isdigit():
            # no int() of thousands of digits (Python refuses past 4300): so long names no stage
            n = int(exp.text) if len(exp.text) <= 9 else len(self.all_names)
            if n >= len(self.all_names):
                raise DockerfileSyntaxError(f"--from={exp.text[:20]}: no build stage with that index", line)
            return ImageUse(written=written, kind="stage", resolved=exp.text, stage_index=n)
        return self.image_use(written, self.vars.lookup, line, earlier_only=False)

    # --- instructions -------------------------------------------------------------------
    def instruction(self, keyword: str, raw: RawInstruction) -> Instruction:
        common = self.common(raw)
        span = common["span"]
        if keyword == "ARG":
            return self.arg(raw)
        if keyword in ("ENV", "LABEL"):
            return self.env(keyword, raw, common)
        if keyword in ("COPY", "ADD"):
            return self.copy(keyword, raw, common)
        if keyword == "RUN":
            mounts = [self.mount(v, raw.line) for v in _values(common["flags"], "mount")]
            return RunInstruction(
                **common,
                command=_command(raw),
                mounts=mounts,
                network=_last(common["flags"], "network"),
                security=_last(common["flags"], "security"),
            )
        if keyword == "USER":
            if not raw.text:
                raise DockerfileSyntaxError("USER requires exactly one argument", raw.line)
            return UserInstruction(**common, user=_value(self.expand(raw.text), span))
        if keyword == "WORKDIR":
            if not raw.text:
                raise DockerfileSyntaxError("WORKDIR requires exactly one argument", raw.line)
            return WorkdirInstruction(**common, path=_value(self.expand(raw.text), span))
        if keyword == "EXPOSE":
            return ExposeInstruction(**common, ports=raw.text.split())
        if keyword == "HEALTHCHECK":
            return self.healthcheck(raw, common)
        if keyword in ("CMD", "ENTRYPOINT", "SHELL"):
            if keyword == "SHELL" and not raw.json_form:
                raise DockerfileSyntaxError("SHELL requires the arguments to be in JSON form", raw.line)
            return CmdInstruction(**common, kind=keyword, command=_command(raw))
        if keyword == "ONBUILD":
            trigger = raw.text.split(None, 1)[0].upper() if raw.text.strip() else ""
            if trigger in ("ONBUILD", "FROM", "MAINTAINER"):
                raise DockerfileSyntaxError(f"{trigger} isn't allowed as an ONBUILD trigger", raw.line)
            if trigger and trigger not in KNOWN_INSTRUCTIONS:
                raise DockerfileSyntaxError(f"unknown instruction: {trigger}", raw.line)
        return OtherInstruction(**common, kind=keyword)

    def arg(self, raw: RawInstruction) -> ArgInstruction:
        common = self.common(raw)
        span = common["span"]
        words = split_words(raw.text, self.escape)
        if not words:
            raise DockerfileSyntaxError("ARG requires at least one argument", raw.line)
        in_stage = bool(self.stage_names)
        defs: list[ArgDef] = []
        for word in words:
            name, eq, written = word.partition("=")
            if not eq:
                if not in_stage:
                    value: tuple[str | None, str] = (None, f"ARG {name} has no default: it is set by --build-arg")
                elif name in self.globals.args:
                    value = self.globals.args[name]  # a global ARG re-declared takes its default
                elif name in PLATFORM_ARGS:
                    value = (None, f"${name} is set by the builder: {PLATFORM_ARGS[name]}")
                else:
                    value = (None, f"ARG {name} has no default: it is set by --build-arg")
                default = Value.absent(span=span)
            else:
                exp = self.expand(written)
                value = (exp.text, exp.reason)
                default = _value(exp, span)
            self.vars.args[name] = value
            defs.append(ArgDef(name=name, default_written=written if eq else None, default=default))
        return ArgInstruction(**common, args=defs)

    def env(self, keyword: str, raw: RawInstruction, common: dict[str, Any]) -> EnvInstruction:
        span = common["span"]
        words = split_words(raw.text, self.escape)
        if not words:
            raise DockerfileSyntaxError(f"{keyword} requires at least one argument", raw.line)
        pairs: list[EnvPair] = []
        if "=" not in words[0]:
            parts = re.split(r"[\t\v\f\r ]+", raw.text, maxsplit=1)
            if len(parts) < 2 or not parts[1]:
                raise DockerfileSyntaxError(f"{keyword} must have two arguments", raw.line)
            exp = self.expand(parts[1])
            pairs.append(
                EnvPair(
                    name=parts[0], written=parts[1], value=_value(exp, span), legacy=True, variables=list(exp.names)
                )
            )
        else:
            for word in words:
                if "=" not in word:
                    raise DockerfileSyntaxError(
                        f'Syntax error - can\'t find = in "{word}". Must be of the form: name=value', raw.line
                    )
                name, _, written = word.partition("=")
                exp = self.expand(written)
                pairs.append(EnvPair(name=name, written=written, value=_value(exp, span), variables=list(exp.names)))
        if keyword == "ENV":
            # every pair is expanded with the variables as they were before this instruction
            for p in pairs:
                self.vars.envs[p.name] = (p.value.value, p.value.reason) if not p.value.is_absent else ("", "")
        return EnvInstruction(**common, kind=keyword, pairs=pairs)

    def copy(self, keyword: str, raw: RawInstruction, common: dict[str, Any]) -> CopyInstruction:
        span = common["span"]
        words = raw.json_args if raw.json_form else split_words(raw.text, self.escape)
        if len(words) < 2:
            raise DockerfileSyntaxError(f"{keyword} requires at least two arguments", raw.line)
        flags = common["flags"]
        from_written = _last(flags, "from")
        from_ = self.from_ref(from_written, raw.line) if from_written is not None else None
        sources: list[CopySource] = []
        for word in words[:-1]:
            if not raw.json_form and raw.heredocs and _HEREDOC_SOURCE.match(word):
                sources.append(CopySource(written=word, kind="heredoc", path=Value.absent(span=span)))
                continue
            exp = self.expand(word)
            text = exp.text if exp.text is not None else word
            if _URL.match(text) or is_git_source(text):
                if from_ is None and (keyword == "COPY"):
                    raise DockerfileSyntaxError(f"source can't be a URL for COPY: {word}", raw.line)
                kind = "git" if is_git_source(text) else "url"
                sources.append(CopySource(written=word, kind=kind, path=Value.absent(span=span)))
            else:
                sources.append(CopySource(written=word, kind="path", path=_value(exp, span)))
        return CopyInstruction(
            **common,
            kind=keyword,
            sources=sources,
            destination=words[-1],
            from_=from_,
            chown=_last(flags, "chown"),
            chmod=_last(flags, "chmod"),
            link=_bool_flag(flags, "link"),
            parents=_bool_flag(flags, "parents"),
            checksum=_last(flags, "checksum"),
            exec_form=raw.json_form,
        )

    def mount(self, written: str, line: int) -> Mount:
        options: dict[str, str] = {}
        for field in _csv_fields(written):
            key, eq, val = field.partition("=")
            options[key.strip().lower()] = val if eq else "true"
        mount_type = options.get("type", "bind")
        from_ = None
        if "from" in options and mount_type in ("bind", "cache"):
            from_ = self.from_ref(options["from"], line)
        return Mount(written=written, type=mount_type, options=options, from_=from_)

    def healthcheck(self, raw: RawInstruction, common: dict[str, Any]) -> HealthcheckInstruction:
        parts = raw.text.split(None, 1)
        if not parts:
            raise DockerfileSyntaxError("HEALTHCHECK requires an argument", raw.line)
        mode = parts[0].upper()
        rest = parts[1].strip() if len(parts) == 2 else ""
        if mode == "NONE":
            if rest:
                raise DockerfileSyntaxError("HEALTHCHECK NONE takes no arguments", raw.line)
            return HealthcheckInstruction(**common, none=True)
        if mode != "CMD":
            raise DockerfileSyntaxError(f'Unknown type "{parts[0]}" in HEALTHCHECK (try CMD)', raw.line)
        exec_form = json_array(rest, raw.line)
        command = CommandLine(exec_form=exec_form) if exec_form is not None else CommandLine(shell=rest)
        return HealthcheckInstruction(**common, command=command)


def _flag(text: str) -> Flag:
    name, eq, value = text.partition("=")
    return Flag(name=name.lstrip("-").lower(), value=value if eq else None)


def _last(flags: list[Flag], name: str) -> str | None:
    hits = [f for f in flags if f.name == name]
    return (hits[-1].value or "") if hits else None


def _values(flags: list[Flag], name: str) -> list[str]:
    return [f.value or "" for f in flags if f.name == name]


def _bool_flag(flags: list[Flag], name: str) -> bool:
    hits = [f for f in flags if f.name == name]
    return bool(hits) and (hits[-1].value or "true").lower() not in ("false", "0")


def _command(raw: RawInstruction) -> CommandLine:
    if raw.json_form:
        return CommandLine(exec_form=raw.json_args)
    return CommandLine(shell=raw.text)


def _csv_fields(text: str) -> list[str]:
    """Comma-separated fields, double quotes grouping (the `--mount` value is CSV)."""
    out, cur, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return [f for f in out if f]


def build_dockerfile(path: str, parsed: ParsedDockerfile, n_lines: int) -> Dockerfile:
    return _Builder(path, parsed, n_lines).build()
