"""The review as people read it: every Mermaid diagram accepted by Mermaid's own renderer
(mermaid-cli), and the HTML report opened in headless Chromium (diagrams drawn as SVG,
headings and tables present, no console message). Both skip when the oracle is absent."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from mdit_py_plugins.anchors.index import slugify
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tests.oracles import CHROMIUM_ARGS, chromium, puppeteer_config, tool
from urr_audit.cli import app
from urr_audit.report.review import render_markdown
from urr_audit.report.review.html import render_html
from urr_audit.scan import scan

REPOS = sorted(
    [p for p in (FIXTURES / "repos").iterdir() if p.is_dir()]
    + [p for p in (FIXTURES / "realworld").iterdir() if p.is_dir()]
)
URR = FIXTURES / "repos" / "urr"
FENCE = re.compile(r"^```mermaid\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.slow
def test_every_diagram_is_accepted_by_mermaid(tmp_path):
    mmdc = tool("mmdc")
    config = puppeteer_config(tmp_path)
    if mmdc is None or config is None:
        pytest.skip("mermaid-cli or chromium absent (.ci/oracles.sh installs them)")
    diagrams = [(repo.name, d) for repo in REPOS for d in FENCE.findall(render_markdown(scan(repo)))]
    assert len(diagrams) >= 10
    # one mermaid-cli run (one browser) for all of them: a markdown file of the diagrams
    doc = tmp_path / "diagrams.md"
    doc.write_text("".join(f"## {name}\n\n```mermaid\n{d}```\n\n" for name, d in diagrams))
    run = subprocess.run(  # the exit code is the verdict
        [mmdc, "-p", str(config), "-i", str(doc), "-o", str(tmp_path / "out.md")],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    svgs = sorted(tmp_path.glob("out-*.svg"))
    assert len(svgs) == len(diagrams)
    for svg in svgs:
        text = svg.read_text()
        assert "<svg" in text and 'aria-roledescription="error"' not in text


@pytest.mark.slow
def test_mermaid_oracle_rejects_a_broken_diagram(tmp_path):
    """The test above would be worthless if mermaid-cli accepted anything."""
    mmdc = tool("mmdc")
    config = puppeteer_config(tmp_path)
    if mmdc is None or config is None:
        pytest.skip("mermaid-cli or chromium absent (.ci/oracles.sh installs them)")
    doc = tmp_path / "bad.md"
    doc.write_text('```mermaid\nflowchart LR\n  a -->|"x"| \n  b[[[ c\n```\n')
    run = subprocess.run(  # the exit code is the verdict
        [mmdc, "-p", str(config), "-i", str(doc), "-o", str(tmp_path / "out.md")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert run.returncode != 0


def _open(browser: str, page: Path, tmp_path: Path) -> tuple[str, str]:
    run = subprocess.run(  # the exit code is the verdict
        [
            browser,
            *CHROMIUM_ARGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=60000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return run.stdout, run.stderr


@pytest.mark.slow
@pytest.mark.parametrize("repo", REPOS, ids=lambda p: p.name)
def test_html_report_in_a_browser(tmp_path, repo):
    browser = chromium()
    if browser is None:
        pytest.skip("chromium absent (.ci/oracles.sh installs it)")
    markdown = render_markdown(scan(repo))
    page = tmp_path / "review.html"
    page.write_text(render_html(markdown, f"Infrastructure review: {repo.name}"), encoding="utf-8")
    dom, log = _open(browser, page, tmp_path)
    dom = re.sub(r"<script>.*?</script>", "", dom, flags=re.DOTALL)  # Mermaid's own source names its errors
    diagrams = FENCE.findall(markdown)
    drawn = re.findall(r'<pre class="mermaid"[^>]*data-processed="true"[^>]*>\s*<svg', dom)
    assert len(drawn) == len(diagrams), "every diagram drew as SVG"
    # Mermaid draws a rejected diagram as an "error" SVG (its stylesheet names the class anyway)
    assert 'aria-roledescription="error"' not in dom and ">Syntax error in text<" not in dom
    assert len(re.findall(r"<h2 id=", dom)) == len(re.findall(r"^## ", markdown, re.MULTILINE))
    assert len(re.findall(r"<table>", dom)) == len(re.findall(r"(?:^\|.*\n)+", markdown, re.MULTILINE))
    first = slugify(re.search(r"^## (\d.+)$", markdown, re.MULTILINE).group(1))  # the contents link the first section
    assert f'<a href="#{first}">' in dom and f'id="{first}"' in dom
    console = [line for line in log.splitlines() if "CONSOLE" in line]
    assert console == [], console[:5]


def test_html_is_self_contained_and_escapes_repository_text():
    html = render_html("# t\n\n| a |\n|---|\n| x<br>y <script>alert(1)</script> |\n\n[l](javascript:alert(1))\n", "t")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html
    assert "x<br>y" in html
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"https?://", html), "no CDN, no network"
    assert "globalThis.__esbuild_esm_mermaid_nm" in html  # Mermaid inlined


def test_cli_report(tmp_path):
    runner = CliRunner()
    out = tmp_path / "review.md"
    result = runner.invoke(app, ["report", str(URR), "-o", str(out), "--date", "2026-02-16", "--env", "prod"])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith("# Infrastructure review: urr") and "on 2026-02-16" in text and "versus" not in text
    html = tmp_path / "review.html"
    result = runner.invoke(app, ["report", str(URR), "-f", "html", "-o", str(html)])
    assert result.exit_code == 0 and html.read_text().startswith("<!DOCTYPE html>")
    result = runner.invoke(app, ["report", str(URR), "--env", "nowhere"])
    assert result.exit_code == 2 and "no such environment" in result.output
    result = runner.invoke(app, ["report", str(tmp_path / "missing")])
    assert result.exit_code == 2
