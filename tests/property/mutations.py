"""Hypothesis strategies shared by the loader properties: real fixture files, mutated.

A mutation works on bytes (what a loader reads from disk): delete, duplicate or swap lines,
insert random bytes or unicode text (control characters, encoded surrogates, NUL), truncate,
nest an opener thousands of times, put a run of thousands of one character inside a line,
switch to CRLF, add a byte-order mark. Loaders must turn
every result into a model or a `LoadError`, never an exception, and finish quickly.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# A loader that needs more than this for one small file is pathological (backtracking,
# quadratic blow-up), not slow: typical times are a few milliseconds.
TIME_BOUND = timedelta(seconds=5)


def loader_settings(max_examples: int):
    """Bounded examples (the whole property suite stays well under 30 s); derandomized on CI so
    a red run is reproducible, random locally so new inputs keep being tried.
    `URR_PROPERTY_SCALE=50 pytest tests/property` runs fifty times as many, by hand."""
    scale = float(os.environ.get("URR_PROPERTY_SCALE", "1"))  # e.g. 50 for a deep run by hand
    return settings(
        max_examples=max(1, int(max_examples * scale)),
        deadline=TIME_BOUND,
        derandomize=bool(os.environ.get("CI")),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )


# Odd text: control characters, NUL, a BOM, combining marks, right-to-left, wide characters,
# line separators Python splits on and Docker/HCL/YAML do not.
ODD_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\x00", "\r", "\n", "\t", "\x0b", "\x0c", "\x85", "\u2028", "\ufeff", "\u0301", "\u202e"]),
    ),
    max_size=40,
)
# Encoded surrogates, invalid UTF-8, lone continuation bytes, a truncated multi-byte sequence.
ODD_BYTES = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"\xed\xa0\x80", b"\xff\xfe", b"\x80", b"\xe2\x82", b"\xc0\xaf", b"\x00\x00"]),
)
OPENERS = ["[", "{", "(", "${", '"', "- ", "  ", "a: ", "<<EOF\n", "\\\n", "[[", "{{"]


def _mutation() -> st.SearchStrategy[tuple]:
    index = st.integers(min_value=0, max_value=10_000)
    return st.one_of(
        st.tuples(st.just("delete"), index),
        st.tuples(st.just("duplicate"), index),
        st.tuples(st.just("swap"), index, index),
        st.tuples(st.just("insert_bytes"), index, ODD_BYTES),
        st.tuples(st.just("insert_text"), index, ODD_TEXT),
        st.tuples(st.just("truncate"), st.floats(min_value=0.0, max_value=1.0)),
        st.tuples(st.just("nest"), index, st.sampled_from(OPENERS), st.integers(min_value=1, max_value=3000)),
        st.tuples(st.just("crlf")),
        st.tuples(st.just("bom")),
        st.tuples(st.just("cut_line"), index, st.floats(min_value=0.0, max_value=1.0)),
        # a long run of one character inside a line: what a backtracking regex chokes on
        st.tuples(
            st.just("run"),
            index,
            st.floats(min_value=0.0, max_value=1.0),
            st.sampled_from(list(" \t\\$#=:-.[{\"'a0/@*")),
            st.integers(min_value=1000, max_value=20_000),
        ),
    )


MUTATIONS = st.lists(_mutation(), min_size=1, max_size=4)


def mutate(data: bytes, ops: list[tuple]) -> bytes:
    lines = data.split(b"\n")
    for op in ops:
        kind = op[0]
        n = max(len(lines), 1)
        if kind == "delete" and lines:
            del lines[op[1] % n]
        elif kind == "duplicate" and lines:
            i = op[1] % n
            lines.insert(i, lines[i])
        elif kind == "swap" and lines:
            i, j = op[1] % n, op[2] % n
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "insert_bytes":
            lines.insert(op[1] % (n + 1), op[2])
        elif kind == "insert_text":
            lines.insert(op[1] % (n + 1), op[2].encode("utf-8", "surrogatepass"))
        elif kind == "truncate":
            joined = b"\n".join(lines)
            lines = joined[: int(len(joined) * op[1])].split(b"\n")
        elif kind == "nest":
            i = op[1] % (n + 1)
            lines.insert(i, (op[2] * op[3]).encode())
        elif kind == "crlf":
            lines = [ln + b"\r" for ln in lines]
        elif kind == "bom":
            lines[0:1] = [b"\xef\xbb\xbf" + (lines[0] if lines else b"")]
        elif kind == "cut_line" and lines:
            i = op[1] % n
            lines[i] = lines[i][: int(len(lines[i]) * op[2])]
        elif kind == "run" and lines:
            i = op[1] % n
            at = int(len(lines[i]) * op[2])
            lines[i] = lines[i][:at] + (op[3] * op[4]).encode() + lines[i][at:]
    return b"\n".join(lines)


def fixture_files(root: Path, suffixes: tuple[str, ...], names: tuple[str, ...] = ()) -> list[tuple[Path, str]]:
    """(tree, file relative to it) for every matching file of every tree directly under `root`."""
    out = []
    for tree in sorted(p for p in root.iterdir() if p.is_dir()):
        for f in sorted(tree.rglob("*")):
            if f.is_file() and (f.name.endswith(suffixes) or f.name in names):
                out.append((tree, f.relative_to(tree).as_posix()))
    return out


@contextmanager
def mutated_tree(tree: Path, rel: str, content: bytes) -> Iterator[Path]:
    """A temporary copy of `tree` with `rel` replaced by `content`."""
    with tempfile.TemporaryDirectory() as tmp:
        dst = Path(tmp) / "repo"
        shutil.copytree(tree, dst, symlinks=True)
        (dst / rel).write_bytes(content)
        yield dst
