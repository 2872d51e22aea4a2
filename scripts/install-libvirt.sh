#!/usr/bin/env bash
# libvirt's daemon and virsh, for the benchmark that compares the QEMU driver with
# `virsh migrate` (bench/libvirt_floor.sh). Not needed to run or test vmshift. Idempotent.
set -euo pipefail
# The QEMU driver resolves its default account before it reads qemu.conf (which the benchmark
# sets to root): the account libvirt-daemon-system would create, without the rest of it.
ensure_account() {
  getent group kvm >/dev/null || groupadd --system kvm
  getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
  id libvirt-qemu >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin -g libvirt-qemu libvirt-qemu
}
if command -v libvirtd >/dev/null 2>&1 && command -v virsh >/dev/null 2>&1; then
  ensure_account
  exit 0
fi
bash "$(dirname "$0")/install-qemu.sh"
export DEBIAN_FRONTEND=noninteractive
printf '\033[1m==> %s\033[0m\n' "installing libvirt (daemon, QEMU driver, virsh)" >&2
apt-get update -qq
# No recommends: QEMU itself comes from bookworm-backports (install-qemu.sh).
apt-get install -y -qq --no-install-recommends \
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients >/dev/null
ensure_account
