//! What the engine says: why a queued migration waits, what a phase change means, and each
//! migration's next event.

use super::Active;
use crate::checks::MigrationKind;
use crate::checks::SPACE_HEADROOM;
use crate::migration::{MigrationEvent, Phase};
use crate::transfer::TransferPlan;
use crate::transfer::TransferProgress;
use crate::{DatastoreId, HostId, Inventory, Vm};
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
                        crate::format::mib(crate::Lang::En, free),
                        crate::format::mib(crate::Lang::En, heading)
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
                        crate::format::mib(crate::Lang::En, free),
                        crate::format::mib(crate::Lang::En, heading)
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

/// A migration in words, named when it is asked.
pub(super) struct Words {
    /// "web-01 keeps running on esx-01" (for failure messages).
    pub stays: String,
    /// Where the VM goes: "esx-02", "vsan-prod", "esx-02 and vsan-prod".
    pub target: String,
    /// The move: "esx-01 → esx-02 · san-01 → san-02".
    pub route: String,
}

impl Words {
    pub fn of(inv: &Inventory, vm: &Vm, kind: MigrationKind, plan: &TransferPlan) -> Words {
        let host_name = |h| {
            inv.hosts
                .get(&h)
                .map_or_else(|| "?".to_string(), |h| h.name.as_str().to_owned())
        };
        let datastore_name = |d| inv.datastores.get(&d).map_or("?", |d| d.name.as_str());
        let ds_names: Vec<String> = {
            let mut ids: Vec<_> = vm.disks.iter().map(|d| d.datastore_id).collect();
            ids.dedup();
            ids.iter()
                .filter_map(|d| inv.datastores.get(d).map(|d| d.name.as_str().to_owned()))
                .collect()
        };
        let mut stays = format!(
            "{} keeps running on {}",
            vm.name.as_str(),
            host_name(vm.host_id)
        );
        if kind.moves_storage() && !ds_names.is_empty() {
            stays.push_str(&format!(" with its disks on {}", ds_names.join(", ")));
        }
        let target = match (kind.moves_host(), plan.target_datastore) {
            (true, Some(d)) => format!("{} and {}", host_name(plan.target_host), datastore_name(d)),
            (true, None) => host_name(plan.target_host),
            (false, Some(d)) => datastore_name(d).to_owned(),
            (false, None) => "?".into(),
        };
        let mut route = Vec::new();
        if kind.moves_host() {
            route.push(format!(
                "{} → {}",
                host_name(vm.host_id),
                host_name(plan.target_host)
            ));
        }
        if let Some(d) = plan.target_datastore {
            let from = if ds_names.is_empty() {
                "—".to_string()
            } else {
                ds_names.join(", ")
            };
            route.push(format!("{from} → {}", datastore_name(d)));
        }
        Words {
            stays,
            target,
            route: route.join(" · "),
        }
    }
}
