"""Build a networkx DiGraph from the model.

Node ids are addresses, prefixed by framework so Terraform and Kubernetes environments of the
same name stay apart: `tf:prod`, `tf:prod/module.eks`, `k8s:prod/apps/v1/Deployment/ns/name`,
`kustomize:k8s/overlays/prod`. Every node carries `kind`, `label`, and `path`/`line` evidence.
"""

from __future__ import annotations

import networkx as nx

from urr_audit.model.project import Project
from urr_audit.model.terraform import Environment, ModuleInstance


def _module_id(env: str, address: str) -> str:
    return f"tf:{env}/{address}" if address else f"tf:{env}"


def _called_module(ref: str) -> str | None:
    """`module.sqs.queue_arn` -> `module.sqs`."""
    parts = ref.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 and parts[0] == "module" else None


def _add_terraform(g: nx.DiGraph, env: Environment) -> None:
    env_id = _module_id(env.name, "")
    g.add_node(env_id, kind="terraform_environment", label=env.name, path=env.path, line=1)
    by_address: dict[str, ModuleInstance] = {i.address: i for i in env.instances}
    for inst in env.instances:
        if not inst.address:
            continue
        node = _module_id(env.name, inst.address)
        span = inst.call.span if inst.call else None
        g.add_node(
            node,
            kind="module",
            label=inst.address.rsplit(".", 1)[-1],
            module_dir=inst.module.path,
            path=span.path if span else inst.module.path,
            line=span.line if span else 1,
        )
        parent = inst.address.rsplit(".module.", 1)[0] if ".module." in inst.address else ""
        g.add_edge(_module_id(env.name, parent), node, kind="calls")
    # Remote module calls are part of the picture too, recorded but never fetched.
    for inst in env.instances:
        for call in inst.module.module_calls.values():
            address = inst.prefixed(f"module.{call.name}")
            if address not in by_address:
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
                g.add_edge(_module_id(env.name, inst.address), node, kind="calls")
            # A call's arguments naming `module.X.*` make it depend on sibling X.
            refs = {r for a in call.arguments.values() for r in a.expr.references}
            refs.update(call.depends_on)
            for ref in sorted(refs):
                target = _called_module(ref)
                if target and target != f"module.{call.name}":
                    g.add_edge(
                        _module_id(env.name, address),
                        _module_id(env.name, inst.prefixed(target)),
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
    return g


PARTS = {"terraform": ("tf:",), "kubernetes": ("k8s:", "kustomize:")}


def restrict(g: nx.DiGraph, part: str) -> nx.DiGraph:
    """The subgraph of one framework: `terraform` or `kubernetes`."""
    prefixes = PARTS[part]
    return g.subgraph([n for n in g.nodes if n.startswith(prefixes)]).copy()
