#!/usr/bin/env bash
# Installs wasm-bindgen-cli at exactly the wasm-bindgen version locked in Cargo.lock.
# Idempotent: does nothing when that version is already on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
tools_target="$PWD/target/tools"
VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$VERSION" ]; then
  echo "wasm-bindgen is not in Cargo.lock" >&2
  exit 1
fi
if command -v wasm-bindgen >/dev/null 2>&1 && wasm-bindgen --version | grep -q " $VERSION\$"; then
  exit 0
fi
echo "installing wasm-bindgen-cli $VERSION (from source: ~2 min on 2 cores)"
cargo info "wasm-bindgen-cli@$VERSION" >/dev/null
src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/wasm-bindgen-cli-"$VERSION" | head -n 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src"/. "$work"/
cd "$work"
# The published lock names a webpki-roots release the registry no longer serves.
if grep -q 'name = "webpki-roots"' Cargo.lock 2>/dev/null; then
  cargo update -p webpki-roots --precise 1.0.10 || true
fi
# Like cargo-leptos (scripts/install-cargo-leptos.sh): a tool, built for build speed, in the
# target directory the two tools share (their common dependencies are built once).
CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=false \
  CARGO_TARGET_DIR="$tools_target" cargo install --path . --locked --force
