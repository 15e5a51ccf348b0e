"""Which root modules are deployed environments, as opposed to reusable modules or examples.

A repository of reusable modules has roots too (a module no one in the repository calls);
it configures no provider, keeps no state and ships no variable values, because its callers
do. Rules about how an environment is deployed (state backend, input values) apply to roots
that show they are run: a backend, a provider configuration, or a variable file.
"""

from __future__ import annotations

from urr_audit.model.terraform import Environment


def looks_deployed(env: Environment) -> bool:
    module = env.module
    return bool(module.backends or module.providers or module.tfvars)
