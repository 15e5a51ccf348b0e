"""The review as one self-contained HTML file: the markdown rendered by markdown-it-py
(CommonMark + GFM tables), headings anchored with the same slugs as the markdown's table of
contents, Mermaid diagrams drawn in the browser by Mermaid itself (its browser build is inlined:
no CDN, no network, no node or browser needed to write the file).

Raw HTML in the markdown is not passed through (repository text can hold anything); the only
tag the review writes, `<br>` inside table cells, is restored after rendering.
"""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files

from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.anchors.index import slugify

MERMAID_VERSION = "11.17.2"

_STYLE = """
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg2: #f6f8fa; --link: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.55 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg); }
main { max-width: 1400px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { font-size: 1.9em; border-bottom: 1px solid var(--line); padding-bottom: .3em; }
h2 { font-size: 1.5em; border-bottom: 1px solid var(--line); padding-bottom: .25em; margin-top: 2em; }
h3 { font-size: 1.2em; margin-top: 1.6em; }
a { color: var(--link); text-decoration: none; }
a:hover { text-decoration: underline; }
code { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--bg2);
       padding: .1em .35em; border-radius: 4px; overflow-wrap: break-word; }
pre { background: var(--bg2); padding: 12px; border-radius: 6px; overflow-x: auto; }
pre code { background: none; padding: 0; }
table { display: block; overflow-x: auto; border-collapse: collapse; margin: 12px 0; font-size: 13.5px; max-width: 100%; }
th, td { border: 1px solid var(--line); padding: 5px 9px; vertical-align: top; text-align: left; }
th { background: var(--bg2); position: sticky; top: 0; }
tr:nth-child(even) td { background: #fbfcfd; }
blockquote { margin: 8px 0 16px; padding: 4px 14px; border-left: 4px solid var(--line); color: var(--muted); }
pre.mermaid { background: #fff; border: 1px solid var(--line); text-align: center; }
ul { padding-left: 1.4em; }
"""

_INIT = """
mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "default",
                     flowchart: { useMaxWidth: true }, maxTextSize: 200000, maxEdges: 2000 });
mermaid.run({ querySelector: "pre.mermaid" });
"""


@cache
def mermaid_js() -> str:
    return (files("urr_audit.report.review") / "assets" / "mermaid.min.js").read_text(encoding="utf-8")


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table").enable("strikethrough")
    md.use(anchors_plugin, min_level=1, max_level=6, slug_func=slugify, permalink=False)
    default_fence = md.renderer.rules["fence"]

    def fence(renderer, tokens, idx, options, env):  # type: ignore[no-untyped-def]
        token = tokens[idx]
        if token.info.strip() == "mermaid":
            return f'<pre class="mermaid">{html.escape(token.content)}</pre>\n'
        return default_fence(tokens, idx, options, env)

    md.add_render_rule("fence", fence)
    return md


def render_html(markdown: str, title: str) -> str:
    body = _renderer().render(markdown).replace("&lt;br&gt;", "<br>")
    js = mermaid_js()
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f'<meta name="generator" content="urr-audit; Mermaid {MERMAID_VERSION}">\n'
        f"<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n"
        f"<script>{js}</script>\n<script>{_INIT}</script>\n</body>\n</html>\n"
    )
