#!/usr/bin/env bash
# The same vMotion as `cargo bench -p server --bench lab` (lab-web: 256 MiB, 64 MiB working set
# dirtied at 8 MiB/s, 1 MiB/s of disk writes, downtime limit 300 ms, a second guest dirtying
# 16 MiB/s beside it), driven by libvirt: two libvirtd daemons, each in its own network, mount
# and UTS namespace (hosts "lab-a" 10.77.0.1 and "lab-b" 10.77.0.2 joined by a veth pair), and
# `virsh migrate --live` from one to the other over TCP, the disk shared. Prints one JSON line
# per run: {"cap_mb_s", "total_ms" (the virsh command: libvirt prepares the destination, then
# migrates), "downtime_ms" and "qemu_total_ms" (libvirt's job statistics)}.
#
#   bash scripts/install-libvirt.sh
#   bash bench/libvirt_floor.sh [RUNS] [CAP_MB_S...]      (as root; defaults: 3 runs at 100)
set -euo pipefail
runs=${1:-3}
shift || true
caps=("${@:-100}")
root=$(cd "$(dirname "$0")/.." && pwd)
lab="$root/target/lab"
work=$(mktemp -d /tmp/vmshift-libvirt.XXXXXX)
chmod 755 "$work"
pids=()

cleanup() {
  for ns in a b; do
    ip netns exec "vmshift-$ns" virsh -q -c "qemu+tcp://10.77.0.$([ $ns = a ] && echo 1 || echo 2)/system" \
      destroy lab >/dev/null 2>&1 || true
  done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  drop_namespaces
  wait 2>/dev/null || true
  rm -rf "$work"
}
# Stops whatever runs in our namespaces (daemons, guests), then removes them.
drop_namespaces() {
  for ns in a b; do
    ip netns pids "vmshift-$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "vmshift-$ns" 2>/dev/null || true
  done
  ip link del vmshift-va 2>/dev/null || true
}
drop_namespaces
trap cleanup EXIT
trap "exit 1" INT TERM

ip netns add vmshift-a
ip netns add vmshift-b
ip link add vmshift-va type veth peer name vmshift-vb
ip link set vmshift-va netns vmshift-a
ip link set vmshift-vb netns vmshift-b
for ns in a b; do
  n=$([ $ns = a ] && echo 1 || echo 2)
  ip -n "vmshift-$ns" link set lo up
  ip -n "vmshift-$ns" addr add "10.77.0.$n/24" dev "vmshift-v$ns"
  ip -n "vmshift-$ns" link set "vmshift-v$ns" up
done

# One daemon per namespace, with its own /etc/libvirt, /run/libvirt and state directories.
for ns in a b; do
  n=$([ $ns = a ] && echo 1 || echo 2)
  d="$work/$ns"
  mkdir -p "$d/etc" "$d/run" "$d/lib" "$d/cache" "$d/log"
  cp -r /etc/libvirt/. "$d/etc/"
  cat > "$d/etc/libvirtd.conf" <<CONF
listen_tls = 0
listen_tcp = 1
listen_addr = "10.77.0.$n"
auth_tcp = "none"
host_uuid = "00000000-0000-4000-8000-00000000000$n"
CONF
  cat > "$d/etc/qemu.conf" <<CONF
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
stdio_handler = "file"
migration_address = "10.77.0.$n"
CONF
  ip netns exec "vmshift-$ns" unshare --mount --uts --fork bash -c "
    set -e
    mount --make-rprivate /
    hostname lab-$ns
    mount --bind '$d/etc' /etc/libvirt
    mkdir -p /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt
    mount --bind '$d/run' /run/libvirt
    mount --bind '$d/lib' /var/lib/libvirt
    mount --bind '$d/cache' /var/cache/libvirt
    mount --bind '$d/log' /var/log/libvirt
    exec libvirtd --listen --pid-file '$d/libvirtd.pid'
  " >"$d/libvirtd.out" 2>&1 &
  pids+=($!)
done
uri() { echo "qemu+tcp://10.77.0.$([ "$1" = a ] && echo 1 || echo 2)/system"; }
for ns in a b; do
  for _ in $(seq 100); do
    ip netns exec "vmshift-$ns" virsh -q -c "$(uri $ns)" version >/dev/null 2>&1 && break
    sleep 0.1
  done
  ip netns exec "vmshift-$ns" virsh -q -c "$(uri $ns)" version >/dev/null \
    || { cat "$work/$ns/libvirtd.out" >&2; exit 1; }
done

domain() { # name memory dirty disk image console
  cat <<XML
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>$2</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$lab/vmlinux</kernel>
    <initrd>$lab/initramfs.img</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet vmshift.working_set_mib=64 vmshift.dirty_mib_s=$3 vmshift.disk_mib_s=$4</cmdline>
  </os>
  <cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model></cpu>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$5'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='file'><source path='$6'/><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}

wait_beat() {
  for _ in $(seq 600); do
    grep -q VMSHIFT-HEARTBEAT "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "no heartbeat in $1" >&2
  return 1
}

# The second guest of vmshift's lab, on host a throughout.
qemu-img create -q -f qcow2 "$work/companion.qcow2" 128M
domain companion 256 16 2 "$work/companion.qcow2" "$work/companion.console" > "$work/companion.xml"
ip netns exec vmshift-a virsh -q -c "$(uri a)" create "$work/companion.xml" >/dev/null
wait_beat "$work/companion.console"

for cap in "${caps[@]}"; do
  for run in $(seq "$runs"); do
    rm -f "$work/lab.qcow2" "$work/lab-$run.console"
    qemu-img create -q -f qcow2 "$work/lab.qcow2" 128M
    domain lab 256 8 1 "$work/lab.qcow2" "$work/lab-$run.console" > "$work/lab.xml"
    ip netns exec vmshift-a virsh -q -c "$(uri a)" create "$work/lab.xml" >/dev/null
    wait_beat "$work/lab-$run.console"
    ip netns exec vmshift-a virsh -q -c "$(uri a)" migrate-setmaxdowntime lab 300 >/dev/null
    start=$(date +%s%N)
    ip netns exec vmshift-a virsh -q -c "$(uri a)" migrate --live --unsafe --auto-converge \
      --bandwidth "$((cap * 1000000 / 1048576))" lab "$(uri b)" "tcp://10.77.0.2" >/dev/null
    end=$(date +%s%N)
    info=$(ip netns exec vmshift-a virsh -q -c "$(uri a)" domjobinfo lab --completed 2>/dev/null \
      || ip netns exec vmshift-b virsh -q -c "$(uri b)" domjobinfo lab --completed)
    downtime=$(awk -F: '/^Total downtime/ {gsub(/[^0-9]/, "", $2); print $2}' <<<"$info")
    elapsed=$(awk -F: '/^Time elapsed:/ {gsub(/[^0-9]/, "", $2); print $2}' <<<"$info")
    printf '{"cap_mb_s": %s, "total_ms": %s, "downtime_ms": %s, "qemu_total_ms": %s}\n' \
      "$cap" "$(( (end - start) / 1000000 ))" "${downtime:-null}" "${elapsed:-null}"
    ip netns exec vmshift-b virsh -q -c "$(uri b)" destroy lab >/dev/null
  done
done
