"""Strategic merge patch, as kustomize v5 (kyaml merge2) applies it.

Lists of built-in kinds merge by their `patchMergeKey` where the Kubernetes schema declares
one and are replaced otherwise; every list of an unknown kind (CRDs such as Argo Rollouts)
is replaced, as kustomize has no schema for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from urr_audit.loaders.kustomize.util import deep_copy

Record = Callable[[str, tuple], None]  # (dotted destination path, patch path)

# field name -> merge key, for lists the built-in schema marks `patchStrategy: merge`.
SCHEMA_MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "ownerReferences": "uid",
    "conditions": "type",
    "webhooks": "name",
    "secrets": "name",
    "resourceClaims": "name",
    "schedulingGates": "name",
}

BUILTIN_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "policy",
        "autoscaling",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "coordination.k8s.io",
        "node.k8s.io",
        "discovery.k8s.io",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "certificates.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
    }
)


def list_key(field: str, dest: list, patch: list, builtin: bool) -> str | None:
    # kustomize only knows merge keys from the built-in schema: lists of CRDs (Argo
    # Rollouts, ...) are replaced wholesale by a strategic merge patch.
    if not builtin:
        return None
    if field == "ports":
        sample = next((e for e in dest + patch if isinstance(e, dict)), {})
        return "containerPort" if "containerPort" in sample else "port"
    return SCHEMA_MERGE_KEYS.get(field)


def item_label(key: str | None, item: Any, index: int) -> str:
    if key and isinstance(item, dict) and key in item:
        return f"[{key}={item[key]}]"
    return f"[{index}]"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def merge_map(dest: dict, patch: dict, dpath: str, ppath: tuple, rec: Record, builtin: bool) -> dict | None:
    """Merge `patch` into `dest` in place; returns the result (None when deleted)."""
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        rec(dpath, ppath)
        return merge_map({}, {k: v for k, v in patch.items() if k != "$patch"}, dpath, ppath, _noop, builtin)
    for key, pv in patch.items():
        # kyaml only understands `$patch`; any other `$...` key ($setElementOrder/...,
        # $retainKeys, $deleteFromPrimitiveList/...) is kept as an ordinary field, as
        # `kustomize build` prints it.
        if key == "$patch":
            continue
        sub, psub = _join(dpath, key), ppath + (key,)
        dv = dest.get(key)
        if pv is None:
            if key in dest:
                del dest[key]
                rec(sub, psub)
            continue
        if isinstance(pv, dict):
            base = dv if isinstance(dv, dict) else {}
            if not isinstance(dv, dict):
                rec(sub, psub)
            out = merge_map(base, pv, sub, psub, rec, builtin)
            if out is None:
                dest.pop(key, None)
            else:
                dest[key] = out
        elif isinstance(pv, list):
            if isinstance(dv, list):
                dest[key] = merge_list(key, dv, pv, sub, psub, rec, builtin)
            else:
                dest[key] = merge_list(key, [], pv, sub, psub, _noop, builtin)
                rec(sub, psub)
        else:
            if dv != pv or key not in dest:
                dest[key] = pv
                rec(sub, psub)
    return dest


def merge_list(field: str, dest: list, patch: list, dpath: str, ppath: tuple, rec: Record, builtin: bool) -> list:
    replace = any(isinstance(e, dict) and e.get("$patch") == "replace" for e in patch)
    if replace:
        rec(dpath, ppath)
        items = [e for e in patch if not (isinstance(e, dict) and e.get("$patch") == "replace")]
        return merge_list(field, [], items, dpath, ppath, _noop, builtin)
    key = list_key(field, dest, patch, builtin)
    if key is not None and field == "ports" and _has_protocol(dest, patch):
        return _merge_ports(key, dest, patch, dpath, ppath, rec, builtin)
    if key is None:
        out = [merge_map({}, e, dpath, ppath, _noop, builtin) if isinstance(e, dict) else deep_copy(e) for e in patch]
        if out != dest:
            rec(dpath, ppath)
        return [e for e in out if e is not None]
    # apimachinery's order: the patch's items first, in patch order, then the untouched rest.
    result: list = []
    touched: set[int] = set()
    for i, pe in enumerate(patch):
        if not isinstance(pe, dict) or key not in pe:
            continue
        idx = next(
            (j for j, de in enumerate(dest) if j not in touched and isinstance(de, dict) and de.get(key) == pe[key]),
            None,
        )
        label = item_label(key, pe, i)
        if idx is not None:
            touched.add(idx)
        if pe.get("$patch") == "delete":
            if idx is not None:
                rec(dpath + label, ppath + (i,))
            continue
        if idx is None:
            new = merge_map({}, pe, dpath + label, ppath + (i,), _noop, builtin)
            if new is not None:
                result.append(new)
                rec(dpath + label, ppath + (i,))
        else:
            merged = merge_map(dest[idx], pe, dpath + label, ppath + (i,), rec, builtin)
            if merged is not None:
                result.append(merged)
    result.extend(de for j, de in enumerate(dest) if j not in touched)
    return result


def _has_protocol(dest: list, patch: list) -> bool:
    return any(isinstance(e, dict) and "protocol" in e for e in dest + patch)


def _merge_ports(key: str, dest: list, patch: list, dpath: str, ppath: tuple, rec: Record, builtin: bool) -> list:
    """Ports keyed by (port, protocol), as kustomize v5 merges them once any port names a protocol.

    Observed on `kubectl kustomize` v5.5: an item matching (port, protocol) exactly merges in
    place; an item whose port matches an existing one with a different (or absent) protocol is
    dropped; a new item goes before the existing ones, in patch order.
    """
    result = list(dest)
    new: list = []
    for i, pe in enumerate(patch):
        if not isinstance(pe, dict) or key not in pe:
            continue
        same_port = [j for j, de in enumerate(result) if isinstance(de, dict) and de.get(key) == pe[key]]
        exact = [j for j in same_port if result[j].get("protocol") == pe.get("protocol")]
        label = item_label(key, pe, i)
        if exact:
            j = exact[0]
            if pe.get("$patch") == "delete":
                rec(dpath + label, ppath + (i,))
                result[j] = None
                continue
            result[j] = merge_map(result[j], pe, dpath + label, ppath + (i,), rec, builtin)
        elif not same_port and pe.get("$patch") != "delete":
            item = merge_map({}, pe, dpath + label, ppath + (i,), _noop, builtin)
            if item is not None:
                new.append(item)
                rec(dpath + label, ppath + (i,))
    return new + [e for e in result if e is not None]


def _noop(_: str, __: tuple) -> None:
    return None
