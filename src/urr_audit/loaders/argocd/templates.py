"""The two template languages of ApplicationSets, evaluated as the ApplicationSet controller does.

- *fasttemplate* (`goTemplate` unset): `{{ key }}` is replaced by the string parameter `key`
  (spaces around the key trimmed); a tag naming no parameter is left as written.
- *Go templates* (`goTemplate: true`): a subset of Go's text/template with the Sprig and Argo CD
  functions people use in ApplicationSets (`default`, `lower`, `replace`, `trunc`, `normalize`,
  `index`, `printf`, `if`/`else`...). A missing map key prints `<no value>` (Go's default) or is an
  error with `missingkey=error`. What this module does not evaluate (`range`, `with`, variables,
  an unknown function) raises `Unsupported`: the caller then says the generated set is unknown
  rather than guessing it.

Nothing here executes code from the repository: templates are parsed and interpreted.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class TemplateError(Exception):
    """The controller itself would fail on this template (Argo CD reports an error)."""


class Unsupported(Exception):
    """A construct urr-audit does not evaluate; the result is unknown, not wrong."""


# --- fasttemplate ------------------------------------------------------------------------------


def fasttemplate(text: str, params: dict[str, Any]) -> str:
    """`{{key}}` replaced by `params[key]` when it is a string; other tags left as written."""
    out: list[str] = []
    pos = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            out.append(text[pos:])
            break
        end = text.find("}}", start + 2)
        if end < 0:
            out.append(text[pos:])
            break
        out.append(text[pos:start])
        tag = text[start + 2 : end]
        value = params.get(tag.strip())
        out.append(value if isinstance(value, str) and tag.strip() else "{{" + tag + "}}")
        pos = end + 2
    return "".join(out)


# --- Go text/template (subset) -----------------------------------------------------------------

NO_VALUE = "<no value>"


@dataclass
class _Field:
    base: Any  # None: the dot; "$": the root; or a node whose result is indexed
    names: tuple[str, ...]


@dataclass
class _Lit:
    value: Any


@dataclass
class _Call:
    name: str
    args: list[Any] = field(default_factory=list)


@dataclass
class _Pipe:
    commands: list[Any]  # each: _Call, or an operand (a command made of one operand)


@dataclass
class _If:
    branches: list[tuple[_Pipe, list[Any]]]  # (condition, body)
    otherwise: list[Any] | None


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<raw>`[^`]*`)
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<field>(?:\$|\.)?(?:\.?[A-Za-z_][A-Za-z0-9_]*)+|\.|\$)
    | (?P<op>[|()])
    | (?P<assign>:?=)
    )""",
    re.VERBOSE,
)


def _tokens(action: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    text = action.strip()
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise Unsupported(f"cannot read template action {{{{{action.strip()}}}}}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.toks = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def pipeline(self) -> _Pipe:
        commands = [self.command()]
        while (tok := self.peek()) is not None and tok == ("op", "|"):
            self.take()
            commands.append(self.command())
        return _Pipe(commands)

    def command(self) -> Any:
        operands = []
        while (tok := self.peek()) is not None and tok[1] not in ("|", ")"):
            operands.append(self.operand())
        if not operands:
            raise TemplateError("missing value for command")
        head = operands[0]
        if isinstance(head, _Call):
            head.args = operands[1:]
            return head
        if len(operands) > 1:
            raise TemplateError("can't give argument to non-function")
        return head

    def operand(self) -> Any:
        kind, text = self.take()
        if kind == "assign":
            raise Unsupported("template variables are not evaluated")
        if kind == "str":
            return _Lit(json.loads(text))
        if kind == "raw":
            return _Lit(text[1:-1])
        if kind == "num":
            return _Lit(float(text) if "." in text else int(text))
        if kind == "op" and text == "(":
            inner = self.pipeline()
            if self.peek() != ("op", ")"):
                raise TemplateError("unclosed left paren")
            self.take()
            nxt = self.peek()
            if nxt is not None and nxt[0] == "field" and nxt[1].startswith(".") and nxt[1] != ".":
                self.take()
                return _Field(inner, tuple(n for n in nxt[1].split(".") if n))
            return inner
        if kind == "field":
            if text == ".":
                return _Field(None, ())
            if text.startswith("$"):
                if text != "$" and not text.startswith("$."):
                    raise Unsupported("template variables are not evaluated")
                return _Field("$", tuple(n for n in text[1:].split(".") if n))
            if text.startswith("."):
                return _Field(None, tuple(n for n in text.split(".") if n))
            if text in ("true", "false"):
                return _Lit(text == "true")
            if text == "nil":
                return _Lit(None)
            if "." in text:
                raise TemplateError(f"function {text!r} not defined")
            return _Call(text)
        raise TemplateError(f"unexpected {text!r} in command")


_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)
_KEYWORD = re.compile(r"^\s*(if|else|end|range|with|define|template|block|break|continue)\b\s*(.*)$", re.DOTALL)


def _parse(text: str) -> list[Any]:
    """Template text -> nodes (str, _Pipe, _If)."""
    items: list[tuple[str, Any]] = []
    pos = 0
    for m in _ACTION.finditer(text):
        chunk = text[pos : m.start()]
        if m.group(1):
            chunk = chunk.rstrip()
        if items and items[-1][0] == "trim-next":
            chunk = chunk.lstrip()
            items.pop()
        items.append(("text", chunk))
        body = m.group(2)
        if body.strip().startswith("/*"):
            items.append(("text", ""))
        else:
            km = _KEYWORD.match(body)
            if km:
                items.append(("kw", (km.group(1), km.group(2))))
            else:
                items.append(("pipe", _Parser(_tokens(body)).pipeline()))
        if m.group(3):
            items.append(("trim-next", None))
        pos = m.end()
    tail = text[pos:]
    if items and items[-1][0] == "trim-next":
        tail = tail.lstrip()
        items.pop()
    items.append(("text", tail))

    stack: list[tuple[_If, list[Any]]] = []
    root: list[Any] = []
    body = root
    for kind, value in items:
        if kind == "text":
            if value:
                body.append(value)
        elif kind == "pipe":
            body.append(value)
        else:
            word, rest = value
            if word == "if":
                node = _If([(_Parser(_tokens(rest)).pipeline(), [])], None)
                body.append(node)
                stack.append((node, body))
                body = node.branches[0][1]
            elif word == "else":
                if not stack:
                    raise TemplateError("unexpected {{else}}")
                node = stack[-1][0]
                if node.otherwise is not None:
                    raise TemplateError("{{else}} after {{else}}")
                elif_ = re.match(r"^if\b\s*(.*)$", rest, re.DOTALL)
                if elif_:
                    node.branches.append((_Parser(_tokens(elif_.group(1))).pipeline(), []))
                    body = node.branches[-1][1]
                else:
                    node.otherwise = []
                    body = node.otherwise
            elif word == "end":
                if not stack:
                    raise TemplateError("unexpected {{end}}")
                _, body = stack.pop()
            else:
                raise Unsupported(f"`{{{{{word}}}}}` is not evaluated by urr-audit")
    if stack:
        raise TemplateError("unexpected EOF: {{if}} without {{end}}")
    return root


def _truth(v: Any) -> bool:
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, (str, list, dict, tuple)):
        return len(v) > 0
    return True


def go_string(v: Any) -> str:
    """fmt.Sprint of a value decoded from JSON, as Go prints it."""
    if v is None:
        return NO_VALUE
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e21 else repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(go_string(x) for x in v) + "]"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go_string(v[k])}" for k in sorted(v)) + "]"
    return str(v)


def normalize_name(name: str) -> str:
    """Argo CD's `normalize`: a DNS-1123 subdomain from any string."""
    name = re.sub(r"[^-a-z0-9.]", "-", name.lower())[:253]
    return name.strip("-.")


def _slugify(*args: Any) -> str:
    # slugify [maxSize [smartTruncate]] input
    text = str(args[-1])
    size = int(args[0]) if len(args) > 1 else 50
    smart = bool(args[1]) if len(args) > 2 else True
    slug = re.sub(r"[^a-z0-9-]+", "-", text.lower())
    slug = re.sub(r"-+", "-", slug).strip("-")
    if len(slug) > size:
        cut = slug[:size]
        if smart and "-" in cut and slug[size : size + 1] not in ("", "-"):
            cut = cut.rsplit("-", 1)[0]
        slug = cut.strip("-")
    return slug


def _printf(fmt: str, *args: Any) -> str:
    out = []
    it = iter(args)
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%" or i + 1 >= len(fmt):
            out.append(c)
            i += 1
            continue
        verb = fmt[i + 1]
        i += 2
        if verb == "%":
            out.append("%")
            continue
        try:
            arg = next(it)
        except StopIteration:
            out.append(f"%!{verb}(MISSING)")
            continue
        if verb in ("s", "v"):
            out.append(go_string(arg))
        elif verb == "d" and isinstance(arg, int) and not isinstance(arg, bool):
            out.append(str(arg))
        elif verb == "q":
            out.append(json.dumps(go_string(arg)))
        else:
            raise Unsupported(f"printf verb %{verb} is not evaluated")
    return "".join(out)


def _trunc(n: int, s: str) -> str:
    return s[:n] if n >= 0 else s[n:]


def _index(coll: Any, *keys: Any) -> Any:
    for k in keys:
        if isinstance(coll, dict):
            coll = coll.get(str(k))
        elif isinstance(coll, list) and isinstance(k, int):
            if not 0 <= k < len(coll):
                raise TemplateError(f"error calling index: index out of range: {k}")
            coll = coll[k]
        elif coll is None:
            raise TemplateError("error calling index: index of untyped nil")
        else:
            raise TemplateError(f"error calling index: cannot index {type(coll).__name__}")
    return coll


def _regex_replace(regex: str, s: str, repl: str) -> str:
    return re.sub(regex, re.sub(r"\$\{?(\d+)\}?", r"\\\1", repl), s)


def _to_yaml(v: Any) -> str:
    from io import StringIO

    from ruamel.yaml import YAML

    y = YAML(typ="safe", pure=True)
    y.default_flow_style = False
    buf = StringIO()
    y.dump(v, buf)
    return buf.getvalue().rstrip("\n")


def _kebab(s: str) -> str:
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", s)
    return re.sub(r"[\s_]+", "-", s).lower()


def _snake(s: str) -> str:
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return re.sub(r"[\s-]+", "_", s).lower()


def _cmp(op: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    def f(a: Any, b: Any) -> bool:
        try:
            return op(a, b)
        except TypeError as exc:
            raise TemplateError(f"incompatible types for comparison: {exc}") from exc

    return f


def _eq(a: Any, *bs: Any) -> bool:
    return any(a == b for b in bs)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    # text/template built-ins (`and`/`or` are evaluated lazily below)
    "not": lambda v: not _truth(v),
    "len": lambda v: len(v) if v is not None else 0,
    "index": _index,
    "print": lambda *a: "".join(go_string(x) for x in a),
    "printf": _printf,
    "eq": _eq,
    "ne": lambda a, b: a != b,
    "lt": _cmp(lambda a, b: a < b),
    "le": _cmp(lambda a, b: a <= b),
    "gt": _cmp(lambda a, b: a > b),
    "ge": _cmp(lambda a, b: a >= b),
    # Sprig
    "lower": lambda s: go_string(s).lower(),
    "upper": lambda s: go_string(s).upper(),
    "title": lambda s: go_string(s).title(),
    "trim": lambda s: go_string(s).strip(),
    "trimAll": lambda cut, s: go_string(s).strip(cut),
    "trimPrefix": lambda p, s: go_string(s).removeprefix(p),
    "trimSuffix": lambda p, s: go_string(s).removesuffix(p),
    "replace": lambda old, new, s: go_string(s).replace(old, new),
    "default": lambda d, *v: v[0] if v and _truth(v[0]) else d,
    "empty": lambda v: not _truth(v),
    "coalesce": lambda *v: next((x for x in v if _truth(x)), None),
    "ternary": lambda a, b, cond: a if _truth(cond) else b,
    "quote": lambda *v: " ".join(json.dumps(go_string(x)) for x in v),
    "squote": lambda *v: " ".join(f"'{go_string(x)}'" for x in v),
    "trunc": _trunc,
    "contains": lambda sub, s: sub in go_string(s),
    "hasPrefix": lambda p, s: go_string(s).startswith(p),
    "hasSuffix": lambda p, s: go_string(s).endswith(p),
    "splitList": lambda sep, s: go_string(s).split(sep),
    "join": lambda sep, v: sep.join(go_string(x) for x in (v or [])),
    "toString": go_string,
    "cat": lambda *v: " ".join(go_string(x) for x in v if x is not None),
    "first": lambda v: v[0] if v else None,
    "last": lambda v: v[-1] if v else None,
    "list": lambda *v: list(v),
    "kebabcase": lambda s: _kebab(go_string(s)),
    "snakecase": lambda s: _snake(go_string(s)),
    "regexReplaceAll": _regex_replace,
    "b64enc": lambda s: base64.b64encode(go_string(s).encode()).decode(),
    "toJson": lambda v: json.dumps(v, separators=(",", ":")),
    "toYaml": _to_yaml,
    # Argo CD's additions
    "normalize": lambda s: normalize_name(go_string(s)),
    "slugify": _slugify,
}


class _Eval:
    def __init__(self, data: dict[str, Any], missing_error: bool):
        self.data = data
        self.missing_error = missing_error

    def nodes(self, nodes: list[Any], dot: Any) -> str:
        out = []
        for n in nodes:
            if isinstance(n, str):
                out.append(n)
            elif isinstance(n, _If):
                for cond, body in n.branches:
                    if _truth(self.pipe(cond, dot)):
                        out.append(self.nodes(body, dot))
                        break
                else:
                    if n.otherwise is not None:
                        out.append(self.nodes(n.otherwise, dot))
            else:
                out.append(go_string(self.pipe(n, dot)))
        return "".join(out)

    def pipe(self, p: _Pipe, dot: Any) -> Any:
        result: Any = _NOTHING
        for cmd in p.commands:
            result = self.command(cmd, dot, result)
        return result

    def command(self, cmd: Any, dot: Any, prev: Any) -> Any:
        if isinstance(cmd, _Call):
            if cmd.name in ("and", "or"):
                args = [*cmd.args]
                values = [self.operand(a, dot) for a in args] + ([prev] if prev is not _NOTHING else [])
                want = cmd.name == "or"
                for v in values:
                    if _truth(v) == want:
                        return v
                return values[-1] if values else None
            fn = FUNCTIONS.get(cmd.name)
            if fn is None:
                raise Unsupported(f"template function `{cmd.name}` is not evaluated by urr-audit")
            args = [self.operand(a, dot) for a in cmd.args]
            if prev is not _NOTHING:
                args.append(prev)
            try:
                return fn(*args)
            except (TemplateError, Unsupported):
                raise
            except (TypeError, ValueError, AttributeError, re.error) as exc:
                raise TemplateError(f"error calling {cmd.name}: {exc}") from exc
        if prev is not _NOTHING:
            raise TemplateError("can't give argument to non-function")
        return self.operand(cmd, dot)

    def operand(self, node: Any, dot: Any) -> Any:
        if isinstance(node, _Lit):
            return node.value
        if isinstance(node, _Pipe):
            return self.pipe(node, dot)
        if isinstance(node, _Call):
            return self.command(node, dot, _NOTHING)
        if isinstance(node, _Field):
            if node.base is None:
                value = dot
            elif node.base == "$":
                value = self.data
            else:
                value = self.operand(node.base, dot)
            for name in node.names:
                # A missing key (or a field of one) is Go's invalid value: `<no value>` when
                # printed, falsy, and an error only with missingkey=error.
                if isinstance(value, dict):
                    if name not in value:
                        if self.missing_error:
                            raise TemplateError(f'map has no entry for key "{name}"')
                        value = None
                        continue
                    value = value[name]
                elif value is None:
                    if self.missing_error:
                        raise TemplateError(f'nil data; no entry for key "{name}"')
                    continue
                else:
                    raise TemplateError(f"can't evaluate field {name} in type {type(value).__name__}")
            return value
        raise TemplateError("bad template node")


_NOTHING = object()


def gotemplate(text: str, data: dict[str, Any], options: list[str] | tuple[str, ...] = ()) -> str:
    """Execute `text` as a Go template over `data`. Raises TemplateError (Argo CD would fail
    too) or Unsupported (not evaluated here)."""
    if "{{" not in text:
        return text
    missing_error = any(o.replace(" ", "") == "missingkey=error" for o in options)
    return _Eval(data, missing_error).nodes(_parse(text), data)


def render_strings(value: Any, render: Callable[[str], str]) -> Any:
    """Every string (and mapping key) inside a JSON-like value passed through `render`, as the
    controller templates each string field of the Application template."""
    if isinstance(value, str):
        return render(value) if "{{" in value else value
    if isinstance(value, list):
        return [render_strings(v, render) for v in value]
    if isinstance(value, dict):
        return {
            (render(k) if isinstance(k, str) and "{{" in k else k): render_strings(v, render) for k, v in value.items()
        }
    return value
