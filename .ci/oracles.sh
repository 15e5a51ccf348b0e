#!/usr/bin/env bash
# Reference oracles for the tests (never used at scan time). Best effort: a test whose oracle
# is missing skips with the reason, so a failure here never fails CI by itself.
#   npm: @microsoft/sarif-multitool, @mermaid-js/mermaid-cli  -> .ci/cache/node_modules/.bin
#   apt: chromium (mermaid-cli's browser and the HTML report test), when missing
set -uo pipefail
cd "$(dirname "$0")/.."
cache=.ci/cache
mkdir -p "$cache"

if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo -n"
  ( $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null ) \
    || echo "oracles: chromium not installed (mermaid and browser tests will skip)"
fi

if command -v npm >/dev/null 2>&1; then
  if [ ! -x "$cache/node_modules/.bin/mmdc" ] || [ ! -x "$cache/node_modules/.bin/sarif-multitool" ]; then
    PUPPETEER_SKIP_DOWNLOAD=1 npm install --silent --no-audit --no-fund --prefix "$cache" \
      @microsoft/sarif-multitool@5 @mermaid-js/mermaid-cli@11 >/dev/null 2>&1 \
      || echo "oracles: npm install failed (SARIF and mermaid tests will skip)"
  fi
  # npm 11 does not run the package's postinstall (chmod u+x) unless allowed
  chmod u+x "$cache"/node_modules/@microsoft/sarif-multitool-*/Sarif.Multitool 2>/dev/null || true
fi
exit 0
