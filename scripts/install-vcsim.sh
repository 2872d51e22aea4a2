#!/usr/bin/env bash
# govmomi's vSphere simulator as a test server (docs/VCENTER.md#the-test-server): Debian's Go
# and govmomi source packages (no vcsim command ships with them), and our own small program
# on top of the simulator library, built in GOPATH mode into target/vcsim/vcsim. Idempotent:
# each step is skipped when its result is there.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if ! command -v go >/dev/null 2>&1 || [ ! -d /usr/share/gocode/src/github.com/vmware/govmomi/simulator ]; then
  step "installing Debian's Go and govmomi sources (~1 min)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq golang-go golang-github-vmware-govmomi-dev >/dev/null
fi

out=target/vcsim/vcsim
if [ ! -x "$out" ] || [ -n "$(find lab/vcsim -newer "$out" -name "*.go")" ]; then
  step "building the vSphere simulator test server (~30 s)"
  mkdir -p target/vcsim/gopath target/vcsim/cache
  GO111MODULE=off GOPATH="$PWD/target/vcsim/gopath:/usr/share/gocode" \
    GOCACHE="$PWD/target/vcsim/cache" GOFLAGS=-mod=mod \
    go build -o "$out" ./lab/vcsim
fi
