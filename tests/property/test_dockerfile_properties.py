"""The Dockerfile loader on generated and mutated input: a model or a `docker.parse` LoadError at
a line of the file, never an exception; the checks over whatever model comes out never crash."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from tests.property.mutations import MUTATIONS, ODD_TEXT, fixture_files, loader_settings, mutate, mutated_tree
from urr_audit.loaders.docker import load_dockerfile
from urr_audit.model.docker import Dockerfile
from urr_audit.scan import scan

# small trees (a scan copies and reads the whole tree), and the seed repository's files as text
SOURCES = [
    (tree, rel)
    for tree, rel in fixture_files(FIXTURES / "rules", ("Dockerfile",), ("Dockerfile",))
    if tree.name.startswith("URR-DOCKER")
]
TEXTS = [(tree / rel).read_text(encoding="utf-8") for tree, rel in SOURCES] + [
    (tree / rel).read_text(encoding="utf-8") for tree, rel in fixture_files(FIXTURES / "repos", (), ("Dockerfile",))
]

# Dockerfile-shaped token soup: keywords, flags, quotes, escapes, variables, heredocs, JSON.
_TOKENS = st.sampled_from(
    [
        "FROM ", "from ", "AS ", "RUN ", "COPY ", "ADD ", "ARG ", "ENV ", "USER ", "WORKDIR ", "EXPOSE ",
        "HEALTHCHECK ", "CMD ", "ENTRYPOINT ", "SHELL ", "ONBUILD ", "LABEL ", "VOLUME ", "STOPSIGNAL ",
        "--from=", "--platform=", "--mount=", "type=secret,id=x", "--chown=", "--link", "--", "\\\n", "`\n",
        "\n", " ", "\t", "#", "# escape=`\n", "# syntax=docker/dockerfile:1\n", "<<EOF", "<<-'EOT'", "EOF\n",
        "\tEOT\n", '["a", "b"]', "[", "]", '"', "'", "$", "${", "}", ":-", ":+", "=", "alpine", "node:20",
        "@sha256:" + "a" * 64, "scratch", "0", "root", "http://x/y", "git@h:o/r.git#main", "*", ".", "/",
        "NONE", "\x00", "\r", "\ufeff", "\u00b2", "\u0663", "1", "--from=1 ",
    ]
)  # fmt: skip
GENERATED = st.lists(st.one_of(_TOKENS, ODD_TEXT), max_size=60).map("".join)


def _check_result(text: str, df: Dockerfile | None, err) -> None:
    assert (df is None) != (err is None)
    if err is not None:
        assert err.kind == "docker.parse" and err.path == "Dockerfile" and err.message
        assert 1 <= err.line <= max(text.count("\n") + 1, 1)
        return
    assert df.stages, "a model always has a stage"
    lines = max(text.count("\n") + 1, 1)
    for stage in df.stages:
        assert stage.instructions[0].kind == "FROM"
        for inst in stage.instructions:
            assert 1 <= inst.span.line <= inst.span.end_line <= lines


@loader_settings(max_examples=300)
@given(text=GENERATED)
def test_generated_dockerfiles_load_or_fail_with_a_load_error(text):
    df, err = load_dockerfile("Dockerfile", text)
    _check_result(text, df, err)


@loader_settings(max_examples=300)
@given(source=st.sampled_from(TEXTS), ops=MUTATIONS)
def test_mutated_dockerfiles_load_or_fail_with_a_load_error(source, ops):
    text = mutate(source.encode(), ops).decode("utf-8", errors="replace")
    df, err = load_dockerfile("Dockerfile", text)
    _check_result(text, df, err)


@loader_settings(max_examples=100)
@given(text=st.text(max_size=200))
def test_any_python_string_including_lone_surrogates(text):
    # a lone surrogate once aborted the whole process in the Go-backed PyPI parser
    df, err = load_dockerfile("Dockerfile", text + "\ud800")
    assert (df is None) != (err is None)


@loader_settings(max_examples=25)
@given(source=st.sampled_from(SOURCES), ops=MUTATIONS)
def test_a_scan_of_a_mutated_dockerfile_never_crashes_a_check(source, ops):
    tree, rel = source
    content = mutate((tree / rel).read_bytes(), ops)
    with mutated_tree(tree, rel, content) as repo:
        report = scan(repo, select=["URR-DOCKER"])
    assert not [e for e in report.result.errors if e.kind == "check.crash"]
    assert all(e.kind.startswith(("docker.", "fs.")) for e in report.result.errors if e.path.endswith("ockerfile"))
