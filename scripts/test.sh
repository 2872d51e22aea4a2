#!/usr/bin/env bash
# Every check and test of vmshift: format, lints, the Rust tests (the server's on SQLite and
# again on PostgreSQL), the outside fuzzer against the API, then the Playwright suite against a
# freshly started server with a throw-away database. The last line counts what the runners
# themselves reported: `vmshift: N passed, N failed, N skipped`.
#
# Skipped, by design: the replica tests on the SQLite pass (they need PostgreSQL) and the QEMU
# tests on the PostgreSQL pass (one run is enough; they do not touch the database's kind).
# Skipped only when the machine cannot run them: the QEMU tests without QEMU or the lab guest.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test || exit 1
set_up_s=$SECONDS

# Each step says what it is (with its usual time on 2 cores once built; a fresh machine
# compiles first) and, at the end, how long each took.
timings=()
step_name=""
step_started=$SECONDS
finish_step() {
  if [ -n "$step_name" ]; then
    timings+=("$(printf '%5d s  %s' $((SECONDS - step_started)) "$step_name")")
  fi
}
step() {
  finish_step
  step_name=$1
  step_started=$SECONDS
  printf '\033[1m==> %s\033[0m\n' "$*"
}
log=$(mktemp)
e2e_dir=$(mktemp -d)
trap 'rm -rf "$e2e_dir" "$log"' EXIT
failed_steps=()

# Runs a step, its output kept for the counts; a failure is remembered, the run goes on.
run() {
  local name=$1
  shift
  "$@" 2>&1 | tee -a "$log"
  local status=${PIPESTATUS[0]}
  if [ "$status" -ne 0 ]; then
    failed_steps+=("$name")
  fi
}

step "cargo fmt --check"
run fmt cargo fmt --all -- --check

step "clippy (server side, browser side; ~30 s once built)"
run clippy cargo clippy -p domain -p app -p server -p rvtools --all-targets -- -D warnings
run clippy-wasm cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

qemu_skip=()
if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || [ ! -f target/lab/vmlinux ]; then
  echo "QEMU or the lab guest is missing: the QEMU tests are skipped"
  qemu_skip=(--skip qemu_)
fi
vcenter_skip=()
if [ ! -x target/vcsim/vcsim ]; then
  echo "the vSphere simulator (scripts/install-vcsim.sh) is missing: the vCenter tests are skipped"
  vcenter_skip=(--skip vcenter_)
fi

step "Rust tests (domain, app, rvtools; ~1 min once built)"
run domain cargo test -p domain -p app -p rvtools
step "server tests on SQLite (~8 min once built: real QEMU guests, the vSphere simulator)"
run server-sqlite cargo test -p server --no-fail-fast -- --skip replicas_ "${qemu_skip[@]}" "${vcenter_skip[@]}"
step "server tests on PostgreSQL (a throw-away local server; ~2.5 min)"
pg_url=$(bash scripts/postgres.sh start)
run server-postgres env VMSHIFT_TEST_POSTGRES="$pg_url" cargo test -p server --no-fail-fast -- --skip qemu_ --skip vcenter_

step "the API under an outside fuzzer (schemathesis; ~1.5 min)"
run fuzz bash scripts/fuzz-api.sh

step "end-to-end tests (Playwright, headless Chromium; ~11 min once built, the accessibility and keyboard suites included)"
export VMSHIFT_DATABASE_URL="sqlite://$e2e_dir/vmshift.db"
export VMSHIFT_BIND=127.0.0.1:3100
export VMSHIFT_URL=http://127.0.0.1:3100
export VMSHIFT_LOG=warn
export VMSHIFT_ADMIN_PASSWORD=e2e-admin-password
export VMSHIFT_SECRET_KEY=e2e-secret-key
# Migrations at 50× with 100 ms ticks: a capped vMotion lasts seconds, long enough to watch.
export VMSHIFT_SPEED=50
export VMSHIFT_TICK_MS=100
# The scale suite (10-scale.spec.ts) generates its 45,000-VM inventory with gen-inventory.
run gen-inventory cargo build -p server --bin gen-inventory
# A release build's precompressed copies (make run's -P) would be served instead of this build's.
rm -f target/site/pkg/*.gz target/site/pkg/*.br
run e2e cargo leptos end-to-end --split
# cargo leptos can exit 0 when its build fails: no Playwright result is a failure.
if ! grep -Eq '^ *[0-9]+ passed \(' "$log"; then
  failed_steps+=("e2e (no result)")
fi

# The counts, from the runners' own summaries: libtest's `test result:` lines (ignored and
# filtered-out tests are skipped ones), Playwright's `N passed`/`N failed`/`N skipped`, and
# the fuzzer's (scripts/fuzz-api.sh prints `fuzz: N passed, N failed`).
sum() { grep -Eo "$1" "$log" | grep -Eo '^ *[0-9]+' | awk '{ s += $1 } END { print s + 0 }'; }
fuzz() { grep -E '^fuzz: [0-9]+ passed, [0-9]+ failed' "$log" | awk -v f="$1" '{ s += $f } END { print s + 0 }'; }
passed=$(($(sum '[0-9]+ passed;') + $(sum '^ *[0-9]+ passed \(') + $(fuzz 2)))
failed=$(($(sum '[0-9]+ failed;') + $(sum '^ *[0-9]+ failed$') + $(fuzz 4)))
skipped=$(($(sum '[0-9]+ ignored;') + $(sum '[0-9]+ filtered out;') + $(sum '^ *[0-9]+ skipped$')))
finish_step
echo "time per step (set-up before them: $set_up_s s):"
printf '%s\n' "${timings[@]}"
if [ ${#failed_steps[@]} -gt 0 ]; then
  echo "failed steps: ${failed_steps[*]}" >&2
fi
echo "vmshift: $passed passed, $failed failed, $skipped skipped"
[ ${#failed_steps[@]} -eq 0 ] && [ "$failed" -eq 0 ]
