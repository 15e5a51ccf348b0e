"""The Kustomize / plain-manifest loader on generated and mutated kustomizations and manifests:
rendered environments plus `kustomize.*` / `kubernetes.*` LoadErrors, never an exception."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from tests.property.mutations import MUTATIONS, ODD_TEXT, fixture_files, loader_settings, mutate, mutated_tree
from urr_audit.loaders.kustomize import load_kubernetes
from urr_audit.loaders.kustomize.yamlsrc import YamlError, load_docs
from urr_audit.workspace import Workspace

# overlays with bases, components, generators, JSON 6902 and strategic-merge patches, images,
# and a directory of plain manifests
TREES = ["overlay-chain", "components", "json6902-ops", "psm-multidoc", "generator-merge", "images-tag", "namespace"]
SOURCES = [
    s for s in fixture_files(FIXTURES / "kustomize", (".yaml", ".yml", ".env", ".properties")) if s[0].name in TREES
] + fixture_files(FIXTURES / "manifests", (".yaml", ".yml"))

_YAML_TOKENS = st.sampled_from(
    [
        "apiVersion: v1\n", "kind: ConfigMap\n", "kind: Deployment\n", "metadata:\n", "  name: x\n", "spec:\n",
        "resources:\n", "- ", "  ", "---\n", "...\n", ": ", "&a ", "*a", "<<: *a\n", "!!str ", "!!binary ", "|\n",
        ">-\n", "[", "]", "{", "}", ",", "'", '"', "#", "? ", "%YAML 1.2\n", "patches:\n", "images:\n",
        "  newTag: 1\n", "  target:\n", "op: replace\n", "path: /spec/replicas\n", "\n", "\t", "\x00", "\ufeff",
    ]
)  # fmt: skip


@loader_settings(max_examples=200)
@given(text=st.lists(st.one_of(_YAML_TOKENS, ODD_TEXT), max_size=50).map("".join))
def test_generated_yaml_loads_or_raises_only_the_documented_error(text):
    try:
        docs = load_docs(text)
    except YamlError as exc:
        assert exc.line >= 1
        return
    assert all(d.start >= 1 and d.end >= d.start for d in docs)


@loader_settings(max_examples=80)
@given(source=st.sampled_from(SOURCES), ops=MUTATIONS)
def test_mutated_kustomizations_and_manifests_render(source, ops):
    tree, rel = source
    with mutated_tree(tree, rel, mutate((tree / rel).read_bytes(), ops)) as repo:
        project, errors = load_kubernetes(Workspace(repo))
    assert all(
        e.kind.startswith(("kustomize.", "kubernetes.", "helm.", "fs.")) and e.path and e.line >= 1 for e in errors
    ), errors
    for env in project.environments:
        for obj in env.objects:
            assert obj.span.line >= 1
