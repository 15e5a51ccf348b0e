"""kustomize's built-in transformers: namespace, prefix/suffix, labels, annotations,
replicas, images, the content-hash suffix and the final name-reference fix-up."""

from __future__ import annotations

import re
from collections.abc import Iterator

from urr_audit.loaders.kustomize.fieldspecs import POD_SPEC_PATHS, REPLICA_KINDS, FieldSpec
from urr_audit.loaders.kustomize.generators import content_hash
from urr_audit.loaders.kustomize.resource import Res
from urr_audit.loaders.kustomize.smp import item_label
from urr_audit.model.common import Span

_PREFIX_SKIP = frozenset({"CustomResourceDefinition", "APIService", "Namespace"})


def set_namespace(resources: list[Res], ns: str, why: Span) -> None:
    for r in resources:
        if r.namespaced:
            r.set_namespace(ns, why)
        elif r.kind == "Namespace" and r.group == "":
            # kustomize renames Namespace objects to the kustomization's namespace.
            r.rename(ns, why)
        if r.kind in ("RoleBinding", "ClusterRoleBinding"):
            # kustomize's default subject mode: only the `default` ServiceAccount follows.
            for s in r.body.get("subjects") or []:
                if isinstance(s, dict) and s.get("kind") == "ServiceAccount" and s.get("name") == "default":
                    s["namespace"] = ns


def add_prefix_suffix(resources: list[Res], prefix: str, suffix: str, why: Span) -> None:
    for r in resources:
        if r.kind in _PREFIX_SKIP:
            continue
        r.rename(f"{prefix}{r.name}{suffix}", why)
        if prefix:
            r.prefixes.append(prefix)
        if suffix:
            r.suffixes.append(suffix)


def _spec_applies(r: Res, spec: FieldSpec) -> bool:
    _, kinds, group, _ = spec
    if kinds is not None and r.kind not in kinds:
        return False
    return group is None or r.group == group


def _walk_to(node: object, parts: list[str], dotted: str, create: bool) -> Iterator[tuple[dict, str]]:
    """Yield (mapping, dotted path) at the end of `parts`, descending through lists."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk_to(item, parts, f"{dotted}[{i}]", create)
        return
    if not isinstance(node, dict):
        return
    if not parts:
        yield node, dotted
        return
    head, rest = parts[0], parts[1:]
    nxt = f"{dotted}.{head}" if dotted else head
    if head not in node or node[head] is None:
        if not create:
            return
        node[head] = {}
    yield from _walk_to(node[head], rest, nxt, create)


def set_map_entries(resources: list[Res], pairs: dict[str, str], specs: list[FieldSpec], why: Span) -> None:
    for r in resources:
        for spec in specs:
            if not _spec_applies(r, spec):
                continue
            for target, dotted in _walk_to(r.body, spec[0].split("/"), "", spec[3]):
                for k, v in pairs.items():
                    target[k] = v
                    r.origins[f"{dotted}.{k}"] = why


def set_replicas(resources: list[Res], name: str, count: int, why: Span) -> bool:
    found = False
    for r in resources:
        if r.kind in REPLICA_KINDS and any(n == name for _, n in r.ids()):
            spec = r.body.setdefault("spec", {})
            if not isinstance(spec, dict):
                continue
            spec["replicas"] = count
            r.origins["spec.replicas"] = why
            found = True
    return found


# --- images --------------------------------------------------------------------------


def split_image(image: str) -> tuple[str, str, str]:
    """kustomize's image.Split: (name, tag, digest); a registry port is not a tag."""
    slash = image.find("/")
    search, offset = (image[slash:], slash) if slash > 0 else (image, 0)
    at, colon = search.find("@"), search.find(":")
    if colon < 0 and at < 0:
        return image, "", ""
    if at >= 0 and (at < colon or colon < 0):
        return image[: at + offset], "", image[at + offset + 1 :]
    if at >= 0 and colon >= 0:
        return image[: colon + offset], image[colon + offset + 1 : at + offset], image[at + offset + 1 :]
    return image[: colon + offset], image[colon + offset + 1 :], ""


def image_matches(image: str, name: str) -> bool:
    # kustomize compiles the entry name into a regexp unescaped; so do we, to agree on odd names.
    try:
        return re.match("^" + name + r"(@sha256)?(:[\w][\w.-]{0,127})?$", image) is not None
    except re.error:
        return False


def new_image(image: str, entry: dict) -> str:
    name, tag, digest = split_image(image)
    new_name, new_tag, new_digest = (str(entry.get(k) or "") for k in ("newName", "newTag", "digest"))
    if new_name:
        name = new_name
    if new_tag and new_digest:
        tag, digest = new_tag, new_digest
    elif new_tag:
        tag, digest = new_tag, ""
    elif new_digest:
        tag, digest = "", new_digest
    out = name
    if tag:
        out += ":" + tag
    if digest:
        out += "@" + digest
    return out


def _containers(node: object, dotted: str) -> Iterator[tuple[dict, str]]:
    """Every container mapping under a `containers` / `initContainers` list, at any depth."""
    if isinstance(node, dict):
        for k, v in node.items():
            sub = f"{dotted}.{k}" if dotted else k
            if k in ("containers", "initContainers") and isinstance(v, list):
                for i, c in enumerate(v):
                    if isinstance(c, dict):
                        yield c, sub + item_label("name", c, i)
            else:
                yield from _containers(v, sub)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _containers(item, f"{dotted}[{i}]")


def set_images(resources: list[Res], entries: list[tuple[dict, Span]]) -> None:
    """Apply the `images:` entries in order. Each container is visited once for all entries
    (the same result as one pass per entry: entries only ever touch one container's image)."""
    entries = [(str(e.get("name") or ""), e, why) for e, why in entries if e.get("name")]
    if not entries:
        return
    for r in resources:
        for c, dotted in _containers(r.body, ""):
            for name, entry, why in entries:
                image = c.get("image")
                if isinstance(image, str) and image_matches(image, name):
                    c["image"] = new_image(image, entry)
                    r.origins[f"{dotted}.image"] = why


# --- hash suffix and references --------------------------------------------------------


def add_hashes(resources: list[Res]) -> None:
    for r in resources:
        if r.needs_hash:
            r.unhashed_name = r.name
            r.rename(f"{r.name}-{content_hash(r.body)}", r.generator or r.span)


# (referenced kind, referrer kinds or None for pod-spec workloads, path inside the referrer/pod spec)
_POD_REFS: list[tuple[str, tuple[str, ...]]] = [
    ("ConfigMap", ("volumes", "configMap", "name")),
    ("ConfigMap", ("volumes", "projected", "sources", "configMap", "name")),
    ("ConfigMap", ("containers", "env", "valueFrom", "configMapKeyRef", "name")),
    ("ConfigMap", ("initContainers", "env", "valueFrom", "configMapKeyRef", "name")),
    ("ConfigMap", ("containers", "envFrom", "configMapRef", "name")),
    ("ConfigMap", ("initContainers", "envFrom", "configMapRef", "name")),
    ("Secret", ("volumes", "secret", "secretName")),
    ("Secret", ("volumes", "projected", "sources", "secret", "name")),
    ("Secret", ("containers", "env", "valueFrom", "secretKeyRef", "name")),
    ("Secret", ("initContainers", "env", "valueFrom", "secretKeyRef", "name")),
    ("Secret", ("containers", "envFrom", "secretRef", "name")),
    ("Secret", ("initContainers", "envFrom", "secretRef", "name")),
    ("Secret", ("imagePullSecrets", "name")),
    ("ServiceAccount", ("serviceAccountName",)),
    ("PersistentVolumeClaim", ("volumes", "persistentVolumeClaim", "claimName")),
    ("PriorityClass", ("priorityClassName",)),
]

_OTHER_REFS: list[tuple[str, str, tuple[str, ...]]] = [
    ("Secret", "Ingress", ("spec", "tls", "secretName")),
    ("Secret", "ServiceAccount", ("imagePullSecrets", "name")),
    ("Secret", "ServiceAccount", ("secrets", "name")),
    ("Service", "Ingress", ("spec", "rules", "http", "paths", "backend", "service", "name")),
    ("Service", "Ingress", ("spec", "defaultBackend", "service", "name")),
    ("Service", "StatefulSet", ("spec", "serviceName")),
    ("Role", "RoleBinding", ("roleRef", "name")),
    ("ClusterRole", "RoleBinding", ("roleRef", "name")),
    ("ClusterRole", "ClusterRoleBinding", ("roleRef", "name")),
    ("ServiceAccount", "RoleBinding", ("subjects", "name")),
    ("ServiceAccount", "ClusterRoleBinding", ("subjects", "name")),
    ("Deployment", "HorizontalPodAutoscaler", ("spec", "scaleTargetRef", "name")),
    ("StatefulSet", "HorizontalPodAutoscaler", ("spec", "scaleTargetRef", "name")),
    ("ReplicaSet", "HorizontalPodAutoscaler", ("spec", "scaleTargetRef", "name")),
]


def _ref_sites(node: object, path: tuple[str, ...], dotted: str) -> Iterator[tuple[dict, str, str]]:
    """(mapping holding the name, key, dotted path) for every value at `path`."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            label = item_label("name", item, i) if isinstance(item, dict) else f"[{i}]"
            yield from _ref_sites(item, path, dotted + label)
        return
    if not isinstance(node, dict) or not path:
        return
    head = path[0]
    sub = f"{dotted}.{head}" if dotted else head
    if len(path) == 1:
        if isinstance(node.get(head), str):
            yield node, head, sub
        return
    if head in node:
        yield from _ref_sites(node[head], path[1:], sub)


def _sites(r: Res) -> Iterator[tuple[str, dict, str, str]]:
    pod_path = POD_SPEC_PATHS.get(r.kind)
    if pod_path:
        pod = r.body
        for p in pod_path:
            pod = pod.get(p) if isinstance(pod, dict) else None
        if isinstance(pod, dict):
            prefix = ".".join(pod_path)
            for kind, path in _POD_REFS:
                for holder, key, dotted in _ref_sites(pod, path, prefix):
                    yield kind, holder, key, dotted
    for kind, referrer, path in _OTHER_REFS:
        if r.kind == referrer:
            for holder, key, dotted in _ref_sites(r.body, path, ""):
                if kind in ("Role", "ClusterRole") and holder.get("kind") != kind:
                    continue
                if (
                    referrer.endswith("RoleBinding")
                    and path[0] == "subjects"
                    and holder.get("kind") != "ServiceAccount"
                ):
                    continue
                if referrer == "HorizontalPodAutoscaler" and holder.get("kind") != kind:
                    continue
                yield kind, holder, key, dotted


def fix_references(resources: list[Res]) -> None:
    """Point references at the final names of what they referred to (kustomize's nameref)."""
    by_kind: dict[str, list[Res]] = {}
    for r in resources:
        if r.history:
            by_kind.setdefault(r.kind, []).append(r)
    if not by_kind:
        return
    for r in resources:
        ns = r.effective_ns(r.namespace)
        for kind, holder, key, dotted in _sites(r):
            candidates = by_kind.get(kind)
            if not candidates:
                continue
            old = holder[key]
            subject = r.kind.endswith("RoleBinding") and dotted.startswith("subjects")
            if subject and holder.get("namespace"):
                # A subject naming its namespace refers to the account known there.
                want = str(holder["namespace"])
                hits = [c for c in candidates if (want, old) in c.ids()]
            else:
                hits = [
                    c
                    for c in candidates
                    if any(n == old for _, n in c.ids())
                    and (not c.namespaced or not r.namespaced or c.effective_ns(c.namespace) == ns)
                ]
            if len(hits) > 1:
                hits = [c for c in hits if c.prefixes == r.prefixes and c.suffixes == r.suffixes] or hits
            if len(hits) != 1:
                continue
            target = hits[0]
            if subject and target.namespace and holder.get("namespace") != target.namespace:
                # kustomize points a subject at the account's namespace as well as its name.
                holder["namespace"] = target.namespace
                why = target.origins.get("metadata.namespace") or target.name_origin
                if why is not None:
                    r.origins[dotted.rsplit(".", 1)[0] + ".namespace"] = why
            if target.name != old:
                holder[key] = target.name
                if target.name_origin is not None:
                    r.origins[dotted] = target.name_origin


# --- output order ----------------------------------------------------------------------

_ORDER_FIRST = [
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
]
_ORDER_LAST = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]
_RANK = {k: i - len(_ORDER_FIRST) for i, k in enumerate(_ORDER_FIRST)} | {k: i + 1 for i, k in enumerate(_ORDER_LAST)}


def _gvk_string(r: Res) -> str:
    return f"{r.group or '~G'}_{r.version or '~V'}_{r.kind or '~K'}"


def legacy_sort(
    resources: list[Res], order_first: list[str] | None = None, order_last: list[str] | None = None
) -> list[Res]:
    """kustomize's legacy output order: kind rank, then gvk string, then namespace and name.

    `order_first` / `order_last` (sortOptions.legacySortOptions) replace the built-in lists."""
    rank = _RANK
    if order_first is not None or order_last is not None:
        first, last = list(order_first or []), list(order_last or [])
        rank = {k: i - len(first) for i, k in enumerate(first)} | {k: i + 1 for i, k in enumerate(last)}
    return sorted(
        resources,
        key=lambda r: (rank.get(r.kind, 0), _gvk_string(r), r.namespace or "~X", r.name),
    )
