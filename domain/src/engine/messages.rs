//! What the engine says: why a queued migration waits, what a phase change means, and each
//! migration's next event.

use super::Active;
use crate::checks::MigrationKind;
use crate::checks::SPACE_HEADROOM;
use crate::migration::{MigrationEvent, Phase};
use crate::transfer::TransferPlan;
use crate::transfer::TransferProgress;
use crate::{DatastoreId, HostId, Inventory, Phrase, Vm};
use std::collections::HashMap;

/// Why a migration that fits the slots must still wait: its target host or datastore
/// lacks what the migrations already heading there will take.
pub(super) fn reservation_reason(
    inv: &Inventory,
    a: &Active,
    memory_heading: &HashMap<HostId, u64>,
    space_heading: &HashMap<DatastoreId, u64>,
) -> Option<Phrase> {
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
                    return Some(Phrase::new(
                        "engine.wait.memory",
                        &[
                            ("host", host.name.to_string()),
                            ("free_mib", free.to_string()),
                            ("heading_mib", heading.to_string()),
                        ],
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
                    return Some(Phrase::new(
                        "engine.wait.space",
                        &[
                            ("datastore", ds.name.to_string()),
                            ("free_mib", free.to_string()),
                            ("heading_mib", heading.to_string()),
                        ],
                    ));
                }
            }
        }
    }
    None
}

/// What a phase change says.
pub(super) fn phase_message(a: &Active, p: &TransferProgress) -> Phrase {
    const MIB: f64 = 1024.0 * 1024.0;
    match p.phase {
        Phase::DiskCopy => Phrase::new(
            "engine.disk_copy",
            &[("mib", format!("{:.0}", a.plan.disk_bytes() / MIB))],
        )
        .with("target", a.target_name.clone()),
        Phase::MemoryPrecopy if p.throttle > 0.0 => Phrase::new(
            "engine.precopy_sdps",
            &[("percent", format!("{:.0}", (p.throttle * 100.0).round()))],
        ),
        Phase::MemoryPrecopy => Phrase::new("engine.precopy", &[]),
        Phase::Switchover => Phrase::new(
            "engine.switchover",
            &[("mib", format!("{:.1}", p.remaining_dirty / MIB))],
        ),
        other => phase_name(other),
    }
}

/// Whether the pre-copy's message would change (the SDPS throttle's percent moved): only
/// then is it worded again on a tick.
pub(super) fn precopy_words_changed(a: &Active, p: &TransferProgress) -> bool {
    let Some(w) = &a.record.words else {
        return true;
    };
    if p.throttle > 0.0 {
        // Compared as a number: this runs on every tick of every throttled pre-copy.
        let percent = (p.throttle * 100.0).round();
        let said = w.args.get("percent").and_then(|s| s.parse::<f64>().ok());
        w.code != "engine.precopy_sdps" || said != Some(percent)
    } else {
        w.code != "engine.precopy"
    }
}

/// A phase's name as a phrase ("Preparing").
pub(super) fn phase_name(phase: Phase) -> Phrase {
    let mut p = Phrase::new("engine.phase", &[("phase", phase.as_str().to_string())]);
    p.english = phase.label().to_string();
    p
}

/// The next event of a migration, stamped with the simulated instant `now` (see
/// [`Migration::record_event`]).
pub(super) fn emit(
    a: &mut Active,
    now: f64,
    phase: Phase,
    progress: Option<&TransferProgress>,
    rate: f64,
    message: Phrase,
) -> MigrationEvent {
    a.record
        .record_event(phase, now - a.created_s, progress, rate, message)
}

/// A migration in words, named when it is asked.
pub(super) struct Words {
    /// "web-01 keeps running on esx-01" (for failure messages).
    pub stays: Phrase,
    /// Where the VM goes: "esx-02", "vsan-prod", "esx-02 and vsan-prod".
    pub target: Phrase,
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
        let vm_name = ("vm", vm.name.to_string());
        let host = ("host", host_name(vm.host_id));
        let stays = if kind.moves_storage() && !ds_names.is_empty() {
            let disks = ("datastores", ds_names.join(", "));
            Phrase::new("engine.stays_disks", &[vm_name, host, disks])
        } else {
            Phrase::new("engine.stays", &[vm_name, host])
        };
        let to_host = || ("host", host_name(plan.target_host));
        let to_datastore = |d| ("datastore", datastore_name(d).to_owned());
        let target = match (kind.moves_host(), plan.target_datastore) {
            (true, Some(d)) => Phrase::new("plan.target.both", &[to_host(), to_datastore(d)]),
            (true, None) => Phrase::new("plan.target.host", &[to_host()]),
            (false, Some(d)) => Phrase::new("plan.target.datastore", &[to_datastore(d)]),
            (false, None) => Phrase::raw("?"),
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
