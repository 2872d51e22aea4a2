#!/usr/bin/env bash
# Installs QEMU for the lab driver, idempotently. Debian bookworm's own qemu-system-x86 (7.2)
# would replace the machine's qemu-utils 10.0 from backports and remove qemu-img with it:
# both come from bookworm-backports instead (a backports source is added if missing).
set -euo pipefail
step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if command -v qemu-system-x86_64 >/dev/null 2>&1 && command -v qemu-img >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
if ! grep -rqs "${codename}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  step "adding ${codename}-backports to apt's sources"
  cat > /etc/apt/sources.list.d/vmshift-backports.sources <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: ${codename}-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
step "installing QEMU (qemu-system-x86, qemu-utils from ${codename}-backports)"
apt-get update -qq
apt-get install -y -qq -t "${codename}-backports" qemu-system-x86 qemu-utils >/dev/null
