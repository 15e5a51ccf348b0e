"""What a scan read and why: the files, each sub-project's inventory, and for every artifact
directory whether it is an environment and why. Shared by the JSON `inputs` section and the
text report's `--verbose` listing."""

from __future__ import annotations

from typing import Any

from urr_audit.model.project import Project


def inventories(project: Project) -> dict[str, dict[str, int]]:
    """`{"terraform": {"Terraform modules": 4, ...}, ...}`: every sub-project hung on
    `Project` that offers `inventory()`, whatever its kind (workflows, Dockerfiles...)."""
    out = {}
    for name in type(project).model_fields:
        part = getattr(project, name)
        inventory = getattr(part, "inventory", None)
        if callable(inventory):
            out[name] = dict(inventory())
    return out


def nothing_read(project: Project) -> bool:
    return not any(n for inv in inventories(project).values() for n in inv.values())


def directories(project: Project) -> list[dict[str, Any]]:
    """Each Terraform module, kustomization and directory of plain manifests: whether it is an
    environment, and why."""
    out: list[dict[str, Any]] = []
    tf_envs = {e.path: e.name for e in project.terraform.environments}
    callers: dict[str, list[str]] = {}
    for m in project.terraform.modules.values():
        for call in m.module_calls.values():
            if call.resolved_dir:
                callers.setdefault(call.resolved_dir, []).append(m.path)
    for path in sorted(project.terraform.modules):
        if path in tf_envs:
            reason = "Terraform root module (no module in the repository calls it): evaluated as an environment"
        elif path in callers:
            reason = f"Terraform module called by {', '.join(sorted(set(callers[path])))}"
        else:
            reason = "Terraform module"
        out.append({"path": path, "framework": "terraform", "environment": tf_envs.get(path), "reason": reason})
    k8s_envs = {e.path: e for e in project.kubernetes.environments}
    users: dict[str, list[str]] = {}
    for o in project.kubernetes.overlays:
        for ref in {*o.bases, *o.resources}:
            users.setdefault(ref, []).append(o.path)
    for o in sorted(project.kubernetes.overlays, key=lambda o: o.path):
        env = k8s_envs.get(o.path)
        if o.is_leaf:
            reason = "kustomization no other kustomization uses: rendered as an environment"
        elif o.path in users:
            reason = f"kustomization used by {', '.join(sorted(set(users[o.path])))}: a base, not an environment"
        else:
            reason = "Kustomize component: applied by the kustomizations that list it, not an environment"
        out.append(
            {"path": o.path, "framework": "kubernetes", "environment": env.name if env else None, "reason": reason}
        )
    for e in sorted(project.kubernetes.environments, key=lambda e: e.path):
        if e.source == "manifests":
            out.append(
                {
                    "path": e.path,
                    "framework": "kubernetes",
                    "environment": e.name,
                    "reason": "directory of plain Kubernetes manifests (applied as they are): an environment",
                }
            )
    return out


def inputs(report: Any) -> dict[str, Any]:
    focus = getattr(report, "focus", None)
    return {
        "files_read": list(getattr(report, "files_read", [])),
        "inventory": inventories(report.project),
        "directories": directories(report.project),
        "focus": None
        if focus is None or focus.everything
        else {
            "targets": focus.targets,
            "artifacts": focus.artifacts,
            "environments": [{"framework": e.framework, "name": e.name, "path": e.path} for e in focus.environments],
        },
    }
