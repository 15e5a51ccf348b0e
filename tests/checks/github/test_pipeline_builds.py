"""Semantics of the pipeline rules URR-GHA-050..059 beyond their bad/good fixtures: the shell
operators the splitter records, pipefail per shell, the order of pushes and scans, tag kinds,
Docker's source globs, what an earlier step may write, and the registry's own scanning."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from urr_audit.checks.github.testing import _pipefail
from urr_audit.facts.gha_builds import Tree, clean, same_image
from urr_audit.loaders.workflows.shell import commands
from urr_audit.model.common import go_glob
from urr_audit.model.gha_images import Hole, ImageName, Template
from urr_audit.scan import scan


def _repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def _found(root: Path, rule: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    report = scan(root, select=[rule])
    return (
        [(f.line, f.message) for f in report.result.findings],
        [(f.line, f.message) for f in report.result.undecided],
    )


def test_the_splitter_records_operators_and_guards():
    got = [
        (c.argv[0], c.before, c.guard)
        for c in commands(
            "pytest || true\nif ! go test; then exit 1; fi\nmake || { echo x; exit 1; }\nnpm test | tee log\n"
        )
    ]
    assert got == [
        ("pytest", (), ()),
        ("true", ("||",), ()),
        ("go", (), ("if", "!")),
        ("exit", (";",), ("then",)),
        ("make", (), ()),
        ("echo", ("||", "{"), ()),
        ("exit", (";",), ()),
        ("npm", (), ()),
        ("tee", ("|",), ()),
    ]


@pytest.mark.parametrize(
    ("shell", "script", "expected"),
    [
        (None, "", False),  # GitHub's default: bash -e {0}
        ("bash", "", True),  # shell: bash is bash --noprofile --norc -eo pipefail {0}
        ("sh", "", False),
        ("bash -e {0}", "", None),  # a custom line that does not say
        ("bash -eo pipefail {0}", "", True),
        (None, "set -euo pipefail", True),
        ("bash", "set +o pipefail", False),
    ],
)
def test_pipefail_per_shell(shell, script, expected):
    assert _pipefail(shell, list(_shell_commands(script))) is expected


def _shell_commands(script: str):
    from urr_audit.model.common import Span
    from urr_audit.model.workflows import ShellCommand

    for c in commands(script):
        yield ShellCommand(argv=c.argv, span=Span(path="x", line=1, end_line=1))


def test_a_test_run_whose_status_is_read_later_is_not_reported(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/ci.yml": """
            on: push
            jobs:
              t:
                runs-on: ubuntu-latest
                steps:
                  - run: |
                      pytest | tee out.txt
                      exit "${PIPESTATUS[0]}"
                  - run: |
                      set +e
                      go test ./...
                      rc=$?
                      echo done
                      exit $rc
                  - run: pytest || exit 1
            """,
        },
    )
    assert _found(root, "URR-GHA-050") == ([], [])


def test_same_image_is_unknown_for_run_time_names():
    sha = Template(parts=(Hole(source="${{ github.sha }}", reason="run"),))
    a = ImageName.parse(Template(parts=("ghcr.io/acme/api:", *sha.parts)))
    b = ImageName.parse(Template.literal("ghcr.io/acme/api:scan"))
    c = ImageName.parse(Template.literal("ghcr.io/acme/web:1"))
    meta = ImageName.parse(Template(parts=(Hole(source="${{ steps.meta.outputs.tags }}", reason="run"),)))
    assert same_image(a, b) is True
    assert same_image(a, c) is False
    assert same_image(a, meta) is None


def test_scan_in_a_parallel_job_does_not_gate_the_push(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/img.yml": """
            on: push
            jobs:
              push:
                runs-on: ubuntu-latest
                steps:
                  - run: docker build -t ghcr.io/acme/api:${{ github.sha }} . && docker push ghcr.io/acme/api:${{ github.sha }}
              scan:
                runs-on: ubuntu-latest
                steps:
                  - run: trivy image --exit-code 1 ghcr.io/acme/api:${{ github.sha }}
            """,
        },
    )
    found, _ = _found(root, "URR-GHA-052")
    assert len(found) == 1 and "in parallel" in found[0][1]


def test_ecr_scan_on_push_in_the_terraform_covers_an_unscanned_push(tmp_path):
    workflow = """
        on: push
        jobs:
          img:
            runs-on: ubuntu-latest
            steps:
              - id: ecr
                uses: aws-actions/amazon-ecr-login@v2
              - uses: docker/build-push-action@v6
                with:
                  push: true
                  tags: ${{ steps.ecr.outputs.registry }}/acme/api:${{ github.sha }}
        """
    root = _repo(tmp_path / "a", {".github/workflows/img.yml": workflow})
    assert len(_found(root, "URR-GHA-053")[0]) == 1
    root = _repo(
        tmp_path / "b",
        {
            ".github/workflows/img.yml": workflow,
            "terraform/main.tf": """
            resource "aws_ecr_repository" "api" {
              name = "acme/api"
              image_scanning_configuration {
                scan_on_push = true
              }
            }
            """,
        },
    )
    assert _found(root, "URR-GHA-053")[0] == []


def test_a_scanner_exit_code_from_an_expression_is_undecided(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/scan.yml": """
            on: push
            jobs:
              s:
                runs-on: ubuntu-latest
                steps:
                  - uses: aquasecurity/trivy-action@0.28.0
                    with:
                      image-ref: app:ci
                      exit-code: ${{ vars.TRIVY_EXIT_CODE }}
            """,
        },
    )
    found, undecided = _found(root, "URR-GHA-054")
    assert found == [] and len(undecided) == 1


def test_tags_from_a_tag_triggered_workflow_are_versions(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/img.yml": """
            on:
              push:
                branches: [main]
            jobs:
              img:
                runs-on: ubuntu-latest
                steps:
                  - uses: docker/build-push-action@v6
                    with:
                      push: true
                      tags: |
                        ghcr.io/acme/api:${{ github.ref_name }}
                        ghcr.io/acme/api:${{ github.run_number }}
            """,
        },
    )
    found, _ = _found(root, "URR-GHA-056")
    assert len(found) == 1 and "branch name" in found[0][1]


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("*.jar", "app.jar", True),
        ("*.jar", "libs/app.jar", False),  # `*` never crosses `/`
        ("build/libs/*.jar", "build/libs/app-1.0.jar", True),
        ("src/[a-c]*.go", "src/b.go", True),
        ("src/[^a-c]*.go", "src/b.go", False),  # Go negates a class with `^` (a `!` is itself)
        ("src/[!a-c]*.go", "src/b.go", True),
        ("src[^a]b.go", "src/b.go", False),  # a negated class never matches `/`
    ],
)
def test_docker_source_globs(pattern, path, hit):
    rx = go_glob(pattern)
    assert rx is not None and bool(rx.match(path)) is hit


def test_malformed_glob_is_refused_not_matched():
    assert go_glob("src/[a-c") is None


def test_tree_and_clean():
    tree = Tree(["services/api/Dockerfile", "README.md"])
    assert tree.is_dir("services") and tree.is_dir("services/api") and not tree.is_dir("services/web")
    assert tree.under("services") == ["api/Dockerfile"]
    assert clean("./services/api/") == "services/api"
    assert clean("../elsewhere") is None and clean("https://github.com/x/y.git") is None


def test_a_generated_copy_source_is_undecided_and_the_git_context_is_not(tmp_path):
    files = {
        "Dockerfile": "FROM alpine:3.20\nCOPY target/app.jar /app.jar\n",
        ".github/workflows/img.yml": """
        on: push
        jobs:
          workspace:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - run: mvn -B package
              - uses: docker/build-push-action@v6
                with:
                  context: .
          git:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - run: mvn -B package
              - uses: docker/build-push-action@v6
        """,
    }
    found, undecided = _found(_repo(tmp_path, files), "URR-GHA-058")
    assert len(found) == 1 and "Git context" in found[0][1]
    assert len(undecided) == 1 and "mvn -B package" in undecided[0][1]


def test_a_scanner_configured_out_of_sight_is_undecided(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/scan.yml": """
            on: push
            jobs:
              env:
                runs-on: ubuntu-latest
                env:
                  TRIVY_EXIT_CODE: "1"
                steps:
                  - uses: aquasecurity/trivy-action@0.28.0
                    with:
                      image-ref: app:ci
              config:
                runs-on: ubuntu-latest
                steps:
                  - run: trivy image app:ci
            """,
            "trivy.yaml": "exit-code: 1\nseverity:\n  - CRITICAL\n",
        },
    )
    found, undecided = _found(root, "URR-GHA-054")
    assert found == []
    assert len(undecided) == 2 and any("TRIVY_EXIT_CODE" in m for _, m in undecided)
    assert any("trivy.yaml" in m for _, m in undecided)


def test_a_build_that_skips_its_tests_is_not_a_test_run(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/ci.yml": """
            on: push
            jobs:
              b:
                runs-on: ubuntu-latest
                steps:
                  - run: ./gradlew build -x test || true
                  - run: mvn -B -DskipTests verify || true
                  - run: ./gradlew build || true
            """,
        },
    )
    found, _ = _found(root, "URR-GHA-050")
    assert [line for line, _ in found] == [8]


def test_a_scan_whose_sarif_goes_to_code_scanning_is_low(tmp_path):
    root = _repo(
        tmp_path,
        {
            ".github/workflows/scan.yml": """
            on: pull_request
            jobs:
              snyk:
                runs-on: ubuntu-latest
                steps:
                  - run: docker build -t app:${{ github.sha }} .
                  - uses: snyk/actions/docker@0.4.0
                    continue-on-error: true
                    with:
                      image: app:${{ github.sha }}
                      args: --file=Dockerfile --sarif-file-output=reports/snyk.sarif
                  - uses: github/codeql-action/upload-sarif@v3
                    with:
                      sarif_file: reports/snyk.sarif
              snyk-default:
                runs-on: ubuntu-latest
                steps:
                  - uses: snyk/actions/docker@0.4.0
                    continue-on-error: true
                    with:
                      image: app:ci
                  - uses: github/codeql-action/upload-sarif@v3
                    with:
                      sarif_file: snyk.sarif
              snyk-unread:
                runs-on: ubuntu-latest
                steps:
                  - uses: snyk/actions/docker@0.4.0
                    continue-on-error: true
                    with:
                      image: app:ci
              trivy-config:
                runs-on: ubuntu-latest
                steps:
                  - run: trivy image --format sarif app:ci > trivy.sarif
                  - uses: github/codeql-action/upload-sarif@v3
                    with:
                      sarif_file: trivy.sarif
            """,
            "trivy.yaml": "severity:\n  - CRITICAL\n",
        },
    )
    report = scan(root, select=["URR-GHA-054"])
    sev = sorted((f.line, str(f.severity)) for f in report.result.findings)
    assert [s.rsplit(".", 1)[-1].lower() for _, s in sev] == ["low", "low", "medium"]
    undecided = report.result.undecided
    assert len(undecided) == 1 and str(undecided[0].severity).rsplit(".", 1)[-1].lower() == "low"
    assert "code scanning" in undecided[0].message
