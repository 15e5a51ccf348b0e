"""Discovery of check templates through the `urr_audit.checks` entry point group.

Built-in checks are registered exactly like third-party ones. An entry point names a module
or package; every function in it (and its submodules) marked with `@check` is a template.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from functools import cache
from importlib.metadata import entry_points
from types import ModuleType

from urr_audit.checks.api import CheckSpec

GROUP = "urr_audit.checks"
BUILTIN = (
    "urr_audit.checks.common",
    "urr_audit.checks.terraform",
    "urr_audit.checks.kubernetes",
    "urr_audit.checks.github",
    "urr_audit.checks.argocd",
    "urr_audit.checks.docker",
)


class RegistryError(Exception):
    pass


def _modules(mod: ModuleType):
    yield mod
    if hasattr(mod, "__path__"):
        for info in sorted(pkgutil.iter_modules(mod.__path__), key=lambda i: i.name):
            yield from _modules(importlib.import_module(f"{mod.__name__}.{info.name}"))


@cache
def load_checks() -> dict[str, CheckSpec]:
    names = {ep.value for ep in entry_points(group=GROUP)}
    # Running from a source tree without installed metadata still finds the built-ins.
    names.update(n for n in BUILTIN if importlib.util.find_spec(n) is not None)
    specs: dict[str, CheckSpec] = {}
    for name in sorted(names):
        for mod in _modules(importlib.import_module(name)):
            for obj in vars(mod).values():
                spec = getattr(obj, "__urr_check__", None)
                if not isinstance(spec, CheckSpec) or spec.module != mod.__name__:
                    continue
                if spec.name in specs and specs[spec.name].fn is not spec.fn:
                    raise RegistryError(
                        f"check {spec.name!r} defined twice: {specs[spec.name].module} and {spec.module}"
                    )
                specs[spec.name] = spec
    return specs
