"""Where an Application's objects land: its destination namespace against the overlay's."""

from __future__ import annotations

from collections.abc import Iterator

from urr_audit.checks.api import Context, Hit, NoParams, check
from urr_audit.checks.argocd._common import where
from urr_audit.model.argocd import Application
from urr_audit.model.common import Span

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def _set_by_kustomization(span: Span) -> bool:
    return span.path.rpartition("/")[2] in KUSTOMIZATION_FILES


@check("argocd-destination-namespace", scope="argocd.application", params=NoParams, subjects=("Application",))
def destination_namespace(ctx: Context, app: Application, params: NoParams) -> Iterator[Hit]:
    """Applications whose destination namespace differs from the namespace their overlay sets
    (its kustomization's `namespace:`, a base's for the objects it brings when the overlay sets
    none, or `source.kustomize.namespace`). Argo CD only fills the
    destination namespace into objects that have none: the objects land in the overlay's
    namespace, and `CreateNamespace=true` creates the other one."""
    dest = app.destination.namespace
    if dest is None or not dest.value:
        return
    for src in app.sources:
        t = src.target
        if t is None or t.kind != "kustomize":
            continue
        if src.kustomize is not None and src.kustomize.namespace is not None:
            ns = src.kustomize.namespace
            if ns.value != dest.value:
                yield ctx.finding(
                    at=dest.span,
                    node=app,
                    related=[ns.span],
                    message=f"{where(app)}: destination namespace {dest.value} differs from "
                    f"source.kustomize.namespace {ns.value}: its objects go to {ns.value}",
                )
            continue
        overlay_ns: dict[str, Span] = {}
        if t.namespace is not None:
            overlay_ns[t.namespace.value] = t.namespace.span
        for o in t.objects if t.namespace is None else ():
            if o.namespace is None:
                continue
            origin = o.field_origins.get("metadata.namespace")
            if origin is not None and _set_by_kustomization(origin):
                overlay_ns.setdefault(o.namespace, origin)
        wrong = {ns: span for ns, span in overlay_ns.items() if ns != dest.value}
        if not wrong:
            continue
        names = ", ".join(sorted(wrong))
        create = app.sync_policy.option("CreateNamespace")
        creates = create is not None and create.value.partition("=")[2].strip().lower() == "true"
        yield ctx.finding(
            at=dest.span,
            node=app,
            related=sorted(wrong.values(), key=lambda s: (s.path, s.line)),
            message=f"{where(app)}: destination namespace {dest.value} differs from the namespace overlay "
            f"{t.path} sets ({names}): its objects go to {names}"
            + (f", while CreateNamespace=true creates {dest.value}" if creates else ""),
        )
