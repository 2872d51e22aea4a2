#!/usr/bin/env bash
# Builds the lab guest of the QEMU driver into target/lab/ (idempotently: nothing is rebuilt
# when its inputs have not changed), from Debian packages unpacked locally (nothing is
# installed system-wide) and our workload program:
#   target/lab/vmlinux          the Debian kernel, uncompressed (boots ~5 s faster under TCG;
#                               vmlinuz is kept as a fallback)
#   target/lab/initramfs.img    busybox-static, the virtio disk modules, lab/guest/init and
#                               lab/guest/workload.c built with gcc -static
# Prints the directory on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$PWD/target/lab
work=$out/work
mkdir -p "$work"
step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

need_deb() { # package name → unpacked into $work/<name>
  local pkg=$1 dir=$work/$1
  if [ ! -d "$dir" ]; then
    step "fetching $pkg (Debian package, unpacked locally)"
    (cd "$work" && apt-get download "$pkg" >/dev/null 2>&1) || {
      apt-get update -qq >/dev/null 2>&1
      (cd "$work" && apt-get download "$pkg" >/dev/null)
    }
    mkdir -p "$dir"
    dpkg -x "$work/${pkg}"_*.deb "$dir"
  fi
}

# The newest plain amd64 kernel image the package index offers.
kernel_pkg=$(apt-cache search --names-only '^linux-image-[0-9.]+-[0-9]+-amd64$' \
  | awk '{print $1}' | sort -V | tail -n 1)
[ -n "$kernel_pkg" ] || { echo "no linux-image-*-amd64 package found" >&2; exit 1; }
need_deb "$kernel_pkg"
need_deb busybox-static
command -v gcc >/dev/null || { echo "gcc is needed to build the workload" >&2; exit 1; }

kdir=$work/$kernel_pkg
version=${kernel_pkg#linux-image-}
if [ ! -f "$out/vmlinux" ] || [ "$out/vmlinux" -ot "$kdir/boot/vmlinuz-$version" ]; then
  step "extracting the kernel ($version)"
  cp "$kdir/boot/vmlinuz-$version" "$out/vmlinuz"
  python3 - "$out/vmlinuz" "$out/vmlinux" <<'PY' || rm -f "$out/vmlinux"
import lzma, sys
data = open(sys.argv[1], "rb").read()
magic = b"\xfd7zXZ\x00"
start = data.find(magic)
if start < 0:
    sys.exit("no xz payload")
d = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
elf = d.decompress(data[start:])
if elf[:4] != b"\x7fELF":
    sys.exit("not an ELF kernel")
open(sys.argv[2], "wb").write(elf)
PY
fi

stamp=$out/initramfs.inputs
inputs=$(cat lab/guest/init lab/guest/workload.c scripts/lab-guest.sh | sha256sum | cut -d' ' -f1)-$kernel_pkg
if [ ! -f "$out/initramfs.img" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$inputs" ]; then
  step "building the initramfs"
  root=$work/root
  rm -rf "$root"
  mkdir -p "$root"/{bin,dev,proc,sys,lib/modules}
  cp "$work/busybox-static/bin/busybox" "$root/bin/busybox"
  gcc -static -O2 -Wall -Wextra -o "$root/bin/workload" lab/guest/workload.c
  install -m 755 lab/guest/init "$root/init"
  for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk; do
    f=$(find "$kdir/lib/modules" -name "$m.ko*" | head -n 1)
    case "$f" in
      "") ;; # built into this kernel
      *.ko.xz) xz -dc "$f" > "$root/lib/modules/$m.ko" ;;
      *.ko.zst) zstd -qdc "$f" > "$root/lib/modules/$m.ko" ;;
      *) cp "$f" "$root/lib/modules/$m.ko" ;;
    esac
  done
  (cd "$root" && find . | "$root/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1 > "$out/initramfs.img")
  echo "$inputs" > "$stamp"
fi
echo "$out"
