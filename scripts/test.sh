#!/usr/bin/env bash
# Every check and test of vmshift: format, lints, Rust tests, then the Playwright suite
# against a freshly started server with a throw-away database.
set -euo pipefail
set -o pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (server side, browser side)"
cargo clippy -p domain -p app -p server --all-targets -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

log=$(mktemp)
step "Rust tests"
cargo test -p domain -p app 2>&1 | tee -a "$log"
step "server tests on SQLite"
cargo test -p server 2>&1 | tee -a "$log"
step "server tests on PostgreSQL (a throw-away local server)"
pg_url=$(bash scripts/postgres.sh start)
VMSHIFT_TEST_POSTGRES=$pg_url cargo test -p server 2>&1 | tee -a "$log"

step "end-to-end tests (Playwright, headless Chromium)"
e2e_dir=$(mktemp -d)
trap 'rm -rf "$e2e_dir" "$log"' EXIT
export VMSHIFT_DATABASE_URL="sqlite://$e2e_dir/vmshift.db"
export VMSHIFT_BIND=127.0.0.1:3100
export VMSHIFT_URL=http://127.0.0.1:3100
export VMSHIFT_LOG=warn
export VMSHIFT_ADMIN_PASSWORD=e2e-admin-password
# Migrations at 50× with 100 ms ticks: a capped vMotion lasts seconds, long enough to watch.
export VMSHIFT_SPEED=50
export VMSHIFT_TICK_MS=100
cargo leptos end-to-end --split 2>&1 | tee -a "$log"

# One closing line for the whole run: Rust tests plus Playwright tests.
rust=$(grep -Eo '^test result: ok\. [0-9]+ passed' "$log" | awk '{ s += $4 } END { print s + 0 }')
e2e=$(grep -Eo '^ *[0-9]+ passed \(' "$log" | awk '{ s += $1 } END { print s + 0 }')
# cargo leptos can exit 0 when its build fails: no Playwright result is a failure.
if [ "$e2e" -eq 0 ] || grep -Eq '^ *[0-9]+ failed' "$log"; then
  echo "vmshift: the end-to-end tests did not all pass" >&2
  exit 1
fi
echo "vmshift: $((rust + e2e)) passed, 0 failed"
