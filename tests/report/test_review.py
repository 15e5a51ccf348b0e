"""The review (`urr-audit report`): well-formed GFM parsed by a CommonMark parser, every link
pointing at a file and line that exist, deterministic bytes, sections left out without data,
and on the bundled repository the numbers the model holds, no weakness it does not support."""

from __future__ import annotations

import re
import shutil
from urllib.parse import unquote

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin

from tests.conftest import FIXTURES
from urr_audit.report.review import render_markdown
from urr_audit.scan import scan

REPOS = sorted(
    [p for p in (FIXTURES / "repos").iterdir() if p.is_dir()]
    + [p for p in (FIXTURES / "realworld").iterdir() if p.is_dir()]
)
URR = FIXTURES / "repos" / "urr"


@pytest.fixture(scope="module")
def reviews() -> dict[str, tuple[object, str]]:
    out = {}
    for repo in REPOS:
        report = scan(repo)
        out[repo.name] = (report, render_markdown(report))
    return out


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table")


def _section(markdown: str, title: str) -> str:
    """The text of the section whose heading ends with `title`, up to the next heading of
    the same or a higher level."""
    m = re.search(rf"^(#+) [\d.]+ {re.escape(title)}$", markdown, re.MULTILINE)
    assert m, f"no section {title!r}"
    level = len(m.group(1))
    rest = markdown[m.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


@pytest.mark.parametrize("repo", REPOS, ids=lambda p: p.name)
def test_every_table_is_well_formed(reviews, repo):
    markdown = reviews[repo.name][1]
    tokens = _parser().parse(markdown)
    # every block of `|` lines in the source is one parsed table, with as many rows
    blocks = re.findall(r"(?:^\|.*\n)+", markdown, re.MULTILINE)
    tables = [t for t in tokens if t.type == "table_open"]
    assert len(tables) == len(blocks) > 0
    row_cells: list[int] = []
    widths: list[list[int]] = []
    for t in tokens:
        if t.type == "table_open":
            widths.append([])
        elif t.type == "tr_open":
            row_cells = [0]
        elif t.type in ("th_open", "td_open"):
            row_cells[0] += 1
        elif t.type == "tr_close":
            widths[-1].append(row_cells[0])
    for block, w in zip(blocks, widths):
        lines = block.strip("\n").split("\n")
        assert len(w) == len(lines) - 1, f"rows lost in table starting {lines[0][:80]}"
        header = len(re.findall(r"(?<!\\)\|", lines[0])) - 1
        for line in lines[2:]:
            assert len(re.findall(r"(?<!\\)\|", line)) - 1 == header, f"row width differs: {line[:120]}"


def _links(markdown: str) -> list[str]:
    out = []
    for t in _parser().parse(markdown):
        for child in t.children or []:
            if child.type == "link_open":
                out.append(str(child.attrs["href"]))
    return out


@pytest.mark.parametrize("repo", REPOS, ids=lambda p: p.name)
def test_every_relative_link_points_at_an_existing_file_and_line(reviews, repo):
    markdown = reviews[repo.name][1]
    links = [h for h in _links(markdown) if not h.startswith(("#", "http://", "https://"))]
    assert links, "the review links its evidence"
    for href in links:
        path, _, anchor = href.partition("#")
        target = repo / unquote(path)
        assert target.exists(), f"{href}: no such file"
        if anchor:
            m = re.fullmatch(r"L(\d+)(?:-L(\d+))?", anchor)
            assert m, f"{href}: not a line anchor"
            n_lines = len(target.read_text(encoding="utf-8").splitlines())
            first, last = int(m.group(1)), int(m.group(2) or m.group(1))
            assert 1 <= first <= last <= max(n_lines, 1), f"{href}: beyond {n_lines} lines"


@pytest.mark.parametrize("repo", REPOS, ids=lambda p: p.name)
def test_contents_links_reach_headings(reviews, repo):
    markdown = reviews[repo.name][1]
    md = _parser().use(anchors_plugin, min_level=1, max_level=6)
    ids = {t.attrs.get("id") for t in md.parse(markdown) if t.type == "heading_open"}
    anchors = [h[1:] for h in _links(markdown) if h.startswith("#")]
    assert anchors and set(anchors) <= ids


def test_same_input_same_bytes_and_no_date_unless_given():
    a, b = render_markdown(scan(URR)), render_markdown(scan(URR))
    assert a == b
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", a.split("## 1.")[0])
    dated = render_markdown(scan(URR), date="2026-02-16")
    assert "on 2026-02-16" in dated.split("## Contents")[0]


def test_blob_urls_at_the_commit_when_git_knows_the_remote(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "realworld" / "tf-live", repo)
    git = repo / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "config").write_text('[remote "origin"]\n\turl = git@github.com:acme/infra-live.git\n')
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    sha = "0123456789abcdef0123456789abcdef01234567"
    (git / "refs" / "heads" / "main").write_text(sha + "\n")
    markdown = render_markdown(scan(repo))
    evidence = [h for h in _links(markdown) if not h.startswith("#")]
    assert evidence and all(h.startswith(f"https://github.com/acme/infra-live/blob/{sha}/") for h in evidence)
    assert f"Commit: `{sha}` on `main`" in markdown


def test_sections_without_data_are_left_out(reviews):
    tf_only = reviews["tf-live"][1]
    assert "Kubernetes" not in re.findall(r"^## [\d.]+ (.*)$", tf_only, re.MULTILINE)
    k8s_only = reviews["plain-manifests"][1]
    titles = re.findall(r"^## [\d.]+ (.*)$", k8s_only, re.MULTILINE)
    assert "Terraform" not in titles and "Network" not in titles and "Cloud service inventory" not in titles
    # sections are numbered in the order they appear, without gaps
    numbers = [int(n) for n in re.findall(r"^## (\d+)\. ", k8s_only, re.MULTILINE)]
    assert numbers == list(range(1, len(numbers) + 1))


# --- the bundled repository: the review's numbers are the model's -------------------------


@pytest.fixture(scope="module")
def urr(reviews):
    return reviews["urr"]


def test_scope_and_module_count(urr):
    report, markdown = urr
    assert f"Terraform: {len(report.project.terraform.modules)} module directories" in markdown
    assert len(report.project.terraform.modules) == 18
    modules = _section(markdown, "Modules")
    assert len(re.findall(r"^\| \[terraform/", modules, re.MULTILINE)) == 18


def test_replicas_hpa_pdb_of_prod(urr):
    replicas = _section(urr[1], "Replicas, autoscaling and disruption budgets")
    header = next(line for line in replicas.splitlines() if line.startswith("| workload"))
    prod = [c.strip() for c in header.split("|")[1:-1]].index("prod")

    def cell(workload: str) -> str:
        row = next(line for line in replicas.splitlines() if line.startswith(f"| `{workload}`"))
        return [c.strip() for c in row.split("|")[1:-1]][prod]

    gateway = cell("gateway-service")
    assert "Rollout [3]" in gateway and "HPA [3-10]" in gateway and "cpu 70%" in gateway
    assert "PDB [minAvailable 1]" in gateway and "scaled to 0 by its Rollout" in gateway
    assert "HPA [3-8]" in cell("queue-service") and "HPA [2-6]" in cell("payment-service")
    assert "Deployment [2](k8s/spring/overlays/prod/patches/replicas.yaml#L" in cell("catalog-service")
    assert "no PDB" in cell("catalog-service") and "HPA" not in cell("catalog-service")
    assert "no PDB" in cell("frontend")  # the seed missed this one


def test_prod_versus_staging_differences(urr):
    diff = _section(urr[1], "prod versus staging")
    rows = {
        (cells[0], cells[1]): cells[2:]
        for cells in (
            [c.strip() for c in line.split("|")[1:-1]] for line in diff.splitlines() if line.startswith("| `")
        )
    }
    prod, staging = rows[("`rds`", "`multi_az`")]
    assert prod.startswith("`true` [terraform/environments/prod/main.tf:")
    assert staging.startswith("`false` [terraform/environments/staging/main.tf:")
    for module, name, a, b in (
        ("`rds`", "`deletion_protection`", "`true`", "`false`"),
        ("`elasticache`", "`num_cache_clusters`", "`2`", "`1`"),
        ("`api_gateway_vwr`", "`throttle_burst_limit`", "`10000`", "`2000`"),
        ("`lambda_vwr`", "`api_reserved_concurrency`", "`100`", "`20`"),
        ("`lambda_worker`", "`reserved_concurrency`", "`10`", "`5`"),
        ("`dynamodb_vwr`", "`enable_pitr`", "`true`", "`false`"),
        ("`alb`", "`deletion_protection`", "`true`", "`false`"),
    ):
        got = rows[(module, name)]
        assert got[0].startswith(a + " ") and got[1].startswith(b + " "), (module, name, got)
    # the MSK settings the seed lists as equal are not reported as different
    assert ("`msk`", "`number_of_broker_nodes`") not in rows
    assert "`cloudfront` exists only in prod" in diff
    # every line cited for a value is the line that sets it
    table = diff[diff.index("| module |") :]
    for href in re.findall(r"\]\((terraform/[^)#]+)#L(\d+)\)", table):
        line = (URR / href[0]).read_text().splitlines()[int(href[1]) - 1]
        assert "=" in line


def test_state_backends(urr):
    backends = _section(urr[1], "State backends")
    assert "| prod | `s3` | bucket = `urr-terraform-state-prod`" in backends
    assert "| staging | none declared: state stays local |" in backends


def _weakness_bullets(markdown: str) -> list[str]:
    return [line for line in _section(markdown, "Weaknesses").splitlines() if line.startswith("- ")]


def test_weaknesses_are_exactly_the_findings(urr):
    report, markdown = urr
    shown = [f for f in report.result.findings if not f.suppressed and f.severity.value != "info"]
    bullets = _weakness_bullets(markdown)
    assert len(bullets) == len(shown)
    for f in shown:
        assert any(f"({f.path}:{f.line}]({f.path}#L{f.line}" in b or f"[{f.path}:{f.line}]" in b for b in bullets)


SEED_RULES = ("URR-TF-001", "URR-K8S-001", "URR-K8S-002", "URR-K8S-003", "URR-TF-023", "URR-TF-005", "URR-TF-004")


def test_seed_weaknesses_shown_for_urr_and_gone_for_urr_fixed(reviews):
    weak = _section(reviews["urr"][1], "Weaknesses")
    fixed = reviews["urr-fixed"][1]
    for rule in SEED_RULES:
        assert f"`{rule}`" in weak
    titles = re.findall(r"^## [\d.]+ (.*)$", fixed, re.MULTILINE)
    fixed_weak = _section(fixed, "Weaknesses") if "Strengths and weaknesses" in titles else ""
    for rule in SEED_RULES:
        assert f"`{rule}`" not in fixed_weak
    assert "No rule reported a weakness." in fixed_weak


def test_strengths_name_what_was_checked(urr, reviews):
    report, markdown = urr
    strengths = _section(markdown, "Strengths")
    failing = {f.rule_id for f in report.result.findings + report.result.undecided}
    listed = set(re.findall(r"`(URR-[A-Z0-9]+-\d{3})`", strengths))
    assert listed and not listed & failing
    # a production-database rule counts the production databases, not every resource
    assert "`URR-TF-009` Database without deletion protection" in strengths
    assert (
        "URR-TF-009` Database without deletion protection in a production environment: not found in 1 resource (1 `aws_db_instance`) checked"
        in strengths
    )
    # a rule whose subject does not exist is no strength: no Rollout in plain manifests
    assert "Rollout" not in _section(reviews["plain-manifests"][1], "Strengths")


def test_environment_filter(tmp_path):
    markdown = render_markdown(scan(URR), ["prod"])
    assert "versus" not in markdown
    assert "environments `prod`" in markdown
    assert "Workloads in staging" not in markdown and "Workloads in prod" in markdown
    argo = _section(markdown, "Argo CD")
    assert "urr-spring-prod" in argo and "urr-spring-staging" not in argo and "urr-spring-dev" not in argo


def test_a_failing_section_builder_does_not_cost_the_review():
    import types

    from urr_audit.report.review import SECTIONS, build_sections
    from urr_audit.report.review.doc import ReviewContext

    def broken(ctx):
        raise ValueError("boom")

    module = types.ModuleType("urr_audit.report.review.broken")
    module.TITLE = "Broken"
    module.build = broken
    sections = build_sections(ReviewContext(scan(FIXTURES / "realworld" / "tf-live")), (*SECTIONS[:1], module))
    assert [s.title for s in sections][-1] == "Broken"
    assert "could not be written (`ValueError`: boom)" in sections[-1].blocks[0]


def test_header_names_what_other_artifact_models_read():
    """Sub-project models hung on Project say what they read with `inventory()`; the review's
    header lists it for each (workflows, Dockerfiles, ... as their models land)."""
    import dataclasses

    from pydantic import BaseModel

    from urr_audit.model.project import Project

    class Charts(BaseModel):
        def inventory(self) -> dict[str, int]:
            return {"charts": 3, "subcharts": 0}

    class WithCharts(Project):
        helm_charts: Charts = Charts()

    report = scan(FIXTURES / "realworld" / "tf-live")
    project = WithCharts.model_construct(**dict(report.project), helm_charts=Charts())
    head = render_markdown(dataclasses.replace(report, project=project)).split("## Contents")[0]
    assert "- Helm charts: 3 charts\n" in head


def test_local_clusters_and_stand_ins(urr):
    local = _section(urr[1], "Local clusters and stand-ins")
    assert "| 3001 → 30000 TCP | kind: Service `gateway-service`" in local
    assert "[nodePort](k8s/spring/overlays/kind/patches/gateway-service-nodeport.yaml#L" in local
    stand_ins = _section(urr[1], "Stand-ins for cloud services")
    # the local PostgreSQL stands in for what prod and staging reach through the RDS Proxy
    row = next(line for line in stand_ins.splitlines() if "Service `postgres-spring`" in line)
    assert "prod: [urr-prod-rds-proxy." in row and "staging: [urr-staging-rds-proxy." in row


def _rows(text: str) -> list[list[str]]:
    """The data rows of the tables in `text` (header rows left out), split into cells."""
    lines = text.splitlines()
    return [
        [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        for i, line in enumerate(lines)
        if line.startswith("| ") and not (i + 1 < len(lines) and lines[i + 1].startswith("|---"))
    ]


def test_cicd_section_from_the_workflow_model(urr):
    """Seed 6.1-6.4 on the bundled repository: every workflow with its triggers and what its
    steps do, the reusable pipeline's stages in order, image platforms and tags (run-time parts
    shown as computed at run time), the overlays CI rewrites."""
    report, markdown = urr
    workflows = _section(markdown, "Workflows")
    rows = {r[0]: r for r in _rows(workflows) if "](.github/workflows/" in r[1]}
    assert len(rows) == len(report.project.workflows.workflows) == 14
    assert "| Load Tests | [load-tests.yml](.github/workflows/load-tests.yml#L1) |" in workflows
    assert "`schedule` (cron 0 2 \\* \\* 1: every Monday at 02:00 UTC)" in rows["Load Tests"][2]
    assert rows["PR Validation"][3] == "detects changed paths; tests; lint / type checks; renders manifests; builds"
    assert rows["Manual Rollback"][3] == "rewrites manifests in the repository; pushes commits; notifies"
    assert rows["Manual Rollback"][5] == "`staging`, `production`"  # the expression's two values
    caller = rows["Ticket Service CI/CD"][3]
    assert caller.startswith("calls Reusable Spring CI/CD, which: tests, load tests, builds / pushes images, scans")
    # the chaos job runs only on schedule: never when the pipeline is called from a push
    assert "cluster access" not in caller and "cluster access" in rows["Load Tests"][3]

    pipeline = _section(markdown, "Pipeline Reusable Spring CI/CD")
    stages = {r[1]: r for r in _rows(pipeline) if r[0].isdigit()}
    assert list(stages) == [
        "`unit-test`",
        "`integration-test`",
        "`build-and-push`",
        "`update-manifests`",
        "`e2e-gate`",
        "`load-test`",
        "`notify`",
    ]
    assert "`Java 21`" in stages["`unit-test`"][4]  # `${{ inputs.java-version }}`, whose default no caller overrides
    assert "`./gradlew test --no-daemon`" in stages["`unit-test`"][4]
    assert "`./gradlew integrationTest --no-daemon`" in stages["`integration-test`"][4]
    assert "`Trivy, failing on CRITICAL,HIGH`" in stages["`build-and-push`"][4]
    assert "pushes commits:" in stages["`update-manifests`"][4]
    assert "posts to a webhook:" in stages["`notify`"][4]
    assert pipeline.count("| service-name = `") == 8  # the eight service workflows call it

    builds = _section(markdown, "Image builds")
    rows = _rows(builds)
    assert [r[2] for r in rows] == ["linux/arm64"] * 3 and [r[3] for r in rows] == ["yes", "no", "yes"]
    push = rows[2]
    assert push[5].startswith("`urr/${{ inputs.service-name }}`: `urr/auth-service`")
    assert push[6].split("<br>") == [
        "`${{ steps.meta.outputs.tag }}`",
        "`latest`",
        "`${{ inputs.environment }}`: `staging`, `prod`",
    ]
    # the run-time tag: the script lines computing it, linked to where they are
    for text, line in (
        ('SHORT_SHA="$(git rev-parse --short=7 HEAD)"', 99),
        ('echo "tag=${SHORT_SHA}-${TIMESTAMP}" >> "$GITHUB_OUTPUT"', 101),
    ):
        assert f"[`{text}`](.github/workflows/reusable-spring-ci-cd.yml#L{line})" in builds
        assert (URR / ".github/workflows/reusable-spring-ci-cd.yml").read_text().splitlines()[line - 1].strip() == text

    edits = _section(markdown, "Files CI rewrites")
    assert "`k8s/spring/overlays/${{ inputs.environment }}/kustomization.yaml`" in edits
    assert "`k8s/spring/overlays/staging/kustomization.yaml`, `k8s/spring/overlays/prod/kustomization.yaml`" in edits
    assert "overlays/dev/" not in edits  # no caller or dispatch choice gives `dev`


def test_argocd_section(urr):
    """Seed 7.1 on the bundled repository: each Application with its source path (the overlay
    it deploys and how that link was made), revision, destination and sync policy, every row
    linked to its evidence; and the GitOps hand-off from CI to the Applications."""
    report, markdown = urr
    apps = _section(markdown, "Applications")
    rows = {r[0].split("]")[0].strip("[`"): r for r in _rows(apps)}
    assert sorted(rows) == sorted(a.name for a in report.project.argocd.applications)
    for name, env, ns, sync in (
        ("urr-spring-dev", "dev", "urr-dev", "automated sync (prune, selfHeal)"),
        ("urr-spring-staging", "staging", "urr-staging", "automated sync (prune, selfHeal)"),
        ("urr-spring-prod", "prod", "urr-spring", "manual sync"),
    ):
        row = rows[name]
        objects = len(next(e for e in report.project.kubernetes.environments if e.name == env).objects)
        assert row[2].startswith(f"[`k8s/spring/overlays/{env}`](argocd/applications/{name}.yaml#L16)")
        assert f"environment [`{env}`](k8s/spring/overlays/{env}/kustomization.yaml#L1) ({objects} objects)" in row[2]
        assert "tied by its path" in row[2]  # the fixture has no .git: the path is the only evidence
        assert row[3] == f"[`main` (branch)](argocd/applications/{name}.yaml#L15)"
        assert row[4] == f"[`in-cluster` / `{ns}`](argocd/applications/{name}.yaml#L17)"
        assert row[5].startswith(f"[{sync};")
        assert all("](argocd/applications/" in c for c in row)  # every cell is evidence-linked
    assert "placeholder" in rows["argo-rollouts"][2]
    handoff = _section(markdown, "GitOps hand-off")
    assert (
        handoff.count(
            "[`urr-spring-staging`](argocd/applications/urr-spring-staging.yaml#L4): deployed when pushed (automated sync)"
        )
        == 3
    )
    assert (
        handoff.count("[`urr-spring-prod`](argocd/applications/urr-spring-prod.yaml#L4): waits for a manual sync") == 3
    )
    assert "urr-spring-dev" not in handoff


def test_argocd_section_with_application_sets(reviews):
    report, markdown = reviews["argocd-multicluster"]
    argo = report.project.argocd
    team = _section(markdown, "ApplicationSet team-apps")
    assert "generators: [`matrix(clusters, git)`](management/applicationsets/team-apps.yaml#L13)" in team
    assert "It generates these 9 Applications, and maybe others: clusters registered outside the repository" in team
    generated = [r for r in _rows(team) if r[0].startswith("[`")]
    assert len(generated) == 9 == len(next(s for s in argo.application_sets if s.name == "team-apps").applications)
    prod = next(r for r in generated if r[0].startswith("[`checkout-prod-eu-west-1`]"))
    assert "`prod-eu-west-1` / `payments`" in prod[4] and prod[5].startswith("[manual sync;")
    projects = _section(markdown, "AppProjects")
    assert "| [`payments`](management/projects/payments.yaml#L1) |" in projects
    assert "`default` (Argo CD's built-in project, not defined here)" in projects
    clusters = _section(markdown, "Clusters")
    assert len([r for r in _rows(clusters) if r[0].startswith("`")]) == len(argo.clusters) == 3
    assert "```mermaid" in _section(markdown, "App of apps")


def test_no_argocd_section_without_argocd(reviews):
    titles = re.findall(r"^## [\d.]+ (.*)$", reviews["tf-live"][1], re.MULTILINE)
    assert "Argo CD" not in titles and "CI/CD" not in titles


def test_image_build_dockerfile_found_or_said_missing(urr, tmp_path):
    builds = _section(urr[1], "Image builds")
    assert "[`apps/web/Dockerfile`](apps/web/Dockerfile)" in builds
    assert builds.count("(its `Dockerfile`): 8 of 8 in the repository") == 2  # one per service caller
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "image.yml").write_text(
        "name: Image\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: docker/build-push-action@v6\n        with:\n          context: app\n"
        "          tags: ghcr.io/acme/app:1.0\n"
        "      - uses: docker/build-push-action@v6\n        with:\n          context: gone\n"
    )
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM alpine:3.20\n")
    builds = _section(render_markdown(scan(tmp_path)), "Image builds")
    assert "| no | `ghcr.io` | `acme/app` | `1.0` | [`app/Dockerfile`](app/Dockerfile) |" in builds
    assert "`gone` (its `Dockerfile`): not in the repository" in builds


def test_dockerfiles(urr):
    """Seed 6.4: each Dockerfile's stages with their base images, the user the final stage runs
    as, and the steps building it; the seed's "uid 1001 everywhere" does not hold for catalog-service."""
    dockerfiles = _section(urr[1], "Dockerfiles")
    rows = {r[0].split("]")[0].strip("["): r for r in _rows(dockerfiles)}
    assert len(rows) == len(urr[0].project.docker.files) == 9
    ticket = rows["services-spring/ticket-service/Dockerfile"]
    assert "1. `build` [from](services-spring/ticket-service/Dockerfile#L2) `eclipse-temurin:21-jdk`" in ticket[1]
    assert "2. [from](services-spring/ticket-service/Dockerfile#L11) `eclipse-temurin:21-jre`" in ticket[1]
    assert "`./gradlew bootJar -x test --no-daemon`" in ticket[1]
    assert ticket[2] == "[`USER 1001:1001`](services-spring/ticket-service/Dockerfile#L15)" and ticket[3] == "`3002`"
    assert "reusable-spring-ci-cd.yml: Push image" in ticket[4]
    assert rows["services-spring/catalog-service/Dockerfile"][2].startswith("not set: the base image's user")
    web = rows["apps/web/Dockerfile"]
    assert "`node:20-alpine`" in web[1] and web[2] == "[`USER 1001`](apps/web/Dockerfile#L21)"
    assert "frontend-ci-cd.yml: Build and push" in web[4]


def test_dockerfiles_without_workflows(reviews):
    markdown = reviews["polyglot-services"][1]
    cicd = _section(markdown, "CI/CD")
    assert "Dockerfiles" in cicd and "Workflows" not in re.findall(r"^### [\d.]+ (.*)$", cicd, re.MULTILINE)


def test_kustomize_structure(urr):
    """Seed 5.3: the base and the overlays built on it, with the files each adds."""
    structure = _section(urr[1], "Kustomize structure")
    rows = {r[0]: r for r in _rows(structure)}
    prod = rows["[k8s/spring/overlays/prod](k8s/spring/overlays/prod/kustomization.yaml#L1)"]
    assert prod[1] == "`k8s/spring/base`" and prod[3] == "`prod`" and "`hpa.yaml`, `pdb.yaml`" in prod[2]
    assert rows["[k8s/spring/base](k8s/spring/base/kustomization.yaml#L1)"][2] == "`network-policies.yaml`"
    assert (
        rows["[k8s/argo-rollouts](k8s/argo-rollouts/kustomization.yaml#L1)"][2]
        == "`namespace.yaml`, 1 remote (not fetched)"
    )


def test_recommended_action_is_a_sentence_never_flattened_code():
    from urr_audit.catalog import load_rules
    from urr_audit.report.review.assessment import first_paragraph

    assert first_paragraph("```hcl\nx = 1\n```\n") == "See the example in the weaknesses section."
    assert first_paragraph("Do this:\n\n```hcl\nx = 1\n```") == "Do this (example in the weaknesses section)."
    for rule in load_rules():
        assert not rule.remediation.lstrip().startswith("```"), f"{rule.id}: remediation opens with code"


def test_readme_excerpt_is_what_the_review_says():
    """The README quotes the review of the bundled repository: every quoted line, links
    rewritten back to the repository root, is a line of today's review."""
    import re

    from tests.conftest import ROOT
    from urr_audit.report.review import render_markdown
    from urr_audit.scan import scan

    readme = (ROOT / "README.md").read_text()
    quoted = [line[2:] for line in readme.splitlines() if line.startswith("> ") and line[2:].startswith(("|", "###"))]
    assert len(quoted) >= 10
    review = set(render_markdown(scan(FIXTURES / "repos" / "urr")).splitlines())
    for line in quoted:
        assert re.sub(r"\]\(fixtures/repos/urr/", "](", line) in review, line[:120]
