"""What a workflow step builds, pushes, logs in to and edits, as recognised by the loader.

- `ImageBuild`: a `docker/build-push-action` step, or a `docker build` / `docker buildx build` /
  `docker push` / `docker tag` command inside `run:`. Context, Dockerfile, platforms, push/load
  and the image names it tags or pushes.
- `RegistryLogin`: `docker/login-action`, `aws-actions/amazon-ecr-login`, `docker login`.
- `FileEdit`: a file a step rewrites: `sed -i ... FILE`, `yq -i ... FILE`, `kustomize edit set
  image` (the kustomization of its working directory).

Strings that depend on the run are `Template`s: literal text and `Hole`s. The loader fills in
what is literal (`env:` of the workflow, job and step, variables assigned earlier in the same
script, `${{ }}` that evaluate to a constant); the rest stays a hole with its reason (an
`inputs.*` of a reusable workflow, a step output, a variable set by the runner). `Template.bind`
fills holes later from contexts you give it, e.g. the `with:` of a caller:

    build.tags[0].template.bind({"inputs": {"service-name": "ticket-service"}})

`ImageName` splits a template into registry / repository / tag / digest, each a Template
(None when absent), so `<registry hole>/urr/ticket-service:<tag hole>` still has a known
repository `urr/ticket-service`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from urr_audit.model.common import Span
from urr_audit.model.gha_expr import Node, Unknown, evaluate, to_string

_FROZEN = ConfigDict(frozen=True, arbitrary_types_allowed=True)


class Hole(BaseModel):
    """A part of a string known only at run time. `source` is what is written (`${{ steps.meta.
    outputs.tag }}`, `$IMAGE_TAG`); `node` the expression's tree when it is one."""

    model_config = _FROZEN

    source: str
    reason: str
    node: Node | None = None


class Template(BaseModel):
    """A partially known string: literal text and holes, in order."""

    model_config = _FROZEN

    parts: tuple[str | Hole, ...] = ()

    @classmethod
    def literal(cls, text: str) -> Template:
        return cls(parts=(text,) if text else ())

    @property
    def is_known(self) -> bool:
        return all(isinstance(p, str) for p in self.parts)

    @property
    def value(self) -> str | None:
        """The string when wholly known, else None."""
        return "".join(p for p in self.parts if isinstance(p, str)) if self.is_known else None

    @property
    def holes(self) -> list[Hole]:
        return [p for p in self.parts if isinstance(p, Hole)]

    @property
    def reason(self) -> str:
        """Why it is not known: the first hole's reason ('' when known)."""
        hs = self.holes
        return hs[0].reason if hs else ""

    def __str__(self) -> str:
        """As written: holes show their source."""
        return "".join(p if isinstance(p, str) else p.source for p in self.parts)

    def pattern(self, hole: str = "*") -> str:
        """The text with every hole replaced by `hole` (a glob for matching files)."""
        return "".join(p if isinstance(p, str) else hole for p in self.parts)

    def bind(self, contexts: Mapping[str, Any]) -> Template:
        """Evaluate the holes that are expressions over `contexts`; the known ones become text."""
        out: list[str | Hole] = []
        for p in self.parts:
            if isinstance(p, Hole) and p.node is not None:
                v = evaluate(p.node, contexts)
                if not isinstance(v, Unknown):
                    p = to_string(v)
            if isinstance(p, str) and out and isinstance(out[-1], str):
                out[-1] += p
            elif p != "":
                out.append(p)
        return Template(parts=tuple(out))

    def split(self, sep: str, maxsplit: int = -1) -> list[Template]:
        """Split on `sep` in the literal parts only."""
        pieces: list[list[str | Hole]] = [[]]
        for p in self.parts:
            if isinstance(p, Hole):
                pieces[-1].append(p)
                continue
            chunks = p.split(sep)
            for i, c in enumerate(chunks):
                if i > 0:
                    if maxsplit >= 0 and len(pieces) > maxsplit:
                        pieces[-1].append(sep + c)
                        continue
                    pieces.append([])
                if c:
                    pieces[-1].append(c)
        return [Template(parts=_merge(tuple(x))) for x in pieces]


def _merge(parts: tuple[str | Hole, ...]) -> tuple[str | Hole, ...]:
    out: list[str | Hole] = []
    for p in parts:
        if isinstance(p, str) and out and isinstance(out[-1], str):
            out[-1] += p
        elif p != "":
            out.append(p)
    return tuple(out)


def _rfind_literal(t: Template, ch: str) -> tuple[int, int] | None:
    """(part index, char index) of the last `ch` in the literal parts."""
    for i in range(len(t.parts) - 1, -1, -1):
        p = t.parts[i]
        if isinstance(p, str):
            j = p.rfind(ch)
            if j >= 0:
                return i, j
    return None


def _cut(t: Template, at: tuple[int, int], width: int = 1) -> tuple[Template, Template]:
    i, j = at
    p = t.parts[i]
    assert isinstance(p, str)
    left = (*t.parts[:i], p[:j])
    right = (p[j + width :], *t.parts[i + 1 :])
    return Template(parts=_merge(left)), Template(parts=_merge(right))


class ImageName(BaseModel):
    """An image reference (`registry/repository:tag@digest`) whose parts may be unknown.

    `registry` is None when the first component cannot be a registry (Docker Hub is implied).
    A first component that is wholly a hole (`${{ steps.login.outputs.registry }}/app:1`) is
    taken as the registry when more components follow: that is how workflows write it."""

    model_config = _FROZEN

    template: Template
    registry: Template | None = None
    repository: Template
    tag: Template | None = None
    digest: Template | None = None
    span: Span | None = None

    @classmethod
    def parse(cls, template: Template, span: Span | None = None) -> ImageName:
        rest = template
        digest = None
        at = _rfind_literal(rest, "@")
        if at is not None:
            rest, digest = _cut(rest, at)
        registry = None
        comps = rest.split("/", 1)
        if len(comps) == 2:
            first = comps[0]
            fv = first.value
            if fv is None or "." in fv or ":" in fv or fv == "localhost":
                registry, rest = first, comps[1]
        tag = None
        colon = _rfind_literal(rest, ":")
        if colon is not None:
            slash = _rfind_literal(rest, "/")
            if slash is None or (colon[0], colon[1]) > (slash[0], slash[1]):
                rest, tag = _cut(rest, colon)
        return cls(template=template, registry=registry, repository=rest, tag=tag, digest=digest, span=span)

    @property
    def repository_name(self) -> str | None:
        """The repository path when known (`urr/ticket-service`), else None."""
        return self.repository.value

    def known_suffix(self) -> str | None:
        """The known trailing components of the repository (`urr/ticket-service` from
        `${{ env.NS }}/urr/ticket-service`), None when even the last one is unknown."""
        comps = self.repository.split("/")
        known: list[str] = []
        for c in reversed(comps):
            if c.value is None:
                break
            known.append(c.value)
        return "/".join(reversed(known)) if known else None


Tool = Literal[
    "docker/build-push-action",
    "docker build",
    "docker buildx build",
    "docker push",
    "docker tag",
]


class ImageBuild(BaseModel):
    """An image build, push or tag. `push`/`load`: True/False when known, None when unknown
    (an expression). `platforms` None when not written (the runner's platform) or unknown
    (`platforms_unknown` says why)."""

    model_config = _FROZEN

    tool: Tool
    span: Span  # the `uses:` line, or the command's line inside `run:`
    column: int = 1
    step: str  # the step's address
    context: Template | None = None
    file: Template | None = None  # the Dockerfile, as written (relative to the workspace)
    platforms: list[str] | None = None
    platforms_unknown: str = ""
    push: bool | None = False
    load: bool | None = False
    tags: list[ImageName] = Field(default_factory=list)  # names given (`tags:`, `-t`, `docker push X`)
    source: ImageName | None = None  # `docker tag SOURCE TARGET`
    build_args: dict[str, Template] = Field(default_factory=dict)
    target: str | None = None  # `--target` stage

    @property
    def builds(self) -> bool:
        return self.tool in ("docker/build-push-action", "docker build", "docker buildx build")

    @property
    def pushes(self) -> bool | None:
        """Whether this pushes its tags: `docker push`, `--push`, `push: true`."""
        if self.tool == "docker push":
            return True
        if self.tool == "docker tag":
            return False
        return self.push


class RegistryLogin(BaseModel):
    model_config = _FROZEN

    tool: Literal["docker/login-action", "aws-actions/amazon-ecr-login", "docker login"]
    span: Span
    step: str
    registry: Template | None = None  # None: Docker Hub (login-action without registry)
    # amazon-ecr-login: the `registries:` account ids when given
    accounts: list[str] = Field(default_factory=list)


class FileEdit(BaseModel):
    """A file a step rewrites in place. `path` is repository-relative when the working
    directory is known (it may hold holes: `k8s/overlays/${{ inputs.env }}/kustomization.yaml`)."""

    model_config = _FROZEN

    tool: Literal["sed -i", "yq -i", "kustomize edit set image"]
    span: Span
    column: int = 1
    step: str
    path: Template
    images: list[str] = Field(default_factory=list)  # kustomize edit set image arguments, as written
    # the sed script / yq expression (shell variables resolved as for `path`); None for kustomize
    script: Template | None = None
    command: str = ""  # the command line, for messages
