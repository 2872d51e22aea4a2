//! What the engine says: why a queued migration waits, what a phase change means, and each
//! migration's next event.

use super::Active;
use crate::checks::SPACE_HEADROOM;
use crate::migration::{MigrationEvent, Phase};
use crate::transfer::TransferProgress;
use crate::{DatastoreId, HostId, Inventory};
use std::collections::HashMap;

/// Why a migration that fits the slots must still wait: its target host or datastore
/// lacks what the migrations already heading there will take.
pub(super) fn reservation_reason(
    inv: &Inventory,
    a: &Active,
    memory_heading: &HashMap<HostId, u64>,
    space_heading: &HashMap<DatastoreId, u64>,
) -> Option<String> {
    if a.memory_mib > 0 {
        let heading = memory_heading
            .get(&a.plan.target_host)
            .copied()
            .unwrap_or(0);
        if heading > 0 {
            if let Some(host) = inv.hosts.get(&a.plan.target_host) {
                let free = host
                    .memory_mib
                    .get()
                    .saturating_sub(inv.host_load(host.id).running_memory_mib);
                if free < heading + a.memory_mib {
                    return Some(format!(
                        "waiting: {} has {} free, {} of it taken by migrations already heading there",
                        host.name,
                        crate::format::mib(free),
                        crate::format::mib(heading)
                    ));
                }
            }
        }
    }
    if let Some(d) = a.plan.target_datastore.filter(|_| a.disk_mib > 0) {
        let heading = space_heading.get(&d).copied().unwrap_or(0);
        if heading > 0 {
            if let Some(ds) = inv.datastores.get(&d) {
                let capacity = ds.capacity_mib.get();
                let free = capacity.saturating_sub(inv.allocated_mib(ds.id, None));
                let headroom = (capacity as f64 * SPACE_HEADROOM) as u64;
                if free < heading + a.disk_mib + headroom {
                    return Some(format!(
                        "waiting: datastore {} has {} free, {} of it taken by disks already being copied there",
                        ds.name,
                        crate::format::mib(free),
                        crate::format::mib(heading)
                    ));
                }
            }
        }
    }
    None
}

/// What a phase change says.
pub(super) fn phase_message(a: &Active, p: &TransferProgress) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    match p.phase {
        Phase::DiskCopy => format!(
            "Copying {:.0} MiB of disk to {} (writes mirrored)",
            a.plan.disk_bytes() / MIB,
            a.target_name
        ),
        Phase::MemoryPrecopy if p.throttle > 0.0 => format!(
            "Pre-copying memory; SDPS slows the guest by {:.0} % so that the copy converges",
            p.throttle * 100.0
        ),
        Phase::MemoryPrecopy => "Pre-copying memory".into(),
        Phase::Switchover => format!(
            "Switchover: the VM is stunned while the last {:.1} MiB are sent",
            p.remaining_dirty / MIB
        ),
        other => other.label().into(),
    }
}

/// The next event of a migration, stamped with the simulated instant `now` (see
/// [`Migration::record_event`]).
pub(super) fn emit(
    a: &mut Active,
    now: f64,
    phase: Phase,
    progress: Option<&TransferProgress>,
    rate: f64,
    message: String,
) -> MigrationEvent {
    a.record
        .record_event(phase, now - a.created_s, progress, rate, message)
}
