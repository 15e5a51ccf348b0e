"""Property-based: generated and mutated workflows and expressions never raise anything but
the documented load error (a `LoadError` of a `workflows.*` kind, `ExprSyntaxError` for the
parser), and each example finishes within a deadline. Bounded so the module runs in seconds."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from urr_audit.loaders.workflows import workflow_from_text
from urr_audit.loaders.workflows.expressions import ExprSyntaxError, find, parse
from urr_audit.loaders.workflows.shell import commands
from urr_audit.model.gha_expr import Closed, condition_truthiness, evaluate, refs
from urr_audit.model.workflows import iter_scalars

SETTINGS = settings(max_examples=50, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
SEEDS = sorted((FIXTURES / "repos/urr/.github/workflows").glob("*.yml"))
TEXTS = [p.read_text() for p in SEEDS]

# --- expressions -----------------------------------------------------------------------------

names = st.sampled_from(["github", "inputs", "env", "steps", "needs", "matrix", "secrets", "vars", "job", "runner"])
props = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True)
literals = st.one_of(
    st.just("null"),
    st.just("true"),
    st.just("false"),
    st.integers(-1000, 1000).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8).map(
        lambda s: "'" + s.replace("'", "''") + "'"
    ),
)
contexts = st.builds(lambda n, ps: ".".join([n, *ps]), names, st.lists(props, max_size=3))


def _expr(children):
    return st.one_of(
        st.builds(
            lambda a, op, b: f"{a} {op} {b}",
            children,
            st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "&&", "||"]),
            children,
        ),
        st.builds(lambda a: f"!{a}", children),
        st.builds(lambda a: f"({a})", children),
        st.builds(lambda a, b: f"contains({a}, {b})", children, children),
        st.builds(lambda a, b: f"format('{{0}}-{{1}}', {a}, {b})", children, children),
        st.builds(lambda a: f"toJSON({a})", children),
        st.builds(lambda a: f"{a}[0]", children),
        st.builds(lambda c: f"{c}.*", contexts),
        st.just("success()"),
        st.just("always()"),
    )


expressions = st.recursive(st.one_of(literals, contexts), _expr, max_leaves=12)


@SETTINGS
@given(expressions)
def test_generated_expressions_parse_and_evaluate(text):
    node = parse(text)
    for r in refs(node):
        assert r.parts[0] in ("github", "inputs", "env", "steps", "needs", "matrix", "secrets", "vars", "job", "runner")
    evaluate(node, {"github": Closed(event_name="push"), "inputs": {}})
    condition_truthiness(node, {}, None)


@SETTINGS
@given(st.text(max_size=80))
def test_arbitrary_text_parses_or_raises_the_syntax_error(text):
    try:
        parse(text)
    except ExprSyntaxError as exc:
        assert 0 <= exc.offset <= len(text)
    try:
        find(text)
    except ExprSyntaxError:
        pass


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("docker build -t $X ${Y} '\"\\\n|&;()`$(){}=#<>.:/")), max_size=120))
def test_shell_splitting_never_raises(script):
    for cmd in commands(script):
        assert cmd.words


# --- workflows -------------------------------------------------------------------------------


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(TEXTS))
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "insert", "swap", "duplicate", "truncate", "chars"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "insert":
            lines.insert(
                i,
                draw(
                    st.sampled_from(
                        [
                            "  ${{ github.\n",
                            "x: [\n",
                            "  - &a b\n",
                            "<<: *a\n",
                            "\t\n",
                            "on:\n",
                            "'\n",
                            "    run: ${{ }}\n",
                        ]
                    )
                ),
            )
        elif op == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "truncate":
            lines = lines[:i]
        else:
            line = lines[i]
            k = draw(st.integers(0, max(len(line) - 1, 0)))
            lines[i] = line[:k] + draw(st.text(alphabet="${}:'\"[]&*!-# \n", max_size=3)) + line[k + 1 :]
    return "".join(lines)


def _check(text: str) -> None:
    errors: list = []
    wf = workflow_from_text(".github/workflows/x.yml", text, errors)
    for e in errors:
        assert e.kind.startswith("workflows."), e
        assert e.line >= 1
    if wf is not None:
        for _, scalar in iter_scalars(wf):
            for expr in scalar.exprs:
                assert expr.span.line >= 1 and expr.column >= 1


@SETTINGS
@given(mutated())
def test_mutated_workflows_load_or_report(text):
    _check(text)


yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20,
)
keys = st.sampled_from(
    [
        "on",
        "jobs",
        "permissions",
        "env",
        "steps",
        "runs-on",
        "uses",
        "run",
        "with",
        "strategy",
        "matrix",
        "include",
        "needs",
        "if",
        "container",
        "services",
        "secrets",
        "inputs",
    ]
)
structured = st.recursive(
    yaml_scalars,
    lambda inner: st.dictionaries(keys, st.one_of(inner, st.lists(inner, max_size=3)), max_size=5),
    max_leaves=25,
)


@SETTINGS
@given(st.one_of(structured, yaml_values))
def test_generated_documents_load_or_report(data):
    import json

    _check(json.dumps(data))  # JSON is YAML: arbitrary shapes under workflow keys


def test_seed_files_exist():
    assert len(SEEDS) == 14 and all(isinstance(p, Path) for p in SEEDS)
