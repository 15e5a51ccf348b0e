"""Image builds, pushes, tags, registry logins and file edits recognised in steps: the
build-push-action, and docker/sed/yq/kustomize command lines split as a shell would."""

from __future__ import annotations

from urr_audit.loaders.workflows.shell import commands
from urr_audit.model.gha_images import Hole, ImageName, Template

from .helpers import one


def steps(tmp_path, body: str, env: str = ""):
    text = "on: push\n" + env + "jobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n" + body
    return one(tmp_path, text).jobs["b"].steps


def test_shell_split_continuations_and_operators():
    script = (
        "set -e\n"
        'docker build \\\n  -t "$REG/app:${TAG}" \\\n  --platform linux/amd64,linux/arm64 . && docker push "$REG/app:${TAG}"\n'
        "echo done | tee log; yq -i '.a = 1' f.yaml\n"
    )
    got = [(c.line, c.argv[:2]) for c in commands(script)]
    assert got == [
        (0, ["set", "-e"]),
        (1, ["docker", "build"]),
        (1, ["docker", "push"]),
        (4, ["echo", "done"]),
        (4, ["tee", "log"]),
        (4, ["yq", "-i"]),
    ]


def test_shell_heredoc_body_and_comments_are_not_commands():
    script = (
        "cat <<'EOF' > x\ndocker push evil/image\nEOF\n# docker push commented/out\ndocker push real/image # trailing\n"
    )
    assert [c.argv for c in commands(script) if c.argv[0] == "docker"] == [["docker", "push", "real/image"]]


def test_shell_unbalanced_quote_is_skipped_not_raised():
    assert [c.argv for c in commands("echo 'oops\ndocker push a/b\n")] == [["docker", "push", "a/b"]]


def test_build_push_action(tmp_path):
    st = steps(
        tmp_path,
        """      - uses: docker/build-push-action@v6
        with:
          context: ./services/api
          file: ./services/api/Dockerfile.prod
          platforms: linux/amd64,linux/arm64
          push: ${{ github.event_name != 'pull_request' }}
          build-args: |
            VERSION=${{ github.sha }}
          tags: |
            ${{ env.REGISTRY }}/acme/api:${{ github.sha }}
            ${{ env.REGISTRY }}/acme/api:latest
""",
        env="env:\n  REGISTRY: ghcr.io\n",
    )
    (b,) = st[0].builds
    assert b.tool == "docker/build-push-action" and b.span.line == 8
    assert str(b.context) == "./services/api" and str(b.file) == "./services/api/Dockerfile.prod"
    assert b.platforms == ["linux/amd64", "linux/arm64"]
    assert b.push is None  # an expression: unknown before the run
    assert [str(t.template) for t in b.tags] == ["ghcr.io/acme/api:${{ github.sha }}", "ghcr.io/acme/api:latest"]
    assert [t.span.line for t in b.tags if t.span] == [17, 18]
    first = b.tags[0]
    assert first.registry is not None and first.registry.value == "ghcr.io"
    assert first.repository_name == "acme/api"
    assert first.tag is not None and not first.tag.is_known
    assert "github.sha" in first.tag.reason
    assert b.tags[1].tag is not None and b.tags[1].tag.value == "latest"
    assert "VERSION" in b.build_args


def test_docker_cli_build_tag_push_with_env_and_cd(tmp_path):
    st = steps(
        tmp_path,
        """      - name: Build and push
        working-directory: services
        env:
          IMAGE: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/cart
        run: |
          cd cart
          TAG=$(git rev-parse --short HEAD)
          docker buildx build --platform=linux/arm64 -f docker/Dockerfile \\
            --tag "$IMAGE:$TAG" --push .
          docker tag "$IMAGE:$TAG" "$IMAGE:latest" && docker push "$IMAGE:latest"
          docker login -u AWS --password-stdin 123456789012.dkr.ecr.eu-west-1.amazonaws.com
""",
    )
    s = st[0]
    build, tag, push = s.builds
    assert build.tool == "docker buildx build" and build.push is True and build.platforms == ["linux/arm64"]
    assert build.context is not None and build.context.value == "services/cart"
    assert build.file is not None and build.file.value == "services/cart/docker/Dockerfile"
    (name,) = build.tags
    assert name.registry is not None and name.registry.value == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    assert name.repository_name == "shop/cart"
    assert name.tag is not None and "output of a command" in name.tag.reason
    assert build.span.line == 13 and build.column == 11  # the `docker` of the command, in the file
    assert tag.tool == "docker tag" and tag.tags[0].tag is not None and tag.tags[0].tag.value == "latest"
    assert push.tool == "docker push" and push.pushes is True and (push.span.line, push.column) == (15, 55)
    (login,) = s.logins
    assert login.registry is not None and login.registry.value == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def test_plain_docker_build_loads_and_unknown_variables_say_why(tmp_path):
    st = steps(tmp_path, "      - run: docker build -t $REPO:${GITHUB_SHA} .\n")
    (b,) = st[0].builds
    assert b.tool == "docker build" and b.load is True and b.push is False and b.platforms is None
    name = b.tags[0]
    assert name.repository.holes and "not set in `env:`" in name.repository.reason
    assert name.tag is not None and "set by the runner" in name.tag.reason


def test_registry_logins(tmp_path):
    st = steps(
        tmp_path,
        """      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
      - id: ecr
        uses: aws-actions/amazon-ecr-login@v2
      - uses: docker/setup-qemu-action@v3
""",
    )
    assert st[0].logins[0].registry is not None and st[0].logins[0].registry.value == "ghcr.io"
    ecr = st[1].logins[0]
    assert ecr.tool == "aws-actions/amazon-ecr-login" and ecr.registry is not None and not ecr.registry.is_known


def test_file_edits(tmp_path):
    (tmp_path / "deploy/overlays/prod").mkdir(parents=True)
    (tmp_path / "deploy/overlays/prod/kustomization.yml").write_text("resources: []\n")
    st = steps(
        tmp_path,
        """      - env:
          FILE: deploy/overlays/${{ inputs.env }}/kustomization.yaml
        run: |
          sed -i "s|newTag: .*|newTag: ${{ github.sha }}|" "$FILE"
          sed -i.bak -e 's/a/b/' one.yaml two.yaml
          sed 's/no/edit/' untouched.yaml
          yq -i '.images[0].newTag = "x"' values.yaml
          yq e -i '.a = 1' other.yaml
          (cd deploy/overlays/prod && kustomize edit set image app=registry/app:${{ github.sha }})
          kustomize edit set image app=x:1
""",
    )
    edits = [(e.tool, str(e.path)) for e in st[0].edits]
    assert edits == [
        ("sed -i", "deploy/overlays/${{ inputs.env }}/kustomization.yaml"),
        ("sed -i", "one.yaml"),
        ("sed -i", "two.yaml"),
        ("yq -i", "values.yaml"),
        ("yq -i", "other.yaml"),
        ("kustomize edit set image", "deploy/overlays/prod/kustomization.yml"),
        ("kustomize edit set image", "kustomization.yaml"),  # back at the root after the subshell
    ]
    assert st[0].edits[5].images == ["app=registry/app:${{ github.sha }}"]
    assert [e.span.line for e in st[0].edits] == [9, 10, 10, 12, 13, 14, 15]


def test_image_name_parsing_with_holes():
    hole = Hole(source="${{ steps.login.outputs.registry }}", reason="output")
    n = ImageName.parse(Template(parts=(hole, "/urr/ticket-service:", Hole(source="$T", reason="tag"))))
    assert n.registry is not None and n.registry.holes
    assert n.repository_name == "urr/ticket-service" and n.known_suffix() == "urr/ticket-service"
    n = ImageName.parse(Template.literal("localhost:5000/app@sha256:abc"))
    assert (n.registry and n.registry.value, n.repository_name, n.tag, n.digest and n.digest.value) == (
        "localhost:5000",
        "app",
        None,
        "sha256:abc",
    )
    n = ImageName.parse(Template.literal("library/nginx:1.27"))
    assert n.registry is None and n.repository_name == "library/nginx" and n.tag is not None


def test_template_bind_fills_input_holes(tmp_path):
    st = steps(
        tmp_path,
        """      - uses: docker/build-push-action@v6
        with:
          tags: ${{ env.REPO }}:${{ inputs.env }}
          push: true
""",
        env="env:\n  REPO: acme/${{ inputs.service }}\n",
    )
    name = st[0].builds[0].tags[0]
    assert name.repository_name is None
    bound = name.template.bind({"inputs": {"service": "cart", "env": "prod"}})
    assert bound.value == "acme/cart:prod"


def test_run_commands_are_on_the_model_with_lines(tmp_path):
    st = steps(
        tmp_path,
        """      - run: |
          git config user.name "bot"
          git commit -am "deploy ${{ github.sha }} [skip ci]" || exit 0
          git push origin HEAD:main
      - shell: pwsh
        run: Write-Host "not split"
""",
    )
    run = st[0].run
    assert run is not None
    got = [(c.argv, c.span.line, c.column) for c in run.commands]
    assert got == [
        (["git", "config", "user.name", "bot"], 7, 11),
        (["git", "commit", "-am", "deploy ${{ github.sha }} [skip ci]"], 8, 11),
        (["exit", "0"], 8, 66),
        (["git", "push", "origin", "HEAD:main"], 9, 11),
    ]
    assert st[1].run is not None and st[1].run.commands == []
