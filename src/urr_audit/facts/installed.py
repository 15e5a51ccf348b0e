"""What the repository installs into its clusters, by name: Argo CD Applications (their names,
charts, repositories and paths, Helm chart names and dependencies), remote Kustomize resources,
container images, CRDs, Terraform Helm releases and EKS add-ons, remote Terraform module
sources; and what it deploys without it being read (which may install anything). Rules match
these names against the controllers they need (the CRD installer rule, the load balancer
controller that registers targets)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from urr_audit.model.argocd import crd_defines
from urr_audit.model.k8s_facts import facts
from urr_audit.model.kubernetes import K8sEnvironment
from urr_audit.model.project import Project


@dataclass
class Installed:
    names: list[str] = field(default_factory=list)  # what the repository deploys, by name
    crds: set[tuple[str, str]] = field(default_factory=set)  # (group, kind) defined by a CRD object
    unknown: list[str] = field(default_factory=list)  # deployed but not read: may install anything


def what_is_installed(project: Project) -> Installed:
    out = Installed()
    envs: list[K8sEnvironment] = list(project.kubernetes.environments)
    env_paths = {e.path for e in envs}
    for app in project.argocd.applications:
        out.names.append(app.name)
        for s in app.sources:
            out.names += [t.value for t in (s.repo_url, s.chart, s.path) if t is not None]
            t = s.target
            if t is None:
                if s.deploys and not s.is_chart and not s.in_this_repo and s.repo_url is not None:
                    out.unknown.append(f"Application {app.name} deploys {s.repo_url.value}, not read")
                continue
            out.names += [n for n in (t.chart_name, *t.chart_dependencies) if n]
            if t.kind == "plugin":
                out.unknown.append(f"Application {app.name} renders {t.path} with a plugin, not read")
            if t.path not in env_paths and t.objects:
                envs.append(K8sEnvironment(name=t.path, path=t.path, objects=t.objects))
    for appset in project.argocd.application_sets:
        if appset.expansion == "complete":
            continue
        written = [t.value for t in (*appset.template_charts, *appset.template_paths, *appset.template_repo_urls)]
        out.names += written
        if any("{{" in w for w in written):
            out.unknown.append(f"ApplicationSet {appset.name} generates Applications not known ({appset.reason})")
    for env in envs:
        out.names += env.incomplete  # remote resources name what they fetch
        if any("'helmCharts'" in r for r in env.incomplete):
            out.unknown.append(f"{env.path} inflates Helm charts (helmCharts), not read")
        for o in env.objects:
            crd = crd_defines(o)
            if crd is not None:
                out.crds.add(crd)
        out.names += [c.image.raw for w in facts(env).workloads for c in w.all_containers if c.image]
    for r in project.terraform.resources("helm_release", "aws_eks_addon"):
        for attr in ("chart", "name", "addon_name", "repository"):
            v = r.get(attr)
            if v.is_known and isinstance(v.value, str):
                out.names.append(v.value)
    for tf_env in project.terraform.environments:
        for inst in tf_env.instances:
            for c in inst.module.module_calls.values():
                if c.resolved_dir is not None:
                    continue
                out.names.append(c.source)
                if _ADDON_MODULE.search(c.source):
                    out.unknown.append(f"Terraform module {c.name} ({c.source}) may install cluster add-ons, not read")
    return out


# remote Terraform modules whose source says they install cluster add-ons (EKS Blueprints
# add-ons, Helm or GitOps bridges): what they install depends on inputs in a module not read
_ADDON_MODULE = re.compile(r"(?i)addons?|helm|blueprints|gitops|argo")
