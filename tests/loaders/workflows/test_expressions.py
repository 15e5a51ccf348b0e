"""The expression parser (syntax, precedence, errors with offsets), the references it
extracts, and the three-state evaluator with GitHub's loose equality and truthiness."""

from __future__ import annotations

import math

import pytest

from urr_audit.loaders.workflows.expressions import ExprSyntaxError, find, parse, tokenize
from urr_audit.model.gha_expr import (
    Binary,
    Call,
    Closed,
    ContextName,
    Index,
    Literal,
    Not,
    Property,
    Star,
    Unknown,
    condition_truthiness,
    evaluate,
    loose_equal,
    possible_truthiness,
    refs,
    truthy,
)


def dotted(text: str) -> list[str]:
    return [r.dotted for r in refs(parse(text))]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("null", None),
        ("true", True),
        ("false", False),
        ("711", 711.0),
        ("-9.2", -9.2),
        ("0xff", 255.0),
        ("-2.99e-2", -0.0299),
        ("'Mona''s'", "Mona's"),
        ("''", ""),
    ],
)
def test_literals(text, value):
    node = parse(text)
    assert isinstance(node, Literal)
    assert node.value == value


def test_nan_and_infinity_literals():
    assert math.isnan(parse("NaN").value)  # type: ignore[union-attr]
    assert parse("Infinity").value == math.inf  # type: ignore[union-attr]


def test_precedence_or_and_eq_not():
    node = parse("!github.x == 'b' && env.y || inputs.z")
    assert isinstance(node, Binary) and node.op == "||"
    left = node.left
    assert isinstance(left, Binary) and left.op == "&&"
    eq = left.left
    assert isinstance(eq, Binary) and eq.op == "=="
    assert isinstance(eq.left, Not)


def test_relational_binds_tighter_than_equality():
    node = parse("1 < 2 == true")
    assert isinstance(node, Binary) and node.op == "=="
    assert isinstance(node.left, Binary) and node.left.op == "<"


def test_parentheses_group():
    node = parse("(github.a || github.b) && github.c")
    assert isinstance(node, Binary) and node.op == "&&"
    assert isinstance(node.left, Binary) and node.left.op == "||"


def test_property_index_and_star():
    node = parse("github.event.commits.*.message")
    assert isinstance(node, Property) and isinstance(node.obj, Star)
    node = parse("steps['my-step'].outputs[0]")
    assert isinstance(node, Index) and isinstance(node.obj, Property) and node.obj.name == "outputs"
    node = parse("github.event.issue.labels[*].name")
    assert isinstance(node, Property) and isinstance(node.obj, Star)


def test_function_names_are_case_insensitive_and_arity_checked():
    node = parse("startsWith(github.ref, 'refs/tags/')")
    assert isinstance(node, Call) and node.name == "startswith" and len(node.args) == 2
    with pytest.raises(ExprSyntaxError, match="takes 2"):
        parse("contains('a')")
    with pytest.raises(ExprSyntaxError, match="unknown function"):
        parse("frobnicate(1)")


def test_hyphens_in_names():
    assert dotted("needs.build-and-push.outputs.image-tag") == ["needs.build-and-push.outputs.image-tag"]
    assert dotted("steps.login-ecr.outputs.registry == 'x'") == ["steps.login-ecr.outputs.registry"]


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("github.event_name = 'push'", "unexpected character '='", 18),
        ("a.b", "unrecognized named value 'a'", 0),
        ("github.ref ==", "ends where a value is expected", 13),
        ("'open", "unterminated string", 0),
        ("github.", "expected a property name", 7),
        ("(github.ref", "expected ')'", 11),
        ("", "empty expression", 0),
        ("contains(github.ref 'x')", "expected ','", 20),
    ],
)
def test_syntax_errors_have_offsets(text, message, offset):
    with pytest.raises(ExprSyntaxError) as info:
        parse(text)
    assert message in info.value.message
    assert info.value.offset == offset


def test_nesting_is_bounded():
    with pytest.raises(ExprSyntaxError, match="nests deeper"):
        parse("(" * 200 + "true" + ")" * 200)
    with pytest.raises(ExprSyntaxError, match="nests deeper"):
        parse("!" * 500 + "true")


def test_refs_in_source_order_with_dynamic_indexes():
    assert dotted("contains(github.event.pull_request.title, inputs.word) && env.X") == [
        "github.event.pull_request.title",
        "inputs.word",
        "env.X",
    ]
    rs = refs(parse("secrets[inputs.name]"))
    assert [(r.dotted, r.dynamic) for r in rs] == [("secrets.?", True), ("inputs.name", False)]
    assert dotted("toJSON(secrets)") == ["secrets"]
    assert dotted("fromJSON(secrets.CREDS).user") == ["secrets.CREDS"]
    assert dotted("github.event.commits[0].message") == ["github.event.commits.0.message"]
    r = refs(parse("  github.head_ref"))[0]
    assert (r.start, r.end) == (2, 17)


def test_find_skips_braces_inside_strings_and_reports_unclosed():
    text = "a ${{ format('{0}}}', 'x') }} b ${{ github.sha }}"
    occ = find(text)
    assert [o.inner.strip() for o in occ] == ["format('{0}}}', 'x')", "github.sha"]
    assert text[occ[1].start : occ[1].end] == "${{ github.sha }}"
    with pytest.raises(ExprSyntaxError, match="never closed"):
        find("echo ${{ github.sha")


def test_tokenize_negative_number_versus_hyphenated_name():
    kinds = [(t.kind, t.text) for t in tokenize("a-b -1")][:-1]
    assert kinds == [("ident", "a-b"), ("number", "-1")]


# --- evaluation --------------------------------------------------------------------------------


def ev(text: str, **contexts):
    return evaluate(parse(text), contexts)


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        ("abc", "ABC", True),  # strings ignore case
        (1.0, "1", True),  # mismatched types compare as numbers
        (None, 0.0, True),
        (True, 1.0, True),
        ("", False, True),
        ("x", math.nan, False),
        (None, "", True),
        ([], [], False),  # arrays are equal only to themselves
    ],
)
def test_loose_equality(a, b, equal):
    assert loose_equal(a, b) is equal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, False),
        ("", False),
        (None, False),
        (math.nan, False),
        ("false", True),
        ([], True),
        ({}, True),
        (-1.0, True),
    ],
)
def test_truthiness(value, expected):
    assert truthy(value) is expected


def test_and_or_return_operands():
    assert ev("github.x || 'default'", github=Closed()) == "default"
    assert ev("github.x && 'yes'", github=Closed(x="v")) == "yes"
    assert ev("github.x && 'yes'", github=Closed(x="")) == ""


def test_unknown_propagates_but_keeps_decidable_truthiness():
    v = ev("inputs.x && false")
    assert isinstance(v, Unknown) and v.truthy is False
    v = ev("inputs.x || true")
    assert isinstance(v, Unknown) and v.truthy is True
    v = ev("inputs.x == 'a'")
    assert isinstance(v, Unknown) and v.truthy is None
    assert ev("inputs.x == 'a'", inputs=Closed()) is False  # closed: a missing input is null


def test_open_mapping_missing_key_is_unknown():
    assert isinstance(ev("github.event.pull_request.title", github={"event_name": "push"}), Unknown)


def test_functions():
    assert ev("contains('Hello world', 'WORLD')") is True
    assert ev("contains(fromJSON('[\"a\",\"b\"]'), 'B')") is True
    assert ev("startsWith('refs/tags/v1', 'refs/TAGS')") is True
    assert ev("endsWith('file.yml', '.YML')") is True
    assert ev("format('{0}-{1} {{x}}', 'a', 1)") == "a-1 {x}"
    assert ev("join(fromJSON('[1,2]'), '+')") == "1+2"
    assert ev("toJSON(fromJSON('{\"a\":1}'))") == '{\n  "a": 1\n}'
    assert ev('fromJSON(\'{"a":{"b":true}}\').a.b') is True
    assert ev("case(false, 'a', true, 'b', 'c')") == "b"
    assert isinstance(ev("hashFiles('**/lock')"), Unknown)


def test_object_filter():
    assert ev('fromJSON(\'[{"n":1},{"n":2}]\').*.n') == [1.0, 2.0]


def test_condition_implies_success_unless_a_status_function_is_used():
    node = parse("github.event_name == 'push'")
    ctx = {"github": Closed(event_name="push")}
    assert condition_truthiness(node, ctx, "success") is True
    assert condition_truthiness(node, ctx, "failure") is False
    assert condition_truthiness(node, ctx, None) is None
    assert condition_truthiness(parse("always() && github.event_name == 'push'"), ctx, "failure") is True
    assert condition_truthiness(parse("failure()"), {}, "failure") is True


def test_possible_truthiness_answers_never_and_sometimes():
    node = parse("inputs.environment == 'prod' && github.event_name == 'push'")
    never = possible_truthiness(
        node,
        {"inputs": Closed(), "github": Closed()},
        {"inputs.environment": ["staging", "prod"], "github.event_name": ["workflow_dispatch"]},
    )
    assert never == {False}
    sometimes = possible_truthiness(
        node, {}, {"inputs.environment": ["staging", "prod"], "github.event_name": ["push"]}
    )
    assert sometimes == {True, False}


def test_parse_tree_positions():
    node = parse("github.ref  ==  'x'")
    assert isinstance(node, Binary)
    assert (node.start, node.end) == (0, 19)
    assert isinstance(node.left, Property) and isinstance(node.left.obj, ContextName)


def test_long_operator_chains_are_bounded_not_recursion_errors():
    with pytest.raises(ExprSyntaxError, match="too complex"):
        parse("true || " * 2400 + "true")
    with pytest.raises(ExprSyntaxError, match="too complex"):
        parse("github" + ".a" * 300)
    node = parse("true || " * 150 + "true")
    assert evaluate(node, {}) is True and refs(node) == []
