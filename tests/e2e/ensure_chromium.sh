#!/usr/bin/env bash
# Make Debian's Chromium available to the browser tests (tests/e2e/test_pages_*.py), which drive it with
# Playwright through `executable_path`: Playwright never downloads a browser of its own.
#
# Installs the `chromium` package when it is missing and this shell may (root, or password-less sudo,
# with apt-get), with a small CJK font (`fonts-wqy-zenhei`, ~7 MB) so the screenshots the tests save
# show the Chinese names and descriptions instead of empty boxes. Where it cannot, it says why and the browser tests skip with that reason; under
# CI=true a missing browser is an error instead, so CI never passes without running them.
set -uo pipefail

CHROMIUM=/usr/bin/chromium
LOG="${TMPDIR:-/tmp}/courtyard-chromium-install.log"

if [[ -x "$CHROMIUM" ]]; then
  exit 0
fi

cannot() {
  if [[ "${CI:-}" == "true" ]]; then
    echo "ensure_chromium: $1; CI=true requires the browser tests, failing" >&2
    exit 1
  fi
  echo "ensure_chromium: $1; the browser tests will be skipped" >&2
  exit 0
}

if ! command -v apt-get >/dev/null 2>&1; then
  cannot "$CHROMIUM is missing and there is no apt-get to install Debian's chromium"
fi

if [[ "$(id -u)" == "0" ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  cannot "$CHROMIUM is missing and installing it needs root (run 'apt-get install chromium' as root)"
fi

echo "ensure_chromium: installing Debian's chromium for the browser tests (log: $LOG)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { "${as_root[@]}" apt-get update -qq && "${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-wqy-zenhei; } >"$LOG" 2>&1; then
  tail -n 5 "$LOG" >&2
  cannot "installing chromium with apt-get failed (see $LOG)"
fi
if [[ ! -x "$CHROMIUM" ]]; then
  cannot "apt-get installed chromium but $CHROMIUM is not there"
fi
echo "ensure_chromium: $("$CHROMIUM" --version 2>/dev/null || echo chromium) installed" >&2
