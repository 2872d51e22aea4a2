//! The lab: the real side of the QEMU driver. Each lab VM is a QEMU process on this machine
//! (its "host" is bookkeeping: which process runs it), each datastore a directory holding the
//! VMs' qcow2 images. The lab boots the lab VMs at start, follows them through migrations
//! (the destination process becomes the VM, the source stops), cleans up after a cancel or a
//! failure, and stops every process at shutdown: nothing is left behind.

use super::qemu::guest::{create_image, LabError};
use super::qemu::{Boot, Guest, GuestSpec, Heartbeat, Lab};
use crate::sync::Mutex;
use domain::engine::driver::{Location, Platforms};
use domain::platform::Platform;
use domain::{DatastoreId, HostId, Inventory, Vm, VmId};
use serde_json::json;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Virtual size of a lab VM's disk.
pub const LAB_DISK_MIB: u64 = 128;

/// Largest memory a lab guest gets (they run under TCG on two cores).
pub const LAB_MAX_MEMORY_MIB: u64 = 512;

struct LabVm {
    name: String,
    spec: GuestSpec,
    host: HostId,
    guest: Arc<Guest>,
    image: PathBuf,
    /// A destination being filled by a migration in flight, and its image.
    incoming: Option<(Arc<Guest>, PathBuf)>,
    /// The last heartbeat of the process that ran the VM before (shown until the new one's
    /// first: the guest's counter goes on across a migration).
    previous_beat: Option<Heartbeat>,
}

/// How many recent QEMU starts the lab's preparation time is the median of.
const STARTS_KEPT: usize = 9;

pub struct LabRuntime {
    lab: Lab,
    root: PathBuf,
    vms: Mutex<HashMap<VmId, LabVm>>,
    /// How long the last QEMU processes took to start and answer QMP, seconds (a
    /// destination's preparation is mostly that).
    starts: Mutex<VecDeque<f64>>,
}

impl LabRuntime {
    pub fn new(lab: Lab, root: PathBuf) -> Self {
        LabRuntime {
            lab,
            root,
            vms: Mutex::new(HashMap::new()),
            starts: Mutex::new(VecDeque::new()),
        }
    }

    /// The figures that predict a lab migration: QEMU on loopback, with the preparation
    /// time this machine measured (the median of the last destinations' starts; the
    /// platform's figure before the first).
    pub fn platform(&self) -> Platform {
        let mut starts: Vec<f64> = self.starts.lock().iter().copied().collect();
        let mut platform = Platform::QEMU_LOOPBACK;
        if !starts.is_empty() {
            starts.sort_by(f64::total_cmp);
            platform.prepare_s = starts[starts.len() / 2];
        }
        platform
    }

    /// Stops the QEMU processes a previous run of the lab left behind (the server was killed
    /// before it could stop them: they would run on, unmanaged, on the same images), and
    /// removes their QMP sockets. Returns how many there were.
    pub async fn reap_orphans(&self) -> usize {
        let root = format!("{}/", self.root.display());
        let Ok(proc) = std::fs::read_dir("/proc") else {
            return 0;
        };
        let mut killed = Vec::new();
        for entry in proc.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                continue;
            };
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            let ours = args.first().is_some_and(|a| a.contains("qemu-system"))
                && args.iter().any(|a| a.contains(&root));
            if !ours {
                continue;
            }
            // SAFETY: kill(2) on a pid read from /proc; no memory is involved.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            let socket = args
                .iter()
                .skip_while(|a| *a != "-qmp")
                .nth(1)
                .and_then(|q| q.strip_prefix("unix:"))
                .and_then(|q| q.split(',').next());
            if let Some(socket) = socket {
                let _ = std::fs::remove_file(socket);
            }
            tracing::warn!(pid, "stopped a QEMU process a previous run left behind");
            killed.push(pid);
        }
        // Their images stay locked until they have exited (a zombie holds no file).
        let gone = |pid: &i32| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
                stat.rsplit_once(')')
                    .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
            })
        };
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while !killed.iter().all(gone) && Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        killed.len()
    }

    /// Times a migration destination's start for [`LabRuntime::platform`] (boots at start-up
    /// are not counted: they run while other guests boot, unlike a migration's).
    async fn timed_start(
        &self,
        name: &str,
        dir: &Path,
        spec: &GuestSpec,
        image: &Path,
        boot: Boot,
    ) -> Result<Guest, LabError> {
        let started = Instant::now();
        let incoming = matches!(boot, Boot::Incoming { .. });
        let guest = Guest::start(&self.lab, name, dir, spec, image, boot).await?;
        if !incoming {
            return Ok(guest);
        }
        let mut starts = self.starts.lock();
        if starts.len() == STARTS_KEPT {
            starts.pop_front();
        }
        starts.push_back(started.elapsed().as_secs_f64());
        Ok(guest)
    }

    fn lock(&self) -> crate::sync::MutexGuard<'_, HashMap<VmId, LabVm>> {
        self.vms.lock()
    }

    pub fn datastore_dir(&self, ds: DatastoreId) -> PathBuf {
        self.root.join("datastores").join(ds.to_string())
    }

    /// Where a VM's image lives on a datastore.
    pub fn image_path(&self, vm: VmId, ds: DatastoreId) -> PathBuf {
        self.datastore_dir(ds).join(format!("{vm}.qcow2"))
    }

    /// Where a VM's disk moving to `ds` goes, the datastore's directory made if no VM has
    /// lived there yet.
    pub fn target_image(&self, vm: VmId, ds: DatastoreId) -> Result<PathBuf, LabError> {
        std::fs::create_dir_all(self.datastore_dir(ds))
            .map_err(|e| LabError::Image(e.to_string()))?;
        Ok(self.image_path(vm, ds))
    }

    fn host_dir(&self, host: HostId) -> PathBuf {
        self.root.join("hosts").join(host.to_string())
    }

    /// What a VM's guest runs: its memory (capped for the lab) and workload profile.
    pub fn spec_of(vm: &Vm) -> GuestSpec {
        let memory_mib = vm.memory_mib.get().clamp(128, LAB_MAX_MEMORY_MIB);
        let working_set = vm
            .workload
            .working_set_mib
            .map_or(memory_mib / 4, |w| w.get())
            .min(memory_mib / 2);
        GuestSpec {
            memory_mib,
            working_set_mib: working_set.max(1),
            dirty_mib_s: vm.workload.dirty_rate_mib_s.get().round() as u64,
            disk_mib_s: vm.workload.disk_write_mib_s.get().round() as u64,
        }
    }

    /// Boots every running VM of `hosts` on its host, its first disk's datastore holding its
    /// image (created on first boot).
    pub async fn boot_all(&self, inv: &Inventory, hosts: &[HostId]) -> Result<usize, LabError> {
        let mut booted = 0;
        for vm in inv.vms.values().filter(|v| hosts.contains(&v.host_id)) {
            if vm.power_state != domain::PowerState::On {
                continue;
            }
            let Some(ds) = vm.disks.first().map(|d| d.datastore_id) else {
                continue;
            };
            self.boot(vm, ds).await?;
            booted += 1;
        }
        Ok(booted)
    }

    async fn boot(&self, vm: &Vm, ds: DatastoreId) -> Result<(), LabError> {
        let image = self.image_path(vm.id, ds);
        std::fs::create_dir_all(self.datastore_dir(ds))
            .map_err(|e| LabError::Image(e.to_string()))?;
        if !image.exists() {
            create_image(&image, LAB_DISK_MIB).await?;
        }
        let spec = Self::spec_of(vm);
        let dir = self.host_dir(vm.host_id);
        std::fs::create_dir_all(&dir).map_err(|e| LabError::Image(e.to_string()))?;
        let guest = self
            .timed_start(vm.name.as_str(), &dir, &spec, &image, Boot::Fresh)
            .await?;
        tracing::info!(vm = %vm.name, "lab guest started");
        self.lock().insert(
            vm.id,
            LabVm {
                name: vm.name.to_string(),
                spec,
                host: vm.host_id,
                guest: Arc::new(guest),
                image,
                incoming: None,
                previous_beat: None,
            },
        );
        Ok(())
    }

    /// The process running a VM now.
    pub fn guest(&self, vm: VmId) -> Option<Arc<Guest>> {
        self.lock().get(&vm).map(|v| v.guest.clone())
    }

    pub fn image_of(&self, vm: VmId) -> Option<PathBuf> {
        self.lock().get(&vm).map(|v| v.image.clone())
    }

    /// Where a real guest runs now: the host whose process runs it and the datastore of its
    /// image (the directory it is in).
    pub fn location(&self, vm: VmId) -> Option<Location> {
        let vms = self.lock();
        let v = vms.get(&vm)?;
        let datastore = v
            .image
            .parent()
            .and_then(|dir| dir.file_name())
            .and_then(|name| name.to_str())
            .and_then(|name| name.parse().ok())?;
        Some(Location {
            host: v.host,
            datastore,
        })
    }

    /// Whether a VM is a real lab guest.
    pub fn is_real(&self, vm: VmId) -> bool {
        self.lock().contains_key(&vm)
    }

    /// The last heartbeat of every lab VM, with the host it runs on.
    pub fn heartbeats(&self) -> Vec<(VmId, HostId, Option<Heartbeat>)> {
        self.lock()
            .iter()
            .map(|(id, v)| (*id, v.host, v.guest.last_heartbeat().or(v.previous_beat)))
            .collect()
    }

    /// Starts a process for `vm` on `host` (a migration's destination).
    pub async fn start_guest(
        &self,
        vm: VmId,
        host: HostId,
        image: &Path,
        boot: Boot,
    ) -> Result<Arc<Guest>, LabError> {
        let (name, spec) = {
            let vms = self.lock();
            let v = vms
                .get(&vm)
                .ok_or_else(|| LabError::Failed(format!("VM {vm} is not a lab guest")))?;
            (v.name.clone(), v.spec.clone())
        };
        let dir = self.host_dir(host);
        std::fs::create_dir_all(&dir).map_err(|e| LabError::Image(e.to_string()))?;
        Ok(Arc::new(
            self.timed_start(&name, &dir, &spec, image, boot).await?,
        ))
    }

    /// Records a migration's destination (to clean it up if the migration does not finish).
    pub fn incoming(&self, vm: VmId, guest: Arc<Guest>, image: PathBuf) {
        if let Some(v) = self.lock().get_mut(&vm) {
            v.incoming = Some((guest, image));
        }
    }

    /// The migration completed: the destination on `host` is the VM now; the source stops.
    pub async fn commit(&self, vm: VmId, host: HostId) {
        let old = {
            let mut vms = self.lock();
            let Some(v) = vms.get_mut(&vm) else { return };
            let Some((guest, image)) = v.incoming.take() else {
                return;
            };
            v.host = host;
            v.image = image;
            v.previous_beat = v.guest.last_heartbeat();
            std::mem::replace(&mut v.guest, guest)
        };
        old.stop().await;
    }

    /// The disk moved to `new`: the old image is deleted.
    pub async fn moved_disk(&self, vm: VmId, new: PathBuf, old: PathBuf) {
        if let Some(v) = self.lock().get_mut(&vm) {
            v.image = new;
        }
        let _ = std::fs::remove_file(old);
    }

    /// A migration of `vm` was cancelled or failed: QEMU's jobs are cancelled (the guest
    /// keeps running where it was, on its image), the destination stops and its image, if it
    /// was a new one, is deleted.
    pub async fn cancel(&self, vm: VmId) {
        let (guest, image, incoming) = {
            let mut vms = self.lock();
            let Some(v) = vms.get_mut(&vm) else { return };
            (v.guest.clone(), v.image.clone(), v.incoming.take())
        };
        let _ = guest.qmp.execute("migrate_cancel", json!({})).await;
        if let Ok(jobs) = guest.qmp.execute("query-block-jobs", json!({})).await {
            for job in jobs.as_array().into_iter().flatten() {
                let device = job["device"].clone();
                let _ = guest
                    .qmp
                    .execute(
                        "block-job-cancel",
                        json!({ "device": device, "force": true }),
                    )
                    .await;
            }
        }
        // Block nodes a Storage vMotion or a combined migration added and did not switch to.
        let current = guest.disk_node.lock().clone();
        if let Ok(nodes) = guest
            .qmp
            .execute("query-named-block-nodes", json!({ "flat": true }))
            .await
        {
            let mut extra: Vec<(String, Option<String>)> = nodes
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| {
                    let name = n["node-name"].as_str()?.to_owned();
                    let file = n["file"].as_str().map(str::to_owned);
                    (name.starts_with("disk-")
                        || name.starts_with("file-")
                        || name.starts_with("vmshift-"))
                    .then_some((name, file))
                })
                .filter(|(name, _)| *name != current)
                .collect();
            // Formats before their files.
            extra.sort_by_key(|(name, _)| !name.starts_with("disk-") && name != "vmshift-nbd");
            for (name, file) in extra {
                let _ = guest
                    .qmp
                    .execute("blockdev-del", json!({ "node-name": name }))
                    .await;
                if let Some(file) = file.filter(|f| *f != image.display().to_string()) {
                    if !file.starts_with("nbd") {
                        let _ = std::fs::remove_file(file);
                    }
                }
            }
        }
        if let Some((destination, dest_image)) = incoming {
            destination.stop().await;
            if dest_image != image {
                let _ = std::fs::remove_file(dest_image);
            }
        }
        tracing::info!(vm = %vm, "lab migration stopped; the guest runs where it was");
    }

    /// Stops every lab guest (server shutdown).
    pub async fn shutdown(&self) {
        let all: Vec<LabVm> = self.lock().drain().map(|(_, v)| v).collect();
        for v in all {
            if let Some((g, _)) = v.incoming {
                g.stop().await;
            }
            v.guest.stop().await;
        }
    }
}

impl Platforms for LabRuntime {
    /// A real guest moves through QEMU; every other VM through the simulated vSphere.
    fn platform(&self, vm: VmId) -> Platform {
        if self.is_real(vm) {
            self.platform()
        } else {
            Platform::VSPHERE
        }
    }
}
