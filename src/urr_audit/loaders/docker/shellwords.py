"""Word processing as BuildKit's `shell.Lex.ProcessWord` does it for Dockerfile arguments.

Quotes are removed (`'...'` literal, `"..."` expanding), the escape character escapes one
character, and `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}`,
`${NAME+word}` are substituted from a lookup. A variable whose value is not known (an ARG
without a default, a platform ARG only the builder sets) makes the whole word unknown, with
the reason; a variable that is not defined at all expands to the empty string, as in Docker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# name -> None (not defined: expands to ""), or (value, "") when known, or (None, reason)
Lookup = Callable[[str], "tuple[str | None, str] | None"]


@dataclass(frozen=True)
class Expansion:
    text: str | None  # None when some variable's value is unknown
    reason: str = ""  # why unknown
    names: tuple[str, ...] = ()  # the variables read, in order


class _Unknown(Exception):
    def __init__(self, reason: str):
        self.reason = reason


class _Cursor:
    def __init__(self, word: str, escape: str, lookup: Lookup):
        self.s, self.i, self.escape, self.lookup = word, 0, escape, lookup
        self.names: list[str] = []

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def next(self) -> str:
        ch = self.peek()
        self.i += 1
        return ch

    def word(self, stop: str = "") -> str:
        out: list[str] = []
        while True:
            ch = self.peek()
            if ch == "" or (stop and ch == stop):
                return "".join(out)
            if ch == "'":
                out.append(self.single_quoted())
            elif ch == '"':
                out.append(self.double_quoted())
            elif ch == "$":
                out.append(self.dollar())
            else:
                self.next()
                if ch == self.escape:
                    ch = self.next()
                    if ch == "":
                        return "".join(out)
                out.append(ch)

    def single_quoted(self) -> str:
        self.next()
        end = self.s.find("'", self.i)
        if end == -1:
            raise _Unknown("unterminated single quote")
        text, self.i = self.s[self.i : end], end + 1
        return text

    def double_quoted(self) -> str:
        self.next()
        out: list[str] = []
        while True:
            ch = self.peek()
            if ch == "":
                raise _Unknown("unterminated double quote")
            if ch == '"':
                self.next()
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            self.next()
            if ch == self.escape and self.peek() in ('"', "$", self.escape) and self.peek() != "":
                ch = self.next()
            out.append(ch)

    def name(self) -> str:
        ch = self.peek()
        if ch.isdigit() or (ch and ch in "*#@!?-$"):
            return self.next()
        start = self.i
        while self.i < len(self.s) and (self.s[self.i].isalnum() or self.s[self.i] == "_") and self.s[self.i].isascii():
            self.i += 1
        return self.s[start : self.i]

    def value(self, name: str) -> str | None:
        """The variable's value; None when not defined. Raises _Unknown when unknown."""
        self.names.append(name)
        found = self.lookup(name)
        if found is None:
            return None
        text, reason = found
        if text is None:
            raise _Unknown(reason or f"${name} is not known before the build")
        return text

    def dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            return self.value(name) or ""
        self.next()
        if self.peek() in ("", "{", "}", ":"):
            raise _Unknown("bad substitution")
        name = self.name()
        op = self.next()
        if op == "}":
            return self.value(name) or ""
        colon = op == ":"
        if colon:
            op = self.next()
        if op not in ("-", "+"):
            raise _Unknown(f"the substitution ${{{name}{':' if colon else ''}{op}...}} is not evaluated")
        alternative = self.word(stop="}")
        if self.next() != "}":
            raise _Unknown("missing '}'")
        current = self.value(name)
        is_set = current is not None and (current != "" or not colon)
        if op == "-":
            return current if is_set and current is not None else alternative
        return alternative if is_set else ""


def expand(word: str, lookup: Lookup, escape: str = "\\") -> Expansion:
    """The word as the build sees it (quotes removed, variables substituted)."""
    if not any(ch in word for ch in ("$", "'", '"', escape)):
        return Expansion(word)  # most words: nothing to remove or substitute
    cur = _Cursor(word, escape, lookup)
    try:
        text = cur.word()
    except _Unknown as unknown:
        return Expansion(None, unknown.reason, tuple(cur.names))
    return Expansion(text, "", tuple(cur.names))


def no_variables(name: str) -> tuple[str | None, str] | None:
    """A lookup for words where Docker expands nothing (every variable stays unknown)."""
    return (None, f"${name} is expanded only at run time")
