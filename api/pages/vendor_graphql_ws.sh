#!/usr/bin/env bash
# Rebuild api/pages/static/graphql-ws/ from the pinned npm tarball of `graphql-ws`, the websocket client
# the board and tracking pages use. Needs Node/npm only when re-vendoring; the produced files are
# committed and served as they are, so running Courtyard never needs Node or a CDN.
#
# Why this library: graphql-ws is the reference client of the graphql-transport-ws protocol (its author
# wrote the protocol), MIT-licensed, without dependencies, and its package already ships a minified
# browser build (umd/graphql-ws.min.js, about 10 KB, global `graphqlWs`), so no bundler is involved and
# the served file is byte-for-byte the published one. It reconnects by itself with backoff, sends
# pings, and asks for `connectionParams` again on every reconnect, which is what the pages need to pass
# their token and catch up with `afterSeq`.
set -euo pipefail

# Pinned by version *and* tarball integrity: a re-published or tampered tarball fails the run.
SPEC="graphql-ws@6.4.2"
EXPECTED_INTEGRITY="sha512-wxhPhhOGJo8PbGDkBYVE76sZLDrS+GkyrR4bZECSLVbo0pZZNKs0HtBh2Ip/uaUuiVUxwO9ssI9R92buQfNSqQ=="

# served file name | path inside the package tarball
ASSETS=(
  "graphql-ws.min.js|umd/graphql-ws.min.js"
  "LICENSE-graphql-ws.txt|LICENSE.md"
)

export LC_ALL=C
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$here/static/graphql-ws"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

pack_json="$(npm pack "$SPEC" --json --pack-destination "$work" 2>/dev/null)"
read -r tarball integrity < <(
  node -e 'const [r] = JSON.parse(process.argv[1]); console.log(r.filename, r.integrity)' "$pack_json"
)
if [[ "$integrity" != "$EXPECTED_INTEGRITY" ]]; then
  echo "integrity mismatch for $SPEC: got $integrity" >&2
  exit 1
fi
tar -xzf "$work/$tarball" -C "$work"

rm -rf "$dest"
mkdir -p "$dest"
{
  echo "# Produced by api/pages/vendor_graphql_ws.sh from a pinned npm tarball; do not edit by hand."
  echo "# tarball $SPEC $EXPECTED_INTEGRITY"
  echo "# file package@version path-in-package sha256"
  for asset in "${ASSETS[@]}"; do
    IFS='|' read -r served inner <<<"$asset"
    cp "$work/package/$inner" "$dest/$served"
    digest="$(sha256sum "$dest/$served" | cut -d' ' -f1)"
    echo "$served $SPEC $inner $digest"
  done
} >"$dest/VERSIONS.txt"

du -cb "$dest"/* | tail -n1 | awk '{printf "vendored %d bytes into %s\n", $1, dir}' dir="$dest"
