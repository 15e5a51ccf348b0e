"""5. Kubernetes per environment: resource counts, services with their ports and what their
configuration points at, replicas / HPA / PDB, NetworkPolicies, rollouts, security contexts."""

from __future__ import annotations

import re
from collections import Counter

from urr_audit.facts.kubernetes import rollout_strategy
from urr_audit.model.k8s_facts import EnvironmentFacts, NetworkPolicy, PolicyRule
from urr_audit.report.review.doc import Mermaid, ReviewContext, Section, code, envs_text, plain, short, table

TITLE = "Kubernetes"


def build(ctx: ReviewContext) -> Section | None:
    envs = [e for e in ctx.k8s_envs if e.objects]
    if not envs:
        return None
    s = Section(TITLE)
    every = [e.name for e in envs]
    per = {e.name: ctx.k8s(e) for e in envs}

    counts = {e.name: Counter(o.kind for o in e.objects) for e in envs}
    kinds = sorted({k for c in counts.values() for k in c})
    s.sub(
        "Resources per environment",
        "What each environment deploys once rendered (Kustomize overlays as `kustomize build` "
        "prints them; plain manifest directories as they are).",
        table(
            ["kind", *(f"{e.name} ({ctx.link.span(e.span, e.path)})" for e in envs)],
            [[code(k), *(str(counts[e.name].get(k, "")) or "-" for e in envs)] for k in kinds],
        ),
    )

    structure = _structure(ctx, envs)
    if structure:
        s.sub("Kustomize structure", *structure)

    for e in envs:
        f = per[e.name]
        deps_of = ctx.dependencies(e)
        rows = []
        for w in sorted(f.pod_workloads(), key=lambda w: (w.namespace, w.name)):
            services = f.services_for(w)
            ports = "<br>".join(
                f"{code(svc.name)} "
                + ", ".join(f"{p.port}→{p.target_port}" if p.target_port else str(p.port) for p in svc.ports)
                for svc in services
            )
            deps = []
            for d in deps_of.get(w.name, []):
                what = d.what or "host"
                if d.kind == "service":
                    where = f"Service {code(d.service)}" + (f" ({', '.join(d.backends)})" if d.backends else "")
                elif d.resource:
                    where = f"{code(d.host)} = {code(short(d.resource))}"
                elif d.kind == "unknown-service":
                    where = f"{code(d.host)}: no such Service here"
                elif d.kind == "foreign":
                    where = f"{code(d.host)} (a Service of a namespace deployed elsewhere)"
                else:
                    where = code(d.host)
                port = f":{d.port}" if d.port else ""
                deps.append(f"{what}{port} {where} ({ctx.link.span(d.span, d.variable)})")
            rows.append(
                [
                    f"{code(w.name)} ({w.kind})",
                    ports or "-",
                    "<br>".join(deps) or "-",
                    ctx.link.span(w.span),
                ]
            )
        if rows:
            s.sub(
                f"Workloads in {e.name}",
                (
                    "Services in front of each workload, and the hosts its configuration names "
                    "(environment variables, ConfigMaps it reads), with what they are: an in-cluster "
                    "Service, a Terraform resource whose endpoint name the host carries, or another "
                    "host. The diagram shows which workload calls which through those Services."
                ),
                _calls(f, deps_of),
                table(["workload", "services (port→target)", "configured dependencies", "evidence"], rows),
            )

    s.sub("Replicas, autoscaling and disruption budgets", *_replicas(ctx, envs, per))
    policies = _policies(ctx, envs, per, every)
    if policies:
        s.sub("NetworkPolicies", *policies)
    rollouts = _rollouts(ctx, envs, per)
    if rollouts:
        s.sub("Rollouts", rollouts)
    security = _security(ctx, envs, per, every)
    if security:
        s.sub("Security contexts", security)
    return s


def _structure(ctx: ReviewContext, envs: list) -> list[str]:  # type: ignore[type-arg]
    """Each kustomization the chosen environments build, what it builds on and the files it
    adds itself; the leaf overlays are the environments."""
    used = {d for e in envs for d in e.dirs}
    overlays = [o for o in ctx.project.kubernetes.overlays if o.path in used]
    if not overlays or all(not o.bases for o in overlays):
        return []
    leaf = {e.path: e.name for e in envs}
    rows = []
    for o in sorted(overlays, key=lambda o: o.path):
        # remote resources are listed by the kustomization's remote references, not as paths
        own = [r for r in o.resources if r not in o.bases and not re.search(r"(https?|ssh|git):/|git@", r)]
        shown = ", ".join(code(r[len(o.path) + 1 :] if r.startswith(o.path + "/") else r) for r in own[:6])
        shown += f" and {len(own) - 6} more" if len(own) > 6 else ""
        remote = sum(1 for r in ctx.project.kubernetes.remote_refs if r.kustomization == o.path)
        if remote:
            shown += (", " if shown else "") + f"{remote} remote (not fetched)"
        rows.append(
            [
                ctx.link.span(o.span, o.path),
                ", ".join(code(b) for b in o.bases) or "-",
                shown or "-",
                code(leaf[o.path]) if o.path in leaf else "-",
            ]
        )
    return [
        "The kustomizations the environments are built from: what each builds on and the files it adds (resources, not patches).",
        table(["kustomization", "builds on", "its own resources", "environment"], rows),
    ]


def _calls(f: EnvironmentFacts, deps_of: dict[str, list]) -> str:  # type: ignore[type-arg]
    """Which workload calls which, through the Services its configuration names."""
    chart = Mermaid("LR")
    for name, deps in sorted(deps_of.items()):
        for d in deps:
            if d.kind != "service":
                continue
            for backend in d.backends:
                if backend == name:
                    continue
                chart.node(name, name)
                chart.node(backend, backend)
                port = f"{d.what} {d.port}".strip() if d.port else d.what
                chart.edge(name, backend, port)
    return chart.render()


def _replicas(ctx: ReviewContext, envs, per: dict[str, EnvironmentFacts]) -> list[str]:  # type: ignore[no-untyped-def]
    envs = [e for e in envs if any(w.scalable for w in per[e.name].workloads)]
    names = sorted({w.name for f in per.values() for w in f.workloads if w.scalable})
    rows = []
    for name in names:
        row = [code(name)]
        for e in envs:
            f = per[e.name]
            ws = [w for w in f.workloads if w.name == name and w.scalable]
            if not ws:
                row.append("-")
                continue
            parts = []
            for w in ws:
                replaced = f.replaced_by_rollout(w)
                replicas = w.replicas
                text = (
                    str(replicas.value) if replicas.is_known else ("1 (default)" if replicas.is_absent else "unknown")
                )
                piece = f"{w.kind} {ctx.link.span(w.origin('spec.replicas'), text)}"
                if replaced is not None:
                    piece += " (scaled to 0 by its Rollout)"
                hpa = f.hpa_for(w)
                if hpa is not None:
                    metrics = ", ".join(
                        f"{m.name} {m.target}{'%' if m.target_type == 'Utilization' else ''}"
                        for m in hpa.metrics
                        if m.name
                    )
                    piece += (
                        f"; HPA {ctx.link.span(hpa.obj.origin('spec.minReplicas'), f'{hpa.min_replicas}-{hpa.max_replicas}')}"
                        + (f" at {metrics}" if metrics else "")
                    )
                pdbs = f.pdbs_for(w)
                for p in pdbs:
                    rule = (
                        f"minAvailable {p.min_available}" if p.min_available else f"maxUnavailable {p.max_unavailable}"
                    )
                    piece += f"; PDB {ctx.link.span(p.obj.span, rule)}"
                if not pdbs:
                    piece += "; no PDB"
                parts.append(piece)
            row.append("<br>".join(parts))
        rows.append(row)
    return [
        (
            "Replicas as written after patches (the HPA's minimum is what runs when one targets the "
            "workload), the HorizontalPodAutoscaler range and metrics, and the PodDisruptionBudgets "
            "selecting its pods."
        ),
        table(["workload", *(e.name for e in envs)], rows),
    ]


def _peers(f: EnvironmentFacts, pol: NetworkPolicy, rule: PolicyRule) -> str:
    if not rule.peers:
        who = "any peer"
    else:
        parts = []
        for p in rule.peers:
            if p.ip_block is not None:
                parts.append(
                    f"ipBlock {p.ip_block.cidr}"
                    + (f" except {', '.join(p.ip_block.excepts)}" if p.ip_block.excepts else "")
                )
                continue
            sel = []
            if p.namespace_selector is not None:
                ns = p.namespace_selector
                sel.append("every namespace" if ns.is_empty else f"namespaces {ns}")
            if p.pod_selector is not None:
                pods = p.pod_selector
                where = "" if p.namespace_selector is not None else " of the namespace"
                sel.append(f"every pod{where}" if pods.is_empty else f"pods {pods}{where}")
            parts.append(" and ".join(sel) or "every pod of the namespace")
        who = "; ".join(parts)
    ports = (
        ", ".join(
            f"{p.protocol} {p.port if p.port is not None else 'all'}" + (f"-{p.end_port}" if p.end_port else "")
            for p in rule.ports
        )
        or "all ports"
    )
    return f"{who} on {ports}"


def _policies(ctx: ReviewContext, envs, per, every) -> list[str]:  # type: ignore[no-untyped-def]
    rows: dict[tuple[str, ...], list[str]] = {}
    for e in envs:
        f = per[e.name]
        for pol in f.network_policies:
            selected = sorted({w.name for w in f.policy_workloads(pol)})
            ingress = "<br>".join(plain(_peers(f, pol, r)) for r in pol.ingress) or (
                "deny all" if pol.isolates_ingress else "-"
            )
            egress = "<br>".join(plain(_peers(f, pol, r)) for r in pol.egress) or (
                "deny all" if pol.isolates_egress else "-"
            )
            key = (
                code(pol.name),
                ("every pod" if pol.pod_selector.is_empty else plain(str(pol.pod_selector)))
                + (f" ({', '.join(selected)})" if selected else " (no pod)"),
                ingress,
                egress,
                ctx.link.span(pol.obj.span),
            )
            rows.setdefault(key, []).append(e.name)
    if not rows:
        return []
    return [
        (
            "Ingress and egress each policy allows, with the pods it selects. A direction listed as "
            "`deny all` is isolated with no rule; `-` means the policy does not restrict it."
        ),
        table(
            ["policy", "selects", "ingress from", "egress to", "evidence", "environments"],
            [[*k, envs_text(v, every)] for k, v in rows.items()],
        ),
    ]


def _rollouts(ctx: ReviewContext, envs, per) -> str:  # type: ignore[no-untyped-def]
    rows = []
    for e in envs:
        for w in per[e.name].workloads:
            if w.kind != "Rollout":
                continue
            r = rollout_strategy(w)
            detail = []
            if r.active:
                detail.append(f"active {code(r.active)}")
            if r.preview:
                detail.append(f"preview {code(r.preview)}")
            if r.auto_promotion is not None:
                detail.append("automatic promotion" if r.auto_promotion else "manual promotion")
            if r.analysis:
                detail.append("analysis " + ", ".join(code(a) for a in r.analysis))
            if r.steps is not None:
                detail.append(f"{r.steps} steps")
            ref = f" (pods of {w.workload_ref.kind} {code(w.workload_ref.name)})" if w.workload_ref else ""
            rows.append([e.name, code(w.name) + ref, code(r.kind), "; ".join(detail) or "-", ctx.link.span(r.span)])
    return table(["environment", "rollout", "strategy", "settings", "evidence"], rows)


def _security(ctx: ReviewContext, envs, per, every) -> str:  # type: ignore[no-untyped-def]
    rows: dict[tuple[str, ...], list[str]] = {}

    def b(v: bool | None) -> str:
        return "unset" if v is None else ("true" if v else "false")

    for e in envs:
        for w in per[e.name].pod_workloads():
            for c in w.containers:
                sc = c.security
                key = (
                    f"{code(w.name)} / {code(c.name)}",
                    b(sc.run_as_non_root),
                    str(sc.run_as_user) if sc.run_as_user is not None else "unset",
                    b(sc.allow_privilege_escalation),
                    b(sc.read_only_root_filesystem),
                    ", ".join(sc.capabilities_drop) or "none",
                    ctx.link.span(c.security_origin("runAsNonRoot")),
                )
                rows.setdefault(key, []).append(e.name)
    if not rows:
        return ""
    return table(
        [
            "workload / container",
            "runAsNonRoot",
            "runAsUser",
            "allowPrivilegeEscalation",
            "readOnlyRootFilesystem",
            "capabilities dropped",
            "evidence",
            "environments",
        ],
        [[*k, envs_text(v, every)] for k, v in sorted(rows.items())],
    )
