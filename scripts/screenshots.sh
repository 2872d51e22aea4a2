#!/usr/bin/env bash
# Refreshes the README's pictures (docs/screenshot-*.png): builds vmshift, serves it on a
# throw-away database with the demo inventory, and runs the end-to-end tests that take them,
# pointed at docs/ (a normal test run writes them under target/screenshots/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
rm -f target/site/pkg/*.gz target/site/pkg/*.br  # a release build's precompressed copies
cargo leptos build --split
dir=$(mktemp -d)
port=3200
VMSHIFT_SPEED=50 VMSHIFT_TICK_MS=100 ./target/debug/vmshift \
  --database-url "sqlite://$dir/vmshift.db" --bind 127.0.0.1:$port --log warn \
  --admin-password e2e-admin-password &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
cd end2end
VMSHIFT_URL=http://127.0.0.1:$port VMSHIFT_ADMIN_PASSWORD=e2e-admin-password \
  VMSHIFT_SCREENSHOTS=../docs npx playwright test tests/01-map.spec.ts tests/04-migrations.spec.ts
echo "docs/screenshot-*.png refreshed"
