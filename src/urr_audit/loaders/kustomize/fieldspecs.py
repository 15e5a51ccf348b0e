"""kustomize's built-in field specs (api/konfig/builtinpluginconsts), as data.

A spec is (path, kinds or None for every kind, group or None, create). Path segments walk
through lists implicitly, as kustomize's fsslice filter does.
"""

from __future__ import annotations

FieldSpec = tuple[str, frozenset[str] | None, str | None, bool]

_WORKLOADS_TEMPLATE = ("ReplicationController", "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job")


def _fs(path: str, kinds: tuple[str, ...] | None = None, group: str | None = None, create: bool = False) -> FieldSpec:
    return (path, frozenset(kinds) if kinds else None, group, create)


_AFFINITY = [
    "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
]

METADATA_LABELS = [_fs("metadata/labels", create=True)]

TEMPLATE_LABELS = [
    _fs("spec/template/metadata/labels", ("ReplicationController",), create=True),
    _fs("spec/template/metadata/labels", ("Deployment",), create=True),
    _fs("spec/template/metadata/labels", ("ReplicaSet",), create=True),
    _fs("spec/template/metadata/labels", ("DaemonSet",), create=True),
    _fs("spec/template/metadata/labels", ("StatefulSet",), "apps", create=True),
    _fs("spec/volumeClaimTemplates/metadata/labels", ("StatefulSet",), "apps", create=True),
    _fs("spec/template/metadata/labels", ("Job",), "batch", create=True),
    _fs("spec/jobTemplate/metadata/labels", ("CronJob",), "batch", create=True),
    _fs("spec/jobTemplate/spec/template/metadata/labels", ("CronJob",), "batch", create=True),
]

SELECTOR_LABELS = [
    _fs("spec/selector", ("Service",), create=True),
    _fs("spec/selector", ("ReplicationController",), create=True),
    _fs("spec/selector/matchLabels", ("Deployment",), create=True),
    *[_fs(p, ("Deployment",), "apps") for p in _AFFINITY],
    _fs("spec/selector/matchLabels", ("ReplicaSet",), create=True),
    _fs("spec/selector/matchLabels", ("DaemonSet",), create=True),
    _fs("spec/selector/matchLabels", ("StatefulSet",), "apps", create=True),
    *[_fs(p, ("StatefulSet",), "apps") for p in _AFFINITY],
    _fs("spec/selector/matchLabels", ("Job",), "batch"),
    _fs("spec/jobTemplate/spec/selector/matchLabels", ("CronJob",), "batch"),
    _fs("spec/selector/matchLabels", ("PodDisruptionBudget",), "policy"),
    _fs("spec/podSelector/matchLabels", ("NetworkPolicy",), "networking.k8s.io"),
    _fs("spec/ingress/from/podSelector/matchLabels", ("NetworkPolicy",), "networking.k8s.io"),
    _fs("spec/egress/to/podSelector/matchLabels", ("NetworkPolicy",), "networking.k8s.io"),
]

COMMON_LABELS = METADATA_LABELS + TEMPLATE_LABELS + SELECTOR_LABELS

COMMON_ANNOTATIONS = [
    _fs("metadata/annotations", create=True),
    *[
        _fs(
            "spec/template/metadata/annotations",
            (k,),
            "batch" if k == "Job" else ("apps" if k == "StatefulSet" else None),
            create=True,
        )
        for k in _WORKLOADS_TEMPLATE
    ],
    _fs("spec/jobTemplate/metadata/annotations", ("CronJob",), "batch", create=True),
    _fs("spec/jobTemplate/spec/template/metadata/annotations", ("CronJob",), "batch", create=True),
]

REPLICA_KINDS = ("Deployment", "ReplicationController", "ReplicaSet", "StatefulSet")

# Where a pod spec lives, per built-in workload kind (name references are fixed only there).
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
