#!/usr/bin/env bash
# Installs cargo-leptos 0.3.11 (built without its binary downloads) if it is missing.
# Idempotent: does nothing when cargo-leptos is already on PATH.
set -euo pipefail
VERSION=0.3.11
if command -v cargo-leptos >/dev/null 2>&1; then
  exit 0
fi
# The build tools share one target directory: their common dependencies are built once.
tools_target="$(cd "$(dirname "$0")/.." && pwd)/target/tools"
echo "installing cargo-leptos $VERSION (from source, unoptimised to build fast: ~6 min on 2 cores)"
# `cargo info` unpacks the crate source into the registry cache.
cargo info "cargo-leptos@$VERSION" >/dev/null
src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cargo-leptos-"$VERSION" | head -n 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src"/. "$work"/
cd "$work"
# The published lock pins cargo-util-schemas 0.14.2, which needs a newer rustc.
cargo update -p cargo-util-schemas --precise 0.14.1
# The tool only orchestrates builds: its own speed barely matters, so it is built without
# optimisation, LTO or debug info (its release profile uses LTO and one codegen unit: 16 min
# 40 s on 2 cores; at opt-level 1, 12 min; unoptimised, 6 min — docs/PERFORMANCE.md#issue-17).
# The crates that compress the release files (`--precompress`) keep full optimisation: they
# are small to build and would take seconds longer per build unoptimised.
fast=()
for crate in brotli brotli-decompressor alloc-no-stdlib alloc-stdlib libflate libflate_lz77 \
  flate2 miniz_oxide adler2 crc32fast rle-decode-fast dary_heap core2; do
  fast+=(--config "profile.release.package.$crate.opt-level=3")
done
CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_DEBUG=false \
  CARGO_PROFILE_RELEASE_INCREMENTAL=false \
  CARGO_TARGET_DIR="$tools_target" cargo install --path . --locked --features no_downloads "${fast[@]}"
