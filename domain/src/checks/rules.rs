//! The rules of a move: the request resolved against the inventory ([`Plan`]), the results
//! it gathers, the VM and host rules, and the call to each part (compute, network, devices,
//! storage); each result names the objects involved, with wording close to vCenter's, and a
//! remedy.

use super::compute::cpu_and_resource_rules;
use super::devices::device_rules;
use super::network::{portgroup_rules, vmotion_network_rules};
use super::storage::{datastore_rules, shared_storage_rules};
use super::{CheckResult, MigrationKind, MigrationRequest, ObjectRef, Severity};
use crate::*;
use std::collections::BTreeSet;

/// vMotion links under this speed get a warning (Gbit/s).
pub const SLOW_LINK_GBPS: f64 = 1.0;
/// Free space to keep on a target datastore after a Storage vMotion (fraction of capacity).
pub const SPACE_HEADROOM: f64 = 0.05;
/// vCPUs per physical core on the target above which a warning is given.
pub const CPU_OVERCOMMIT_WARNING: f64 = 1.0;

/// A request resolved against the inventory: the VM, where it is, where it goes.
pub(crate) struct Plan<'a> {
    pub kind: MigrationKind,
    pub vm: &'a Vm,
    pub source: &'a Host,
    /// The host the VM runs on afterwards (the source for Storage vMotion).
    pub target: &'a Host,
    /// The datastore the disks go to (Storage vMotion and combined).
    pub datastore: Option<&'a Datastore>,
}

/// A migration's kind as a name the pages translate.
fn kind_name(kind: super::MigrationKind) -> crate::Phrase {
    crate::Phrase::name("migration_kind", kind.as_str(), kind.label())
}

impl<'a> Plan<'a> {
    pub fn resolve(inv: &'a Inventory, req: &MigrationRequest) -> Result<Self, DomainError> {
        let vm = inv.vms.get(&req.vm_id).ok_or_else(|| {
            crate::inventory::validate::unknown("vm_id", crate::ObjectKind::Vm, req.vm_id)
        })?;
        let source = inv.hosts.get(&vm.host_id).ok_or_else(|| {
            DomainError::invalid(
                "vm_id",
                crate::Phrase::new("refuse.vm_host_unknown", &[("vm", vm.name.to_string())]),
            )
        })?;
        let target = match (req.kind.moves_host(), req.target_host_id) {
            (true, None) => {
                return Err(DomainError::invalid(
                    "target_host_id",
                    crate::Phrase::new("refuse.needs_target_host", &[])
                        .with("kind", kind_name(req.kind)),
                ))
            }
            (false, Some(_)) => {
                return Err(DomainError::invalid(
                    "target_host_id",
                    crate::Phrase::new("refuse.svmotion_keeps_host", &[]),
                ))
            }
            (true, Some(id)) => inv.hosts.get(&id).ok_or_else(|| {
                crate::inventory::validate::unknown("target_host_id", crate::ObjectKind::Host, id)
            })?,
            (false, None) => source,
        };
        let datastore = match (req.kind.moves_storage(), req.target_datastore_id) {
            (true, None) => {
                return Err(DomainError::invalid(
                    "target_datastore_id",
                    crate::Phrase::new("refuse.needs_target_datastore", &[])
                        .with("kind", kind_name(req.kind)),
                ))
            }
            (false, Some(_)) => {
                return Err(DomainError::invalid(
                    "target_datastore_id",
                    crate::Phrase::new("refuse.vmotion_keeps_disks", &[]),
                ))
            }
            (true, Some(id)) => Some(inv.datastores.get(&id).ok_or_else(|| {
                crate::inventory::validate::unknown(
                    "target_datastore_id",
                    crate::ObjectKind::Datastore,
                    id,
                )
            })?),
            (false, None) => None,
        };
        Ok(Plan {
            kind: req.kind,
            vm,
            source,
            target,
            datastore,
        })
    }

    pub(super) fn hot(&self) -> bool {
        self.vm.power_state == PowerState::On
    }
}

pub(super) fn host_ref(h: &Host) -> ObjectRef {
    ObjectRef {
        kind: ObjectKind::Host,
        id: h.id.0,
        name: h.name.to_string(),
    }
}
pub(super) fn vm_ref(v: &Vm) -> ObjectRef {
    ObjectRef {
        kind: ObjectKind::Vm,
        id: v.id.0,
        name: v.name.to_string(),
    }
}
pub(super) fn ds_ref(d: &Datastore) -> ObjectRef {
    ObjectRef {
        kind: ObjectKind::Datastore,
        id: d.id.0,
        name: d.name.to_string(),
    }
}
pub(super) fn pg_ref(p: &Portgroup) -> ObjectRef {
    ObjectRef {
        kind: ObjectKind::Portgroup,
        id: p.id.0,
        name: p.name.to_string(),
    }
}

pub(super) struct Results(Vec<CheckResult>);

impl Results {
    /// A result of wording `code` (its rule's id is the code's first two parts), naming the
    /// values `args`.
    pub(super) fn push(
        &mut self,
        (code, args): (&str, &[(&str, &dyn std::fmt::Display)]),
        severity: Severity,
        message: String,
        remedy: &str,
        objects: Vec<ObjectRef>,
    ) {
        let id = code.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
        self.0.push(CheckResult {
            id,
            code: code.to_string(),
            args: args
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            severity,
            message,
            remedy: remedy.to_string(),
            objects,
        });
    }
}

pub fn run(inv: &Inventory, p: &Plan, busy: &BTreeSet<VmId>) -> Vec<CheckResult> {
    let mut r = Results(Vec::new());
    let vm = p.vm;
    let moves_host = p.kind.moves_host();

    // vm.powered_on: hot or cold.
    match vm.power_state {
        PowerState::On => r.push(
            ("vm.powered_on.on", &[("vm", &vm.name)]),
            Severity::Info,
            format!(
                "{} is powered on: live migration, it keeps running",
                vm.name
            ),
            "Nothing to do.",
            vec![vm_ref(vm)],
        ),
        state => r.push(
            (
                if state == PowerState::Off {
                    "vm.powered_on.off"
                } else {
                    "vm.powered_on.suspended"
                },
                &[("vm", &vm.name)],
            ),
            Severity::Info,
            format!(
                "{} is {}: cold migration, no memory transfer and no CPU compatibility check",
                vm.name,
                if state == PowerState::Off {
                    "powered off"
                } else {
                    "suspended"
                }
            ),
            "Nothing to do.",
            vec![vm_ref(vm)],
        ),
    }

    // vm.busy and ft.enabled: every kind.
    if busy.contains(&vm.id) {
        r.push(
            ("vm.busy", &[("vm", &vm.name)]),
            Severity::Error,
            format!("{} already has a migration queued or running", vm.name),
            "Wait for it to finish, or cancel it on the Tasks page.",
            vec![vm_ref(vm)],
        );
    }
    if vm.fault_tolerance {
        r.push(
            ("ft.enabled", &[("vm", &vm.name)]),
            Severity::Error,
            format!(
                "{} is protected by Fault Tolerance, which does not allow this migration",
                vm.name
            ),
            "Turn off Fault Tolerance for the VM, migrate it, then turn it on again.",
            vec![vm_ref(vm)],
        );
    }

    if moves_host {
        host_rules(inv, p, &mut r);
    }
    if p.kind == MigrationKind::VMotion {
        shared_storage_rules(inv, p, &mut r);
    }
    if let Some(ds) = p.datastore {
        datastore_rules(inv, p, ds, &mut r);
    }
    vcenter_rule(inv, p, &mut r);
    r.0
}

/// `vcenter.same`: a VM mirrored from a vCenter moves through it, within it; one of vmshift's
/// own stays out of a vCenter's hosts and datastores (docs/VCENTER.md#migrations).
fn vcenter_rule(inv: &Inventory, p: &Plan, r: &mut Results) {
    let of = |id: uuid::Uuid| {
        inv.sources
            .get(&id)
            .map(|s| (s.connection, s.vcenter.as_str()))
    };
    let vm_at = of(p.vm.id.0);
    let mut targets = vec![(of(p.target.id.0), host_ref(p.target))];
    if let Some(ds) = p.datastore {
        targets.push((of(ds.id.0), ds_ref(ds)));
    }
    for (at, object) in targets {
        if at.map(|a| a.0) == vm_at.map(|a| a.0) {
            continue;
        }
        let whose = |a: Option<(uuid::Uuid, &str)>| match a {
            Some((_, name)) => format!("vCenter {name}"),
            None => "vmshift's own inventory".to_string(),
        };
        let code = match (vm_at, at) {
            (None, _) => "vcenter.same.vm_own",
            (_, None) => "vcenter.same.target_own",
            _ => "vcenter.same.other",
        };
        let name = |a: Option<(uuid::Uuid, &str)>| a.map_or("", |a| a.1).to_string();
        r.push(
            (
                code,
                &[
                    ("vm", &p.vm.name),
                    ("vm_vcenter", &name(vm_at)),
                    ("target", &object.name.clone()),
                    ("target_vcenter", &name(at)),
                ],
            ),
            Severity::Error,
            format!(
                "{} is in {}, {} in {}: a VM moves within its vCenter",
                p.vm.name,
                whose(vm_at),
                object.name,
                whose(at)
            ),
            "Choose a target in the VM's own vCenter.",
            vec![vm_ref(p.vm), object],
        );
    }
}

fn host_rules(inv: &Inventory, p: &Plan, r: &mut Results) {
    let (vm, source, target) = (p.vm, p.source, p.target);
    if source.id == target.id {
        let code = if p.kind == MigrationKind::Combined {
            "host.target_same.combined"
        } else {
            "host.target_same.host"
        };
        r.push(
            (code, &[("vm", &vm.name), ("host", &target.name)]),
            Severity::Error,
            format!("{} already runs on {}", vm.name, target.name),
            if p.kind == MigrationKind::Combined {
                "Choose another host, or use Storage vMotion to move only the disks."
            } else {
                "Choose another host."
            },
            vec![vm_ref(vm), host_ref(target)],
        );
        return;
    }
    if target.state != HostState::Connected {
        let (state, code) = if target.state == HostState::Maintenance {
            ("in maintenance mode", "host.state.maintenance")
        } else {
            ("disconnected", "host.state.disconnected")
        };
        r.push(
            (code, &[("host", &target.name)]),
            Severity::Error,
            format!("The destination host {} is {state}", target.name),
            "Choose a connected host, or bring this one out of maintenance mode / reconnect it.",
            vec![host_ref(target)],
        );
    }
    if source.state == HostState::Disconnected {
        r.push(
            ("host.state.source_disconnected", &[("host", &source.name)]),
            Severity::Error,
            format!("The source host {} is disconnected", source.name),
            "Reconnect the source host first.",
            vec![host_ref(source)],
        );
    }

    vmotion_network_rules(p, r);
    cpu_and_resource_rules(inv, p, r);
    portgroup_rules(inv, p, r);
    device_rules(inv, p, r);
    r.0.extend(super::affinity::results(inv, p.vm, target));
}
