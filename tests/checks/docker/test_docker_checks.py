"""Dockerfile rules beyond their bad/good fixtures: what stays undecided, what must stay silent,
and the seed's repository (catalog-service without USER) against its mended twin."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES
from urr_audit.scan import scan


def _scan(tmp_path, text: str, rule: str, name: str = "Dockerfile"):
    (tmp_path / name).write_text(text)
    result = scan(tmp_path, select=[rule]).result
    return [f.message for f in result.findings], [f.message for f in result.undecided]


@pytest.mark.parametrize(
    ("text", "findings", "undecided"),
    [
        ("ARG BASE\nFROM $BASE\nUSER 1\n", 0, 1),
        ("ARG REG\nFROM ${REG}/app:1.4.2\n", 0, 0),
        ("ARG REG\nFROM ${REG}/app:latest\n", 1, 0),
        ("ARG IMG\nFROM ${IMG}@sha256:" + "0" * 64 + "\n", 0, 0),
        ("ARG TAG\nFROM node:${TAG}\n", 0, 1),
        ("FROM node:20 AS b\nFROM b\nCOPY --from=b /x /y\nRUN --mount=from=b,target=/m true\n", 0, 0),
        ("FROM node:20\nRUN --mount=type=bind,from=alpine,target=/m true\n", 1, 0),
        ("FROM scratch\n", 0, 0),
    ],
)
def test_mutable_base_image_decides_only_what_is_written(tmp_path, text, findings, undecided):
    got, undecided_got = _scan(tmp_path, text, "URR-DOCKER-001")
    assert (len(got), len(undecided_got)) == (findings, undecided), (got, undecided_got)


def test_user_from_an_arg_default_and_an_unknown_user(tmp_path):
    got, _ = _scan(tmp_path, "FROM node:20\nARG RUN_AS=root\nUSER ${RUN_AS}\n", "URR-DOCKER-002")
    assert len(got) == 1 and "`${RUN_AS}`" in got[0]
    got, undecided = _scan(tmp_path, "FROM node:20\nARG RUN_AS\nUSER ${RUN_AS}\n", "URR-DOCKER-002")
    assert got == [] and len(undecided) == 1 and "RUN_AS has no default" in undecided[0]


def test_only_the_final_stage_counts_for_the_user(tmp_path):
    text = "FROM node:20 AS build\nUSER root\nRUN npm ci\nFROM node:20\nUSER node\n"
    assert _scan(tmp_path, text, "URR-DOCKER-002") == ([], [])
    assert _scan(tmp_path, text, "URR-DOCKER-003") == ([], [])


def test_no_user_is_undecided_when_the_base_image_is_unknown(tmp_path):
    got, undecided = _scan(tmp_path, "ARG BASE\nFROM ${BASE}\nCOPY app /app\n", "URR-DOCKER-003")
    assert got == [] and len(undecided) == 1


@pytest.mark.parametrize(
    "image", ["gcr.io/distroless/static-debian12:nonroot", "gcr.io/distroless/java21-debian12:debug-nonroot"]
)
def test_distroless_nonroot_images_need_no_user(tmp_path, image):
    assert _scan(tmp_path, f"FROM {image}\nCOPY app /app\n", "URR-DOCKER-003") == ([], [])


@pytest.mark.parametrize(
    "line",
    [
        "ARG NEXT_PUBLIC_API_URL",
        "ARG GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",
        "ARG PASSWORD_MIN_LENGTH=12",
        "ARG TOKEN_URL=https://auth.example.com/token",
        "ARG AWS_ACCESS_KEY_ID",
        "ENV PWD=/app",
        "ENV GOOGLE_APPLICATION_CREDENTIALS=/var/secrets/google/key.json",
        "ENV SECRET_KEY_BASE_DUMMY=1",
        "ENV API_KEY=<set-at-runtime>",
        "ENV DATABASE_URL=postgres://db:5432/app",
    ],
)
def test_secret_rules_do_not_cry_wolf(tmp_path, line):
    text = f"FROM node:20\n{line}\nUSER node\n"
    assert _scan(tmp_path, text, "URR-DOCKER-005") == ([], [])
    assert _scan(tmp_path, text, "URR-DOCKER-006") == ([], [])


def test_a_credential_value_is_reported_whatever_the_name(tmp_path):
    text = "FROM node:20\nENV CONFIG=ghp_" + "a1B2" * 9 + "\nUSER node\n"
    got, _ = _scan(tmp_path, text, "URR-DOCKER-006")
    assert len(got) == 1 and "GitHub token" in got[0]


def test_add_of_a_local_archive_or_a_pinned_source_is_fine(tmp_path):
    text = (
        "FROM alpine:3\nADD app.tar.gz /opt/\n"
        "ADD git@github.com:o/r.git#0123456789abcdef0123456789abcdef01234567 /src\n"
        "ADD --checksum=sha256:" + "1" * 64 + " https://example.com/x.tgz /x\n"
    )
    assert _scan(tmp_path, text, "URR-DOCKER-004") == ([], [])


def test_findings_are_addressed_by_stage_name_and_instruction(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM node AS web\nUSER node\n")
    [f] = scan(tmp_path, select=["URR-DOCKER-001"]).result.findings
    assert f.address == "Dockerfile/stages/web/instructions/0" and f.line == 1


def test_the_seed_repository_and_its_mended_twin():
    urr = scan(FIXTURES / "repos" / "urr", select=["URR-DOCKER"]).result
    assert [(f.rule_id, f.path, f.line) for f in urr.findings] == [
        ("URR-DOCKER-003", "services-spring/catalog-service/Dockerfile", 11)
    ]
    fixed = scan(FIXTURES / "repos" / "urr-fixed", select=["URR-DOCKER"]).result
    assert fixed.findings == [] and fixed.undecided == []
    assert not [e for e in fixed.errors if e.kind.startswith("docker.")]


def test_the_seed_repository_inventory_and_build_context_sources():
    project = scan(FIXTURES / "repos" / "urr-fixed", select=["URR-DOCKER-000"]).project
    assert project.docker.inventory() == {"Dockerfiles": 9, "build stages": 18}
    ticket = next(f for f in project.docker.files if f.path == "services-spring/ticket-service/Dockerfile")
    assert [s for _, s, _ in ticket.context_sources()] == [
        "gradlew",
        "settings.gradle",
        "build.gradle",
        "gradle",
        "src",
    ]
    assert ticket.final_stage is not None and ticket.final_stage.base.image.repository == "eclipse-temurin"


@pytest.mark.parametrize("repo", ["urr", "urr-fixed"])
def test_the_seed_dockerfiles_copy_only_what_their_build_context_holds(repo):
    # the workflows build each service with its own directory as context: what a later rule
    # (COPY source missing from the context) checks must hold on the fixture itself
    root = FIXTURES / "repos" / repo
    project = scan(root, select=["URR-DOCKER-000"]).project
    for df in project.docker.files:
        ignore = project.docker.ignore_for(df.path, df.directory)
        for _, written, path in df.context_sources():
            assert path.is_known
            target = root / df.directory / path.value
            assert target.exists(), (df.path, written)
            assert ignore is None or not ignore.excludes(path.value), (df.path, written)
