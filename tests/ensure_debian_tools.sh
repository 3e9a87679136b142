#!/usr/bin/env bash
# Make the Debian programs some tests drive available:
# - Chromium for the browser tests (tests/e2e/test_pages_*.py), driven by Playwright through
#   `executable_path` (Playwright never downloads a browser of its own), with a small CJK font
#   (`fonts-wqy-zenhei`, ~7 MB) so the screenshots show Chinese text instead of empty boxes;
# - espeak-ng, which reads the voice-report tests' sentences aloud (tests/speech.py).
#
# Installs what is missing when this shell may (root, or password-less sudo, with apt-get). Where it
# cannot, it says why and those tests skip with that reason; under CI=true a missing program is an error
# instead, so CI never passes without running them.
set -uo pipefail

LOG="${TMPDIR:-/tmp}/courtyard-debian-tools-install.log"
packages=()
[[ -x /usr/bin/chromium ]] || packages+=(chromium fonts-wqy-zenhei)
command -v espeak-ng >/dev/null 2>&1 || packages+=(espeak-ng)

if [[ ${#packages[@]} -eq 0 ]]; then
  exit 0
fi

cannot() {
  if [[ "${CI:-}" == "true" ]]; then
    echo "ensure_debian_tools: $1; CI=true requires the tests that use them, failing" >&2
    exit 1
  fi
  echo "ensure_debian_tools: $1; the tests that use them will be skipped" >&2
  exit 0
}

if ! command -v apt-get >/dev/null 2>&1; then
  cannot "${packages[*]} missing and there is no apt-get to install them"
fi

if [[ "$(id -u)" == "0" ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  cannot "${packages[*]} missing and installing them needs root (run 'apt-get install ${packages[*]}' as root)"
fi

echo "ensure_debian_tools: installing ${packages[*]} for the tests (log: $LOG)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { "${as_root[@]}" apt-get update -qq && "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"; } >"$LOG" 2>&1; then
  tail -n 5 "$LOG" >&2
  cannot "installing ${packages[*]} with apt-get failed (see $LOG)"
fi
if [[ ! -x /usr/bin/chromium ]] || ! command -v espeak-ng >/dev/null 2>&1; then
  cannot "apt-get ran but chromium or espeak-ng is still missing"
fi
echo "ensure_debian_tools: installed ${packages[*]}" >&2
