//! The storage checks of a move (docs/DESIGN.md#checks): shared storage between source and
//! target for a vMotion, and the target datastore's reach, room (with its 5 % margin) and
//! state for a disk move.

use super::rules::{ds_ref, host_ref, vm_ref, Plan, Results};
use super::{MigrationKind, Severity, SPACE_HEADROOM};
use crate::*;
use std::collections::BTreeSet;

/// vMotion alone: every file of the VM must stay reachable from the target.
pub(super) fn shared_storage_rules(inv: &Inventory, p: &Plan, r: &mut Results) {
    let (vm, target) = (p.vm, p.target);
    let mut reported = BTreeSet::new();
    for (i, disk) in vm.disks.iter().enumerate() {
        let Some(ds) = inv.datastores.get(&disk.datastore_id) else {
            continue;
        };
        if ds.kind == DatastoreKind::Local {
            r.push(
                (
                    "storage.local",
                    &[
                        ("disk", &(i + 1)),
                        ("vm", &vm.name),
                        ("datastore", &ds.name),
                        ("host", &p.source.name),
                    ],
                ),
                Severity::Error,
                format!(
                    "Disk {} of {} is on the local datastore {} of {}",
                    i + 1,
                    vm.name,
                    ds.name,
                    p.source.name
                ),
                "Use combined migration (vMotion + Storage vMotion) to move the disk too, or Storage vMotion it to shared storage first.",
                vec![vm_ref(vm), ds_ref(ds)],
            );
        }
        if !ds.host_ids.contains(&target.id) && reported.insert(ds.id) {
            r.push(
                (
                    "storage.shared",
                    &[
                        ("host", &target.name),
                        ("datastore", &ds.name),
                        ("disk", &(i + 1)),
                        ("vm", &vm.name),
                    ],
                ),
                Severity::Error,
                format!("{} does not mount datastore {} that holds disk {} of {}", target.name, ds.name, i + 1, vm.name),
                "Mount the datastore on the target host, choose a host that mounts it, or use combined migration.",
                vec![vm_ref(vm), ds_ref(ds), host_ref(target)],
            );
        }
    }
}

pub(super) fn datastore_rules(inv: &Inventory, p: &Plan, ds: &Datastore, r: &mut Results) {
    let vm = p.vm;
    let moving: Vec<&Disk> = vm
        .disks
        .iter()
        .filter(|d| d.datastore_id != ds.id)
        .collect();
    if moving.is_empty() {
        let code = if p.kind == MigrationKind::Combined {
            "datastore.target_same.combined"
        } else {
            "datastore.target_same.datastore"
        };
        r.push(
            (code, &[("vm", &vm.name), ("datastore", &ds.name)]),
            Severity::Error,
            format!("Every disk of {} is already on {}", vm.name, ds.name),
            if p.kind == MigrationKind::Combined {
                "Choose another datastore, or use vMotion to move only the VM."
            } else {
                "Choose another datastore."
            },
            vec![vm_ref(vm), ds_ref(ds)],
        );
    }
    if !ds.host_ids.contains(&p.target.id) {
        r.push(
            (
                "datastore.reachable",
                &[("host", &p.target.name), ("datastore", &ds.name)],
            ),
            Severity::Error,
            format!("{} does not mount datastore {}", p.target.name, ds.name),
            "Choose a datastore that the host mounts, or mount it on the host.",
            vec![host_ref(p.target), ds_ref(ds)],
        );
    }
    let needed: u64 = moving.iter().map(|d| d.allocated_mib()).sum();
    let capacity = ds.capacity_mib.get();
    let free = capacity.saturating_sub(inv.allocated_mib(ds.id, None));
    let headroom = (capacity as f64 * SPACE_HEADROOM) as u64;
    if needed > 0 && free < needed + headroom {
        r.push(
            (
                "datastore.space",
                &[
                    ("datastore", &ds.name),
                    ("free_mib", &free),
                    ("vm", &vm.name),
                    ("need_mib", &needed),
                    ("headroom_mib", &headroom),
                ],
            ),
            Severity::Error,
            format!(
                "Insufficient disk space on datastore {}: {} free, the disks of {} need {} plus {} headroom",
                ds.name,
                crate::format::mib(Lang::En, free),
                vm.name,
                crate::format::mib(Lang::En, needed),
                crate::format::mib(Lang::En, headroom)
            ),
            "Free space on the datastore, grow it, or choose another one.",
            vec![vm_ref(vm), ds_ref(ds)],
        );
    }
}
