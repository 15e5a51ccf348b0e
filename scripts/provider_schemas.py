#!/usr/bin/env python3
"""Regenerate the compact Terraform provider schema tables shipped in `urr_audit/providers/data`.

Source: the prebuilt CDKTF provider packages on npm (`@cdktf/provider-aws` ...). Each records
the Terraform provider version it was generated from (`package.json` -> `cdktf.provider`), and
its jsii assembly (`.jsii`) lists every resource and data source type with its configuration
struct: one property per argument or nested block, with the Terraform name (the anchor of the
registry link in its docs), whether it is optional, its type, and "<name> block." for blocks.
The generated JavaScript adds what the assembly leaves out: read-only (computed-only)
attributes, marked `// arn - computed: true, optional: false, required: false`.

One table per provider major version (a constraint selects a major; arguments come and go
between majors), from the last package generated from that major. The pins below are that
choice; `--check` verifies each package still records the provider version pinned here.

Usage:
    python scripts/provider_schemas.py [--cache DIR] [--out DIR] [--only aws-6]

Packages are fetched with `npm pack` (the ordinary npm client) into the cache directory and
read from the tarball; nothing is installed. The output is deterministic: the same packages
give byte-identical files (sorted keys, gzip without a timestamp).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "urr_audit" / "providers" / "data"
CACHE = ROOT / ".cache" / "cdktf-providers"

# provider -> major -> (npm package version, the provider version it was generated from, final).
# The last package of each major (checked with `npm view @cdktf/provider-<p>@'>=0.0.1'
# cdktf.provider.version`); CDKTF was deprecated in 2025, so these are the last there are.
# `final`: that provider version is the last release of its major (aws 4.67.0, aws 5.100.0,
# helm 2.17.0), so no later release of the major can accept an argument the table lacks;
# for the others a later minor release may add arguments and types (see providers.Table.final).
PINS: dict[str, dict[int, tuple[str, str, bool]]] = {
    "aws": {4: ("15.0.0", "4.67.0", True), 5: ("20.1.0", "5.100.0", True), 6: ("21.22.1", "6.25.0", False)},
    "kubernetes": {2: ("12.1.1", "2.38.0", False)},
    "helm": {2: ("11.0.0", "2.17.0", True), 3: ("12.1.2", "3.1.1", False)},
    "random": {3: ("12.0.1", "3.7.2", False)},
    "archive": {2: ("11.0.1", "2.7.1", False)},
    "local": {2: ("11.1.1", "2.6.1", False)},
    "tls": {4: ("11.0.1", "4.1.0", False)},
    "null": {3: ("11.0.1", "3.2.4", False)},
}

_LINK = re.compile(r"\{@link (\S+) ([^}]+)\}")
_ANCHOR = re.compile(r"\{@link \S+#([A-Za-z0-9_]+) ")
_COMPUTED = re.compile(r"^\s*// ([A-Za-z0-9_]+) - computed: true, optional: false, required: false$", re.MULTILINE)
_JS_CLASS = re.compile(r"^class (\w+) extends ", re.MULTILINE)


def fetch(package: str, version: str, cache: Path) -> Path:
    """The package tarball, fetched once with `npm pack` into the cache."""
    cache.mkdir(parents=True, exist_ok=True)
    name = package.lstrip("@").replace("/", "-") + f"-{version}.tgz"
    dest = cache / name
    if not dest.exists():
        subprocess.run(
            ["npm", "pack", f"{package}@{version}", "--pack-destination", str(cache), "--silent"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return dest


def read_package(tgz: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """package.json, the jsii assembly and the JavaScript of each submodule (`lib/x/index.js`)."""
    js: dict[str, str] = {}
    pkg: dict[str, Any] = {}
    assembly: dict[str, Any] = {}
    with tarfile.open(tgz, "r:gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            n = member.name
            if n == "package/package.json":
                pkg = json.load(tar.extractfile(member))  # type: ignore[arg-type]
            elif n == "package/.jsii":
                assembly = json.load(tar.extractfile(member))  # type: ignore[arg-type]
            elif n.startswith("package/lib/") and n.endswith("/index.js"):
                js[n[len("package/") : -len(".js")]] = tar.extractfile(member).read().decode()  # type: ignore[union-attr]
    if not assembly:
        raise SystemExit(f"{tgz}: no .jsii assembly")
    return pkg, assembly, js


def _texts(x: Any) -> list[str]:
    if isinstance(x, str):
        return [x]
    if isinstance(x, dict):
        return [t for v in x.values() for t in _texts(v)]
    return []


def _camel(snake: str) -> str:
    """cdktf's property name for a Terraform name (`private_dns` -> `privateDns`)."""
    head, *rest = snake.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _js_classes(text: str) -> dict[str, str]:
    """Class name -> its source, for the generated JavaScript of one submodule."""
    starts = [(m.start(), m.group(1)) for m in _JS_CLASS.finditer(text)]
    out: dict[str, str] = {}
    for i, (pos, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        out[name] = text[pos:end]
    return out


class Extractor:
    def __init__(self, assembly: dict[str, Any], js: dict[str, str]):
        self.types: dict[str, Any] = assembly["types"]
        self.js = js
        self._classes: dict[str, dict[str, str]] = {}

    def _computed(self, type_fqn: str, js_class: str) -> list[str]:
        t = self.types.get(type_fqn)
        if t is None:
            return []
        filename = t.get("locationInModule", {}).get("filename", "")  # src/instance/index.ts
        module = "lib/" + filename.removeprefix("src/").removesuffix(".ts")
        if module not in self._classes:
            self._classes[module] = _js_classes(self.js.get(module, ""))
        return sorted(set(_COMPUTED.findall(self._classes[module].get(js_class, ""))))

    def _struct_fqn(self, type_: Any) -> tuple[str | None, bool]:
        """The datatype struct a property holds, and whether it holds a collection of them."""
        found: list[tuple[str, bool]] = []

        def walk(x: Any, coll: bool) -> None:
            if isinstance(x, dict):
                fqn = x.get("fqn")
                if fqn and self.types.get(fqn, {}).get("datatype"):
                    found.append((fqn, coll))
                if "collection" in x:
                    walk(x["collection"]["elementtype"], True)
                for u in x.get("union", {}).get("types", []):
                    walk(u, coll)

        walk(type_, False)
        return found[0] if found else (None, False)

    def _type_name(self, type_: Any) -> str:
        if "primitive" in type_:
            p = type_["primitive"]
            return {"boolean": "bool", "json": "any"}.get(p, p)
        if "collection" in type_:
            c = type_["collection"]
            kind = {"array": "list"}.get(c["kind"], c["kind"])
            return f"{kind}({self._type_name(c['elementtype'])})"
        if "fqn" in type_:
            fqn = type_["fqn"]
            if fqn.startswith("cdktf."):  # StringMap, NumberMap, BooleanMap, AnyMap, StringMapList...
                m = re.fullmatch(r"cdktf\.(String|Number|Boolean|Any)Map(List)?", fqn)
                if m is None:
                    return "any"
                inner = {"String": "string", "Number": "number", "Boolean": "bool", "Any": "any"}[m.group(1)]
                return f"list(map({inner}))" if m.group(2) else f"map({inner})"
            if fqn.endswith("List"):  # a computed list of objects (ComplexList)
                return "list(object)"
            if fqn.endswith(("OutputReference", "Map")):
                return "object" if fqn.endswith("OutputReference") else "map(object)"
        if "union" in type_:
            kinds = [u for u in type_["union"]["types"] if u.get("fqn") != "cdktf.IResolvable"]
            return self._type_name(kinds[0]) if len(kinds) == 1 else "any"
        return "any"

    def block(self, struct_fqn: str, depth: int = 0, stack: tuple[str, ...] = ()) -> dict[str, Any]:
        """{"a": {name: [flag, type(, nested)]}, "b": {name: [min, max, nested or None]}}.

        flag: "r" required, "o" optional, "c" read-only (computed); max 0 = no limit."""
        struct = self.types[struct_fqn]
        attrs: dict[str, Any] = {}
        blocks: dict[str, Any] = {}
        for p in struct.get("properties", []):
            docs = p.get("docs", {})
            # every docs text: a description holding "@hourly" becomes a jsii custom tag
            m = _ANCHOR.search(" ".join(_texts(docs)))
            if m is None:
                raise SystemExit(f"{struct_fqn}.{p['name']}: no registry link naming the argument")
            name = m.group(1)
            required = not p.get("optional", False)
            is_block = docs.get("summary", "") == f"{name} block."
            nested_fqn, many = self._struct_fqn(p["type"])
            # a struct nested in itself (recursive schemas): its content is left unchecked
            recursive = nested_fqn in stack or nested_fqn == struct_fqn
            nested = self.block(nested_fqn, depth + 1, (*stack, struct_fqn)) if nested_fqn and not recursive else None
            if is_block:
                blocks[name] = [1 if required else 0, 0 if many else 1, nested]
            elif nested is not None:
                # an attribute of object type: `x = {...}` always; SDKv2 "attributes as
                # blocks" also accept block syntax, which the assembly does not tell apart
                attrs[name] = ["r" if required else "o", "list(object)" if many else "object", nested]
            else:
                attrs[name] = ["r" if required else "o", self._type_name(p["type"])]
        name = struct.get("name", "")
        base = name.removesuffix("Config") if depth == 0 else name
        owner = self.owner_fqn(struct_fqn) if depth == 0 else struct_fqn
        js_class = base if depth == 0 else base + "OutputReference"
        getters = self._getters(owner if depth == 0 else f"{struct_fqn}OutputReference")
        for c in self._computed(owner or struct_fqn, js_class):
            if c not in attrs and c not in blocks:
                getter = getters.get(_camel(c))
                attrs[c] = ["c", self._type_name(getter["type"]) if getter else "any"]
        return {"a": dict(sorted(attrs.items())), "b": dict(sorted(blocks.items()))}

    def _getters(self, class_fqn: str | None) -> dict[str, Any]:
        t = self.types.get(class_fqn or "", {})
        return {p["name"]: p for p in t.get("properties", []) if not p.get("static")}

    def owner_fqn(self, config_fqn: str) -> str | None:
        return config_fqn.removesuffix("Config") if config_fqn.endswith("Config") else None

    def tables(self) -> tuple[dict[str, Any], dict[str, Any], str]:
        resources: dict[str, Any] = {}
        data: dict[str, Any] = {}
        provider_source = ""
        for fqn, t in sorted(self.types.items()):
            base = t.get("base")
            if base not in ("cdktf.TerraformResource", "cdktf.TerraformDataSource", "cdktf.TerraformProvider"):
                continue
            link = _LINK.search(t.get("docs", {}).get("summary", ""))
            if link is None:
                raise SystemExit(f"{fqn}: no registry link naming the type")
            config = next(
                (p["type"]["fqn"] for p in t["initializer"]["parameters"] if p["name"] == "config"),
                None,
            )
            if base == "cdktf.TerraformProvider":
                m = re.search(r"registry\.terraform\.io/providers/([^/]+/[^/]+)/", link.group(1))
                provider_source = m.group(1) if m else ""
                continue
            schema = self.block(config) if config else {"a": {}, "b": {}}
            (resources if base == "cdktf.TerraformResource" else data)[link.group(2).strip()] = schema
        return resources, data, provider_source


def build(provider: str, major: int, cache: Path) -> tuple[str, bytes]:
    package = f"@cdktf/provider-{provider}"
    pkg_version, provider_version, final = PINS[provider][major]
    tgz = fetch(package, pkg_version, cache)
    pkg, assembly, js = read_package(tgz)
    recorded = pkg.get("cdktf", {}).get("provider", {})
    if recorded.get("version") != provider_version:
        raise SystemExit(
            f"{package}@{pkg_version} records provider {recorded.get('version')!r}, pinned {provider_version!r}"
        )
    resources, data, source = Extractor(assembly, js).tables()
    table = {
        "provider": recorded.get("name", ""),  # registry.terraform.io/hashicorp/aws
        "source": source,  # hashicorp/aws
        "version": provider_version,
        "final": final,
        "package": f"{package}@{pkg_version}",
        # each type's schema is a JSON string of its own: decoded only when a scan meets the type
        "resources": {k: json.dumps(v, sort_keys=True, separators=(",", ":")) for k, v in sorted(resources.items())},
        "data_sources": {k: json.dumps(v, sort_keys=True, separators=(",", ":")) for k, v in sorted(data.items())},
    }
    raw = json.dumps(table, sort_keys=True, separators=(",", ":")).encode()
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    return f"{provider}-{major}.json.gz", buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=CACHE, help="where npm tarballs are kept")
    ap.add_argument("--out", type=Path, default=OUT, help="where the tables are written")
    ap.add_argument("--only", action="append", default=[], help="provider-major to build, e.g. aws-6")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    index: dict[str, Any] = {}
    index_path = args.out / "index.json"
    if args.only and index_path.exists():
        index = json.loads(index_path.read_text())
    for provider, majors in PINS.items():
        for major in majors:
            if args.only and f"{provider}-{major}" not in args.only:
                continue
            name, blob = build(provider, major, args.cache)
            (args.out / name).write_bytes(blob)
            table = json.loads(gzip.decompress(blob))
            index[f"{provider}-{major}"] = {
                "file": name,
                "source": table["source"],
                "version": table["version"],
                "final": table["final"],
                "package": table["package"],
                "resources": len(table["resources"]),
                "data_sources": len(table["data_sources"]),
                "bytes": len(blob),
            }
            print(
                f"{name}: {table['source']} {table['version']} from {table['package']}: "
                f"{len(table['resources'])} resources, {len(table['data_sources'])} data sources, "
                f"{len(blob)} bytes",
                file=sys.stderr,
            )
    index_path.write_text(json.dumps(dict(sorted(index.items())), indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
