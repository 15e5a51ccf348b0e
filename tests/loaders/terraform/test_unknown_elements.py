"""Lists of unknown length: `concat`/`flatten` with an unknown part keep their known elements
(`UnknownElements` marks the unknown run); nothing computes a length or a position past it."""

from __future__ import annotations

from urr_audit.model.common import UnknownElements, UnknownLeaf


def _locals(load_tree, body: str) -> dict:
    project, _ = load_tree({"main.tf": body})
    root = project.environments[0].instances[0]
    return {name: root.eval(loc.expr) for name, loc in root.module.locals.items()}


LISTS = """
variable "maybe" {
  type    = string
  default = null
}
resource "aws_cloudwatch_log_group" "l" {
  name = "l"
}
locals {
  tail       = aws_cloudwatch_log_group.l.arn == null ? [] : ["c"]
  known_head = concat(["a", "b"], local.tail)
  known_tail = concat(local.tail, ["d"], [])
  runs       = concat(local.tail, local.tail, ["e"])
  only_tail  = concat([], local.tail)
  flat       = flatten([["a", ["b"]], local.tail, [aws_cloudwatch_log_group.l.arn], [["z"]]])
  first      = local.known_head[1]
  past       = local.known_head[2]
  after_run  = local.known_tail[0]
  length     = length(local.known_head)
  joined     = join(",", local.known_head)
  merged     = merge({ list = local.known_head }, { other = "x" })
  loop       = [for x in local.known_head : upper(x)]
  splat      = [{ n = 1 }, { n = 2 }]
  splatted   = concat(local.splat, local.tail)[*].n
  compared   = local.known_head == ["a", "b"]
  expanded   = max(concat([1], local.tail)...)
  nested     = concat([["a"]], [local.known_head])
  template   = "%{for x in local.known_head}${x}%{endfor}"
}
"""


def test_concat_of_known_and_unknown_lists_keeps_the_known_elements(load_tree) -> None:
    v = _locals(load_tree, LISTS)
    head = v["known_head"]
    assert head.is_unknown and not head.is_known and "aws_cloudwatch_log_group.l.arn" in head.reason
    assert head.partial[:2] == ["a", "b"] and len(head.partial) == 3
    assert isinstance(head.partial[2], UnknownElements) and isinstance(head.partial[2], UnknownLeaf)
    # unknown first: the known list is still there, at an unknown position
    tail = v["known_tail"]
    assert isinstance(tail.partial[0], UnknownElements) and tail.partial[1:] == ["d"]
    # runs in a row are one run
    assert isinstance(v["runs"].partial[0], UnknownElements) and v["runs"].partial[1:] == ["e"]
    # nothing known: unknown as a whole, as before
    assert v["only_tail"].is_unknown and v["only_tail"].partial is None


def test_flatten_keeps_known_elements_around_unknown_ones(load_tree) -> None:
    flat = _locals(load_tree, LISTS)["flat"].partial
    # the unknown list and the unknown element (which may itself be a list) are one run
    assert flat[:2] == ["a", "b"] and isinstance(flat[2], UnknownElements) and flat[3:] == ["z"]


def test_no_length_position_or_element_count_is_computed_past_the_marker(load_tree) -> None:
    v = _locals(load_tree, LISTS)
    assert v["first"].is_known and v["first"].value == "b"  # before the marker: Terraform's index
    assert v["past"].is_unknown and "out of range" not in v["past"].reason  # may well exist
    assert v["after_run"].is_unknown
    for name in ("length", "joined", "loop", "compared", "expanded", "template"):
        assert v[name].is_unknown and v[name].partial is None, name
    # other functions see such a list as one unknown value: the rest stays known
    merged = v["merged"]
    assert merged.partial["other"] == "x" and type(merged.partial["list"]) is UnknownLeaf
    # splats are element-wise: the run stays a run
    splatted = v["splatted"].partial
    assert splatted[:2] == [1, 2] and isinstance(splatted[2], UnknownElements)
    # an unknown list inside an element is that element's business
    nested = v["nested"].partial
    assert len(nested) == 2 and nested[0] == ["a"] and isinstance(nested[1][2], UnknownElements)


POLICY = """
resource "aws_cloudwatch_log_group" "l" {
  name = "l"
}

resource "aws_iam_policy" "p" {
  policy = jsonencode({
    Statement = concat(
      [
        {
          Effect   = "Allow"
          Action   = "kms:*"
          Resource = "*"
        },
      ],
      aws_cloudwatch_log_group.l.arn == null ? [] : [
        { Effect = "Allow", Action = "logs:PutLogEvents", Resource = aws_cloudwatch_log_group.l.arn },
      ],
      [
        { Effect = "Allow", Action = "s3:*", Resource = "*" },
      ],
    )
  })
}
"""


def test_jsonencode_of_a_list_of_unknown_length_is_a_located_document(load_tree) -> None:
    project, _ = load_tree({"main.tf": POLICY})
    [ri] = project.resources("aws_iam_policy")
    plain = ri.get("policy")
    assert plain.is_unknown and plain.partial is None  # the string: unknown, as Terraform says
    doc = ri.get_structured("policy")
    assert doc.is_unknown
    first, run, last = doc.parts()["Statement"]
    assert first == {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}
    assert isinstance(run, UnknownElements)
    assert last == {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    # positions in the partial list locate each known statement
    assert doc.span_at("Statement", 0).line == 10
    assert doc.span_at("Statement", 2).line == 20


def test_for_each_over_a_list_of_unknown_length(load_tree) -> None:
    project, _ = load_tree(
        {
            "main.tf": """
        resource "aws_cloudwatch_log_group" "l" {
          name = "l"
        }
        resource "aws_sqs_queue" "some" {
          for_each = concat(["a"], aws_cloudwatch_log_group.l.arn == null ? [] : ["b"])
        }
        resource "aws_sqs_queue" "maybe" {
          for_each = toset(concat([], aws_cloudwatch_log_group.l.arn == null ? [] : ["b"]))
        }
    """
        }
    )
    exists = {ri.resource.name: ri.exists for ri in project.resources("aws_sqs_queue")}
    assert exists["some"].value is True  # "a" is certainly there
    assert exists["maybe"].is_unknown
