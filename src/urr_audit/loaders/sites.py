"""Where Argo CD puts each Kubernetes environment, and what else it puts there.

Argo CD often deploys several Applications of one repository into one cluster and namespace:
team applications beside each other, a `cluster-config` overlay holding the namespaces'
default-deny policies. Judged alone, each overlay misses what the others provide. This links,
per environment, the Applications deploying it (`K8sEnvironment.placements`), what the other
Applications of the repository deploy to the same cluster (`neighbours`), and what they deploy
that is not read (`neighbours_unread`, by destination namespace), so that the Kubernetes facts
resolve names, selectors and namespace baselines against everything deployed there.

Clusters are compared as Argo CD names them: a destination `server` (the in-cluster URL is
`in-cluster`), or a `name` resolved to its server through the cluster Secrets declared in the
repository. An environment deployed to several clusters sees only what every one of them
holds. What an unread source deploys (a Helm chart, another repository, a plugin, a remote
Kustomize resource) is taken to land in its Application's destination namespace, where Argo CD
and Helm put objects that name none; without a destination namespace, anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from urr_audit.model.argocd import IN_CLUSTER_NAME, IN_CLUSTER_SERVER, Application, ArgoCDProject, Source
from urr_audit.model.kubernetes import K8sObject, KubernetesProject, Neighbour, Placement


@dataclass(frozen=True)
class _Deployed:
    app: Application
    cluster: str
    namespace: str | None  # the destination namespace
    source: Source


def _server(url: str) -> str:
    s = url.rstrip("/")
    return IN_CLUSTER_NAME if s == IN_CLUSTER_SERVER else s


def cluster_of(app: Application, servers: dict[str, str]) -> str | None:
    """The destination cluster as one comparable string; None when it is not written or still
    holds a template expression."""
    d = app.destination
    if d.server is not None:
        value = _server(d.server.value)
    elif d.name is not None:
        value = servers.get(d.name.value, d.name.value)
    else:
        return None
    return None if not value or "{{" in value else value


def _deployed(argocd: ArgoCDProject) -> list[_Deployed]:
    servers = {c.name: _server(c.server) for c in argocd.clusters}
    servers[IN_CLUSTER_NAME] = IN_CLUSTER_NAME
    out = []
    for app in argocd.applications:
        cluster = cluster_of(app, servers)
        if cluster is None:
            continue
        ns = app.destination.namespace.value if app.destination.namespace else None
        for src in app.deploying_sources:
            target_ns = src.kustomize.namespace.value if src.kustomize and src.kustomize.namespace else None
            out.append(_Deployed(app, cluster, target_ns or ns or None, src))
    return out


def _unread(d: _Deployed) -> list[str]:
    """Why what this source deploys is not (wholly) read."""
    t = d.source.target
    if t is None:
        what = d.source.chart or d.source.repo_url or d.source.path
        return [f"Application {d.app.name} deploys {what.value if what else 'a source'} (not read)"]
    if not t.exists:
        return []  # nothing is deployed: the sync fails (URR-ARGO-002)
    if t.kind == "plugin":
        return [f"Application {d.app.name} renders {t.path} with a plugin (not read)"]
    return [f"Application {d.app.name}: {r}" for r in t.incomplete]


def place_environments(kubernetes: KubernetesProject, argocd: ArgoCDProject) -> None:
    """Fill `placements`, `neighbours` and `neighbours_unread` of the environments Argo CD
    Applications of this repository deploy."""
    if not argocd.applications:
        return
    deployed = _deployed(argocd)
    by_name = {e.name: e for e in kubernetes.environments}
    for d in deployed:
        t = d.source.target
        env = by_name.get(t.environment) if t is not None and t.environment else None
        if env is None:
            continue
        placement = Placement(
            application=d.app.address, name=d.app.name, span=d.app.span, cluster=d.cluster, namespace=d.namespace
        )
        if placement not in env.placements:
            env.placements.append(placement)
    for env in kubernetes.environments:
        clusters = sorted({p.cluster for p in env.placements})
        if not clusters:
            continue
        per_cluster: list[list[Neighbour]] = []
        unread: dict[str, list[str]] = {}
        for cluster in clusters:
            found = []
            for d in deployed:
                t = d.source.target
                if d.cluster != cluster or (t is not None and t.environment == env.name):
                    continue
                for reason in _unread(d):
                    bucket = unread.setdefault(d.namespace or "", [])
                    if reason not in bucket:
                        bucket.append(reason)
                if t is not None and t.objects:
                    found.append(
                        Neighbour(
                            application=d.app.name,
                            environment=t.environment,
                            namespace=d.namespace or "default",
                            objects=t.objects,
                        )
                    )
            per_cluster.append(found)
        env.neighbours = per_cluster[0] if len(per_cluster) == 1 else _common(per_cluster)
        env.neighbours_unread = unread


def _keys(n: Neighbour) -> set[tuple[str, str, str]]:
    return {_key(o, n.namespace) for o in n.objects}


def _key(o: K8sObject, namespace: str) -> tuple[str, str, str]:
    return (o.kind, o.namespace or namespace, o.name)


def _common(per_cluster: list[list[Neighbour]]) -> list[Neighbour]:
    """The neighbours of the first cluster, keeping only objects every cluster holds: an
    environment deployed to several clusters may count only on what all of them have."""
    held = [set().union(*(_keys(n) for n in ns)) if ns else set() for ns in per_cluster]
    common = set.intersection(*held) if held else set()
    out = []
    for n in per_cluster[0]:
        objects = [o for o in n.objects if _key(o, n.namespace) in common]
        if objects:
            out.append(n.model_copy(update={"objects": objects}))
    return out
