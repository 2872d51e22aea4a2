//! The QEMU lab: real migrations on this machine. Each lab VM is a QEMU guest process, each
//! host bookkeeping (which process runs it), each datastore a directory of qcow2 images.
//!
//! - `qemu`: the QMP client, guest processes and the migration sequences (usable alone);
//! - `runtime`: the lab's guests, followed through their migrations and cleaned up after;
//! - `driver`: the engine's driver for them (`--driver qemu`), the simulated one for the rest;
//! - here: starting the lab, its cluster (`server/data/lab.json`) and its heartbeats.

pub mod driver;
pub mod qemu;
pub mod runtime;

use crate::inventory::InventoryService;
use crate::live::LiveHub;
use domain::{ClusterId, HostId, Inventory};
use runtime::LabRuntime;
use std::sync::Arc;

/// The cluster whose VMs are real QEMU guests.
pub const LAB_CLUSTER: &str = "Lab";

const LAB: &str = include_str!("../../data/lab.json");

/// The lab cluster: `lab-esx-01` and `lab-esx-02` sharing `lab-shared`, each with a local
/// datastore; `lab-web` on the shared datastore (it can vMotion), `lab-db` on lab-esx-01's
/// local one (the local-storage check stops its vMotion; a Storage vMotion or a combined move
/// takes it across).
pub fn cluster() -> Inventory {
    crate::demo::load("server/data/lab.json", LAB)
}

/// The demo inventory with the lab cluster (what `--driver qemu` loads into an empty
/// database).
pub fn demo_with_lab() -> Inventory {
    let objects = crate::demo::demo_inventory()
        .objects()
        .chain(cluster().objects())
        .collect::<Vec<_>>();
    Inventory::from_objects(objects).expect("the demo and the lab are valid together")
}

/// Starts the lab of the QEMU driver: boots every running VM of the `Lab` cluster as a QEMU
/// guest on this machine.
pub async fn start(
    lab_dir: &std::path::Path,
    lab_data: &std::path::Path,
    inventory: &InventoryService,
) -> Result<Arc<LabRuntime>, String> {
    let lab = qemu::Lab::find(lab_dir)?;
    // Absolute, so that a later run recognizes this one's processes by their command line.
    let lab_data = std::fs::create_dir_all(lab_data)
        .and_then(|()| lab_data.canonicalize())
        .map_err(|e| format!("lab data directory {}: {e}", lab_data.display()))?;
    let runtime = Arc::new(LabRuntime::new(lab, lab_data));
    let orphans = runtime.reap_orphans().await;
    if orphans > 0 {
        tracing::warn!(
            orphans,
            "stopped the lab guests a previous run left (it did not shut down cleanly)"
        );
    }
    let hosts: Vec<HostId> = {
        let inv = inventory.read();
        let clusters: Vec<ClusterId> = inv
            .clusters
            .values()
            .filter(|c| c.name.as_str() == LAB_CLUSTER)
            .map(|c| c.id)
            .collect();
        inv.hosts
            .values()
            .filter(|h| clusters.contains(&h.cluster_id))
            .map(|h| h.id)
            .collect()
    };
    if hosts.is_empty() {
        tracing::warn!(
            "no `{}` cluster in the inventory: no VM is real (start on an empty database for the demo lab)",
            LAB_CLUSTER
        );
    }
    let inv = inventory.read().clone();
    let booted = runtime
        .boot_all(&inv, &hosts)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(guests = booted, "lab guests running under QEMU");
    Ok(runtime)
}

/// Tells live clients, once a second, which host runs each lab guest and its last heartbeat.
pub fn spawn_heartbeats(
    runtime: Arc<LabRuntime>,
    live: Arc<LiveHub>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = shutdown.changed() => return,
            }
            let guests: Vec<app::protocol::LabGuest> = runtime
                .heartbeats()
                .into_iter()
                .map(|(vm_id, host_id, beat)| app::protocol::LabGuest {
                    vm_id,
                    host_id,
                    heartbeat: beat.map(|b| b.seq),
                    uptime_ms: beat.map(|b| b.uptime_ms),
                    disk_ok: beat.map_or(0, |b| b.disk_ok),
                    disk_bad: beat.map_or(0, |b| b.disk_bad),
                })
                .collect();
            let message = app::protocol::LiveMessage::LabHeartbeats {
                guests,
                platform: Some(runtime.platform()),
            };
            live.publish_message(&message);
        }
    });
}
