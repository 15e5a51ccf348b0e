"""Which Terraform environment provisions the cluster (and the network, the data stores) a
Kubernetes environment runs in: the pairing every cross-artifact rule judges in.

Evidence, strongest first:

1. a pairing given as a rule param (`kubernetes env name or path regex -> terraform env name`);
2. Argo CD: the cluster an Application deploys the environment to is named like an EKS cluster
   one Terraform environment creates (`destination.name: prod-eks`, or the name of the
   declared cluster Secret for its server);
3. names: the Kubernetes environment's name or directory (`k8s/overlays/prod`,
   `teams-x-overlays-prod`) is the Terraform environment's name, or an alias of it
   (`production` / `prod`, a param).

A Kubernetes environment matching several Terraform environments at the strongest level that
matches is ambiguous and left unpaired: the rules conclude nothing there rather than guess.
A local cluster's environment (kind) pairs only when named after a Terraform environment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from urr_audit.facts.tf import existing
from urr_audit.model.argocd import ArgoCDProject
from urr_audit.model.kubernetes import K8sEnvironment
from urr_audit.model.project import Project
from urr_audit.model.terraform import Environment

DEFAULT_ALIASES: dict[str, list[str]] = {
    "prod": ["production", "prd", "live"],
    "staging": ["stage", "stg"],
    "dev": ["development", "develop"],
    "qa": ["test", "testing"],
}


@dataclass(frozen=True)
class Pairing:
    kubernetes: K8sEnvironment
    terraform: Environment
    how: str  # "param", "Argo CD cluster <name>", "name"

    @property
    def label(self) -> str:
        """`prod` when both are named alike, else `prod (Kubernetes) / prod-eks (Terraform)`."""
        k, t = self.kubernetes.name, self.terraform.name
        return k if k == t else f"{k} with Terraform {t}"


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]


def _canonical(word: str, aliases: dict[str, list[str]]) -> str:
    for name, others in aliases.items():
        if word == name or word in others:
            return name
    return word


def _name_keys(env: K8sEnvironment, aliases: dict[str, list[str]]) -> set[str]:
    """The words that may name the environment's stage: its whole name, and the last word of
    its name and directory (`teams-payments-checkout-overlays-prod` -> prod)."""
    keys = {env.name.lower()}
    for text in (env.name, env.path.rstrip("/").rsplit("/", 1)[-1]):
        words = _words(text)
        if words:
            keys.add(words[-1])
            keys.add("-".join(words))
    return {_canonical(k, aliases) for k in keys}


def _tf_keys(env: Environment, aliases: dict[str, list[str]]) -> set[str]:
    """A Terraform environment's name, and its last word (`live-prod`, named by its whole path
    beside another `prod`, is prod too)."""
    words = _words(env.name)
    keys = {env.name.lower()} | ({words[-1]} if words else set())
    return {_canonical(k, aliases) for k in keys}


def eks_cluster_names(env: Environment) -> set[str]:
    out = set()
    for ri in existing(env, "aws_eks_cluster"):
        if ri.resource.mode != "managed":
            continue
        v = ri.get("name")
        if v.is_known and isinstance(v.value, str):
            out.add(v.value)
    return out


def _argo_cluster_names(env: K8sEnvironment, argocd: ArgoCDProject) -> set[str]:
    by_server = {c.server.rstrip("/"): c.name for c in argocd.clusters}
    out = set()
    for p in env.placements:
        out.add(p.cluster)
        if p.cluster in by_server:
            out.add(by_server[p.cluster])
    return out


def pair_environments(
    project: Project,
    explicit: dict[str, str] | None = None,
    aliases: dict[str, list[str]] | None = None,
) -> list[Pairing]:
    """The Kubernetes environments with the Terraform environment each runs in (see the
    module docstring). Environments without one, or with several equally likely, are left out."""
    tf = project.terraform.environments
    if not tf:
        return []
    table = aliases if aliases is not None else DEFAULT_ALIASES
    tf_by_name = {e.name: e for e in tf}
    clusters = {e.name: eks_cluster_names(e) for e in tf}
    out = []
    for env in project.kubernetes.environments:
        found: list[tuple[Environment, str]] = []
        for pattern, target in (explicit or {}).items():
            if (re.fullmatch(pattern, env.name) or re.fullmatch(pattern, env.path)) and target in tf_by_name:
                found.append((tf_by_name[target], "param"))
        if not found:
            names = _argo_cluster_names(env, project.argocd)
            found = [(e, f"Argo CD cluster {min(names & clusters[e.name])}") for e in tf if names & clusters[e.name]]
        if not found:
            keys = _name_keys(env, table)
            found = [(e, "name") for e in tf if _tf_keys(e, table) & keys]
        if len({e.name for e, _ in found}) == 1:
            out.append(Pairing(env, found[0][0], found[0][1]))
    return out
