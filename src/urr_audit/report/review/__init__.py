"""The infrastructure review (`urr-audit report`): markdown written from the model, every fact
linked to the file and line behind it.

The review is a list of section builders, one module each; a builder returns None when the
model has no data for it, and the section is left out. Sections are numbered in the order they
appear. Adding a section (CI/CD, Argo CD, ...) is one module and one line in `SECTIONS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from mdit_py_plugins.anchors.index import slugify

from urr_audit import __version__
from urr_audit.facts.subjects import counted_noun
from urr_audit.report.review import (
    architecture,
    argocd,
    assessment,
    cicd,
    inventory,
    kubernetes,
    local,
    monitoring,
    network,
    recommendations,
    terraform,
)
from urr_audit.report.review.doc import ReviewContext, Section, code, plain

# In reading order.
SECTIONS: tuple[ModuleType, ...] = (
    architecture,
    inventory,
    network,
    terraform,
    kubernetes,
    cicd,
    argocd,
    local,
    monitoring,
    assessment,
    recommendations,
)


# how the header names what an artifact model read (by its field on Project); others are
# named after the field
_MODEL_NAMES = {"argocd": "Argo CD", "workflows": "GitHub Actions", "gitignore": "Git"}


def build_sections(ctx: ReviewContext, modules: Sequence[ModuleType] = SECTIONS) -> list[Section]:
    """The sections with data, in order. A builder that fails leaves a section saying so
    rather than ending the review (as a crashing check does not end a scan)."""
    out = []
    for module in modules:
        builder: Callable[[ReviewContext], Section | None] = module.build
        try:
            section = builder(ctx)
        except Exception as exc:  # noqa: BLE001 -- one section's bug must not cost the whole review
            title = getattr(module, "TITLE", module.__name__.rsplit(".", 1)[-1])
            section = Section(title).add(
                f"This section could not be written ({code(type(exc).__name__)}: {plain(str(exc))}); "
                "this is a bug in urr-audit, please report it."
            )
        if section is not None and not section.empty:
            out.append(section)
    return out


def _heading(level: int, text: str) -> str:
    return f"{'#' * level} {text}"


def _render(section: Section, number: str, level: int, out: list[str], toc: list[tuple[int, str]]) -> None:
    title = f"{number} {section.title}"
    toc.append((level, title))
    out.append(_heading(level, title))
    out.extend(section.blocks)
    for i, sub in enumerate((s for s in section.subsections if not s.empty), 1):
        _render(sub, f"{number}{i}." if number.endswith(".") else f"{number}.{i}", level + 1, out, toc)


def render_markdown(report: Any, environments: Sequence[str] = (), date: str | None = None) -> str:
    ctx = ReviewContext(report, environments, date)
    sections = build_sections(ctx)
    body: list[str] = []
    toc: list[tuple[int, str]] = []
    for i, section in enumerate(sections, 1):
        _render(section, f"{i}.", 2, body, toc)
    project = ctx.project
    root = report.root.name
    scope = []
    tf = project.terraform
    if tf.modules:
        scope.append(
            f"Terraform: {len(tf.modules)} module directories, environments "
            + ", ".join(code(e.name) for e in ctx.tf_envs)
        )
    if ctx.k8s_envs:
        scope.append(
            "Kubernetes: environments "
            + ", ".join(
                f"{code(e.name)} ({len(e.objects)} {counted_noun(len(e.objects), 'objects')})" for e in ctx.k8s_envs
            )
        )
    # what each artifact model read, for the models that say (`inventory()`: Terraform and
    # Kubernetes are described above; workflows, Dockerfiles, Argo CD... as they land)
    for name in sorted(type(project).model_fields):
        inventory = getattr(getattr(project, name), "inventory", None)
        if name in ("terraform", "kubernetes") or not callable(inventory):
            continue
        counts = {k: v for k, v in inventory().items() if v}
        if counts:
            label = _MODEL_NAMES.get(name, name.replace("_", " ").capitalize())
            scope.append(f"{label}: " + ", ".join(f"{v} {counted_noun(v, k)}" for k, v in counts.items()))
    git = project.git
    if git.commit:
        scope.append(f"Commit: {code(git.commit)}" + (f" on {code(git.branch)}" if git.branch else ""))
    shown = [f for f in ctx.findings if not f.suppressed]
    notes = sum(1 for f in shown if f.severity.value == "info")
    scope.append(
        f"Rules run: {len(report.rules)}; findings: {len(shown) - notes}; notes: {notes}; "
        f"undecided: {len(ctx.undecided)}"
    )
    head = [f"# Infrastructure review: {root}", ""]
    head.append(
        f"Written by urr-audit {__version__} from the repository's files"
        + (f" on {date}" if date else "")
        + ". Every fact links to the file and line it comes from; what cannot be known before "
        "`terraform apply` is said to be unknown, with the reason."
    )
    head.append("")
    head.append("\n".join(f"- {s}" for s in scope))
    head.append("")
    head.append("## Contents")
    head.append("")
    head.extend(f"{'  ' * (level - 2)}- [{title}](#{slugify(title)})" for level, title in toc if level <= 3)
    return "\n\n".join(["\n".join(head).rstrip(), *body]).rstrip() + "\n"
