"""Build a networkx DiGraph from the model.

Node ids are addresses, prefixed by framework so Terraform and Kubernetes environments of the
same name stay apart: `tf:prod`, `tf:prod/module.eks`, `k8s:prod/apps/v1/Deployment/ns/name`,
`kustomize:k8s/overlays/prod`. Every node carries `kind`, `label`, and `path`/`line` evidence.
"""

from __future__ import annotations

import networkx as nx

from urr_audit.model.project import Project
from urr_audit.model.terraform import Environment, format_key, static_address


def _module_id(env: str, address: str) -> str:
    return f"tf:{env}/{address}" if address else f"tf:{env}"


def _called_module(ref: str) -> str | None:
    """`module.sqs.queue_arn` -> `module.sqs`."""
    parts = ref.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 and parts[0] == "module" else None


def _add_terraform(g: nx.DiGraph, env: Environment) -> None:
    """One node per module call, not per instance: the instances of a call with count/for_each
    share its node (id: the address without keys, `module.a.module.b`), which lists the keys
    known in this environment, so node ids stay the same when a tfvars map gains a key."""
    env_id = _module_id(env.name, "")
    g.add_node(env_id, kind="terraform_environment", label=env.name, path=env.path, line=1)
    built: set[str] = {i.static_address for i in env.instances}
    keys: dict[str, list[str]] = {}
    for inst in env.instances:
        if not inst.address:
            continue
        address = inst.static_address
        node = _module_id(env.name, address)
        if inst.key is not None:
            keys.setdefault(node, []).append(format_key(inst.key))
        if node in g:
            continue
        span = inst.call.span if inst.call else None
        g.add_node(
            node,
            kind="module",
            label=address.rsplit(".", 1)[-1],
            module_dir=inst.module.path,
            path=span.path if span else inst.module.path,
            line=span.line if span else 1,
        )
        g.add_edge(_module_id(env.name, static_address(inst.parent_address)), node, kind="calls")
    for node, ks in keys.items():
        g.nodes[node]["instance_keys"] = ks
    # Remote module calls are part of the picture too, recorded but never fetched.
    for inst in env.instances:
        here = inst.static_address
        for call in inst.module.module_calls.values():
            address = f"{here}.module.{call.name}" if here else f"module.{call.name}"
            if address not in built:
                node = _module_id(env.name, address)
                g.add_node(
                    node,
                    kind="module",
                    label=call.name,
                    source=call.source,
                    remote=True,
                    path=call.span.path,
                    line=call.span.line,
                )
                g.add_edge(_module_id(env.name, here), node, kind="calls")
            # Arguments, count/for_each and depends_on naming `module.X.*` make it depend on X.
            exprs = [a.expr for a in call.arguments.values()] + [e for e in (call.count, call.for_each) if e]
            refs = {r for e in exprs for r in e.references}
            refs.update(call.depends_on)
            for ref in sorted(refs):
                target = _called_module(ref)
                if target and target != f"module.{call.name}":
                    g.add_edge(
                        _module_id(env.name, address),
                        _module_id(env.name, f"{here}.{target}" if here else target),
                        kind="depends_on",
                        via=ref,
                    )


def build_graph(project: Project) -> nx.DiGraph:
    g = nx.DiGraph(root=project.root)
    for env in sorted(project.terraform.environments, key=lambda e: e.name):
        _add_terraform(g, env)
    try:
        from urr_audit.graph.kubernetes import add_kubernetes
    except ImportError:  # the Kubernetes part is optional while its facts are not built
        return g
    add_kubernetes(g, project)
    from urr_audit.graph.argocd import add_argocd
    from urr_audit.graph.workflows import add_workflows

    add_workflows(g, project)
    add_argocd(g, project)
    return g


PARTS = {
    "terraform": ("tf:",),
    "kubernetes": ("k8s:", "kustomize:"),
    "workflows": ("gha:", "gha-remote:", "image:", "file:"),
    "argocd": ("argocd:", "dir:"),
}


# Parts whose point is what they reach: an Application's overlay and workloads, a workflow's
# images and the workloads running them.
REACHING = frozenset({"argocd", "workflows"})


def restrict(g: nx.DiGraph, part: str) -> nx.DiGraph:
    """The subgraph of one part: `terraform` and `kubernetes` alone; `argocd` and `workflows`
    with everything their nodes lead to (Application -> overlay -> workloads)."""
    keep = {n for n in g.nodes if n.startswith(PARTS[part])}
    if part in REACHING:
        for n in list(keep):
            keep |= nx.descendants(g, n)
    return g.subgraph(keep).copy()


def only_environments(g: nx.DiGraph, names: list[str]) -> tuple[nx.DiGraph, list[str]]:
    """The environments named (Terraform or Kubernetes) and everything reachable from them;
    also returns the names that match no environment."""
    envs = {n for n, d in g.nodes(data=True) if d.get("kind") in ("terraform_environment", "kubernetes_environment")}
    wanted = {n for n in envs if g.nodes[n].get("label") in names}
    unknown = sorted(set(names) - {g.nodes[n].get("label") for n in wanted})
    keep = set(wanted)
    for n in wanted:
        keep |= nx.descendants(g, n)
    return g.subgraph(keep).copy(), unknown
