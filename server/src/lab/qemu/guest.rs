//! One QEMU process running a lab guest: started with `tokio::process` (killed if dropped),
//! driven over its QMP socket, its serial console in a file where the guest's workload prints
//! a heartbeat each second.

use super::qmp::{Qmp, QmpError};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LabError {
    #[error("cannot start QEMU ({0})")]
    Spawn(String),
    #[error(transparent)]
    Qmp(#[from] QmpError),
    #[error("{0}")]
    Failed(String),
    #[error("qemu-img: {0}")]
    Image(String),
}

/// Where QEMU and the guest's kernel and initramfs are, and how guests run.
#[derive(Debug, Clone)]
pub struct Lab {
    pub qemu: PathBuf,
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    /// `tcg` here (no usable KVM); `kvm` on real hosts.
    pub accel: String,
}

impl Lab {
    /// The lab built by `scripts/lab-guest.sh` in `dir` (usually `target/lab`), if complete
    /// and QEMU is installed; else why not.
    pub fn find(dir: &Path) -> Result<Lab, String> {
        let qemu = [
            "/usr/bin/qemu-system-x86_64",
            "/usr/local/bin/qemu-system-x86_64",
        ]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .ok_or("qemu-system-x86_64 is not installed (scripts/install-qemu.sh)")?;
        let kernel = ["vmlinux", "vmlinuz"]
            .into_iter()
            .map(|k| dir.join(k))
            .find(|p| p.exists())
            .ok_or_else(|| {
                format!(
                    "no guest kernel in {} (scripts/lab-guest.sh)",
                    dir.display()
                )
            })?;
        let initrd = dir.join("initramfs.img");
        if !initrd.exists() {
            return Err(format!("no {} (scripts/lab-guest.sh)", initrd.display()));
        }
        Ok(Lab {
            qemu,
            kernel,
            initrd,
            accel: "tcg".into(),
        })
    }
}

/// What a guest is and does.
#[derive(Debug, Clone, PartialEq)]
pub struct GuestSpec {
    pub memory_mib: u64,
    pub working_set_mib: u64,
    pub dirty_mib_s: u64,
    pub disk_mib_s: u64,
}

/// How a QEMU process starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boot {
    /// Boots the guest.
    Fresh,
    /// Waits for an incoming migration (`-incoming defer`); `paused` also holds the CPUs
    /// (`-S`) until told to continue.
    Incoming { paused: bool },
}

/// One line of the guest's heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Heartbeat {
    pub seq: u64,
    pub uptime_ms: u64,
    pub disk_writes: u64,
    pub disk_ok: u64,
    pub disk_bad: u64,
}

impl Heartbeat {
    pub fn parse(line: &str) -> Option<Heartbeat> {
        let rest = line.trim().strip_prefix("VMSHIFT-HEARTBEAT ")?;
        let mut h = Heartbeat::default();
        for field in rest.split_whitespace() {
            let (key, value) = field.split_once('=')?;
            let value: u64 = value.parse().ok()?;
            match key {
                "seq" => h.seq = value,
                "uptime_ms" => h.uptime_ms = value,
                "disk_writes" => h.disk_writes = value,
                "disk_ok" => h.disk_ok = value,
                "disk_bad" => h.disk_bad = value,
                _ => {}
            }
        }
        (h.seq > 0).then_some(h)
    }
}

pub struct Guest {
    pub name: String,
    child: tokio::sync::Mutex<tokio::process::Child>,
    pid: Option<u32>,
    pub qmp: Qmp,
    pub serial: PathBuf,
    pub qmp_socket: PathBuf,
    /// The block node the virtual disk reads from (changes with a Storage vMotion).
    pub disk_node: crate::sync::Mutex<String>,
}

/// Creates a qcow2 image of `size_mib` (virtual).
pub async fn create_image(path: &Path, size_mib: u64) -> Result<(), LabError> {
    let out = tokio::process::Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(path)
        .arg(format!("{size_mib}M"))
        .output()
        .await
        .map_err(|e| LabError::Image(e.to_string()))?;
    if !out.status.success() {
        return Err(LabError::Image(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    Ok(())
}

/// The virtual size of an image, bytes.
pub async fn image_size(path: &Path) -> Result<u64, LabError> {
    let out = tokio::process::Command::new("qemu-img")
        .args(["info", "--force-share", "--output=json"])
        .arg(path)
        .output()
        .await
        .map_err(|e| LabError::Image(e.to_string()))?;
    let info: Value = serde_json::from_slice(&out.stdout)
        .map_err(|_| LabError::Image(String::from_utf8_lossy(&out.stderr).into_owned()))?;
    info["virtual-size"]
        .as_u64()
        .ok_or_else(|| LabError::Image(format!("no virtual size in {info}")))
}

impl Guest {
    /// Starts QEMU for guest `name` in `dir` (its sockets and console file go there), with
    /// `disk` (a qcow2 image) as its virtio disk.
    pub async fn start(
        lab: &Lab,
        name: &str,
        dir: &Path,
        spec: &GuestSpec,
        disk: &Path,
        boot: Boot,
    ) -> Result<Guest, LabError> {
        let tag = match boot {
            Boot::Fresh => "src".to_string(),
            Boot::Incoming { .. } => format!("dst-{}", uuid::Uuid::new_v4().simple()),
        };
        let serial = dir.join(format!("{name}-{tag}.console"));
        // A unix socket path must stay under 108 bytes, whatever `dir` is.
        let short = uuid::Uuid::new_v4().simple().to_string();
        let qmp_socket = std::env::temp_dir().join(format!("vmshift-{}.qmp", &short[..12]));
        let _ = std::fs::remove_file(&qmp_socket);
        let append = format!(
            "console=ttyS0 panic=-1 quiet vmshift.working_set_mib={} vmshift.dirty_mib_s={} vmshift.disk_mib_s={}",
            spec.working_set_mib, spec.dirty_mib_s, spec.disk_mib_s
        );
        let mut command = tokio::process::Command::new(&lab.qemu);
        command
            .args(["-machine", "pc", "-accel", &lab.accel, "-cpu", "qemu64"])
            .args(["-m", &spec.memory_mib.to_string(), "-smp", "1"])
            .args([
                "-nodefaults",
                "-no-user-config",
                "-display",
                "none",
                "-no-reboot",
            ])
            .arg("-serial")
            .arg(format!("file:{}", serial.display()))
            .arg("-qmp")
            .arg(format!("unix:{},server=on,wait=off", qmp_socket.display()))
            .arg("-kernel")
            .arg(&lab.kernel)
            .arg("-initrd")
            .arg(&lab.initrd)
            .args(["-append", &append])
            .arg("-blockdev")
            .arg(format!(
                "driver=file,filename={},node-name=file0",
                disk.display()
            ))
            .args(["-blockdev", "driver=qcow2,file=file0,node-name=disk0"])
            .args(["-device", "virtio-blk-pci,drive=disk0,id=vd0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Boot::Incoming { paused } = boot {
            command.args(["-incoming", "defer"]);
            if paused {
                command.arg("-S");
            }
        }
        let mut child = command
            .spawn()
            .map_err(|e| LabError::Spawn(e.to_string()))?;
        let qmp = match Qmp::connect(&qmp_socket, Duration::from_secs(20)).await {
            Ok(q) => q,
            Err(e) => {
                let _ = child.start_kill();
                let stderr = match child.wait_with_output().await {
                    Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
                    Err(_) => String::new(),
                };
                return Err(LabError::Spawn(format!("{e}; {}", stderr.trim())));
            }
        };
        Ok(Guest {
            name: name.to_owned(),
            pid: child.id(),
            child: tokio::sync::Mutex::new(child),
            qmp,
            serial,
            qmp_socket,
            disk_node: crate::sync::Mutex::new("disk0".into()),
        })
    }

    /// The VM's run state (`running`, `paused`, `inmigrate`, `postmigrate`, …).
    pub async fn status(&self) -> Result<String, LabError> {
        let status = self.qmp.execute("query-status", json!({})).await?;
        Ok(status["status"].as_str().unwrap_or("unknown").to_owned())
    }

    /// The heartbeats printed on this process's console so far.
    pub fn heartbeats(&self) -> Vec<Heartbeat> {
        std::fs::read_to_string(&self.serial)
            .unwrap_or_default()
            .lines()
            .filter_map(Heartbeat::parse)
            .collect()
    }

    /// The latest heartbeat (reads the end of the console file only: it grows forever).
    pub fn last_heartbeat(&self) -> Option<Heartbeat> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = std::fs::File::open(&self.serial).ok()?;
        let len = file.metadata().ok()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(4096))).ok()?;
        let mut tail = Vec::new();
        file.read_to_end(&mut tail).ok()?;
        String::from_utf8_lossy(&tail)
            .lines()
            .rev()
            .find_map(Heartbeat::parse)
    }

    /// Waits for a heartbeat with `seq` above `after`.
    pub async fn wait_heartbeat(&self, after: u64, wait: Duration) -> Option<Heartbeat> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(h) = self.last_heartbeat().filter(|h| h.seq > after) {
                return Some(h);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The process id (for leak checks).
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Stops QEMU (asking first, then killing), reaps it and removes its socket.
    pub async fn stop(&self) {
        let _ =
            tokio::time::timeout(Duration::from_secs(2), self.qmp.execute("quit", json!({}))).await;
        let mut child = self.child.lock().await;
        if tokio::time::timeout(Duration::from_secs(3), child.wait())
            .await
            .is_err()
        {
            let _ = child.kill().await;
        }
        let _ = std::fs::remove_file(&self.qmp_socket);
    }
}

#[cfg(test)]
mod tests {
    use super::Heartbeat;

    #[test]
    fn heartbeats_parse_and_noise_does_not() {
        let h = Heartbeat::parse(
            "VMSHIFT-HEARTBEAT seq=7 uptime_ms=7003 dirtied_mib=56 disk_writes=1792 disk_ok=40 disk_bad=0\r",
        )
        .unwrap();
        assert_eq!(
            (h.seq, h.uptime_ms, h.disk_writes, h.disk_ok, h.disk_bad),
            (7, 7003, 1792, 40, 0)
        );
        assert_eq!(
            Heartbeat::parse("[    1.2] virtio_blk virtio0: [vda]"),
            None
        );
        assert_eq!(Heartbeat::parse("VMSHIFT-HEARTBEAT seq=x"), None);
    }
}
