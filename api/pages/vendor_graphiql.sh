#!/usr/bin/env bash
# Rebuild api/pages/static/graphiql/ from pinned npm tarballs so the GraphiQL page never needs a CDN.
# Needs Node/npm only when re-vendoring; the produced files are committed and served as they are.
set -euo pipefail

# Pinned by version *and* tarball integrity: a re-published or tampered tarball fails the run.
# GraphiQL 3.9.0 is the newest 3.x; its graphiql.min.js is a UMD bundle that takes React and ReactDOM
# from page globals (5.x ships no browser bundle at all). React 18.3.1 is the last React with UMD builds.
PACKAGES=(
  "graphiql@3.9.0 sha512-rJYFlHdBbug9+YbFSwRVvgfPjCayC7wHecZkx/qB4XLuQPFQZw/yB9pmHFtOJV6RiNBBHro3u1GdocKa3YcGRA=="
  "react@18.3.1 sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ=="
  "react-dom@18.3.1 sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw=="
)

# served file name | package | path inside the package tarball
ASSETS=(
  "react.production.min.js|react|umd/react.production.min.js"
  "react-dom.production.min.js|react-dom|umd/react-dom.production.min.js"
  "graphiql.min.js|graphiql|graphiql.min.js"
  "graphiql.min.css|graphiql|graphiql.min.css"
  "LICENSE-react.txt|react|LICENSE"
  "LICENSE-react-dom.txt|react-dom|LICENSE"
  "LICENSE-graphiql.txt|graphiql|LICENSE"
)

export LC_ALL=C
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$here/static/graphiql"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

declare -A version_of
for entry in "${PACKAGES[@]}"; do
  read -r spec expected_integrity <<<"$entry"
  name="${spec%@*}"
  version_of[$name]="${spec##*@}"

  pack_json="$(npm pack "$spec" --json --pack-destination "$work" 2>/dev/null)"
  read -r tarball integrity < <(
    node -e 'const [r] = JSON.parse(process.argv[1]); console.log(r.filename, r.integrity)' "$pack_json"
  )
  if [[ "$integrity" != "$expected_integrity" ]]; then
    echo "integrity mismatch for $spec: got $integrity" >&2
    exit 1
  fi
  mkdir -p "$work/$name"
  tar -xzf "$work/$tarball" -C "$work/$name"
done

rm -rf "$dest"
mkdir -p "$dest"
{
  echo "# Produced by api/pages/vendor_graphiql.sh from pinned npm tarballs; do not edit by hand."
  for entry in "${PACKAGES[@]}"; do
    read -r spec expected_integrity <<<"$entry"
    echo "# tarball $spec $expected_integrity"
  done
  echo "# file package@version path-in-package sha256"
  for asset in "${ASSETS[@]}"; do
    IFS='|' read -r served name inner <<<"$asset"
    cp "$work/$name/package/$inner" "$dest/$served"
    digest="$(sha256sum "$dest/$served" | cut -d' ' -f1)"
    echo "$served $name@${version_of[$name]} $inner $digest"
  done
} >"$dest/VERSIONS.txt"

du -cb "$dest"/* | tail -n1 | awk '{printf "vendored %d bytes into %s\n", $1, dir}' dir="$dest"
