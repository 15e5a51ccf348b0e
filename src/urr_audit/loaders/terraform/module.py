"""Generic blocks of one directory's files -> a typed `ModuleDir`."""

from __future__ import annotations

import re
from typing import Any

from urr_audit.loaders.terraform.parse import object_fields, object_texts
from urr_audit.model.common import LoadError
from urr_audit.model.terraform import (
    Attribute,
    Backend,
    Block,
    Expression,
    Local,
    ModuleCall,
    ModuleDir,
    Output,
    Provider,
    Resource,
    TerraformSettings,
    Variable,
)

MODULE_META_ARGS = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})
OTHER_BLOCK_TYPES = frozenset({"moved", "import", "check", "removed"})
_REGISTRY_RE = re.compile(r"^(?:[a-z0-9.-]+\.[a-z]{2,}/)?[A-Za-z0-9_-]+/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+(?://.*)?$")


def source_kind(source: str) -> str:
    if source.startswith(("./", "../")) or source in (".", ".."):
        return "local"
    if source.startswith(("git::", "github.com/", "bitbucket.org/", "git@")):
        return "git"
    if source.startswith("s3::"):
        return "s3"
    if source.startswith("gcs::"):
        return "gcs"
    if source.startswith(("http://", "https://")):
        return "http"
    if _REGISTRY_RE.match(source):
        return "registry"
    return "other"


def _literal_str(attr: Attribute | None) -> str | None:
    if attr is None:
        return None
    v = attr.expr.literal
    return v.value if v.is_known and isinstance(v.value, str) else None


def _literal_bool(attr: Attribute | None, default: bool) -> bool:
    if attr is None:
        return default
    v = attr.expr.literal
    return v.value if v.is_known and isinstance(v.value, bool) else default


def _provider_ref(attr: Attribute | None) -> str | None:
    """`aws.us_east_1` as written: a reference in HCL, a string in JSON syntax (or legacy HCL)."""
    if attr is None:
        return None
    v = attr.expr.literal
    return v.value.strip() if v.is_known and isinstance(v.value, str) else attr.expr.text.strip()


def _depends_on(expr: Expression | None) -> list[str]:
    return list(expr.references) if expr is not None else []


def add_blocks(mod: ModuleDir, blocks: list[Block], errors: list[LoadError]) -> None:
    for b in blocks:
        t, labels = b.type, b.labels
        if t in ("resource", "data") and len(labels) == 2:
            mode = "managed" if t == "resource" else "data"
            address = f"{labels[0]}.{labels[1]}" if mode == "managed" else f"data.{labels[0]}.{labels[1]}"
            prov = b.attr("provider")
            mod.resources.append(
                Resource(
                    mode=mode,
                    type=labels[0],
                    name=labels[1],
                    address=address,
                    span=b.span,
                    body=b,
                    count=b.attr("count").expr if b.attr("count") else None,
                    for_each=b.attr("for_each").expr if b.attr("for_each") else None,
                    provider=_provider_ref(prov),
                )
            )
        elif t == "variable" and len(labels) == 1:
            type_attr = b.attr("type")
            mod.variables[labels[0]] = Variable(
                name=labels[0],
                span=b.span,
                type=type_attr.expr.text.strip() if type_attr else None,
                type_expr=type_attr.expr if type_attr else None,
                description=_literal_str(b.attr("description")),
                default=b.attr("default").expr if b.attr("default") else None,
                sensitive=_literal_bool(b.attr("sensitive"), False),
                nullable=_literal_bool(b.attr("nullable"), True),
                validations=b.blocks_of("validation"),
            )
        elif t == "locals":
            for name, a in b.attributes.items():
                mod.locals[name] = Local(name=name, span=a.span, expr=a.expr)
        elif t == "output" and len(labels) == 1:
            value = b.attr("value")
            if value is None:
                errors.append(
                    LoadError.at(
                        b.span,
                        kind="terraform.invalid",
                        message=f'output "{labels[0]}" has no value attribute',
                    )
                )
                continue
            mod.outputs[labels[0]] = Output(
                name=labels[0], span=b.span, expr=value.expr, sensitive=_literal_bool(b.attr("sensitive"), False)
            )
        elif t == "provider" and len(labels) == 1:
            mod.providers.append(Provider(name=labels[0], alias=_literal_str(b.attr("alias")), span=b.span, body=b))
        elif t == "module" and len(labels) == 1:
            add_module_call(mod, b, errors)
        elif t == "terraform":
            mod.settings.append(settings_of(b))
        elif t in OTHER_BLOCK_TYPES:
            mod.other_blocks.append(b)


def add_module_call(mod: ModuleDir, b: Block, errors: list[LoadError]) -> None:
    name = b.labels[0]
    source = _literal_str(b.attr("source"))
    if source is None:
        errors.append(
            LoadError.at(
                b.span,
                kind="terraform.invalid",
                message=f'module "{name}" has no literal source',
                address=f"module.{name}",
            )
        )
        source = ""
    providers = b.attr("providers")
    mod.module_calls[name] = ModuleCall(
        name=name,
        span=b.span,
        source=source,
        source_kind=source_kind(source) if source else "other",
        version=_literal_str(b.attr("version")),
        arguments={k: a for k, a in b.attributes.items() if k not in MODULE_META_ARGS},
        count=b.attr("count").expr if b.attr("count") else None,
        for_each=b.attr("for_each").expr if b.attr("for_each") else None,
        depends_on=_depends_on(b.attr("depends_on").expr if b.attr("depends_on") else None),
        providers=(object_texts(providers.expr) or {}) if providers is not None else {},
        providers_span=providers.span if providers is not None else None,
    )


def settings_of(b: Block) -> TerraformSettings:
    s = TerraformSettings(span=b.span, required_version=_literal_str(b.attr("required_version")))
    for rp in b.blocks_of("required_providers"):
        for pname, a in rp.attributes.items():
            v = a.expr.literal
            entry: dict[str, Any]
            if v.is_known and isinstance(v.value, dict):
                entry = dict(v.value)
            elif v.is_known and isinstance(v.value, str):
                entry = {"version": v.value}  # legacy `aws = "~> 4.0"` form
            else:
                # `configuration_aliases = [aws.x]` holds references: read the literal fields
                fields = object_fields(a.expr)
                entry = {"expression": a.expr.text, **(fields or {})}
            s.required_providers[pname] = entry
    for child in b.blocks:
        if child.type == "backend":
            s.backends.append(Backend(type=child.labels[0] if child.labels else "", span=child.span, config=child))
        elif child.type == "cloud":
            s.backends.append(Backend(type="cloud", span=child.span, config=child))
    return s
