#!/usr/bin/env python3
"""The floor of a vMotion: what QEMU alone needs, driven directly over QMP by a minimal
script (no vmshift). Boots the lab guest exactly as vmshift's lab does, waits for its first
heartbeat, then times a live migration to a second QEMU on the same disk: from starting the
destination to `completed`, with the same caps and downtime limit. Prints one JSON line:
{"total_ms", "qemu_total_ms", "downtime_ms", "rounds", "prepare_ms", "setup_ms",
"ram_transferred", "downtime_bytes", "precopy_bytes", "normal_pages", "zero_pages", "mbps"}.

    qmp_floor.py LAB_DIR WORK_DIR --memory 256 --working-set 64 --dirty 8 --disk 1 \
                 --bandwidth-bytes 100000000 --downtime-ms 300
"""
import argparse, json, os, socket, subprocess, time, uuid


class Qmp:
    def __init__(self, path, wait=20):
        deadline = time.time() + wait
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.02)
        self.file = self.sock.makefile("rwb")
        self.file.readline()  # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.file.write(json.dumps(msg).encode() + b"\n")
        self.file.flush()
        while True:
            reply = json.loads(self.file.readline())
            if "event" in reply:
                continue
            if "error" in reply:
                raise RuntimeError(f"{name}: {reply['error']}")
            return reply["return"]


def start(a, work, disk, tag, incoming, dirty=None, disk_rate=None):
    sock = f"/tmp/floor-{uuid.uuid4().hex[:12]}.qmp"
    dirty = a.dirty if dirty is None else dirty
    disk_rate = a.disk if disk_rate is None else disk_rate
    append = (f"console=ttyS0 panic=-1 quiet vmshift.working_set_mib={a.working_set} "
              f"vmshift.dirty_mib_s={dirty} vmshift.disk_mib_s={disk_rate}")
    kernel = os.path.join(a.lab_dir, "vmlinux")
    if not os.path.exists(kernel):
        kernel = os.path.join(a.lab_dir, "vmlinuz")
    argv = ["qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-cpu", "qemu64",
            "-m", str(a.memory), "-smp", "1", "-nodefaults", "-no-user-config",
            "-display", "none", "-no-reboot",
            "-serial", f"file:{os.path.join(work, tag + '.console')}",
            "-qmp", f"unix:{sock},server=on,wait=off",
            "-kernel", kernel, "-initrd", os.path.join(a.lab_dir, "initramfs.img"),
            "-append", append,
            "-blockdev", f"driver=file,filename={disk},node-name=file0",
            "-blockdev", "driver=qcow2,file=file0,node-name=disk0",
            "-device", "virtio-blk-pci,drive=disk0,id=vd0"]
    if incoming:
        argv += ["-incoming", "defer"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, Qmp(sock), sock


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    p = argparse.ArgumentParser()
    p.add_argument("lab_dir")
    p.add_argument("work")
    p.add_argument("--memory", type=int, default=256)
    p.add_argument("--working-set", type=int, default=64)
    p.add_argument("--dirty", type=int, default=8)
    p.add_argument("--disk", type=int, default=1)
    p.add_argument("--bandwidth-bytes", type=int, default=100_000_000)
    p.add_argument("--downtime-ms", type=int, default=300)
    p.add_argument("--companion", default=None,
                   help="DIRTY,DISK: also run a second guest with this workload, as vmshift's "
                        "lab runs its other VM (the same machine conditions)")
    a = p.parse_args()
    disk = os.path.join(a.work, "floor.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "128M"], check=True)
    companion = None
    if a.companion:
        c_dirty, c_disk = (int(x) for x in a.companion.split(","))
        c_image = os.path.join(a.work, "companion.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", c_image, "128M"], check=True)
        companion = start(a, a.work, c_image, "companion", False, c_dirty, c_disk)
    src, sq, ssock = start(a, a.work, disk, "src", False)
    deadline = time.time() + 60
    for tag in ["src"] + (["companion"] if companion else []):
        console = os.path.join(a.work, tag + ".console")
        while b"VMSHIFT-HEARTBEAT" not in open(console, "rb").read():
            if time.time() > deadline:
                raise SystemExit(f"the {tag} guest did not boot")
            time.sleep(0.1)
    t0 = time.time()
    dst, dq, dsock = start(a, a.work, disk, "dst", True)
    uri = f"tcp:127.0.0.1:{free_port()}"
    dq.cmd("migrate-set-capabilities", capabilities=[{"capability": "events", "state": True}])
    dq.cmd("migrate-incoming", uri=uri)
    sq.cmd("migrate-set-capabilities", capabilities=[
        {"capability": "events", "state": True},
        {"capability": "auto-converge", "state": True}])
    sq.cmd("migrate-set-parameters", **{
        "max-bandwidth": a.bandwidth_bytes,
        "downtime-limit": a.downtime_ms,
        "cpu-throttle-initial": 20, "cpu-throttle-increment": 10})
    prepared_ms = (time.time() - t0) * 1000
    sq.cmd("migrate", uri=uri)
    while True:
        info = sq.cmd("query-migrate")
        if info.get("status") in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.02)
    total_ms = (time.time() - t0) * 1000
    running = [(src, sq, ssock), (dst, dq, dsock)] + ([companion] if companion else [])
    for _, q, _ in running:
        try:
            q.cmd("quit")
        except Exception:
            pass
    for proc, _, sock in running:
        proc.wait(timeout=10)
        if os.path.exists(sock):
            os.remove(sock)
    print(json.dumps({
        "status": info.get("status"),
        "total_ms": round(total_ms, 1),
        "qemu_total_ms": info.get("total-time"),
        "downtime_ms": info.get("downtime"),
        "rounds": info.get("ram", {}).get("dirty-sync-count"),
        "prepare_ms": round(prepared_ms, 1),
        "setup_ms": info.get("setup-time"),
        "ram_transferred": info.get("ram", {}).get("transferred"),
        "downtime_bytes": info.get("ram", {}).get("downtime-bytes"),
        "precopy_bytes": info.get("ram", {}).get("precopy-bytes"),
        "normal_pages": info.get("ram", {}).get("normal"),
        "zero_pages": info.get("ram", {}).get("duplicate"),
        "mbps": info.get("ram", {}).get("mbps"),
    }))


if __name__ == "__main__":
    main()
