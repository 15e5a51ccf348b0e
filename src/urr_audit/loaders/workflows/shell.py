"""Command lines inside `run:` scripts, split as a shell would split them, never run.

`commands(script)` yields `Command`s: the words of each simple command (split with `shlex`,
backslash-newline continuations joined, `&&`, `||`, `;`, `|`, `&` and parentheses separating
commands, heredoc bodies and comments skipped), with the script line it starts on, the working
directory changes (`cd DIR`) and literal variable assignments (`X=value`, `export X=value`) seen
before it, its redirections (those of an enclosing `{ ...; } >> file` group included) and the
lines of its heredoc body. `${{ }}` expressions are replaced by placeholders before splitting (their text may
hold spaces and quotes) and come back as `Expression` markers in `Word.parts`.

Recognising what a command does (docker build/push/tag, sed -i, yq -i, kustomize edit) is in
`recognise.py`; this module only splits.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

_OPEN, _CLOSE = "\ue000", "\ue001"
_PLACEHOLDER = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
_SUB_OPEN, _SUB_CLOSE = "\ue002", "\ue003"
_SUBSTITUTION = re.compile(f"{_SUB_OPEN}(\\d+){_SUB_CLOSE}")
_SEPARATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", ";;", "|&", "{", "}"})
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
# `$X`, `${X}`, `${X:-default}` (the default is dropped), `$(...)`
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:[:#%/][^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\$\(")


@dataclass(frozen=True)
class ShellVar:
    name: str


@dataclass(frozen=True)
class CommandSubstitution:
    text: str


@dataclass(frozen=True)
class Expression:
    index: int  # into the occurrences of `${{ }}` in the script


Part = str | ShellVar | CommandSubstitution | Expression


@dataclass(frozen=True)
class Word:
    raw: str  # after shlex (quotes removed), placeholders in place
    parts: tuple[Part, ...]

    @property
    def literal(self) -> str | None:
        return (
            self.parts[0]
            if len(self.parts) == 1 and isinstance(self.parts[0], str)
            else ("" if not self.parts else None)
        )

    def text(self, exprs: list[str]) -> str:
        """As written, with `${{ }}` restored."""
        out = []
        for p in self.parts:
            if isinstance(p, str):
                out.append(p)
            elif isinstance(p, ShellVar):
                out.append(f"${p.name}")
            elif isinstance(p, CommandSubstitution):
                out.append(f"$({p.text})")
            else:
                out.append("${{" + exprs[p.index] + "}}")
        return "".join(out)


@dataclass
class Command:
    words: list[Word]
    line: int  # 0-based line of the script the command starts on
    source: str  # the logical line it came from (placeholders restored), for locating it
    cwd: list[Word] = field(default_factory=list)  # `cd` arguments seen before, in order
    assigned: dict[str, Word] = field(default_factory=dict)  # variables assigned before it
    # `>>`, `>`, ... and their target, its own and those of a `{ ...; }` / `( ... )` group it is in
    redirects: list[tuple[str, Word]] = field(default_factory=list)
    heredoc: tuple[int, int] | None = None  # 0-based script lines [first, last) of its `<<EOF` body
    # the operators between the previous command of the same logical line and this one
    # (`||` in `pytest || true`, `|` in `pytest | tee log`, `|| {` in `make || { echo; exit 1; }`);
    # empty for the first command of a line
    before: tuple[str, ...] = ()
    # the reserved words that introduced it (`if`, `!`, `while`...): its status is tested
    guard: tuple[str, ...] = ()

    @property
    def argv(self) -> list[str]:
        """Words as plain strings (holes rendered as written), for matching flags."""
        return [w.raw for w in self.words]


def _word(raw: str, subs: list[str] | None = None) -> Word:
    parts: list[Part] = []
    i = 0
    while i < len(raw):
        m = _PLACEHOLDER.search(raw, i)
        v = _VAR.search(raw, i)
        c = _SUBSTITUTION.search(raw, i)
        hits = [x for x in (m, v, c) if x is not None]
        if not hits:
            parts.append(raw[i:])
            break
        h = min(hits, key=lambda x: x.start())
        if h.start() > i:
            parts.append(raw[i : h.start()])
        if h is m:
            parts.append(Expression(int(h.group(1))))
            i = h.end()
        elif h is c:
            n = int(h.group(1))
            parts.append(CommandSubstitution(subs[n] if subs is not None and n < len(subs) else ""))
            i = h.end()
        elif h.group(0) == "$(":
            depth, j = 1, h.end()
            while j < len(raw) and depth:
                depth += {"(": 1, ")": -1}.get(raw[j], 0)
                j += 1
            parts.append(CommandSubstitution(raw[h.end() : j - 1] if depth == 0 else raw[h.end() :]))
            i = j
        else:
            parts.append(ShellVar(h.group(1) or h.group(2)))
            i = h.end()
    merged: list[Part] = []
    for p in parts:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        elif p != "":
            merged.append(p)
    return Word(raw, tuple(merged))


def _unquoted(text: str) -> str:
    """The text with quoted parts blanked out: `echo "body<<EOF"` writes a delimiter, it
    does not open a heredoc."""
    out: list[str] = []
    quote = ""
    keep = False  # a quoted heredoc tag (`<<'EOF'`) stays
    escaped = False
    for c in text:
        if escaped:
            escaped = False
            out.append(" ")
            continue
        if c == "\\" and quote != "'":
            escaped = True
            out.append(" ")
        elif quote:
            if c == quote:
                quote = ""
            out.append(c if keep else " ")
        elif c in "'\"":
            quote = c
            keep = "".join(out).rstrip().endswith(("<<", "<<-"))
            out.append(c if keep else " ")
        else:
            out.append(c)
    return "".join(out)


_FD = re.compile(r"(?<![\w$\\])\d+(?=[<>])")


def _drop_fd_numbers(text: str) -> str:
    """`2>&1`, `1>/dev/null`: the descriptor number is part of the redirection, not a word."""
    if ">" not in text and "<" not in text:
        return text
    blank = _unquoted(text)
    cuts = [(m.start(), m.end()) for m in _FD.finditer(blank)]
    for a, b in reversed(cuts):
        text = text[:a] + text[b:]
    return text


def _logical_lines(script: str) -> Iterator[tuple[int, str, list[tuple[int, int]]]]:
    """(first line index, text, heredoc bodies as [first, last) line ranges) with
    continuations joined; heredoc bodies are not commands."""
    lines = script.split("\n")
    i = 0
    while i < len(lines):
        start = i
        text = lines[i]
        while text.endswith("\\") and not text.endswith("\\\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1] + " " + lines[i].lstrip()
        i += 1
        docs = _HEREDOC.findall(_unquoted(text)) if "<<" in text else []
        bodies = []
        for _quote, tag in docs:
            first = i
            while i < len(lines) and lines[i].strip() != tag:
                i += 1
            bodies.append((first, i))
            i += 1
        yield start, text, bodies


def _mask_substitutions(text: str) -> tuple[str, list[str]]:
    """`$(...)` and backquoted commands become placeholders (their text may hold spaces and
    quotes that would split the word around them)."""
    subs: list[str] = []
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$(", i) and not text.startswith("$((", i):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
            if depth:
                out.append(text[i:])
                break
            subs.append(text[i + 2 : j - 1])
            out.append(f"{_SUB_OPEN}{len(subs) - 1}{_SUB_CLOSE}")
            i = j
        elif text[i] == "`":
            j = text.find("`", i + 1)
            if j < 0:
                out.append(text[i:])
                break
            subs.append(text[i + 1 : j])
            out.append(f"{_SUB_OPEN}{len(subs) - 1}{_SUB_CLOSE}")
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out), subs


def _split(text: str) -> list[str] | None:
    lex = shlex.shlex(text, posix=True, punctuation_chars="();<>|&")
    lex.whitespace_split = True
    lex.commenters = "#"
    try:
        return list(lex)
    except ValueError:  # unbalanced quotes: not a command we can read
        return None


_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", re.DOTALL)


def commands(script: str, exprs: list[tuple[int, int]] | None = None) -> Iterator[Command]:
    """The simple commands of `script`. `exprs` are the (start, end) offsets of its `${{ }}`
    occurrences, replaced by placeholders `Expression(i)` in the words."""
    text = script
    originals = [script[a:b] for a, b in exprs or ()]
    if exprs:
        pieces, last = [], 0
        for i, (a, b) in enumerate(exprs):
            pieces.append(script[last:a])
            pieces.append(f"{_OPEN}{i}{_CLOSE}")
            last = b
        pieces.append(script[last:])
        text = "".join(pieces)
    state = _State()
    found: list[Command] = []
    groups: list[int] = []  # index in `found` where each open `{` / `(` group starts
    closed: tuple[int, int] | None = None  # the group just closed, for a redirection after it
    for line, logical, bodies in _logical_lines(text):
        logical, state.subs = _mask_substitutions(logical)
        tokens = _split(_drop_fd_numbers(logical))
        if not tokens:
            continue
        restored = _PLACEHOLDER.sub(lambda m: originals[int(m.group(1))], logical)
        restored = _SUBSTITUTION.sub(lambda m: f"$({state.subs[int(m.group(1))]})", restored)
        current: list[str] = []
        redirects: list[tuple[str, Word]] = []
        heredoc: tuple[int, int] | None = None
        heredocs = list(bodies)
        op: str | None = None
        seps: list[str] = []
        for tok in [*tokens, ";"]:
            if op is not None:
                target = _word(tok, state.subs)
                if op in ("<<", "<<-"):
                    heredoc = heredocs.pop(0) if heredocs else None
                elif current or closed is None:
                    redirects.append((op, target))
                else:  # `{ ...; } >> file`: every command of the group writes there
                    for c in found[closed[0] : closed[1]]:
                        c.redirects.append((op, target))
                op = None
                continue
            if tok in (">", ">>", "<", ">&", "<<", "<<-", "<<<", "&>", "&>>", "<>", ">|"):
                op = tok  # a redirection: the next word is its file (or a heredoc's tag)
                continue
            if tok not in _SEPARATORS:
                current.append(tok)
                closed = None
                continue
            if tok == ")" and not groups:
                current = []  # a `case` pattern (`a|b)`), not a command
            if current:
                cmd = state.simple([_word(t, state.subs) for t in current], line, restored)
                current = []
                if cmd is not None:
                    cmd.redirects, cmd.heredoc, cmd.before = redirects, heredoc, tuple(seps)
                    found.append(cmd)
                seps = []
                redirects, heredoc = [], None
            seps.append(tok)
            if tok in ("(", "{"):
                groups.append(len(found))
                if tok == "(":
                    state.subshells.append(list(state.cwd))
            elif tok in (")", "}"):
                closed = (groups.pop(), len(found)) if groups else None
                if tok == ")" and state.subshells:
                    state.cwd = state.subshells.pop()
            elif tok != ";":
                closed = None
    yield from found


_RESERVED = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!"})
_HEADERS = frozenset({"for", "select", "case", "done", "fi", "esac", "function"})


@dataclass
class _State:
    cwd: list[Word] = field(default_factory=list)
    subshells: list[list[Word]] = field(default_factory=list)  # `( cd x && ... )` changes directory inside only
    assigned: dict[str, Word] = field(default_factory=dict)
    subs: list[str] = field(default_factory=list)  # `$(...)` / backquoted texts of the current line

    def simple(self, words: list[Word], line: int, source: str) -> Command | None:
        # reserved words around the command: `if git push; then`, `while read x; do`, `! grep`
        guard: list[str] = []
        while words and words[0].raw in _RESERVED:
            guard.append(words[0].raw)
            words = words[1:]
        if not words or words[0].raw in _HEADERS:
            return None  # `for x in a b`, `case $x in`, `done`, `fi`: no command of their own
        # leading assignments: `X=1 cmd` (for cmd only) or a bare `X=1` / `export X=1`
        k = 0
        while k < len(words) and _ASSIGN.fullmatch(words[k].raw):
            k += 1
        head = [w.raw for w in words[k:]]
        if not head or head[0] in ("export", "readonly", "local", "declare"):
            for w in words[:k] + words[k + 1 :]:
                m = _ASSIGN.fullmatch(w.raw)
                if m:
                    self.assigned[m.group(1)] = _word(m.group(2), self.subs)
            return None
        if head[0] in ("cd", "pushd"):
            target = words[k + 1 :]
            if target and target[0].raw != "-":
                self.cwd = [*self.cwd, target[0]] if not target[0].raw.startswith("/") else [target[0]]
            return None
        while words[k:] and words[k].raw in ("sudo", "time", "exec", "command", "nohup"):
            k += 1
        if not words[k:]:
            return None
        return Command(words[k:], line, source, list(self.cwd), dict(self.assigned), guard=tuple(guard))
