#!/usr/bin/env bash
# Installs what vmshift needs on a fresh machine, idempotently (each step is skipped when
# its tool is already there).
#   scripts/setup.sh run   — the build tools and wasm-opt (release builds)
#   scripts/setup.sh test  — the build tools, Chromium, the Playwright packages, QEMU, the
#                            lab guest, the vSphere simulator (target/vcsim) and
#                            schemathesis (in target/fuzz-venv)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
bash scripts/install-cargo-leptos.sh
bash scripts/install-wasm-bindgen.sh

case "$mode" in
  run)
    # Debian's binaryen is too old for current wasm-bindgen output: use npm's.
    if ! command -v wasm-opt >/dev/null 2>&1 || ! wasm-opt --version | grep -q "version 132"; then
      step "installing wasm-opt (binaryen 132, npm)"
      npm install -g --no-audit --no-fund binaryen@132.0.0
    fi
    ;;
  test)
    if ! command -v chromium >/dev/null 2>&1; then
      step "installing Debian's chromium"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq chromium >/dev/null
    fi
    # The QEMU driver's lab: QEMU itself and the guest (kernel, initramfs, workload).
    bash scripts/install-qemu.sh
    bash scripts/lab-guest.sh >/dev/null
    # govmomi's vSphere simulator as the vCenter tests' server; without it (its packages
    # missing from the mirror) scripts/test.sh reports those tests as skipped.
    bash scripts/install-vcsim.sh \
      || echo "the vSphere simulator could not be set up: the vCenter tests will be skipped"
    # The outside fuzzer of the REST API, in a scratch virtualenv.
    bash scripts/install-schemathesis.sh
    if [ ! -d end2end/node_modules/@playwright/test ] \
      || ! cmp -s end2end/package-lock.json end2end/node_modules/.package-lock.json; then
      step "installing the Playwright packages (no browser download)"
      (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    fi
    ;;
  *)
    echo "usage: $0 run|test" >&2
    exit 2
    ;;
esac
