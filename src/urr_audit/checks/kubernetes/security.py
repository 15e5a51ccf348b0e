"""Pod and container hardening, one check per setting (kube-linter style)."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, NoParams, check
from urr_audit.model.k8s_facts import WORKLOAD_KINDS, Container, Workload, facts
from urr_audit.model.kubernetes import K8sEnvironment


class ContainerParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    init_containers: bool = True


def _containers(env: K8sEnvironment, init: bool) -> Iterator[tuple[Workload, Container]]:
    for w in facts(env).pod_workloads():
        for c in w.all_containers if init else w.containers:
            yield w, c


def _who(w: Workload, c: Container) -> str:
    return f"{w.kind} {w.name}, {'init container' if c.init else 'container'} {c.name}"


@check("k8s-run-as-non-root", scope="kubernetes.environment", params=ContainerParams, subjects=WORKLOAD_KINDS)
def run_as_non_root(ctx: Context, env: K8sEnvironment, params: ContainerParams) -> Iterator[Hit]:
    """Containers that may run as root: neither runAsNonRoot true nor a non-zero runAsUser,
    at container or pod level."""
    for w, c in _containers(env, params.init_containers):
        s = c.security
        if s.run_as_non_root is True or (s.run_as_user is not None and s.run_as_user > 0):
            continue
        if s.run_as_non_root is False:
            at, why = c.security_origin("runAsNonRoot"), "sets runAsNonRoot: false"
        elif s.run_as_user == 0:
            at, why = c.security_origin("runAsUser"), "sets runAsUser: 0"
        else:
            at, why = c.origin(), "does not set runAsNonRoot"
        yield ctx.finding(at=at, node=w, message=f"{_who(w, c)} {why}: it may run as root")


@check("k8s-privilege-escalation", scope="kubernetes.environment", params=ContainerParams, subjects=WORKLOAD_KINDS)
def privilege_escalation(ctx: Context, env: K8sEnvironment, params: ContainerParams) -> Iterator[Hit]:
    """Containers where allowPrivilegeEscalation is not false (or that are privileged)."""
    for w, c in _containers(env, params.init_containers):
        s = c.security
        if s.privileged:
            yield ctx.finding(at=c.security_origin("privileged"), node=w, message=f"{_who(w, c)} is privileged")
        elif s.allow_privilege_escalation is not False:
            set_true = s.allow_privilege_escalation is True
            yield ctx.finding(
                at=c.security_origin("allowPrivilegeEscalation") if set_true else c.origin(),
                node=w,
                message=f"{_who(w, c)} {'sets allowPrivilegeEscalation: true' if set_true else 'does not set allowPrivilegeEscalation: false'}",
            )


@check("k8s-read-only-root-filesystem", scope="kubernetes.environment", params=ContainerParams, subjects=WORKLOAD_KINDS)
def read_only_root_filesystem(ctx: Context, env: K8sEnvironment, params: ContainerParams) -> Iterator[Hit]:
    """Containers whose root filesystem is writable (readOnlyRootFilesystem false or absent)."""
    for w, c in _containers(env, params.init_containers):
        ro = c.security.read_only_root_filesystem
        if ro is True:
            continue
        yield ctx.finding(
            at=c.security_origin("readOnlyRootFilesystem") if ro is False else c.origin(),
            node=w,
            message=f"{_who(w, c)} {'sets readOnlyRootFilesystem: false' if ro is False else 'does not set readOnlyRootFilesystem: true'}",
        )


@check("k8s-drop-all-capabilities", scope="kubernetes.environment", params=ContainerParams, subjects=WORKLOAD_KINDS)
def drop_all_capabilities(ctx: Context, env: K8sEnvironment, params: ContainerParams) -> Iterator[Hit]:
    """Containers that do not drop ALL Linux capabilities."""
    for w, c in _containers(env, params.init_containers):
        if any(x.upper() == "ALL" for x in c.security.capabilities_drop):
            continue
        has = "capabilities" in c.security.source
        yield ctx.finding(
            at=c.origin("securityContext.capabilities.drop") if has else c.origin(),
            node=w,
            message=f"{_who(w, c)} does not drop ALL capabilities",
        )


class ResourceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    require: list[str] = ["requests.cpu", "requests.memory", "limits.memory"]
    init_containers: bool = True


@check("k8s-container-resources", scope="kubernetes.environment", params=ResourceParams, subjects=WORKLOAD_KINDS)
def container_resources(ctx: Context, env: K8sEnvironment, params: ResourceParams) -> Iterator[Hit]:
    """Containers missing any of the required resource requests / limits."""
    for w, c in _containers(env, params.init_containers):
        missing = [r for r in params.require if not c.resources.has(r)]
        if missing:
            has = bool(c.resources.requests or c.resources.limits)
            yield ctx.finding(
                at=c.origin("resources") if has else c.origin(),
                node=w,
                message=f"{_who(w, c)} sets no {', '.join(missing)}",
            )


class ProbeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    require: list[str] = ["readinessProbe", "livenessProbe"]
    kinds: list[str] = ["Deployment", "StatefulSet", "DaemonSet", "Rollout"]  # long-running pods only


@check("k8s-container-probes", scope="kubernetes.environment", params=ProbeParams, subjects=WORKLOAD_KINDS)
def container_probes(ctx: Context, env: K8sEnvironment, params: ProbeParams) -> Iterator[Hit]:
    """Long-running containers without readiness / liveness probes."""
    for w, c in _containers(env, False):
        if w.kind not in params.kinds:
            continue
        missing = [p for p in params.require if p not in c.probes]
        if missing:
            yield ctx.finding(at=c.origin(), node=w, message=f"{_who(w, c)} has no {' or '.join(missing)}")


@check(
    "k8s-default-service-account-token",
    scope="kubernetes.environment",
    params=NoParams,
    closed_world="kubernetes",
    subjects=WORKLOAD_KINDS,
)
def default_service_account_token(ctx: Context, env: K8sEnvironment, params: NoParams) -> Iterator[Hit]:
    """Pods on the namespace's `default` ServiceAccount with its API token mounted: pod-level
    automountServiceAccountToken not false, and no `default` ServiceAccount object in the
    environment that disables automounting."""
    f = facts(env)
    for w in f.pod_workloads():
        if w.service_account_name not in (None, "default") or w.automount_token is False:
            continue
        if f.service_account_automount(w.namespace, "default") is False:
            continue
        # Where to set automountServiceAccountToken: false (or a ServiceAccount): the line that
        # mounts the token, else serviceAccountName, else the pod spec (nearest written line).
        field = "automountServiceAccountToken" if w.automount_token is True else "serviceAccountName"
        at = w.template_owner.origin(f"{w.pod_spec_path}.{field}")
        yield ctx.finding(
            at=at,
            node=w,
            message=f"{w.kind} {w.name} runs as the default ServiceAccount with its API token mounted",
        )
