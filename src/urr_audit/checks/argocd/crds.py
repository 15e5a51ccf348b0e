"""Custom resources deployed where nothing the repository deploys installs their CRD and controller."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, check
from urr_audit.facts.installed import Installed, what_is_installed
from urr_audit.model.kubernetes import K8sEnvironment, K8sObject
from urr_audit.model.project import Project


class CrdInstallerParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # `group/Kind` or `group` -> regexes searched in the names of what the repository deploys
    # (Helm chart names and dependencies, Application names, repoURLs and paths, remote
    # Kustomize resources, container images, Terraform helm_release charts, EKS add-ons and
    # remote module sources). A kind whose group is not mapped is not judged.
    installers: dict[str, list[str]]


def _installers(params: CrdInstallerParams, group: str, kind: str) -> list[str] | None:
    return params.installers.get(f"{group}/{kind}", params.installers.get(group))


@check("argocd-crd-installer", scope="project", params=CrdInstallerParams, subjects=("Application",))
def crd_installer(ctx: Context, project: Project, params: CrdInstallerParams) -> Iterator[Hit]:
    """Objects of a custom resource kind (an Argo Rollout, a ServiceMonitor, a Certificate...)
    in an environment an Application deploys, whose CRD and controller nothing the repository deploys installs:
    no CustomResourceDefinition for the kind, and no chart, Application, remote resource, image
    or Terraform release whose name the `installers` param maps to it. Undecided when the
    repository deploys something urr-audit did not read (an ApplicationSet not expanded, a remote
    repository, `helmCharts`, a remote Terraform module installing add-ons)."""
    installed: Installed | None = None
    # Only what an Application of this repository deploys: a repository that is not applied by
    # Argo CD (or an overlay no Application points at) often runs in a cluster whose add-ons
    # another repository installs, and nothing here says otherwise.
    deployed = {t.environment for app in project.argocd.applications for t in app.targets if t.environment}
    envs: list[tuple[K8sEnvironment, str | None]] = [
        (e, e.name) for e in project.kubernetes.environments if e.name in deployed
    ]
    envs += [(e, None) for e in _argo_only(project)]
    for env, env_name in envs:
        by_kind: dict[tuple[str, str], list[K8sObject]] = {}
        for o in env.objects:
            if _installers(params, o.group, o.kind) is not None:
                by_kind.setdefault((o.group, o.kind), []).append(o)
        for (group, kind), objs in sorted(by_kind.items()):
            installed = installed or what_is_installed(project)
            if (group, kind) in installed.crds:
                continue
            patterns = _installers(params, group, kind) or []
            if any(re.search(p, n) for p in patterns for n in installed.names):
                continue
            objs.sort(key=lambda o: (o.span.path, o.span.line))
            names = ", ".join(o.name for o in objs[:4]) + (" ..." if len(objs) > 4 else "")
            text = (
                f"{kind} ({group}) {names}: nothing this repository deploys installs its CRD and controller "
                f"(no CustomResourceDefinition, nothing named like {', '.join(patterns) or 'its installer'})"
            )
            first = objs[0]
            if installed.unknown:
                yield ctx.undecided(
                    at=first.span,
                    environment=env_name,
                    address=first.address,
                    message=f"{text}, but {installed.unknown[0]}"
                    + (f" (and {len(installed.unknown) - 1} more)" if len(installed.unknown) > 1 else ""),
                )
            else:
                yield ctx.finding(
                    at=first.span,
                    environment=env_name,
                    address=first.address,
                    related=[o.span for o in objs[1:6]],
                    message=f"{text}: the sync fails with `no matches for kind {kind}`",
                )


def _argo_only(project: Project) -> list[K8sEnvironment]:
    """What Applications deploy that is not a Kubernetes environment of its own (an overlay other
    overlays build on, a directory of manifests below another)."""
    paths = {e.path for e in project.kubernetes.environments}
    out: dict[str, K8sEnvironment] = {}
    for app in project.argocd.applications:
        for t in app.targets:
            if t.path not in paths and t.objects and t.path not in out:
                out[t.path] = K8sEnvironment(name=t.path, path=t.path, objects=t.objects)
    return list(out.values())
