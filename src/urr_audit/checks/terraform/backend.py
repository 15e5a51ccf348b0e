"""State backend checks: where a root module keeps its state."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from urr_audit.checks.api import Context, Hit, NoParams, check
from urr_audit.checks.terraform._roots import looks_deployed
from urr_audit.model.common import Span
from urr_audit.model.terraform import Environment, ModuleDir


class RemoteBackendParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Backend types that keep state on the machine running Terraform. `cloud {}` is recorded
    # by the loader as type "cloud" and is remote.
    local_types: list[str] = ["local"]
    # Only roots that show they are deployed (see _roots.py); False checks every root module.
    deployed_only: bool = True


def _first_block(module: ModuleDir) -> Span | None:
    spans: list[Span] = [
        *(r.span for r in module.resources),
        *(v.span for v in module.variables.values()),
        *(loc.span for loc in module.locals.values()),
        *(o.span for o in module.outputs.values()),
        *(p.span for p in module.providers),
        *(c.span for c in module.module_calls.values()),
        *(s.span for s in module.settings),
        *(b.span for b in module.other_blocks),
    ]
    tf_files = sorted(f for f in module.files if f.endswith((".tf", ".tf.json")))
    for f in tf_files:
        in_file = [s for s in spans if s.path == f]
        if in_file:
            return min(in_file, key=lambda s: s.line)
    if tf_files:
        return Span(path=tf_files[0], line=1, end_line=1)
    return None


@check(
    "tf-remote-backend",
    scope="terraform.environment",
    params=RemoteBackendParams,
    no_subjects="each root environment as a whole: whether any of its files declares a backend",
)
def remote_backend(ctx: Context, env: Environment, params: RemoteBackendParams) -> Iterator[Hit]:
    """A root module must keep its state in a remote backend (every file of the directory counts)."""
    backends = env.module.backends
    if any(b.type not in params.local_types for b in backends):
        return
    if params.deployed_only and not looks_deployed(env):
        return
    settings = sorted(env.module.settings, key=lambda s: (s.span.path, s.span.line))
    anchor = settings[0].span if settings else _first_block(env.module)
    if backends:  # a local backend: the declaration to replace
        anchor = min((b.span for b in backends), key=lambda s: (s.path, s.line))
    if anchor is None:
        return
    if backends:
        kinds = ", ".join(sorted({f'"{b.type}"' for b in backends}))
        what = f"declares only a local backend ({kinds}) at {backends[0].span}"
        related = [b.span for b in backends]
    else:
        what = f"declares no backend in any of its {len(env.module.files)} file(s)"
        related = []
    yield ctx.finding(
        at=anchor,
        message=(
            f"environment `{env.name}` ({env.path}) {what}: state stays on the machine that runs "
            "Terraform, with no shared copy and no lock"
        ),
        address=env.path,
        environment=env.name,
        related=related,
    )


@check(
    "tf-duplicate-backend",
    scope="terraform.module",
    no_subjects="each module directory as a whole: the backends its files declare together",
)
def duplicate_backend(ctx: Context, module: ModuleDir, params: NoParams) -> Iterator[Hit]:
    """A module may declare its backend (or `cloud {}`) once; Terraform rejects a second one."""
    backends = sorted(module.backends, key=lambda b: (b.span.path, b.span.line))
    if len(backends) < 2:
        return
    first = backends[0]
    for i, extra in enumerate(backends[1:], 1):
        yield ctx.finding(
            at=extra,
            message=(
                f'backend "{extra.type}" declared again in {module.path}; the first declaration is '
                f'backend "{first.type}" at {first.span}'
            ),
            address=f"{module.path}/terraform.backend[{i}]",
            related=[first.span],
        )
