"""Dockerfile loading: every Dockerfile of a repository (default: fixtures/repos/urr), and the
parser alone on one large synthetic file.

python benchmarks/bench_docker.py [ROOT]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from urr_audit.loaders.docker import load_docker, load_dockerfile
from urr_audit.workspace import Workspace

ROOT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "fixtures" / "repos" / "urr"


def timed(fn, runs: int = 10) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return min(samples), statistics.median(samples)


def main() -> None:
    ws = Workspace(ROOT)
    ws.files  # noqa: B018 -- the directory walk is measured by bench_scan, not here
    project, errors = load_docker(ws)
    best, median = timed(lambda: load_docker(ws))
    lines = sum(f.span.end_line for f in project.files)
    print(
        f"load_docker: {len(project.files)} Dockerfiles ({lines} lines, {len(errors)} errors): "
        f"best {best * 1000:.2f} ms, median {median * 1000:.2f} ms"
    )
    stage = (
        'FROM eclipse-temurin:21-jdk AS build{n}\nARG VERSION=1.{n}\nENV APP_HOME=/srv/app{n} JAVA_OPTS="-Xmx512m"\n'
        "COPY --chown=1001:1001 gradlew settings.gradle build.gradle ./\n"
        "RUN --mount=type=cache,target=/root/.gradle \\\n    ./gradlew bootJar -x test --no-daemon \\\n"
        "    && echo done\nRUN <<EOF\nset -eux\necho $VERSION\nEOF\nUSER 1001\n"
    )
    text = "# syntax=docker/dockerfile:1\n" + "".join(stage.format(n=n) for n in range(500))
    best, median = timed(lambda: load_dockerfile("Dockerfile", text), runs=5)
    n_lines = text.count("\n")
    print(
        f"load_dockerfile on {n_lines} lines / 500 stages: best {best * 1000:.1f} ms, median {median * 1000:.1f} ms "
        f"({n_lines / best / 1000:.0f} k lines/s)"
    )


if __name__ == "__main__":
    main()
