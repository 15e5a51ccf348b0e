"""urr-audit against zizmor on the same workflows, per (file, audit, line).

zizmor (`zizmor --offline --format json`, PyPI) is the reference for the audits both tools
have. Each urr-audit rule maps to one zizmor audit (`AUDITS`); a finding is the triple
(file, audit, line of the primary location). A triple both report agrees; every other one must
be claimed by a named known difference (`KNOWN`), which says who is right and why.

Run as a script to print the agreement figure and the differences:
`python tests/checks/github/zizmor_diff.py [ROOT ...]` (default: fixtures/workflows).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from tests.oracles import tool
from urr_audit.checks.github.security.taint import TaintParams
from urr_audit.scan import scan

CORPUS = ROOT / "fixtures" / "workflows"
SEED = [ROOT / "fixtures" / "repos" / "urr", ROOT / "fixtures" / "repos" / "urr-fixed"]

AUDITS = {
    "URR-GHA-010": "unpinned-uses",
    "URR-GHA-012": "excessive-permissions",
    "URR-GHA-013": "excessive-permissions",
    "URR-GHA-014": "excessive-permissions",
    "URR-GHA-015": "dangerous-triggers",
    "URR-GHA-016": "template-injection",
    "URR-GHA-018": "artipacked",
    "URR-GHA-019": "secrets-inherit",
    "URR-GHA-020": "cache-poisoning",
    "URR-GHA-021": "insecure-commands",
    "URR-GHA-022": "github-env",
    "URR-GHA-023": "hardcoded-container-credentials",
    "URR-GHA-024": "overprovisioned-secrets",
    "URR-GHA-025": "unredacted-secrets",
    "URR-GHA-026": "bot-conditions",
    "URR-GHA-027": "unpinned-images",
}
OVERLAP = frozenset(AUDITS.values())


@dataclass(frozen=True)
class Z:
    """A zizmor finding's primary location."""

    path: str
    audit: str
    line: int
    end_line: int
    column: int
    severity: str
    confidence: str
    annotation: str

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.path, self.audit, self.line)


@dataclass(frozen=True)
class U:
    """An urr-audit finding."""

    path: str
    audit: str
    line: int
    rule: str
    address: str
    related: tuple[int, ...]
    message: str

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.path, self.audit, self.line)


def zizmor_version() -> str | None:
    exe = tool("zizmor")
    if exe is None:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip()


@cache
def zizmor(root: Path) -> tuple[Z, ...]:
    exe = tool("zizmor")
    assert exe is not None
    # `--no-config`: zizmor's defaults, whatever config a developer has around
    out = subprocess.run(
        [exe, "--offline", "--no-config", "--format", "json", "--no-progress", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    found = []
    for f in json.loads(out.stdout):
        if f["ident"] not in OVERLAP:
            continue
        for loc in f["locations"]:
            if loc["symbolic"]["kind"] != "Primary":
                continue
            path = Path(loc["symbolic"]["key"]["Local"]["verbatim_path"]).resolve().relative_to(root.resolve())
            c = loc["concrete"]["location"]
            found.append(
                Z(
                    path=path.as_posix(),
                    audit=f["ident"],
                    line=c["start_point"]["row"] + 1,
                    end_line=c["end_point"]["row"] + 1,
                    column=c["start_point"]["column"] + 1,
                    severity=f["determinations"]["severity"],
                    confidence=f["determinations"]["confidence"],
                    annotation=loc["symbolic"]["annotation"],
                )
            )
    return tuple(found)


@cache
def urr(root: Path) -> tuple[U, ...]:
    report = scan(root, select=list(AUDITS))
    return tuple(
        U(
            path=f.path,
            audit=AUDITS[f.rule_id],
            line=f.line,
            rule=f.rule_id,
            address=f.address or "",
            related=tuple(r.line for r in f.related if r.path == f.path),
            message=f.message,
        )
        for f in report.result.findings
    )


# --- known differences ---------------------------------------------------------------------------


@dataclass
class Diff:
    root: Path
    zs: tuple[Z, ...]
    us: tuple[U, ...]
    agree: set[tuple[str, str, int]] = field(default_factory=set)
    z_only: list[Z] = field(default_factory=list)
    u_only: list[U] = field(default_factory=list)

    def text(self, path: str, line: int) -> str:
        lines = (self.root / path).read_text(encoding="utf-8").splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def workflow(self, path: str) -> str:
        return (self.root / path).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Known:
    """A difference between the tools that is understood: which side reports it, how to
    recognise it, and who is right (with GitHub's documented behaviour as the reason)."""

    name: str
    side: str  # "zizmor": zizmor reports it, urr-audit does not; "urr": the reverse
    right: str  # "urr-audit", "zizmor", or "both" (the same finding, located differently)
    reason: str
    claims: Callable[[Diff, Z | U], bool]


def _paired(d: Diff, z: Z) -> U | None:
    """The urr-audit finding of the same audit and file that zizmor locates elsewhere."""
    for u in d.us:
        if u.path != z.path or u.audit != z.audit or u.key in d.agree:
            continue
        if z.line in u.related or z.line <= u.line <= z.end_line:
            return u
    return None


def _paired_u(d: Diff, u: U) -> bool:
    return any(_paired(d, z) == u for z in d.z_only)


_CONTEXT_AT = re.compile(r"[A-Za-z_][\w\-]*(?:\.[\w\-*]+|\[[^\]]*\])*")


def _context(d: Diff, z: Z) -> str:
    """The context zizmor points at (its column is the context's first character)."""
    m = _CONTEXT_AT.match(d.text(z.path, z.line)[z.column - 1 :])
    return m.group(0) if m else ""


_NOT_ATTACKER = re.compile(
    r"^github\.(actor|triggering_actor|ref|ref_name|base_ref|event\.(pull_request\.(user|head\.user)\.login|"
    r"pull_request\.head\.repo\.(full_name|name|owner\.login)|sender\.login|repository\.\w+))$"
)


def _events(d: Diff, path: str) -> set[str]:
    """The events of a workflow file (zizmor's corpus: the file's own `on:`)."""
    report_root = d.root
    project = _project(report_root)
    return set(project.triggering_events(path)) if project.workflow(path) else set()


@cache
def _project(root: Path):
    return scan(root, select=["URR-GHA-010"]).project.workflows


def _source_events(context: str) -> set[str] | None:
    parts = context.lower().split(".")
    for s in TaintParams().sources:
        for c in s.contexts:
            pattern = c.lower().split(".")
            if all(p == "*" or p == q for p, q in zip(pattern, parts, strict=False)):
                return set(s.events)
    return None


def _release_triggered(d: Diff, path: str) -> bool:
    wf = _project(d.root).workflow(path)
    return wf is not None and any(t.event == "release" or (t.event == "push" and t.tags) for t in wf.triggers)


def _uses_line(d: Diff, u: U) -> str:
    return d.text(u.path, u.line)


_EXPANSION = re.compile(r"`(\$\{\{.*?\}\})`")


def _repeated_expansion(d: Diff, u: U) -> bool:
    """zizmor reports the same expansion twice at an earlier line of the same script, and
    urr-audit's line holds that expansion again."""
    m = _EXPANSION.search(u.message)
    if m is None:
        return False
    lines = [z.line for z in d.zs if z.path == u.path and z.audit == u.audit]
    return any(
        lines.count(line) > 1 and line < u.line and m.group(1) in d.text(u.path, line) for line in set(lines)
    ) and m.group(1) in d.text(u.path, u.line)


KNOWN: list[Known] = [
    Known(
        "located differently",
        "both",
        "both",
        "The same weakness, located at the line to edit by urr-audit (the `secrets: inherit` line, the "
        "`ACTIONS_ALLOW_UNSECURE_COMMANDS` variable, the password, the write to GITHUB_ENV, the checkout of "
        "the untrusted code) and at the enclosing block, the `uses:` or the trigger by zizmor; zizmor's "
        "line is one of urr-audit's related locations or its block contains urr-audit's line.",
        lambda d, f: (_paired(d, f) is not None) if isinstance(f, Z) else _paired_u(d, f),
    ),
    Known(
        "untraced context",
        "zizmor",
        "urr-audit",
        "zizmor reports, at informational severity and low confidence, expansions whose origin it does not "
        "follow (`env.*`, step and job outputs, `vars.*`, `job.status`, `matrix.*`). urr-audit follows env, "
        "GITHUB_ENV, step outputs, composite action outputs and job outputs to their origin and reports only "
        "those that start at attacker-controlled text; `job.status` is success, failure or cancelled.",
        lambda d, f: isinstance(f, Z) and f.audit == "template-injection" and f.confidence == "Low",
    ),
    Known(
        "logins and the repository's own refs",
        "zizmor",
        "urr-audit",
        "zizmor treats `github.actor`, logins (`pull_request.user.login`), repository names and the "
        "repository's refs (`github.ref_name`, `github.base_ref`) as attacker-controlled. GitHub usernames "
        "and app slugs are letters, digits and hyphens (plus `[bot]`), repository names letters, digits, "
        "`.`, `-`, `_`: none can break out of a shell word. Branch and tag names of the repository itself are "
        "created by people with write access, who can edit the workflow anyway.",
        lambda d, f: isinstance(f, Z) and f.audit == "template-injection" and bool(_NOT_ATTACKER.match(_context(d, f))),
    ),
    Known(
        "context the workflow's events never set",
        "zizmor",
        "urr-audit",
        "zizmor reports attacker-controlled event fields whatever the trigger. A field the workflow's events "
        "do not carry (`github.head_ref` outside pull request events, `head_commit` outside `push`) expands "
        "to an empty string (GitHub's webhook payloads per event).",
        lambda d, f: (
            isinstance(f, Z)
            and f.audit == "template-injection"
            and (ev := _source_events(_context(d, f))) is not None
            and bool(_events(d, f.path))
            and not (ev & _events(d, f.path))
        ),
    ),
    Known(
        "privileged trigger that runs no pull request code",
        "zizmor",
        "urr-audit",
        "zizmor reports `pull_request_target`, `workflow_run` and `issue_comment` wherever they appear. GitHub "
        "documents them as safe when the job does not check out or run the pull request's code; urr-audit "
        "reports the checkout of the untrusted head (URR-GHA-015), and the injections and environment writes "
        "such workflows make have their own rules.",
        lambda d, f: isinstance(f, Z) and f.audit == "dangerous-triggers" and _paired(d, f) is None,
    ),
    Known(
        "workflow-level write scope every job uses",
        "zizmor",
        "urr-audit",
        "zizmor reports every write scope granted at the workflow level of a multi-job workflow. urr-audit "
        "reports a scope when some job gets it without using it; when every job uses it (or may, through a "
        "step whose token use cannot be seen through), the token each job holds is the same as with job-level "
        "grants.",
        lambda d, f: (
            isinstance(f, Z)
            and f.audit == "excessive-permissions"
            and "overly broad at the workflow level" in f.annotation
        ),
    ),
    Known(
        "workflow-level permissions of a single-job workflow",
        "urr",
        "urr-audit",
        "zizmor does not judge `permissions:` written at the workflow level when the workflow has one job. "
        "GitHub grants that block to the job all the same: `write-all` or an unused write scope there is as "
        "broad as on the job.",
        lambda d, f: (
            isinstance(f, U)
            and f.rule in ("URR-GHA-013", "URR-GHA-014")
            and "/jobs/" not in f.address
            and len(_project(d.root).workflow(f.path).jobs) == 1
        ),  # type: ignore[union-attr]
    ),
    Known(
        "job-level write scope no step uses",
        "urr",
        "urr-audit",
        "zizmor trusts write scopes granted at the job level. urr-audit reports those no step of the job can "
        "use (actions of known needs, no token handed to a script): a compromised step holds them all the same.",
        lambda d, f: isinstance(f, U) and f.rule == "URR-GHA-014" and "/jobs/" in f.address,
    ),
    Known(
        "cache restore action",
        "urr",
        "urr-audit",
        "zizmor does not report `actions/cache/restore`, which restores a cache exactly like `actions/cache` "
        "(without saving one): in a publishing job it is the poisoning vector.",
        lambda d, f: isinstance(f, U) and f.audit == "cache-poisoning" and "actions/cache/restore" in _uses_line(d, f),
    ),
    Known(
        "publishing by command",
        "urr",
        "urr-audit",
        "zizmor recognises publishing jobs by the actions they use and release workflows by their triggers; "
        "urr-audit also by the commands that publish (`npm publish`, `twine upload`, `docker push`, "
        "`gh release create`), in workflows that run on any event.",
        lambda d, f: (
            isinstance(f, U)
            and f.audit == "cache-poisoning"
            and "actions/cache/restore" not in _uses_line(d, f)
            and not _release_triggered(d, f.path)
            and re.search(
                r"publishes \((`(npm|pnpm|yarn|twine|uv|poetry|cargo|gem|gh|docker|mvn|gradle)|an image push)",
                f.message,
            )
            is not None
        ),
    ),
    Known(
        "repeated expansion located at its first occurrence",
        "urr",
        "urr-audit",
        "When a script expands the same `${{ }}` on two lines and an earlier line of the script holds certain "
        "text (a `41898282+github-actions[bot]@...` e-mail address is enough), zizmor 1.x reports both "
        "expansions at the first one's line and column. Both are injections and each is fixed where it is "
        "written; urr-audit reports each at its own line.",
        lambda d, f: isinstance(f, U) and f.audit == "template-injection" and _repeated_expansion(d, f),
    ),
    Known(
        "setup-node without a cache input",
        "zizmor",
        "urr-audit",
        "zizmor reports `actions/setup-node` without `package-manager-cache: false`. setup-node (v5 and later) "
        "caches on its own only for npm projects whose package.json declares `packageManager`; urr-audit "
        "reports setup-node when `cache:` is set.",
        lambda d, f: isinstance(f, Z) and f.audit == "cache-poisoning" and "package-manager-cache" in f.annotation,
    ),
]


def diff(root: Path) -> Diff:
    zs, us = zizmor(root), urr(root)
    d = Diff(root, zs, us)
    zk, uk = {z.key for z in zs}, {u.key for u in us}
    d.agree = zk & uk
    d.z_only = sorted({z.key: z for z in zs if z.key not in uk}.values(), key=lambda z: z.key)
    d.u_only = sorted((u for u in us if u.key not in zk), key=lambda u: u.key)
    return d


def classify(d: Diff, f: Z | U) -> list[str]:
    side = "zizmor" if isinstance(f, Z) else "urr"
    return [k.name for k in KNOWN if k.side in (side, "both") and k.claims(d, f)]


def main(roots: list[Path]) -> None:
    print(zizmor_version())
    total_agree = total = 0
    for root in roots:
        d = diff(root)
        keys = {z.key for z in d.zs} | {u.key for u in d.us}
        total_agree += len(d.agree)
        total += len(keys)
        print(f"{root.relative_to(ROOT)}: {len(d.agree)} agreeing / {len(keys)} (file, audit, line) triples")
        for f in [*d.z_only, *d.u_only]:
            side = "zizmor" if isinstance(f, Z) else "urr-audit"
            names = classify(d, f) or ["UNEXPLAINED"]
            print(f"  {side:9} {f.path}:{f.line} {f.audit}: {', '.join(names)}")
    print(f"all: {total_agree} agreeing / {total}")


if __name__ == "__main__":
    main([Path(a).resolve() for a in sys.argv[1:]] or [CORPUS, *SEED])
