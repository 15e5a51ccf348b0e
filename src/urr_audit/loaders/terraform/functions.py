"""Terraform's built-in functions over plain Python values (lists, dicts, str, int/float, bool, None).

Unknown inputs never reach these: the evaluator short-circuits them. A function that cannot
apply to its arguments raises `EvalError`, which `try`/`can` catch like Terraform does.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import itertools
import json
import math
import posixpath
import re
import urllib.parse
from collections.abc import Callable
from typing import Any


class EvalError(Exception):
    """An expression Terraform itself would reject (wrong type, missing key, bad index...)."""


def tf_str(v: Any) -> str:
    """Terraform's string conversion, as used by templates and `tostring`."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if v is None:
        raise EvalError("null value cannot be used as a string")
    raise EvalError(f"cannot convert {type_name(v)} to string")


def type_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def norm_number(v: float) -> int | float:
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**63:
        return int(v)
    return v


def _num(v: Any) -> int | float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        if isinstance(v, str):
            try:
                return norm_number(float(v)) if not re.fullmatch(r"-?\d+", v) else int(v)
            except ValueError:
                pass
        raise EvalError(f"a number is required, got {type_name(v)}")
    return v


def _str(v: Any) -> str:
    return tf_str(v)


def _list(v: Any) -> list[Any]:
    if isinstance(v, list):
        return v
    raise EvalError(f"a list is required, got {type_name(v)}")


def _map(v: Any) -> dict[str, Any]:
    if isinstance(v, dict):
        return v
    raise EvalError(f"a map is required, got {type_name(v)}")


def _merge(*maps: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in maps:
        if m is None:
            continue
        out.update(_map(m))
    return out


def _lookup(m: Any, key: Any, *default: Any) -> Any:
    m = _map(m)
    k = _str(key)
    if k in m:
        return m[k]
    if default:
        return default[0]
    raise EvalError(f"lookup: no key {k!r} and no default")


def _coalesce(*args: Any) -> Any:
    for a in args:
        if a is not None and a != "":
            return a
    raise EvalError("coalesce: no non-null, non-empty argument")


def _coalescelist(*args: Any) -> Any:
    for a in args:
        if _list(a):
            return a
    raise EvalError("coalescelist: no non-empty list")


_FMT_RE = re.compile(r"%(?:%|([-+ #0]*)(\d*)(?:\.(\d+))?([vdsfqtbeEgGxXo]))")


def _format(fmt: Any, *args: Any) -> str:
    fmt = _str(fmt)
    it = iter(args)

    def repl(m: re.Match[str]) -> str:
        if m.group(0) == "%%":
            return "%"
        flags, width, prec, verb = m.groups()
        if len(width or "") > 4 or len(prec or "") > 4:
            raise EvalError("format: width or precision too large")
        try:
            a = next(it)
        except StopIteration:
            raise EvalError("format: too few arguments") from None
        if verb in ("v", "s"):
            s = a if isinstance(a, str) else (json.dumps(a) if isinstance(a, (list, dict)) else _str(a))
            return f"%{flags}{width}s" % s
        if verb == "q":
            return json.dumps(_str(a))
        if verb == "t":
            return "true" if a else "false"
        if verb == "d":
            return f"%{flags}{width}d" % int(_num(a))
        if verb in "fFeEgG":
            return (f"%{flags}{width}" + (f".{prec}" if prec else "") + verb) % float(_num(a))
        if verb in "xXob":
            return format(int(_num(a)), verb)
        raise EvalError(f"format: unsupported verb %{verb}")

    return _FMT_RE.sub(repl, fmt)


def _formatlist(fmt: Any, *args: Any) -> list[str]:
    lengths = {len(a) for a in args if isinstance(a, list)}
    if len(lengths) > 1:
        raise EvalError("formatlist: lists of different lengths")
    n = lengths.pop() if lengths else 1
    return [_format(fmt, *[a[i] if isinstance(a, list) else a for a in args]) for i in range(n)]


def _length(v: Any) -> int:
    if isinstance(v, (list, dict, str)):
        return len(v)
    raise EvalError(f"length: cannot take the length of {type_name(v)}")


def _substr(s: Any, offset: Any, length: Any) -> str:
    s, o, n = _str(s), int(_num(offset)), int(_num(length))
    if o < 0:
        o = len(s) + o
    return s[o:] if n < 0 else s[o : o + n]


def _toset(v: Any) -> list[Any]:
    out: list[Any] = []
    for x in _list(v):
        if x not in out:
            out.append(x)
    try:
        return sorted(out)
    except TypeError:
        return out


def _tonumber(v: Any) -> Any:
    return None if v is None else _num(v)


def _tobool(v: Any) -> Any:
    if v is None or isinstance(v, bool):
        return v
    if v in ("true", "false"):
        return v == "true"
    raise EvalError(f"tobool: cannot convert {v!r}")


def _tostring(v: Any) -> Any:
    return None if v is None else _str(v)


def _element(lst: Any, idx: Any) -> Any:
    lst = _list(lst)
    if not lst:
        raise EvalError("element: empty list")
    return lst[int(_num(idx)) % len(lst)]


def _flatten(v: Any) -> list[Any]:
    out: list[Any] = []
    for x in _list(v):
        out.extend(_flatten(x) if isinstance(x, list) else [x])
    return out


def _distinct(v: Any) -> list[Any]:
    out: list[Any] = []
    for x in _list(v):
        if x not in out:
            out.append(x)
    return out


def _yaml_scalar(v: Any, pad: str) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return tf_str(v)
    text = _str(v)
    if "\n" in text:  # a literal block, as Terraform's encoder writes multi-line strings
        body, chomp = (text[:-1], "|") if text.endswith("\n") else (text, "|-")
        return chomp + "".join(f"\n{pad}  {line}" if line else "\n" for line in body.split("\n"))
    return json.dumps(text, ensure_ascii=False)


def _yaml_lines(v: Any, pad: str) -> list[str]:
    """Terraform's yamlencode style: block collections, every key and string double-quoted."""
    if isinstance(v, dict) and v:
        out = []
        for k in sorted(v):
            x, key = v[k], json.dumps(k, ensure_ascii=False)
            if isinstance(x, dict) and x:
                out += [f"{pad}{key}:", *_yaml_lines(x, pad + "  ")]
            elif isinstance(x, list) and x:
                out += [f"{pad}{key}:", *_yaml_lines(x, pad)]
            else:
                out.append(f"{pad}{key}: {_yaml_flow(x, pad)}")
        return out
    if isinstance(v, list) and v:
        out = []
        for x in v:
            if isinstance(x, (dict, list)) and x:
                inner = _yaml_lines(x, pad + "  ")
                out += [f"{pad}- {inner[0].lstrip()}", *inner[1:]]
            else:
                out.append(f"{pad}- {_yaml_flow(x, pad + '  ')}")
        return out
    return [pad + _yaml_flow(v, pad)]


def _yaml_flow(v: Any, pad: str) -> str:
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, list):
        return "[]"
    return _yaml_scalar(v, pad)


def _yamlencode(v: Any) -> str:
    return "\n".join(_yaml_lines(v, "")) + "\n"


def _cidrsubnet(prefix: Any, newbits: Any, netnum: Any) -> str:
    net = ipaddress.ip_network(_str(prefix), strict=False)
    nb, nn = int(_num(newbits)), int(_num(netnum))
    new_prefix = net.prefixlen + nb
    if new_prefix > net.max_prefixlen or nn >= 2**nb or nn < 0:
        raise EvalError("cidrsubnet: not enough address space")
    size = 2 ** (net.max_prefixlen - new_prefix)
    addr = int(net.network_address) + nn * size
    return f"{ipaddress.ip_address(addr)}/{new_prefix}"


def _cidrhost(prefix: Any, hostnum: Any) -> str:
    net = ipaddress.ip_network(_str(prefix), strict=False)
    n = int(_num(hostnum))
    if n < 0:
        n = net.num_addresses + n
    if not 0 <= n < net.num_addresses:
        raise EvalError("cidrhost: host number out of range")
    return str(ipaddress.ip_address(int(net.network_address) + n))


def _cidrsubnets(prefix: Any, *newbits: Any) -> list[str]:
    """Consecutive subnets of the given sizes, each aligned to its own size, as Terraform does."""
    net = ipaddress.ip_network(_str(prefix), strict=False)
    cursor = int(net.network_address)
    out = []
    for nb in newbits:
        length = net.prefixlen + int(_num(nb))
        if length > net.max_prefixlen:
            raise EvalError("cidrsubnets: not enough address space")
        size = 2 ** (net.max_prefixlen - length)
        cursor = -(-cursor // size) * size  # align up
        if cursor + size > int(net.network_address) + net.num_addresses:
            raise EvalError("cidrsubnets: not enough address space")
        out.append(f"{ipaddress.ip_address(cursor)}/{length}")
        cursor += size
    return out


def _transpose(m: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, vs in _map(m).items():
        for v in _list(vs):
            out.setdefault(_str(v), []).append(k)
    return {k: sorted(v) for k, v in out.items()}


def _indent(n: Any, s: Any) -> str:
    return _str(s).replace("\n", "\n" + " " * int(_num(n)))


def _log(x: Any, base: Any) -> int | float:
    return norm_number(math.log(_num(x), _num(base)))


def _matchkeys(values: Any, keys: Any, search: Any) -> list[Any]:
    vs, ks, wanted = _list(values), _list(keys), _list(search)
    if len(vs) != len(ks):
        raise EvalError("matchkeys: values and keys must have the same length")
    return [v for v, k in zip(vs, ks) if k in wanted]


def _hash(name: str) -> Callable[[Any], str]:
    return lambda s: getattr(hashlib, name)(_str(s).encode()).hexdigest()


def _range(*args: Any) -> list[Any]:
    nums = [_num(a) for a in args]
    if len(nums) == 1:
        start, end, step = 0, nums[0], 1
    elif len(nums) == 2:
        start, end, step = nums[0], nums[1], 1 if nums[1] >= nums[0] else -1
    else:
        start, end, step = nums
    if step == 0:
        raise EvalError("range: step cannot be zero")
    out = []
    x = start
    while (step > 0 and x < end) or (step < 0 and x > end):
        out.append(norm_number(x))
        x += step
        if len(out) > 1024:
            raise EvalError("range: more than 1024 elements")
    return out


def _one(v: Any) -> Any:
    v = _list(v)
    if len(v) > 1:
        raise EvalError("one: more than one element")
    return v[0] if v else None


# Terraform matches with RE2 (linear time); Python's backtracking engine can take exponential
# time on a nested quantifier. A scan must finish on hostile input, so such patterns (and
# huge subjects) are not evaluated: the value becomes unknown.
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[*+}](?:[^()\\]|\\.)*\)\s*[*+{]")
_MAX_SUBJECT = 100_000


def _pattern(pattern: Any, subject: str) -> re.Pattern[str]:
    text = _str(pattern)
    if _NESTED_QUANTIFIER.search(text) or re.search(r"\\[1-9]", text):
        raise EvalError("regex: pattern not evaluated (nested quantifier or backreference: backtracking risk)")
    if len(subject) > _MAX_SUBJECT:
        raise EvalError("regex: subject too long to evaluate")
    try:
        return re.compile(text)
    except re.error as exc:
        raise EvalError(f"regex: invalid pattern: {exc}") from exc


def _regex(pattern: Any, s: Any) -> Any:
    m = _pattern(pattern, _str(s)).search(_str(s))
    if m is None:
        raise EvalError("regex: no match")
    return _match_value(m)


def _match_value(m: re.Match[str]) -> Any:
    if m.re.groupindex:
        return {k: m.group(k) for k in m.re.groupindex}
    if m.re.groups:
        return list(m.groups())
    return m.group(0)


def _regexall(pattern: Any, s: Any) -> list[Any]:
    return [_match_value(m) for m in _pattern(pattern, _str(s)).finditer(_str(s))]


def _replace(s: Any, old: Any, new: Any) -> str:
    s, old, new = _str(s), _str(old), _str(new)
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):
        return _pattern(old[1:-1], s).sub(re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", new), s)
    return s.replace(old, new)


def _minmax(fn: Callable[..., Any]) -> Callable[..., Any]:
    def inner(*args: Any) -> Any:
        if not args:
            raise EvalError("at least one argument is required")
        return fn(_num(a) for a in args)

    return inner


def _zipmap(keys: Any, values: Any) -> dict[str, Any]:
    keys, values = _list(keys), _list(values)
    if len(keys) != len(values):
        raise EvalError("zipmap: lists of different lengths")
    return {_str(k): v for k, v in zip(keys, values)}


def _jsondecode(s: Any) -> Any:
    try:
        return json.loads(_str(s))
    except json.JSONDecodeError as e:
        raise EvalError(f"jsondecode: {e}") from None


def _join(sep: Any, *lists: Any) -> str:
    return _str(sep).join(_str(x) for lst in lists for x in _list(lst))


def _contains(lst: Any, v: Any) -> bool:
    return any(x == v and type_name(x) == type_name(v) for x in _list(lst))


def _keys(m: Any) -> list[str]:
    return sorted(_map(m))


def _values(m: Any) -> list[Any]:
    m = _map(m)
    return [m[k] for k in sorted(m)]


def _tomap(m: Any) -> dict[str, Any]:
    return dict(_map(m))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "merge": _merge,
    "concat": lambda *ls: [x for lst in ls for x in _list(lst)],
    "lookup": _lookup,
    "coalesce": _coalesce,
    "coalescelist": _coalescelist,
    "format": _format,
    "formatlist": _formatlist,
    "join": _join,
    "split": lambda sep, s: _str(s).split(_str(sep)) if _str(s) else [],
    "length": _length,
    "lower": lambda s: _str(s).lower(),
    "upper": lambda s: _str(s).upper(),
    "title": lambda s: _str(s).title(),
    "replace": _replace,
    "trimspace": lambda s: _str(s).strip(),
    "trimprefix": lambda s, p: _str(s).removeprefix(_str(p)),
    "trimsuffix": lambda s, p: _str(s)[: -len(_str(p))] if _str(p) and _str(s).endswith(_str(p)) else _str(s),
    "trim": lambda s, chars: _str(s).strip(_str(chars)),
    "substr": _substr,
    "tolist": lambda v: list(_list(v)),
    "toset": _toset,
    "tomap": _tomap,
    "tostring": _tostring,
    "tonumber": _tonumber,
    "tobool": _tobool,
    "element": _element,
    "contains": _contains,
    "keys": _keys,
    "values": _values,
    "distinct": _distinct,
    "flatten": _flatten,
    "compact": lambda v: [x for x in _list(v) if x is not None and x != ""],
    "jsonencode": lambda v: json.dumps(v, separators=(",", ":")),
    "jsondecode": _jsondecode,
    "yamlencode": _yamlencode,
    "min": _minmax(min),
    "max": _minmax(max),
    "abs": lambda n: abs(_num(n)),
    "ceil": lambda n: math.ceil(_num(n)),
    "floor": lambda n: math.floor(_num(n)),
    "cidrsubnet": _cidrsubnet,
    "cidrsubnets": _cidrsubnets,
    "cidrnetmask": lambda p: str(ipaddress.ip_network(_str(p), strict=False).netmask),
    "strrev": lambda s: _str(s)[::-1],
    "chomp": lambda s: re.sub(r"(\r\n|\n|\r)+$", "", _str(s)),
    "indent": _indent,
    "transpose": _transpose,
    "log": _log,
    "alltrue": lambda v: all(x is True or x == "true" for x in _list(v)),
    "anytrue": lambda v: any(x is True or x == "true" for x in _list(v)),
    "matchkeys": _matchkeys,
    "md5": _hash("md5"),
    "sha1": _hash("sha1"),
    "sha256": _hash("sha256"),
    "sha512": _hash("sha512"),
    "base64sha256": lambda s: base64.b64encode(hashlib.sha256(_str(s).encode()).digest()).decode(),
    "urlencode": lambda s: urllib.parse.quote_plus(_str(s), safe="-_.~"),  # Go url.QueryEscape
    "basename": lambda p: posixpath.basename(_str(p)),
    "dirname": lambda p: posixpath.dirname(_str(p)) or ".",
    "sensitive": lambda v: v,
    "nonsensitive": lambda v: v,
    "cidrhost": _cidrhost,
    "range": _range,
    "zipmap": _zipmap,
    "one": _one,
    "startswith": lambda s, p: _str(s).startswith(_str(p)),
    "endswith": lambda s, p: _str(s).endswith(_str(p)),
    "strcontains": lambda s, p: _str(p) in _str(s),
    "regex": _regex,
    "regexall": _regexall,
    "base64encode": lambda s: base64.b64encode(_str(s).encode()).decode(),
    "base64decode": lambda s: base64.b64decode(_str(s)).decode("utf-8", "replace"),
    "reverse": lambda v: list(reversed(_list(v))),
    "sort": lambda v: sorted(_str(x) for x in _list(v)),
    "index": lambda lst, v: (
        _list(lst).index(v) if v in _list(lst) else (_ for _ in ()).throw(EvalError("index: not found"))
    ),
    "slice": lambda lst, a, b: _list(lst)[int(_num(a)) : int(_num(b))],
    "sum": lambda lst: norm_number(sum(_num(x) for x in _list(lst))),
    "chunklist": lambda lst, n: [_list(lst)[i : i + int(_num(n))] for i in range(0, len(_list(lst)), int(_num(n)))],
    "setunion": lambda *ls: _toset([x for lst in ls for x in _list(lst)]),
    "setintersection": lambda first, *ls: _toset([x for x in _list(first) if all(x in _list(o) for o in ls)]),
    "setsubtract": lambda a, b: _toset([x for x in _list(a) if x not in _list(b)]),
    # lists in, list of lists out (Terraform: a set of tuples for sets, a list for lists)
    "setproduct": lambda *ls: [list(t) for t in itertools.product(*map(_list, ls))],
    "pow": lambda a, b: norm_number(math.pow(_num(a), _num(b))),
    "signum": lambda n: (_num(n) > 0) - (_num(n) < 0),
    "parseint": lambda s, base: int(_str(s), int(_num(base))),
}

# Values only known once applied: these are unknown at plan time, and so to us.
APPLY_TIME = frozenset({"timestamp", "uuid", "bcrypt", "uuidv5", "plantimestamp"})
