"""What a check examined: the subjects it declares (`@check(subjects=...)`), counted in the model.

A strength ("rule X found nothing in 12 things") is only true where those things exist, so
the review counts them here. A subject is a string in the vocabulary of the check's framework
(`urr_audit.checks.<framework>`); a cross-artifact check prefixes each one with its framework
(`kubernetes:Deployment`, `github:actions/checkout`).

- kubernetes: an object kind (`Deployment`, `Rollout`), `*` (every object), `environment`,
  `kustomization`, `remote-ref` (a remote resource or base a kustomization fetches),
  `image:<regex>` (pod workloads with a container whose image name matches).
- terraform: a resource or data source type (`aws_db_instance`), `*` (every resource),
  `environment` (root modules), `variable` (inputs of root modules), `tfvars` (variable files,
  examples left out), `count` (resources and module calls with `count` or `for_each`),
  `provider-alias` (aliased provider configurations, references to them, `providers` maps),
  `module-call` (`module` blocks calling a module read from the repository).
- github: `workflow`, `action` (local actions), `job`, `step`, `run` (`run:` steps), `call`
  (jobs calling a reusable workflow), `uses` (remote `uses:` of steps and jobs), `local`
  (`uses: ./...` of steps and jobs), `build` / `login` / `edit` (steps building or pushing an
  image, logging in to a registry, rewriting a file), `container` (job containers, services,
  `docker://` steps), `on:<event>` (workflows the event starts), or an action
  `owner/repo[/path]` (steps using it, any ref).
- argocd: `Application` (generated ones included), `ApplicationSet`, `AppProject`, `cluster`
  (clusters declared as Secrets).
- local: `cluster` (local cluster configurations: kind).
- docker: `Dockerfile`, `stage`, `final-stage` (the stage a build without `--target`
  produces), `image` (references to registry images: FROM, `COPY --from`, `RUN
  --mount=from=`), or an instruction keyword (`ENV`, `ARG`, `USER`...).

A cross-artifact check (`urr_audit.checks.cross`) joins frameworks: each subject it declares
is one *side* of the join, a side may name alternatives separated by `|`
(`terraform:aws_eks_node_group|kubernetes:NodePool`), and the check examined something only
where every side has something: a rule about CI images versus cluster nodes says nothing in a
repository without workflows.

A framework without a vocabulary here (a new artifact kind) gives None: the review then counts
the check's scope nodes, as it does for a check declaring none.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from urr_audit.facts.tf import existing
from urr_audit.model.k8s_facts import facts
from urr_audit.model.kubernetes import K8sEnvironment
from urr_audit.model.terraform import Environment

FRAMEWORKS = ("kubernetes", "terraform", "github", "argocd", "docker", "local")

_K8S_NOUNS = {"*", "environment", "kustomization", "remote-ref"}
_TF_NOUNS = {"*", "environment", "variable", "tfvars", "count", "provider-alias", "module-call"}
_GHA_NOUNS = {
    "workflow",
    "action",
    "job",
    "step",
    "run",
    "call",
    "uses",
    "local",
    "build",
    "login",
    "edit",
    "container",
}
_DOCKER_NOUNS = {
    "Dockerfile": "Dockerfiles",
    "stage": "build stages",
    "final-stage": "final stages",
    "image": "image references",
}
_ARGO_KINDS = {"Application": "Applications", "ApplicationSet": "ApplicationSets", "AppProject": "AppProjects"}


@dataclass
class Counted:
    """Things examined, by family (what they are, plural: `objects`, `steps`) and label
    within the family (`Deployment`, `` `actions/checkout` ``; the family itself when there
    is nothing more to say)."""

    parts: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.parts.values())

    def add(self, family: str, label: str, n: int) -> None:
        if n:
            self.parts[(family, label)] += n

    def noun(self) -> str:
        """`objects (1 CronJob, 2 Deployment)`, `workflows`, `items (14 workflows, 1 local
        action)`: what the count is of, for "not found in N <noun> checked". A long breakdown
        names the five largest parts."""
        by_family = Counter[str]()
        for (f, _), n in self.parts.items():
            by_family[f] += n
        if len(by_family) == 1:
            family, total = next(iter(by_family.items()))
            labels = sorted(((label, n) for (_, label), n in self.parts.items()), key=lambda x: (-x[1], x[0]))
            head = counted_noun(total, family)
            if len(labels) == 1 and labels[0][0] == family:
                return head
            return f"{head} ({_breakdown(labels)})"
        families = sorted(by_family.items(), key=lambda x: (-x[1], x[0]))
        return f"items ({_breakdown([(counted_noun(n, f), n) for f, n in families])})"


def _breakdown(parts: list[tuple[str, int]], limit: int = 5) -> str:
    shown = ", ".join(f"{n} {label}" for label, n in parts[:limit])
    rest = len(parts) - limit
    return shown + (f" and {rest} more" if rest > 0 else "")


def counted_noun(n: int, plural: str) -> str:
    """The noun for `n` things: `1 resource`, `2 resources`. The last plural word of the
    noun's head (before a parenthesis) is made singular."""
    if n != 1:
        return plural
    head, sep, rest = plural.partition(" (")
    words = head.split(" ")
    for i in range(len(words) - 1, -1, -1):
        w = words[i]
        if w.endswith("ies"):
            words[i] = w[:-3] + "y"
            break
        if w.endswith("es") and w[:-2].endswith(("ss", "sh", "ch", "x")):
            words[i] = w[:-2]
            break
        if w.endswith("s") and not w.endswith("ss") and len(w) > 2:
            words[i] = w[:-1]
            break
    return " ".join(words) + sep + rest


def split(subject: str, framework: str | None) -> tuple[str | None, str]:
    """(framework, subject) of a declared subject: a prefix names the framework (cross-artifact
    checks), else the check's own."""
    head, sep, rest = subject.partition(":")
    if sep and head in FRAMEWORKS:
        return head, rest
    return framework, subject


def unknown(framework: str | None, subject: str) -> str | None:
    """Why a declared subject means nothing in its framework's vocabulary (a typo), else None.
    Object kinds and resource types are open sets (CRDs, new providers) and only checked for
    their shape."""
    if framework == "cross":
        for alternative in subject.split("|"):
            if split(alternative, None)[0] is None:
                return f"{alternative!r}: a cross-artifact subject names its framework (`kubernetes:Service`)"
            why = unknown(None, alternative)
            if why is not None:
                return why
        return None
    fw, s = split(subject, framework)
    if fw == "local":
        return None if s == "cluster" else "not `cluster`"
    if fw == "kubernetes":
        if s in _K8S_NOUNS or re.fullmatch(r"[A-Z][A-Za-z0-9]*", s):
            return None
        if s.startswith("image:"):
            try:
                re.compile(s[len("image:") :])
            except re.error as exc:
                return f"image pattern does not compile: {exc}"
            return None
        return "not an object kind nor one of " + ", ".join(sorted(_K8S_NOUNS)) + ", image:<regex>"
    if fw == "terraform":
        if s in _TF_NOUNS or re.fullmatch(r"[a-z0-9]+_[a-z0-9_]+", s):
            return None
        return "not a resource type nor one of " + ", ".join(sorted(_TF_NOUNS))
    if fw == "github":
        if s in _GHA_NOUNS or (s.startswith("on:") and len(s) > 3) or re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w./-]+)?", s):
            return None
        return "not an action (owner/repo) nor on:<event> nor one of " + ", ".join(sorted(_GHA_NOUNS))
    if fw == "argocd":
        return None if s in _ARGO_KINDS or s == "cluster" else "not one of " + ", ".join([*_ARGO_KINDS, "cluster"])
    if fw == "docker":
        if s in _DOCKER_NOUNS or re.fullmatch(r"[A-Z]+", s):
            return None
        return "not an instruction keyword (ENV, USER...) nor one of " + ", ".join(_DOCKER_NOUNS)
    return None  # a framework without a vocabulary here: its subjects are not counted


def count(
    project: Any,
    framework: str | None,
    subjects: Iterable[str],
    tf_envs: Sequence[Environment],
    k8s_envs: Sequence[K8sEnvironment],
) -> Counted | None:
    """The subjects found in the model: Terraform and Kubernetes ones in the environments
    given (the chosen ones the rule applies to), the others in the whole repository. None when
    a subject's framework has no vocabulary here."""
    if framework == "cross":
        return _sides(project, subjects, tf_envs, k8s_envs)
    out = Counted()
    for subject in subjects:
        fw, s = split(subject, framework)
        counter = _COUNTERS.get(fw or "")
        if counter is None:
            return None
        counter(out, project, s, tf_envs, k8s_envs)
    return out


def _sides(
    project: Any, sides: Iterable[str], tf_envs: Sequence[Environment], k8s_envs: Sequence[K8sEnvironment]
) -> Counted | None:
    """A cross-artifact check's sides (see the module docstring): nothing when one is empty."""
    out = Counted()
    for side in sides:
        found = count(project, None, side.split("|"), tf_envs, k8s_envs)
        if found is None:
            return None
        if not found.total:
            return Counted()
        out.parts.update(found.parts)
    return out


def _kubernetes(out: Counted, project: Any, s: str, tf_envs: Any, envs: Sequence[K8sEnvironment]) -> None:
    if s == "environment":
        out.add("Kubernetes environments", "Kubernetes environments", len(envs))
    elif s in ("kustomization", "remote-ref"):
        # every one when every environment is chosen (a kustomization no environment builds
        # is read too), else those the chosen environments build
        every = len(envs) == len(project.kubernetes.environments)
        dirs = {d for e in envs for d in e.dirs}
        if s == "kustomization":
            n = sum(1 for o in project.kubernetes.overlays if every or o.path in dirs)
            out.add("kustomizations", "kustomizations", n)
        else:
            n = sum(1 for r in project.kubernetes.remote_refs if every or r.kustomization in dirs)
            out.add("remote references", "remote references", n)
    elif s.startswith("image:"):
        pattern = re.compile(s[len("image:") :])
        n = 0
        for env in envs:
            for w in facts(env).pod_workloads():
                names = [
                    f"{c.image.registry}/{c.image.repository}" if c.image.registry else c.image.repository
                    for c in w.all_containers
                    if c.image is not None
                ]
                n += any(pattern.search(name) for name in names)
        out.add("workloads", "with a matching image", n)
    else:
        for env in envs:
            for o in env.objects:
                if s == "*" or o.kind == s:
                    out.add("objects", "objects" if s == "*" else o.kind, 1)


def _terraform(out: Counted, project: Any, s: str, envs: Sequence[Environment], k8s_envs: Any) -> None:
    if s == "environment":
        out.add("Terraform environments", "Terraform environments", len(envs))
    elif s == "variable":
        out.add("root-module variables", "root-module variables", sum(len(e.module.variables) for e in envs))
    elif s == "tfvars":
        n = sum(1 for e in envs for t in e.module.tfvars if t.kind != "example")
        out.add("variable files", "variable files", n)
    elif s == "count":
        n = 0
        for env in envs:
            for inst in env.instances:
                n += sum(1 for r in inst.module.resources if r.count is not None or r.for_each is not None)
                n += sum(1 for c in inst.module.module_calls.values() if c.count is not None or c.for_each is not None)
        out.add("`count` / `for_each` expressions", "`count` / `for_each` expressions", n)
    elif s == "provider-alias":
        n = 0
        for env in envs:
            for inst in env.instances:
                mod = inst.module
                n += sum(1 for p in mod.providers if p.alias)
                n += sum(1 for r in mod.resources if r.provider and "." in r.provider)
                n += sum(1 for c in mod.module_calls.values() if c.providers)
        out.add("aliased provider uses", "aliased provider uses", n)
    elif s == "module-call":
        n = sum(
            1
            for env in envs
            for inst in env.instances
            for c in inst.module.module_calls.values()
            if c.resolved_dir is not None
        )
        out.add("local module calls", "local module calls", n)
    else:
        for env in envs:
            for ri in existing(env) if s == "*" else existing(env, s):
                out.add("resources", "resources" if s == "*" else f"`{ri.type}`", 1)


def _github(out: Counted, project: Any, s: str, tf_envs: Any, k8s_envs: Any) -> None:
    wp = project.workflows
    jobs = [j for _, j in wp.jobs()]
    steps = list(wp.steps())
    plain: dict[str, tuple[str, Callable[[], int]]] = {
        "workflow": ("workflows", lambda: len(wp.workflows)),
        "action": ("local actions", lambda: len(wp.actions)),
        "job": ("jobs", lambda: len(jobs)),
        "step": ("steps", lambda: len(steps)),
        "run": ("`run:` steps", lambda: sum(1 for st in steps if st.run is not None)),
        "call": ("reusable-workflow calls", lambda: sum(1 for j in jobs if j.is_call)),
        "uses": (
            "remote `uses:`",
            lambda: (
                sum(1 for st in steps if st.uses is not None and not st.uses.is_local)
                + sum(1 for j in jobs if j.uses is not None and not j.uses.is_local)
            ),
        ),
        "local": (
            "local `uses:`",
            lambda: (
                sum(1 for st in steps if st.uses is not None and st.uses.is_local)
                + sum(1 for j in jobs if j.uses is not None and j.uses.is_local)
            ),
        ),
        "build": ("image build steps", lambda: sum(1 for st in steps if st.builds)),
        "login": ("registry login steps", lambda: sum(1 for st in steps if st.logins)),
        "edit": ("file-rewriting steps", lambda: sum(1 for st in steps if st.edits)),
        "container": (
            "containers (job containers, services, `docker://` steps)",
            lambda: (
                sum((j.container is not None) + len(j.services) for j in jobs)
                + sum(1 for st in steps if st.uses is not None and st.uses.kind == "docker")
            ),
        ),
    }
    if s in plain:
        family, n = plain[s]
        out.add(family, family, n())
    elif s.startswith("on:"):
        event = s[3:]
        out.add("workflows", f"started by `{event}`", sum(1 for w in wp.workflows if w.trigger(event) is not None))
    else:
        want = s.lower()
        out.add("steps", f"`{s}`", sum(1 for st in steps if st.uses is not None and st.uses.action == want))


def _argocd(out: Counted, project: Any, s: str, tf_envs: Any, k8s_envs: Any) -> None:
    argo = project.argocd
    found = {
        "Application": argo.applications,
        "ApplicationSet": argo.application_sets,
        "AppProject": argo.projects,
        "cluster": argo.clusters,
    }[s]
    family = _ARGO_KINDS.get(s, "declared clusters")
    out.add(family, family, len(found))


def _docker(out: Counted, project: Any, s: str, tf_envs: Any, k8s_envs: Any) -> None:
    files = project.docker.files
    if s == "Dockerfile":
        n = len(files)
    elif s == "stage":
        n = sum(len(f.stages) for f in files)
    elif s == "final-stage":
        n = sum(1 for f in files if f.final_stage is not None)
    elif s == "image":
        n = sum(1 for f in files for _, use in f.image_uses() if use.kind in ("image", "unknown"))
    else:
        n = sum(1 for i in project.docker.instructions() if i.kind == s)
        out.add("instructions", f"`{s}`", n)
        return
    out.add(_DOCKER_NOUNS[s], _DOCKER_NOUNS[s], n)


def _local(out: Counted, project: Any, s: str, tf_envs: Any, k8s_envs: Any) -> None:
    family = "local cluster configurations"
    out.add(family, family, len(project.local_clusters.clusters))


_COUNTERS: dict[str, Callable[[Counted, Any, str, Any, Any], None]] = {
    "local": _local,
    "kubernetes": _kubernetes,
    "terraform": _terraform,
    "github": _github,
    "argocd": _argocd,
    "docker": _docker,
}
