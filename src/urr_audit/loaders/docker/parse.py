"""Dockerfile syntax: text -> raw instructions, as BuildKit's parser reads it.

Follows `moby/buildkit/frontend/dockerfile/parser` (the reference implementation) rule for
rule, so that what a build sees is what the model holds:

- parser directives (`# syntax=`, `# escape=`, `# check=`) only at the very top; the first
  comment that is not a known directive, empty line or instruction ends them;
- lines are split on `\\n` only (a trailing `\\r` dropped), a UTF-8 byte-order mark skipped;
- a line ending in the escape character (then optional blanks) continues on the next; comment
  lines and blank lines inside a continuation are dropped; continuation text is not trimmed;
- `<<WORD` / `<<-WORD` / `<<"WORD"` words in a RUN, COPY or ADD (shell form) open heredocs whose
  bodies follow the instruction line, read raw up to the terminator;
- leading `--flag[=value]` words of any instruction are its flags (quotes removed);
- the arguments of each instruction are kept as written (JSON or shell form decided here).

Nothing here judges; `build.py` turns raw instructions into the typed model, with the errors
Docker's own instruction layer would raise (unknown instruction, FROM arity...).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})
# BuildKit's `^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$`, with the value's blanks
# stripped in Python: the lazy group is quadratic in Python's backtracking engine (Go's is linear)
_DIRECTIVE = re.compile(r"^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=(.*)$")
_HEREDOC_WORD = re.compile(r"^([0-9]*)<<(-?)([^<]*)$")
_HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
# instructions whose arguments may be a JSON array (exec form); the others never are
_JSON_INSTRUCTIONS = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"})
_WHITESPACE = re.compile(r"[\t\v\f\r ]+")
# unicode.IsSpace in Go: these, plus U+0085, U+00A0 and the Unicode space separators
_GO_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(c) for c in range(0x2000, 0x200B)
)


class DockerfileSyntaxError(Exception):
    """What BuildKit's parser would refuse, with the (1-based) line it points at."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class RawHeredoc:
    name: str  # the terminator word, quotes removed
    content: str  # the body, each line ending in "\n"
    expand: bool  # False when the word was quoted (`<<"EOF"`): no variable expansion
    chomp: bool  # `<<-`: leading tabs stripped from body and terminator
    fd: int  # file descriptor (`2<<EOF`); 0 by default
    line: int  # first body line
    end_line: int  # the terminator line


@dataclass
class RawInstruction:
    keyword: str  # as written (case kept); compare upper-cased
    text: str  # the arguments after the flags, continuations joined, trimmed
    flags: list[str]  # `--name=value` / `--name`, quotes removed, in order
    line: int
    end_line: int  # last line, including heredoc bodies and terminators
    original: str  # the whole logical line (continuations joined)
    heredocs: list[RawHeredoc] = field(default_factory=list)
    json_form: bool = False  # arguments are a JSON array of strings (exec form)
    json_args: list[str] = field(default_factory=list)


@dataclass
class ParsedDockerfile:
    directives: dict[str, tuple[str, int]]  # lower-cased name -> (value, line)
    escape: str
    instructions: list[RawInstruction]


def is_space(ch: str) -> bool:
    return ch in _GO_SPACE


def _lstrip(s: str) -> str:
    i = 0
    while i < len(s) and s[i] in _GO_SPACE:
        i += 1
    return s[i:]


def _is_comment(line: str) -> bool:
    return _lstrip(line).startswith("#")


def parse_dockerfile(text: str) -> ParsedDockerfile:
    """Raw instructions of a Dockerfile. Raises DockerfileSyntaxError where BuildKit would."""
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the text's final newline ends the last line; it opens no new one
    lines = [ln.removesuffix("\r") for ln in lines]

    directives: dict[str, tuple[str, int]] = {}
    escape = "\\"
    continuation = _continuation_regex(escape)
    directives_done = False
    out: list[RawInstruction] = []
    n = len(lines)
    i = 0  # index of the next line to read (line number i + 1)

    def directive(line: str, number: int) -> None:
        nonlocal directives_done, escape, continuation
        if directives_done:
            return
        m = _DIRECTIVE.match(line)
        value = m.group(2).strip(" \t") if m else ""
        if not m or not value or m.group(1).lower() not in KNOWN_DIRECTIVES:
            directives_done = True
            return
        name = m.group(1).lower()
        if name in directives:
            raise DockerfileSyntaxError(f"only one {name} parser directive can be used", number)
        if name == "escape":
            if value not in ("`", "\\"):
                raise DockerfileSyntaxError(f"invalid escape token '{value}' does not match ` or \\", number)
            escape = value
            continuation = _continuation_regex(escape)
        directives[name] = (value, number)

    while i < n:
        raw = lines[i]
        i += 1
        start = i
        stripped = _lstrip(raw)
        directive(stripped, start)
        if _is_comment(stripped):
            continue
        line, ended = _trim_continuation(stripped, continuation)
        if ended and line == "":
            continue
        while not ended and i < n:
            nxt = lines[i]
            i += 1
            directive(nxt, i)
            if _is_comment(nxt):
                continue
            if _lstrip(nxt) == "":
                continue  # an empty continuation line (BuildKit warns, then skips it)
            part, ended = _trim_continuation(nxt, continuation)
            line += part
        inst = _instruction(line, start, i)
        if inst.keyword.upper() in _HEREDOC_INSTRUCTIONS and not inst.json_form and "<<" in line:
            for doc in _heredoc_words(inst.original):
                body: list[str] = []
                body_start = i + 1
                while True:
                    if i >= n:
                        raise DockerfileSyntaxError(f"unterminated heredoc {doc.name!r}", start)
                    candidate = lines[i]
                    i += 1
                    if (candidate.lstrip("\t") if doc.chomp else candidate) == doc.name:
                        break
                    body.append(candidate + "\n")
                doc.content = "".join(body)
                doc.line, doc.end_line = body_start, i
                inst.heredocs.append(doc)
            inst.end_line = i
        out.append(inst)

    if not out:
        raise DockerfileSyntaxError("file with no instructions", max(n, 1))
    return ParsedDockerfile(directives=directives, escape=escape, instructions=out)


def _continuation_regex(escape: str) -> re.Pattern[str]:
    return re.compile(re.escape(escape) + r"[ \t]*$")


def _trim_continuation(line: str, regex: re.Pattern[str]) -> tuple[str, bool]:
    m = regex.search(line)
    if m:
        return line[: m.start()], False
    return line, True


def _instruction(line: str, start: int, end: int) -> RawInstruction:
    parts = _WHITESPACE.split(line.strip(" \t\v\f\r"), maxsplit=1)
    keyword = parts[0]
    rest, flags = _extract_flags(parts[1]) if len(parts) == 2 else ("", [])
    rest = rest.strip(" \t\v\f\r")
    inst = RawInstruction(keyword=keyword, text=rest, flags=flags, line=start, end_line=end, original=line)
    if keyword.upper() in _JSON_INSTRUCTIONS:
        decoded = json_array(rest, start)
        if decoded is not None:
            inst.json_form, inst.json_args = True, decoded
    return inst


def json_array(rest: str, line: int = 0) -> list[str] | None:
    """`rest` as a JSON array of strings (exec form), None when it is not JSON (shell form).
    A JSON array holding anything but strings is an error, as in BuildKit."""
    if not rest.startswith("["):
        return None
    try:
        decoded = json.loads(rest, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None
    if not isinstance(decoded, list):
        return None
    if not all(isinstance(x, str) for x in decoded):
        raise DockerfileSyntaxError("when using JSON array syntax, arrays must be comprised of strings only", line)
    return decoded


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _extract_flags(line: str) -> tuple[str, list[str]]:
    """Leading `--flag` words (BuildKit's extractBuilderFlags): quotes removed, backslash escapes
    one character; a bare `--` ends the flags. Returns the rest of the line and the flags."""
    words: list[str] = []
    word: list[str] = []
    pos, n = 0, len(line)
    while True:
        while pos < n and is_space(line[pos]):
            pos += 1
        if pos >= n:
            return "", words
        if not line.startswith("--", pos):
            return line[pos:], words
        word, blank_ok, quote = [], False, ""
        while pos < n:
            ch = line[pos]
            if quote:
                if ch == quote:
                    quote = ""
                elif ch == "\\" and pos + 1 < n:
                    pos += 1
                    word.append(line[pos])
                elif ch != "\\":
                    word.append(ch)
                pos += 1
                continue
            if is_space(ch):
                break
            if ch in "'\"":
                quote, blank_ok = ch, True
            elif ch == "\\":
                if pos + 1 < n:
                    pos += 1
                    word.append(line[pos])
            else:
                word.append(ch)
            pos += 1
        text = "".join(word)
        if text == "--":
            return line[pos:], words
        if blank_ok or text:
            words.append(text)


def split_words(rest: str, escape: str) -> list[str]:
    """BuildKit's parseWords: whitespace-separated words, quotes and escapes kept as written
    (they are removed later, by `shellwords.expand`)."""
    words: list[str] = []
    word: list[str] = []
    quote = ""
    blank_ok = False
    in_word = False
    pos, n = 0, len(rest)
    while pos < n:
        ch = rest[pos]
        if not in_word and not quote:
            if is_space(ch):
                pos += 1
                continue
            in_word = True
        if quote:
            if ch == quote:
                quote = ""
            elif ch == escape and quote != "'":
                if pos + 1 == n:
                    pos += 1
                    continue
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
            pos += 1
            continue
        if is_space(ch):
            if blank_ok or word:
                words.append("".join(word))
            word, blank_ok, in_word = [], False, False
            pos += 1
            continue
        if ch in "'\"":
            quote, blank_ok = ch, True
        elif ch == escape:
            if pos + 1 == n:
                pos += 1
                continue
            word.append(ch)
            pos += 1
            ch = rest[pos]
        word.append(ch)
        pos += 1
    if in_word and (blank_ok or word):
        words.append("".join(word))
    return words


def _heredoc_words(line: str) -> list[RawHeredoc]:
    docs = []
    for word in split_words(line, "\\"):
        m = _HEREDOC_WORD.match(word)
        if not m or not m.group(3):
            continue
        name_raw = m.group(3)
        quoted = any(q in name_raw for q in "'\"")
        name = _unquote_plain(name_raw)
        if not name:
            continue
        docs.append(
            RawHeredoc(
                name=name,
                content="",
                expand=not quoted,
                chomp=m.group(2) == "-",
                fd=_file_descriptor(m.group(1)),
                line=0,
                end_line=0,
            )
        )
    return docs


def _file_descriptor(digits: str) -> int:
    """`2` in `2<<EOF`; past 64 bits Go's ParseUint gives its maximum (and Python's int()
    refuses thousands of digits)."""
    if not digits:
        return 0
    return int(digits) if len(digits) <= 19 and int(digits) < 2**64 else 2**64 - 1


def _unquote_plain(word: str) -> str:
    """Quotes and backslash escapes removed, no variable expansion (a heredoc terminator)."""
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(word):
        ch = word[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"' and i + 1 < len(word) and word[i + 1] in '"\\$':
                i += 1
                out.append(word[i])
            else:
                out.append(ch)
        elif ch in "'\"":
            quote = ch
        elif ch == "\\" and i + 1 < len(word):
            i += 1
            out.append(word[i])
        else:
            out.append(ch)
        i += 1
    return "".join(out)
