"""Where the tests find the external reference oracles (never used at scan time).

`.ci/oracles.sh` installs the npm ones into `.ci/cache/node_modules` and chromium with apt;
the Python ones come with the test extra. A test whose oracle is missing skips with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NPM_BIN = ROOT / ".ci" / "cache" / "node_modules" / ".bin"

# Chromium flags for this closed network: without the background-networking ones it keeps
# trying (and failing) to reach Google's hosts.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def tool(name: str) -> str | None:
    """A command on PATH, or installed by `.ci/oracles.sh` in the npm cache."""
    found = shutil.which(name)
    if found:
        return found
    candidate = NPM_BIN / name
    return str(candidate) if candidate.exists() and os.access(candidate, os.X_OK) else None


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def puppeteer_config(directory: Path) -> Path | None:
    """A puppeteer config file pointing mermaid-cli at the system chromium; None without one."""
    browser = chromium()
    if browser is None:
        return None
    path = directory / "puppeteer.json"
    path.write_text(json.dumps({"executablePath": browser, "args": CHROMIUM_ARGS}))
    return path
