#!/usr/bin/env bash
# Installs cargo-leptos 0.3.11 (built without its binary downloads) if it is missing.
# Idempotent: does nothing when cargo-leptos is already on PATH.
set -euo pipefail
VERSION=0.3.11
if command -v cargo-leptos >/dev/null 2>&1; then
  exit 0
fi
echo "installing cargo-leptos $VERSION (from source, a fast-to-build profile: ~12 min on 2 cores)"
# `cargo info` unpacks the crate source into the registry cache.
cargo info "cargo-leptos@$VERSION" >/dev/null
src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cargo-leptos-"$VERSION" | head -n 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src"/. "$work"/
cd "$work"
# The published lock pins cargo-util-schemas 0.14.2, which needs a newer rustc.
cargo update -p cargo-util-schemas --precise 0.14.1
# The tool only orchestrates builds: its own speed barely matters, so it is built without LTO,
# with many codegen units and light optimisation (its release profile uses LTO and one unit).
CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=false \
  cargo install --path . --locked --features no_downloads
