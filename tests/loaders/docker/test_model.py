"""Dockerfiles into the typed model: stages, image references, variables, COPY/ADD, RUN mounts,
addresses and spans; the examples are those of Docker's Dockerfile reference."""

from __future__ import annotations

import pytest

from urr_audit.loaders.docker import load_docker, load_dockerfile
from urr_audit.loaders.docker.build import parse_image_ref
from urr_audit.model.docker import (
    ArgInstruction,
    CmdInstruction,
    CopyInstruction,
    EnvInstruction,
    ExposeInstruction,
    HealthcheckInstruction,
    RunInstruction,
    UserInstruction,
    WorkdirInstruction,
    is_dockerfile_name,
)
from urr_audit.workspace import Workspace


def _load(text: str, path: str = "Dockerfile"):
    df, err = load_dockerfile(path, text)
    assert err is None, err
    assert df is not None
    return df


def _error(text: str):
    df, err = load_dockerfile("Dockerfile", text)
    assert df is None and err is not None
    return err


# --- image references ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "registry", "repository", "tag", "digest", "full"),
    [
        ("alpine", None, "alpine", None, None, "docker.io/library/alpine"),
        ("library/alpine:3.19", None, "library/alpine", "3.19", None, "docker.io/library/alpine"),
        ("bitnami/redis:7.2", None, "bitnami/redis", "7.2", None, "docker.io/bitnami/redis"),
        ("docker.io/library/node:20", "docker.io", "library/node", "20", None, "docker.io/library/node"),
        ("localhost:5000/foo/bar:tag", "localhost:5000", "foo/bar", "tag", None, "localhost:5000/foo/bar"),
        ("localhost/app", "localhost", "app", None, None, "localhost/app"),
        ("[::1]:5000/app:1", "[::1]:5000", "app", "1", None, "[::1]:5000/app"),
        (
            "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/urr/ticket-service:a1b2c3d",
            "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com",
            "urr/ticket-service",
            "a1b2c3d",
            None,
            "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/urr/ticket-service",
        ),
        ("node:20@sha256:" + "a" * 64, None, "node", "20", "sha256:" + "a" * 64, "docker.io/library/node"),
        ("Registry/app", "Registry", "app", None, None, "Registry/app"),  # upper case: a domain
    ],
)
def test_image_references_split_as_the_reference_grammar(ref, registry, repository, tag, digest, full):
    img = parse_image_ref(ref)
    assert img is not None
    assert (img.registry, img.repository, img.tag, img.digest, img.full_name) == (
        registry,
        repository,
        tag,
        digest,
        full,
    )


@pytest.mark.parametrize(
    "ref", ["Python:3", "alpine:", "alpine:la test", "a//b", "-a", "node@sha256:abc", "x:" + "t" * 200]
)
def test_invalid_image_references(ref):
    assert parse_image_ref(ref) is None


# --- stages and FROM ------------------------------------------------------------------------


def test_global_args_are_substituted_in_from_lines():
    df = _load(
        "ARG  CODE_VERSION=latest\nFROM base:${CODE_VERSION}\nCMD  /code/run-app\n\n"
        "FROM extras:${CODE_VERSION}\nCMD  /code/run-extras\n"
    )
    assert [s.base.resolved for s in df.stages] == ["base:latest", "extras:latest"]
    assert df.stages[0].base.args == ["CODE_VERSION"] and df.stages[0].base.image.tag == "latest"
    assert [a.args[0].name for a in df.global_args] == ["CODE_VERSION"]
    assert df.global_args[0].address == "Dockerfile/global/instructions/0"


def test_an_arg_without_default_leaves_the_image_unknown():
    df = _load("ARG BASE\nARG TAG=1.2\nFROM ${BASE}:${TAG}\n")
    base = df.stages[0].base
    assert base.kind == "unknown" and "ARG BASE has no default" in base.reason and base.written == "${BASE}:${TAG}"


def test_an_undeclared_variable_in_from_is_empty_as_in_docker():
    df = _load("FROM alpine${SUFFIX}\n")
    assert df.stages[0].base.resolved == "alpine" and df.stages[0].base.image.tag is None


def test_global_args_chain_and_default_forms():
    df = _load("ARG REG=registry.example.com\nARG IMG=${REG}/base\nFROM ${IMG}:${T:-1.0}\n")
    assert df.stages[0].base.resolved == "registry.example.com/base:1.0"
    # a build argument without default may be given: then it wins over the `:-` default
    df = _load("ARG T\nFROM alpine:${T:-1.0}\n")
    assert df.stages[0].base.kind == "unknown"


def test_platform_flag_is_known_or_unknown():
    df = _load(
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM --platform=linux/arm64 alpine:3.19\nFROM alpine:3.19\n"
    )
    p0, p1, p2 = (s.platform for s in df.stages)
    assert p0.is_unknown and "BUILDPLATFORM" in p0.reason and "set by the builder" in p0.reason
    assert p1.is_known and p1.value == "linux/arm64"
    assert p2.is_absent


def test_from_an_earlier_stage_is_a_stage_reference_names_case_insensitive():
    df = _load("FROM alpine:3.19 AS Base\nUSER app\nFROM base AS final\nFROM scratch\n")
    assert df.stages[1].base.kind == "stage" and df.stages[1].base.stage_index == 0
    assert df.stages[2].base.kind == "scratch"
    assert df.stage("BASE") is df.stages[0] and df.stage(2) is df.stages[2] and df.stage("nope") is None
    assert [s.index for s in df.lineage(df.stages[1])] == [1, 0]
    assert df.final_stage is df.stages[2]


def test_from_a_later_stage_name_is_an_image():
    df = _load("FROM later\nFROM alpine:3 AS later\n")
    assert df.stages[0].base.kind == "image" and df.stages[0].base.image.full_name == "docker.io/library/later"


def test_addresses_use_stage_names_and_spans_cover_continuations():
    df = _load("FROM alpine:3 AS build\nRUN a \\\n  b\nFROM build\nCOPY --from=build /x /y\n")
    assert [i.address for i in df.stages[0].instructions] == [
        "Dockerfile/stages/build/instructions/0",
        "Dockerfile/stages/build/instructions/1",
    ]
    assert df.stages[0].instructions[1].span.line == 2 and df.stages[0].instructions[1].span.end_line == 3
    assert df.stages[1].address == "Dockerfile/stages/1"
    assert df.stages[0].span.end_line == 3


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("FROM a b\n", 1, "one or three arguments"),
        ("FROM a AS\n", 1, "one or three arguments"),
        ("FROM a AS 1st\n", 1, "invalid name for build stage"),
        ("RUN x\nFROM a\n", 1, "before the first FROM"),
        ("ARG X=1\n", 1, "no FROM"),
        ("FROM a\n\nFOO bar\n", 3, "unknown instruction: FOO"),
        ("FROM a\nENV\n", 2, "ENV requires at least one argument"),
        ("FROM a\nENV ONLYNAME\n", 2, "ENV must have two arguments"),
        ("FROM a\nENV a=b c\n", 2, "can't find = in"),
        ("FROM a\nCOPY onlyone\n", 2, "COPY requires at least two arguments"),
        ("FROM a\nCOPY https://example.com/x /x\n", 2, "URL for COPY"),
        ("FROM a\nSHELL /bin/bash -c\n", 2, "JSON form"),
        ("FROM a\nHEALTHCHECK curl x\n", 2, "try CMD"),
        ("FROM a\nONBUILD FROM b\n", 2, "isn't allowed as an ONBUILD trigger"),
        ("FROM ${EMPTY}\n", 1, "should not be blank"),
        ("FROM a\nRUN x \\\n  y\nCOPY --from=3 /x /y\n", 4, "no build stage with that index"),
    ],
)
def test_what_docker_refuses_is_an_error_at_its_line(text, line, message):
    err = _error(text)
    assert message in err.message and err.kind == "docker.parse" and err.line == line


def test_error_lines_point_at_the_instruction():
    assert _error("FROM a\nRUN ok\n\nBAD x\n").line == 4


# --- ENV, ARG and substitution ---------------------------------------------------------------


def test_env_forms_of_the_reference():
    df = _load(
        'FROM a\nENV MY_NAME="John Doe"\nENV MY_DOG=Rex\\ The\\ Dog\nENV MY_CAT=fluffy\n'
        'ENV A="x y" B=Rex\\ The\\ Dog \\\n    C=fluffy\nENV MY_VAR my-value with spaces\n'
    )
    envs = [i for i in df.stages[0].instructions if isinstance(i, EnvInstruction)]
    values = [[(p.name, p.value.value, p.legacy) for p in e.pairs] for e in envs]
    assert values == [
        [("MY_NAME", "John Doe", False)],
        [("MY_DOG", "Rex The Dog", False)],
        [("MY_CAT", "fluffy", False)],
        [("A", "x y", False), ("B", "Rex The Dog", False), ("C", "fluffy", False)],
        [("MY_VAR", "my-value with spaces", True)],
    ]


def test_environment_replacement_of_the_reference():
    df = _load("FROM busybox\nENV FOO=/bar\nWORKDIR ${FOO}\nADD . $FOO\nCOPY \\$FOO /quux\n")
    _, _, workdir, add, copy = df.stages[0].instructions
    assert isinstance(workdir, WorkdirInstruction) and workdir.path.value == "/bar"
    assert isinstance(copy, CopyInstruction) and copy.sources[0].path.value == "$FOO"
    assert isinstance(add, CopyInstruction) and add.kind == "ADD"


def test_env_pairs_expand_with_the_values_before_the_instruction():
    df = _load("FROM a\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\n")
    pairs = [p for i in df.stages[0].instructions if isinstance(i, EnvInstruction) for p in i.pairs]
    assert [(p.name, p.value.value) for p in pairs] == [
        ("abc", "hello"),
        ("abc", "bye"),
        ("def", "hello"),
        ("ghi", "bye"),
    ]


def test_substitution_modifiers():
    df = _load(
        "FROM a\nARG SET=x\nARG EMPTY=\nENV A=${SET:-d} B=${UNSET_IN_SCRATCH:-d} C=${SET:+alt} D=${EMPTY:+alt} "
        "E=${EMPTY-d} F=${EMPTY:-d} G='$SET' H=\"$SET\"\n"
    )
    pairs = df.stages[0].instructions[-1].pairs
    got = {p.name: (p.value.value if p.value.is_known else "?") for p in pairs}
    assert got == {"A": "x", "B": "?", "C": "alt", "D": "", "E": "", "F": "d", "G": "$SET", "H": "x"}


def test_a_global_arg_redeclared_in_a_stage_takes_its_default():
    df = _load("ARG VERSION=1.4\nFROM busybox:$VERSION\nARG VERSION\nUSER u$VERSION\nARG OTHER\nWORKDIR /$OTHER\n")
    user = df.stages[0].users[0]
    assert user.user.value == "u1.4"
    workdir = df.stages[0].instructions[-1]
    assert workdir.path.is_unknown and "OTHER has no default" in workdir.path.reason


def test_variables_only_the_base_image_could_set_are_unknown():
    df = _load("FROM node:20\nWORKDIR $APP_HOME\nFROM scratch\nWORKDIR /x$UNSET\n")
    assert df.stages[0].instructions[1].path.is_unknown and "base image" in df.stages[0].instructions[1].path.reason
    assert df.stages[1].instructions[1].path.value == "/x"


def test_env_is_inherited_by_child_stages_args_are_not():
    df = _load("FROM a:1 AS base\nENV HOME_DIR=/srv\nARG X=1\nFROM base\nWORKDIR $HOME_DIR\nUSER $X\n")
    _, workdir, user = df.stages[1].instructions
    assert workdir.path.value == "/srv"
    # ARG X is not declared in this stage; the base image (a:1) may have an ENV X
    assert user.user.is_unknown and "base image" in user.user.reason
    df = _load("FROM scratch AS base\nARG X=1\nFROM base\nUSER u$X\n")
    assert df.stages[1].users[0].user.value == "u"  # nothing can set it: Docker expands it to ""


def test_arg_definitions():
    df = _load("FROM a\nARG user1=someuser\nARG buildno=1 other\nARG NPM_TOKEN\n")
    args = [a for i in df.stages[0].instructions if isinstance(i, ArgInstruction) for a in i.args]
    assert [(a.name, a.default_written, a.default.value if a.default.is_known else None) for a in args] == [
        ("user1", "someuser", "someuser"),
        ("buildno", "1", "1"),
        ("other", None, None),
        ("NPM_TOKEN", None, None),
    ]
    assert args[-1].default.is_absent


# --- COPY / ADD, RUN, others -----------------------------------------------------------------


def test_copy_and_add_sources_flags_and_destination():
    df = _load(
        "FROM a:1 AS build\nFROM a:1\n"
        "COPY --chown=55:mygroup --chmod=644 --link files* /somedir/\n"
        'COPY ["with space.txt", "/dst/"]\n'
        "COPY --from=build --parents ./x/*.txt /dst/\n"
        "ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d "
        "https://mirrors.edge.kernel.org/pub/linux/kernel/Historic/linux-0.01.tar.gz /\n"
        "ADD git@github.com:user/repo.git /src\n"
        "ADD --keep-git-dir=true https://github.com/moby/buildkit.git#v0.10.1 /buildkit\n"
        "COPY <<EOF /etc/app.conf\nx=1\nEOF\n"
    )
    c1, c2, c3, a1, a2, a3, c4 = df.stages[1].instructions[1:]
    assert (c1.chown, c1.chmod, c1.link, c1.destination) == ("55:mygroup", "644", True, "/somedir/")
    assert [s.path.value for s in c1.sources] == ["files*"] and c1.reads_context
    assert c2.exec_form and [s.written for s in c2.sources] == ["with space.txt"]
    assert c3.from_.kind == "stage" and c3.from_.stage_index == 0 and c3.parents and not c3.reads_context
    assert a1.sources[0].kind == "url" and a1.checksum.startswith("sha256:")
    assert a2.sources[0].kind == "git" and a3.sources[0].kind == "git" and a3.flag("keep-git-dir").value == "true"
    assert c4.sources[0].kind == "heredoc" and c4.heredocs[0].content == "x=1\n"
    assert [(s, v.value) for _, s, v in df.context_sources()] == [
        ("files*", "files*"),
        ("with space.txt", "with space.txt"),
    ]


def test_copy_from_may_name_a_later_stage_or_an_index_or_an_image():
    df = _load(
        "FROM a:1\nCOPY --from=later /x /y\nCOPY --from=1 /x /y\nCOPY --from=nginx:1.27 /x /y\nFROM b:1 AS later\n"
    )
    uses = [i.from_ for i in df.stages[0].instructions[1:]]
    assert [(u.kind, u.stage_index) for u in uses] == [("stage", 1), ("stage", 1), ("image", None)]


def test_run_mounts_network_security():
    df = _load(
        "FROM a:1 AS deps\nFROM a:1\n"
        "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\\n"
        "    --mount=type=secret,id=aws,target=/root/.aws/credentials \\\n"
        "    --mount=type=bind,source=go.mod,target=go.mod \\\n"
        "    --mount=from=deps,source=/out,target=/in \\\n"
        "    --mount=type=ssh --network=none --security=insecure make\n"
    )
    run = df.stages[1].instructions[1]
    assert isinstance(run, RunInstruction) and run.command.shell == "make"
    assert [m.type for m in run.mounts] == ["cache", "secret", "bind", "bind", "ssh"]
    assert run.mounts[1].id == "aws" and run.mounts[1].target == "/root/.aws/credentials"
    assert run.mounts[3].from_.kind == "stage"
    assert (run.network, run.security) == ("none", "insecure")
    assert [s for _, s, _ in df.context_sources()] == ["go.mod"]
    assert (run.span.line, run.span.end_line) == (3, 7)


def test_other_instructions():
    df = _load(
        "FROM a:1\nEXPOSE 80/udp 8080\n"
        "HEALTHCHECK --interval=5m --timeout=3s CMD curl -f http://localhost/ || exit 1\n"
        "HEALTHCHECK NONE\nUSER app:staff\n"
        'SHELL ["powershell", "-command"]\nCMD ["java", "-jar", "app.jar"]\nENTRYPOINT exec top -b\n'
        "ONBUILD ADD . /app/src\nSTOPSIGNAL SIGTERM\nVOLUME /data\nLABEL a=b\nMAINTAINER me\n"
    )
    insts = df.stages[0].instructions
    assert isinstance(insts[1], ExposeInstruction) and insts[1].ports == ["80/udp", "8080"]
    assert isinstance(insts[2], HealthcheckInstruction) and insts[2].command.shell.startswith("curl")
    assert insts[2].flag("interval").value == "5m" and insts[3].none
    assert isinstance(insts[4], UserInstruction) and insts[4].user_part == "app"
    assert isinstance(insts[6], CmdInstruction) and insts[6].command.exec_form == ["java", "-jar", "app.jar"]
    assert insts[7].command.shell == "exec top -b"
    assert [i.kind for i in insts[8:]] == ["ONBUILD", "STOPSIGNAL", "VOLUME", "LABEL", "MAINTAINER"]


def test_instruction_keywords_are_case_insensitive():
    df = _load("from alpine:3 as Build\nrun echo\nuser 1\n")
    assert df.stages[0].name == "Build" and [i.kind for i in df.stages[0].instructions] == ["FROM", "RUN", "USER"]


# --- files in a repository -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "is_dockerfile"),
    [
        ("Dockerfile", True),
        ("dockerfile", True),
        ("Containerfile", True),
        ("Dockerfile.prod", True),
        ("api.Dockerfile", True),
        ("Dockerfile.dockerignore", False),
        ("api.Dockerfile.dockerignore", False),
        ("Dockerfile.j2", False),
        ("Dockerfile.template", False),
        ("Dockerfile.", False),
        ("Dockerfile-old", False),
        ("README.md", False),
    ],
)
def test_which_files_are_dockerfiles(name, is_dockerfile):
    assert is_dockerfile_name(name) is is_dockerfile


def test_a_broken_dockerfile_is_an_error_and_the_others_are_read(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "Dockerfile").write_text("FROM alpine:3\nBROKEN\n")
    (tmp_path / "b.Dockerfile").write_text("FROM alpine:3\nUSER 1\n")
    project, errors = load_docker(Workspace(tmp_path))
    assert [f.path for f in project.files] == ["b.Dockerfile"] and project.unreadable == ["a/Dockerfile"]
    assert [(e.path, e.line, e.kind) for e in errors] == [("a/Dockerfile", 2, "docker.parse")]
    assert project.inventory() == {"Dockerfiles": 1, "build stages": 1}


@pytest.mark.parametrize("digit", ["\u00b2", "\u0663"])
def test_non_ascii_digits_are_names_not_stage_indexes(digit):
    # regression: `'²'.isdigit()` is true and `int('²')` raised ValueError out of the loader
    err = _error(f"FROM a\nCOPY --from={digit} /x /y\n")
    assert "not a valid image reference" in err.message and err.line == 2
    # nor file descriptors: `٣<<EOF` opens no heredoc (Go's \\d is ASCII), its next line is an instruction
    df = _load(f"FROM a\nRUN {digit}<<EOF cat\nUSER 1\n")
    assert [i.kind for i in df.stages[0].instructions] == ["FROM", "RUN", "USER"]
    assert df.stage(digit) is None


def test_effective_user_follows_from_stage():
    df = _load("FROM a:1 AS base\nUSER app\nFROM base AS mid\nRUN x\nFROM mid AS last\nFROM b:1\n")
    assert df.effective_user(df.stage("last")).user.value == "app"
    assert df.effective_user(df.stages[3]) is None


def test_only_the_stages_a_target_needs_read_the_context():
    df = _load(
        "FROM a:1 AS deps\nCOPY package.json .\n"
        "FROM a:1 AS unused\nCOPY not-there .\n"
        "FROM a:1 AS assets\nCOPY assets/ /assets\n"
        "FROM deps AS app\nCOPY --from=assets /assets /assets\nRUN --mount=type=bind,source=src,target=/src make\n"
    )
    assert [s.name for s in df.stages_needed()] == ["deps", "assets", "app"]
    assert [src for _, src, _ in df.context_sources()] == ["package.json", "assets/", "src"]
    assert [src for _, src, _ in df.context_sources(df.stage("unused"))] == ["not-there"]


def test_thousands_of_digits_are_not_converted():
    # regression (tests/property at 50x): int() refuses strings of more than 4300 digits
    err = _error("FROM a\nCOPY --from=" + "0" * 5000 + " /x /y\n")
    assert "no build stage with that index" in err.message and len(err.message) < 100
    df = _load("FROM a\nRUN " + "7" * 5000 + "<<EOF cat\nbody\nEOF\n")
    assert df.stages[0].instructions[1].heredocs[0].fd == 2**64 - 1
    assert df.stage("9" * 5000) is None
