"""Dockerfiles: build stages, their instructions, and the images and build-context files they use.

A `Dockerfile` holds its parser directives, the `ARG`s declared before the first `FROM`
(global, usable in `FROM` lines) and its build `Stage`s. Each stage starts with its `FROM`
(instruction 0) followed by its instructions, each typed by keyword (`CopyInstruction` for
COPY and ADD, `RunInstruction` with its `--mount`s, ...). Every instruction has its span (first
and last line, heredoc bodies included) and an address: `<path>/stages/<stage>/instructions/<i>`
where `<stage>` is the stage's name when it has one (`AS build`), else its 0-based index;
global ARGs are `<path>/global/instructions/<i>`.

Values Docker computes from variables are resolved the way the builder does where the Dockerfile
says them (ARG defaults, ENV), and are otherwise unknown with the reason (`Value`): an `ARG`
without a default is set by `--build-arg` at build time, `$TARGETPLATFORM` by the builder.

For rules about builds (a workflow's context, a cluster's node platforms):
- `Dockerfile.final_stage` is the stage `docker build` produces without `--target`;
  `Dockerfile.stage(ref)` finds a stage by name (case-insensitive) or index (a `--target`);
  `Dockerfile.lineage(stage)` and `Dockerfile.effective_user(stage)` follow FROM <stage>;
- `Dockerfile.context_sources(target)` lists every path a build reads from its context
  (COPY/ADD sources without `--from`, `RUN --mount=type=bind` without `from=`) in the stages
  BuildKit builds for that target (`stages_needed`: unused stages are skipped);
- `Stage.platform` is the `FROM --platform` value; `Stage.base` the image or stage it builds on;
- `DockerProject.ignore_for(dockerfile, context)` is the `.dockerignore` that build uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.model.common import Span, Value
from urr_audit.model.dockerignore import DockerIgnore

DOCKER_HUB = "docker.io"


class ImageRef(BaseModel):
    """An image reference split as the distribution reference grammar does (field names as in
    the Kubernetes `ImageRef`, so images built here and images deployed there compare)."""

    model_config = ConfigDict(frozen=True)

    raw: str  # the reference after ARG substitution, as the builder pulls it
    registry: str | None = None  # None: Docker Hub implied
    repository: str = ""  # as written (`alpine`, `bitnami/redis`); see `full_name`
    tag: str | None = None
    digest: str | None = None  # `sha256:...`

    @property
    def registry_or_default(self) -> str:
        return self.registry or DOCKER_HUB

    @property
    def full_name(self) -> str:
        """`docker.io/library/alpine` for `alpine`: the repository with its registry made explicit."""
        repo = self.repository
        if self.registry is None and "/" not in repo:
            repo = f"library/{repo}"
        return f"{self.registry_or_default}/{repo}"


class ImageUse(BaseModel):
    """An image named in a FROM, a `COPY --from` or a `RUN --mount=from=`: what it refers to.

    - `image`: an image pulled from a registry (`image` set);
    - `stage`: an earlier build stage of this Dockerfile (`stage_index` set);
    - `scratch`: the empty image;
    - `unknown`: the name depends on a value not known before the build (`reason`);
    - `invalid`: the reference breaks the grammar (`reason`); the build would fail.
    """

    model_config = ConfigDict(frozen=True)

    written: str  # as in the file: `${BASE}:${TAG}`
    kind: Literal["image", "stage", "scratch", "unknown", "invalid"]
    resolved: str | None = None  # after ARG substitution
    image: ImageRef | None = None
    stage_index: int | None = None
    reason: str = ""
    # global ARGs whose defaults were substituted (a `--build-arg` may override them)
    args: list[str] = Field(default_factory=list)


class Flag(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str  # without the dashes: `platform`
    value: str | None = None  # None for a bare `--link`


class Heredoc(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str  # the terminator (`EOF`)
    content: str
    expand: bool = True  # False for `<<"EOF"` (no variable expansion in the body)
    chomp: bool = False  # `<<-EOF`: leading tabs stripped
    fd: int = 0
    span: Span  # body and terminator lines


class _Instruction(BaseModel):
    model_config = ConfigDict(frozen=True)

    span: Span
    address: str
    keyword_as_written: str  # `from`, `From`, ...; `kind` is upper-case
    text: str  # the arguments after the flags, continuations joined, as written
    flags: list[Flag] = Field(default_factory=list)
    heredocs: list[Heredoc] = Field(default_factory=list)
    stage_index: int | None = None  # None for global ARGs (before the first FROM)

    def flag(self, name: str) -> Flag | None:
        """The last `--name` flag (Docker keeps the last of repeated single-valued flags)."""
        hits = [f for f in self.flags if f.name == name]
        return hits[-1] if hits else None

    def flag_values(self, name: str) -> list[str]:
        return [f.value or "" for f in self.flags if f.name == name]


class CommandLine(BaseModel):
    """RUN / CMD / ENTRYPOINT / SHELL / HEALTHCHECK CMD arguments: exec form or shell form."""

    model_config = ConfigDict(frozen=True)

    exec_form: list[str] | None = None  # JSON array form
    shell: str | None = None  # shell form, as written (heredoc bodies in `heredocs`)


class FromInstruction(_Instruction):
    kind: Literal["FROM"] = "FROM"
    base: ImageUse
    platform: Value  # `--platform`: known text, unknown (`$BUILDPLATFORM`...) or absent
    stage_name: str | None = None  # `AS name` as written


class ArgDef(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    default_written: str | None = None  # None: `ARG NAME` without a default
    default: Value  # absent without a default; unknown when it reads an unknown variable


class ArgInstruction(_Instruction):
    kind: Literal["ARG"] = "ARG"
    args: list[ArgDef]


class EnvPair(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    written: str  # the value as written (quotes kept)
    value: Value  # after quote removal and substitution
    legacy: bool = False  # `ENV NAME value` form
    variables: list[str] = Field(default_factory=list)  # variables the value reads


class EnvInstruction(_Instruction):
    kind: Literal["ENV", "LABEL"] = "ENV"
    pairs: list[EnvPair]


class CopySource(BaseModel):
    model_config = ConfigDict(frozen=True)

    written: str
    kind: Literal["path", "url", "git", "heredoc"]
    path: Value  # for `path`: the source after substitution (may hold wildcards); else absent


class CopyInstruction(_Instruction):
    kind: Literal["COPY", "ADD"]
    sources: list[CopySource]
    destination: str  # as written
    from_: ImageUse | None = None  # `--from`: a stage or an image; None reads the build context
    chown: str | None = None
    chmod: str | None = None
    link: bool = False
    parents: bool = False
    checksum: str | None = None  # ADD --checksum
    exec_form: bool = False

    @property
    def reads_context(self) -> bool:
        return self.from_ is None


class Mount(BaseModel):
    """One `RUN --mount=...` (options split on commas, `type` defaulting to `bind`)."""

    model_config = ConfigDict(frozen=True)

    written: str
    type: str
    options: dict[str, str] = Field(default_factory=dict)
    from_: ImageUse | None = None  # bind/cache `from=`: a stage or an image

    @property
    def source(self) -> str | None:
        return self.options.get("source", self.options.get("src"))

    @property
    def target(self) -> str | None:
        for key in ("target", "dst", "destination"):
            if key in self.options:
                return self.options[key]
        return None

    @property
    def id(self) -> str | None:
        return self.options.get("id")


class RunInstruction(_Instruction):
    kind: Literal["RUN"] = "RUN"
    command: CommandLine
    mounts: list[Mount] = Field(default_factory=list)
    network: str | None = None
    security: str | None = None


class UserInstruction(_Instruction):
    kind: Literal["USER"] = "USER"
    user: Value  # `name[:group]` / `uid[:gid]` after substitution

    @property
    def user_part(self) -> str | None:
        """The user (before `:`), when known."""
        return self.user.value.split(":", 1)[0] if self.user.is_known else None


class ExposeInstruction(_Instruction):
    kind: Literal["EXPOSE"] = "EXPOSE"
    ports: list[str]  # `8080`, `8080/tcp`, `53/udp`, as written


class HealthcheckInstruction(_Instruction):
    kind: Literal["HEALTHCHECK"] = "HEALTHCHECK"
    none: bool = False  # `HEALTHCHECK NONE` disables the base image's
    command: CommandLine | None = None


class WorkdirInstruction(_Instruction):
    kind: Literal["WORKDIR"] = "WORKDIR"
    path: Value


class CmdInstruction(_Instruction):
    kind: Literal["CMD", "ENTRYPOINT", "SHELL"]
    command: CommandLine


class OtherInstruction(_Instruction):
    kind: Literal["MAINTAINER", "ONBUILD", "STOPSIGNAL", "VOLUME"]


Instruction = Annotated[
    FromInstruction
    | ArgInstruction
    | EnvInstruction
    | CopyInstruction
    | RunInstruction
    | UserInstruction
    | ExposeInstruction
    | HealthcheckInstruction
    | WorkdirInstruction
    | CmdInstruction
    | OtherInstruction,
    Field(discriminator="kind"),
]


class Stage(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int  # 0-based, as `COPY --from=0` counts
    name: str | None  # `AS name` as written; Docker compares names case-insensitively
    address: str
    span: Span  # from its FROM to its last instruction
    instructions: list[Instruction]  # instructions[0] is the FROM

    @property
    def from_(self) -> FromInstruction:
        first = self.instructions[0]
        assert isinstance(first, FromInstruction)
        return first

    @property
    def base(self) -> ImageUse:
        return self.from_.base

    @property
    def platform(self) -> Value:
        return self.from_.platform

    def of_kind(self, *kinds: str) -> list[Instruction]:
        return [i for i in self.instructions if i.kind in kinds]

    @property
    def users(self) -> list[UserInstruction]:
        return [i for i in self.instructions if isinstance(i, UserInstruction)]


class Dockerfile(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str
    span: Span  # the whole file
    directives: dict[str, str] = Field(default_factory=dict)  # `syntax`, `escape`, `check`
    escape: str = "\\"
    global_args: list[ArgInstruction] = Field(default_factory=list)
    stages: list[Stage] = Field(default_factory=list)

    @property
    def address(self) -> str:
        return self.path

    @property
    def directory(self) -> str:
        return self.path.rpartition("/")[0] or "."

    @property
    def syntax(self) -> str | None:
        return self.directives.get("syntax")

    @property
    def final_stage(self) -> Stage | None:
        """The stage `docker build` produces without `--target`: the last one."""
        return self.stages[-1] if self.stages else None

    def stage(self, ref: str | int) -> Stage | None:
        """A stage by 0-based index or by name (case-insensitive, as Docker compares them)."""
        if isinstance(ref, int) or (ref.isascii() and ref.isdigit()):
            n = ref if isinstance(ref, int) else (int(ref) if len(ref) <= 9 else len(self.stages))
            return self.stages[n] if 0 <= n < len(self.stages) else None
        low = ref.lower()
        return next((s for s in self.stages if s.name is not None and s.name.lower() == low), None)

    def lineage(self, stage: Stage) -> list[Stage]:
        """The stage and the stages it builds on through FROM, nearest first (ends at an
        image, `scratch` or an unknown name)."""
        out = [stage]
        seen = {stage.index}
        while out[-1].base.kind == "stage" and out[-1].base.stage_index is not None:
            parent = self.stages[out[-1].base.stage_index]
            if parent.index in seen:
                break
            seen.add(parent.index)
            out.append(parent)
        return out

    def effective_user(self, stage: Stage) -> UserInstruction | None:
        """The USER in effect at the end of `stage`: its last one, else the nearest stage it
        builds on through FROM that sets one; None when no stage of its lineage does (then
        the base image's user applies, which a Dockerfile cannot show)."""
        for s in self.lineage(stage):
            if s.users:
                return s.users[-1]
        return None

    def image_uses(self) -> Iterator[tuple[_Instruction, ImageUse]]:
        """Every image reference: FROM bases, `COPY --from`, `RUN --mount=from=`."""
        for stage in self.stages:
            yield from self._uses_in(stage)

    def stages_needed(self, target: Stage | None = None) -> list[Stage]:
        """The stages BuildKit builds for `target` (default: the final stage), in file order:
        the target, the stages it builds on (FROM) and those it copies or mounts from
        (`--from`), transitively. Other stages are skipped by the build."""
        target = target if target is not None else self.final_stage
        if target is None:
            return []
        needed = {target.index}
        todo = [target]
        while todo:
            stage = todo.pop()
            refs = [stage.base] + [use for inst, use in self._uses_in(stage) if inst is not stage.from_]
            for use in refs:
                n = use.stage_index
                if use.kind == "stage" and n is not None and n not in needed and 0 <= n < len(self.stages):
                    needed.add(n)
                    todo.append(self.stages[n])
        return [s for s in self.stages if s.index in needed]

    @staticmethod
    def _uses_in(stage: Stage) -> Iterator[tuple[_Instruction, ImageUse]]:
        for inst in stage.instructions:
            if isinstance(inst, FromInstruction):
                yield inst, inst.base
            elif isinstance(inst, CopyInstruction) and inst.from_ is not None:
                yield inst, inst.from_
            elif isinstance(inst, RunInstruction):
                for m in inst.mounts:
                    if m.from_ is not None:
                        yield inst, m.from_

    def context_sources(self, target: Stage | None = None) -> Iterator[tuple[_Instruction, str, Value]]:
        """Every path a build of `target` (default: the final stage) reads from its context:
        (instruction, source as written, path after substitution), in the stages the build
        needs (`stages_needed`). COPY/ADD sources without `--from` (URLs, git and heredocs
        excluded), and `RUN --mount=type=bind` sources without `from=` (default `.`). Paths are
        relative to the build context (a leading `/` is the context root too); they may hold
        wildcards (`*.jar`)."""
        for stage in self.stages_needed(target):
            for inst in stage.instructions:
                if isinstance(inst, CopyInstruction) and inst.reads_context:
                    for src in inst.sources:
                        if src.kind == "path":
                            yield inst, src.written, src.path
                elif isinstance(inst, RunInstruction):
                    for m in inst.mounts:
                        if m.type == "bind" and m.from_ is None:
                            source = m.source or "."
                            yield inst, source, Value.known(source, span=inst.span)


_TEMPLATE_SUFFIX = re.compile(r"\.(j2|jinja2?|tmpl|tpl|template|in|erb|mustache|hbs|dockerignore|md|txt|bak|orig|swp)$")


def is_dockerfile_name(name: str) -> bool:
    """`Dockerfile`, `Dockerfile.<variant>`, `<variant>.Dockerfile` (and the same with
    `Containerfile`), leaving out templates and `Dockerfile.dockerignore`."""
    low = name.lower()
    if low in ("dockerfile", "containerfile"):
        return True
    if _TEMPLATE_SUFFIX.search(low):
        return False
    return (
        name.startswith(("Dockerfile.", "dockerfile.", "Containerfile."))
        or name.endswith((".Dockerfile", ".dockerfile", ".Containerfile"))
    ) and len(name) > len("Dockerfile.")


class DockerProject(BaseModel):
    files: list[Dockerfile] = Field(default_factory=list)
    # Dockerfiles found but not in `files`: Docker would refuse them (see the load errors)
    unreadable: list[str] = Field(default_factory=list)
    ignore_files: list[DockerIgnore] = Field(default_factory=list)  # every .dockerignore / X.dockerignore

    def file(self, path: str) -> Dockerfile | None:
        return next((f for f in self.files if f.path == path), None)

    def ignore_for(self, dockerfile: str, context: str) -> DockerIgnore | None:
        """The ignore file a build of `dockerfile` (repo-relative path) with the build context
        `context` (repo-relative directory) uses: `<Dockerfile name>.dockerignore` beside the
        Dockerfile, else `.dockerignore` at the context root; None when there is neither."""
        by_path = {i.path: i for i in self.ignore_files}
        context = context.strip("/") or "."
        for candidate in (
            f"{dockerfile}.dockerignore",
            ".dockerignore" if context == "." else f"{context}/.dockerignore",
        ):
            if candidate in by_path:
                return by_path[candidate]
        return None

    def inventory(self) -> dict[str, int]:
        if not self.files:
            return {}
        return {"Dockerfiles": len(self.files), "build stages": sum(len(f.stages) for f in self.files)}

    def stages(self) -> Iterator[Stage]:
        for f in self.files:
            yield from f.stages

    def instructions(self) -> Iterator[Instruction]:
        for f in self.files:
            yield from f.global_args
            for s in f.stages:
                yield from s.instructions
