#!/usr/bin/env bash
# Benchmarks of docs/PERFORMANCE.md: the release wasm bundle size, then the load benchmark
# (cargo bench). Figures are printed as Markdown; copy them into docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run
cargo leptos build --release
wasm=target/site/pkg/vmshift.wasm
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
js=$(gzip -9 -c target/site/pkg/vmshift.js | wc -c)
echo "## Browser bundle (release, wasm-opt)"
echo
echo "| file | size | gzip -9 |"
echo "|---|---|---|"
echo "| vmshift.wasm | $((raw / 1024)) KiB | $((gz / 1024)) KiB |"
echo "| vmshift.js | $(( $(stat -c %s target/site/pkg/vmshift.js) / 1024)) KiB | $((js / 1024)) KiB |"
echo
cargo bench -p server --bench load
