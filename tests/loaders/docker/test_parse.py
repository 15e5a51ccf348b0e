"""The Dockerfile parser against the syntax Docker documents (docs.docker.com/reference/dockerfile):
each case below is an example of that reference, or the behaviour it describes."""

from __future__ import annotations

import pytest

from urr_audit.loaders.docker.parse import DockerfileSyntaxError, parse_dockerfile, split_words


def _insts(text: str):
    return parse_dockerfile(text).instructions


def _summary(text: str) -> list[tuple[str, str, int, int]]:
    return [(i.keyword, i.text, i.line, i.end_line) for i in _insts(text)]


# --- parser directives ------------------------------------------------------------------


def test_directives_are_read_at_the_top_only():
    parsed = parse_dockerfile("# syntax=docker/dockerfile:1\n# escape=`\nFROM alpine\n")
    assert parsed.directives == {"syntax": ("docker/dockerfile:1", 1), "escape": ("`", 2)}
    assert parsed.escape == "`"


@pytest.mark.parametrize(
    "header",
    [
        "#escape=`",
        "# escape =`",
        "#\tescape= `",
        " # escape = `",
        "#\t  EsCaPe=`",
    ],
)
def test_directive_spelling_variants_are_equivalent(header):
    assert parse_dockerfile(header + "\nFROM alpine\n").escape == "`"


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine\n# escape=`\n",  # after an instruction: a comment
        "# About my dockerfile\n# escape=`\nFROM alpine\n",  # after a comment
        "# unknowndirective=value\n# escape=`\nFROM alpine\n",  # an unknown directive is a comment
        "\n# escape=`\nFROM alpine\n",  # after an empty line
        "# esc \\\n# ape=`\nFROM alpine\n",  # no continuation in directives
    ],
)
def test_directives_end_at_the_first_non_directive(text):
    assert parse_dockerfile(text).escape == "\\"


def test_a_directive_given_twice_is_an_error():
    with pytest.raises(DockerfileSyntaxError) as err:
        parse_dockerfile("# escape=\\\n# escape=`\nFROM alpine\n")
    assert err.value.line == 2 and "only one escape" in err.value.message


def test_an_invalid_escape_token_is_an_error():
    with pytest.raises(DockerfileSyntaxError, match="invalid escape token"):
        parse_dockerfile("# escape=xx\nFROM alpine\n")


def test_the_escape_directive_changes_line_continuation():
    # The reference's Windows example: with the default escape, `c:\` continues the line.
    body = "FROM microsoft/nanoserver\nCOPY testfile.txt c:\\\nRUN dir c:\\\n"
    assert _summary(body) == [
        ("FROM", "microsoft/nanoserver", 1, 1),
        ("COPY", "testfile.txt c:RUN dir c:", 2, 3),
    ]
    assert _summary("# escape=`\n\n" + body) == [
        ("FROM", "microsoft/nanoserver", 3, 3),
        ("COPY", "testfile.txt c:\\", 4, 4),
        ("RUN", "dir c:\\", 5, 5),
    ]


# --- lines, continuations, comments ------------------------------------------------------


def test_continuation_joins_lines_without_adding_space():
    text = "FROM alpine\nRUN /bin/bash -c 'source $HOME/.bashrc && \\\necho $HOME'\n"
    assert _summary(text)[1] == ("RUN", "/bin/bash -c 'source $HOME/.bashrc && echo $HOME'", 2, 3)


def test_comment_lines_inside_a_continuation_are_dropped():
    text = "FROM alpine\nRUN echo hello \\\n# comment\nworld\n"
    assert _summary(text)[1] == ("RUN", "echo hello world", 2, 4)


def test_blank_lines_inside_a_continuation_are_skipped():
    text = "FROM alpine\nRUN echo a \\\n\n   \n  b\n"
    assert _summary(text)[1] == ("RUN", "echo a   b", 2, 5)


def test_leading_whitespace_before_comments_and_instructions_is_ignored():
    text = "        # this is a comment-line\n    FROM alpine\n    RUN echo hello\nRUN echo world\n"
    assert [(k, t) for k, t, *_ in _summary(text)] == [("FROM", "alpine"), ("RUN", "echo hello"), ("RUN", "echo world")]


def test_whitespace_inside_continued_arguments_is_kept():
    text = 'FROM alpine\nRUN echo "\\\n     hello\\\n     world"\n'
    assert _summary(text)[1][1] == 'echo "     hello     world"'


def test_a_continuation_at_the_end_of_the_file_ends_the_instruction():
    assert _summary("FROM alpine\nRUN echo \\")[1] == ("RUN", "echo", 2, 2)


def test_crlf_line_endings_and_a_byte_order_mark():
    text = "\ufeffFROM alpine\r\nRUN echo a \\\r\n  b\r\n"
    assert _summary(text) == [("FROM", "alpine", 1, 1), ("RUN", "echo a   b", 2, 3)]


def test_lines_are_split_on_newline_only():
    # a form feed or U+2028 inside an argument is not a line break for Docker
    assert _summary("FROM alpine\nRUN echo a\x0cb\u2028c\nUSER 1\n")[2] == ("USER", "1", 3, 3)


def test_a_file_without_instructions_is_an_error():
    for text in ("", "# only a comment\n", "\n\n"):
        with pytest.raises(DockerfileSyntaxError, match="no instructions"):
            parse_dockerfile(text)


# --- flags, exec and shell form ------------------------------------------------------------


def test_flags_are_the_leading_double_dash_words():
    [_, copy] = _insts("FROM a\nCOPY --chown=55:mygroup --chmod=644 files* /somedir/\n")
    assert copy.flags == ["--chown=55:mygroup", "--chmod=644"] and copy.text == "files* /somedir/"


def test_quoted_flag_values_lose_their_quotes_and_a_bare_double_dash_ends_flags():
    [_, run] = _insts('FROM a\nRUN --mount="type=secret,id=x" -- --not-a-flag\n')
    assert run.flags == ["--mount=type=secret,id=x"] and run.text == "--not-a-flag"


def test_exec_form_is_a_json_array_of_strings():
    insts = _insts('FROM a\nCMD ["executable", "param1", "param2"]\nENTRYPOINT exec top -b\nRUN [ "echo", "$HOME" ]\n')
    assert insts[1].json_form and insts[1].json_args == ["executable", "param1", "param2"]
    assert not insts[2].json_form
    assert insts[3].json_args == ["echo", "$HOME"]


def test_not_quite_json_is_shell_form():
    # the reference: exec form needs double quotes; single quotes make it shell form
    [_, cmd] = _insts("FROM a\nCMD ['echo', 'hi']\n")
    assert not cmd.json_form and cmd.text == "['echo', 'hi']"


def test_a_json_array_of_non_strings_is_an_error():
    with pytest.raises(DockerfileSyntaxError, match="strings only"):
        parse_dockerfile("FROM a\nCMD [1, 2]\n")


def test_json_is_only_read_for_instructions_that_have_an_exec_form():
    [_, label] = _insts('FROM a\nLABEL x=["a"]\n')
    assert not label.json_form


# --- heredocs ------------------------------------------------------------------------------


def test_run_heredoc_with_a_program():
    text = "# syntax=docker/dockerfile:1\nFROM debian\nRUN <<EOT bash\n  set -ex\n  apt-get update\n  apt-get install -y vim\nEOT\nUSER 1\n"
    insts = _insts(text)
    run = insts[1]
    assert (run.text, run.line, run.end_line) == ("<<EOT bash", 3, 7)
    [doc] = run.heredocs
    assert doc.name == "EOT" and doc.content == "  set -ex\n  apt-get update\n  apt-get install -y vim\n"
    assert (doc.line, doc.end_line, doc.expand, doc.chomp) == (4, 7, True, False)
    assert (insts[2].keyword, insts[2].line) == ("USER", 8)


def test_several_heredocs_are_read_in_order():
    text = "FROM a\nCOPY <<FILE1 <<FILE2 /dest\nLine 1\nFILE1\nLine 2\nFILE2\n"
    [_, copy] = _insts(text)
    assert [(d.name, d.content, d.line, d.end_line) for d in copy.heredocs] == [
        ("FILE1", "Line 1\n", 3, 4),
        ("FILE2", "Line 2\n", 5, 6),
    ]
    assert copy.end_line == 6


def test_quoted_heredoc_names_do_not_expand_and_dash_strips_tabs():
    text = "FROM a\nRUN <<-\"EOT\" sh\n\techo $HOME\n\tEOT\nCOPY <<'X' /x\nbody\nX\n"
    run, copy = _insts(text)[1:]
    assert run.heredocs[0].name == "EOT" and not run.heredocs[0].expand and run.heredocs[0].chomp
    assert run.heredocs[0].content == "\techo $HOME\n" and run.end_line == 4
    assert copy.heredocs[0].name == "X" and not copy.heredocs[0].expand


def test_heredoc_bodies_are_raw_text_not_instructions_or_comments():
    text = "FROM a\nRUN <<EOF\n# not a comment \\\nFROM not-a-stage\nEOF\n"
    insts = _insts(text)
    assert len(insts) == 2 and insts[1].heredocs[0].content == "# not a comment \\\nFROM not-a-stage\n"


def test_heredoc_redirections_and_file_descriptors():
    [_, run] = _insts("FROM a\nRUN cat <<EOF > /file && 3<<X cat\nhello\nEOF\nthree\nX\n")
    assert [(d.name, d.fd) for d in run.heredocs] == [("EOF", 0), ("X", 3)]


def test_what_is_not_a_heredoc():
    # `<< EOF` (a space), `<<<` here-strings, quoted `"<<EOF"`, exec form, other instructions
    for text in (
        "FROM a\nRUN cat << EOF\n",
        "FROM a\nRUN cat <<<word\n",
        'FROM a\nRUN echo "<<EOF"\n',
        'FROM a\nRUN ["cat", "<<EOF"]\n',
        "FROM a\nLABEL x=<<EOF\n",
    ):
        assert [i.heredocs for i in _insts(text)] == [[], []], text


def test_an_unterminated_heredoc_is_an_error_at_its_instruction():
    with pytest.raises(DockerfileSyntaxError) as err:
        parse_dockerfile("FROM a\nRUN true\nRUN <<EOF\necho\n")
    assert err.value.line == 3 and "unterminated heredoc" in err.value.message


# --- words (ENV, LABEL, ARG) ------------------------------------------------------------


def test_words_keep_quotes_and_escapes_for_later_processing():
    assert split_words('MY_NAME="John Doe" MY_DOG=Rex\\ The\\ Dog MY_CAT=fluffy', "\\") == [
        'MY_NAME="John Doe"',
        "MY_DOG=Rex\\ The\\ Dog",
        "MY_CAT=fluffy",
    ]
    assert split_words("a='b c' d", "\\") == ["a='b c'", "d"]
    assert split_words('""', "\\") == ['""']


def test_a_directive_line_full_of_blanks_is_read_in_linear_time():
    # regression: the directive regex's lazy value group backtracked quadratically (40 000
    # blanks took 34 s); 400 000 now take milliseconds, and the value is still trimmed
    parsed = parse_dockerfile("# syntax=docker/dockerfile:1" + " \t" * 200_000 + "\nFROM alpine\n")
    assert parsed.directives["syntax"] == ("docker/dockerfile:1", 1)
    with pytest.raises(DockerfileSyntaxError, match="invalid escape token 'x'"):
        parse_dockerfile("# escape=" + " " * 200_000 + "x\nFROM alpine\n")
