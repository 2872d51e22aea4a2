//! Every possible target of a move, checked and ranked: allowed first, then by free resources.

use super::{check_migration, CheckReport, MigrationKind, MigrationRequest, Severity};
use crate::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetSummary {
    pub id: uuid::Uuid,
    pub name: String,
    pub allowed: bool,
    pub errors: usize,
    pub warnings: usize,
    /// Why it is not allowed (the first error), for a greyed-out choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    /// That error in full, for a page to word in its language (computed where the targets
    /// are ranked, the browser included; not sent).
    #[serde(skip)]
    pub first_error_check: Option<super::CheckResult>,
    /// Free memory (hosts) or free space (datastores), MiB.
    pub free_mib: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Targets {
    pub hosts: Vec<TargetSummary>,
    pub datastores: Vec<TargetSummary>,
}

/// Rules about the target datastore (ranked with the datastores of a combined move).
fn datastore_rule(id: &str) -> bool {
    id.starts_with("datastore.")
}

/// Rules about the VM itself, true whatever the target.
fn vm_rule(id: &str) -> bool {
    matches!(id, "ft.enabled" | "vm.busy" | "vm.powered_on")
}

fn summarize(
    id: uuid::Uuid,
    name: &str,
    free_mib: u64,
    report: &CheckReport,
    keep: impl Fn(&str) -> bool,
) -> TargetSummary {
    let kept: Vec<_> = report.results.iter().filter(|r| keep(&r.id)).collect();
    let errors = kept
        .iter()
        .filter(|r| r.severity == Severity::Error)
        .count();
    TargetSummary {
        id,
        name: name.to_string(),
        allowed: errors == 0,
        errors,
        warnings: kept
            .iter()
            .filter(|r| r.severity == Severity::Warning)
            .count(),
        first_error: kept
            .iter()
            .find(|r| r.severity == Severity::Error)
            .map(|r| r.message.clone()),
        first_error_check: kept
            .iter()
            .find(|r| r.severity == Severity::Error)
            .map(|r| (*r).clone()),
        free_mib,
    }
}

fn rank(list: &mut [TargetSummary]) {
    list.sort_by(|a, b| {
        b.allowed
            .cmp(&a.allowed)
            .then(b.free_mib.cmp(&a.free_mib))
            .then(a.name.cmp(&b.name))
    });
}

/// Checks every host and/or datastore as the target of moving `vm` the `kind` way. For a
/// combined move, hosts are judged on the host rules and datastores on the datastore rules,
/// each against the other choice if given (`host`, `datastore`).
pub fn rank_targets(
    inv: &Inventory,
    vm_id: VmId,
    kind: MigrationKind,
    host: Option<HostId>,
    datastore: Option<DatastoreId>,
    busy: &BTreeSet<VmId>,
) -> Result<Targets, DomainError> {
    let vm = inv
        .vms
        .get(&vm_id)
        .ok_or_else(|| DomainError::not_found(format!("no VM has id {vm_id}")))?;
    // A stand-in for the other half of a combined move: the VM's current datastore.
    let placeholder_ds = datastore
        .or_else(|| vm.disks.first().map(|d| d.datastore_id))
        .or_else(|| inv.datastores.keys().next().copied());
    let mut targets = Targets::default();
    if kind.moves_host() {
        for h in inv.hosts.values() {
            let request = MigrationRequest {
                vm_id,
                kind,
                target_host_id: Some(h.id),
                target_datastore_id: if kind.moves_storage() {
                    placeholder_ds
                } else {
                    None
                },
                options: Default::default(),
            };
            let Ok(report) = check_migration(inv, &request, busy) else {
                continue;
            };
            let free = h
                .memory_mib
                .get()
                .saturating_sub(inv.host_load(h.id).running_memory_mib);
            let combined = kind == MigrationKind::Combined;
            targets
                .hosts
                .push(summarize(h.id.0, h.name.as_str(), free, &report, |id| {
                    !(combined && datastore_rule(id))
                }));
        }
        rank(&mut targets.hosts);
    }
    if kind.moves_storage() {
        let host_for_ds = if kind == MigrationKind::Combined {
            host.or(Some(vm.host_id))
        } else {
            None
        };
        for ds in inv.datastores.values() {
            let request = MigrationRequest {
                vm_id,
                kind,
                target_host_id: host_for_ds,
                target_datastore_id: Some(ds.id),
                options: Default::default(),
            };
            let Ok(report) = check_migration(inv, &request, busy) else {
                continue;
            };
            let combined = kind == MigrationKind::Combined;
            targets.datastores.push(summarize(
                ds.id.0,
                ds.name.as_str(),
                inv.free_mib(ds),
                &report,
                |id| !combined || datastore_rule(id) || vm_rule(id),
            ));
        }
        rank(&mut targets.datastores);
    }
    Ok(targets)
}
