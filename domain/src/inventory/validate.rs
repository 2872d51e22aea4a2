//! The one gate every inventory change goes through: a mutation is checked against the
//! whole inventory (names unique in their scope, every reference resolved, disks on datastores
//! their host mounts, space that fits, dependants not stranded) and becomes a [`Change`], or
//! is refused with a [`DomainError`] naming the field.

use super::Inventory;
use crate::error::DomainError;
use crate::ids::*;
use crate::model::*;
use crate::object::{Change, Mutation, Object, ObjectKind};
use crate::Phrase;
use std::collections::BTreeMap;
use uuid::Uuid;

pub(crate) fn unknown(field: &str, kind: ObjectKind, id: impl std::fmt::Display) -> DomainError {
    let args = [("field", field.to_string()), ("id", id.to_string())];
    DomainError::invalid(
        field,
        Phrase::new("refuse.unknown", &args).with("kind", kind_words(kind)),
    )
}

/// A kind of object as a name the pages translate.
pub(crate) fn kind_words(kind: ObjectKind) -> Phrase {
    Phrase::name("object_kind", kind.plural(), kind.label())
}

impl Inventory {
    /// Validates a mutation against the whole inventory: the one gate for every change.
    /// Returns the change to store and apply, or why it is refused (naming the field).
    /// Objects mirrored from a connection change only through its sync
    /// ([`Inventory::validate_sync`]).
    pub fn validate(&self, mutation: Mutation) -> Result<Change, DomainError> {
        self.refuse_mirrored(&mutation)?;
        self.validate_any(mutation)
    }

    /// [`Self::validate`] without the read-only rule of mirrored objects.
    pub(crate) fn validate_any(&self, mutation: Mutation) -> Result<Change, DomainError> {
        match mutation {
            Mutation::Create(object) => {
                if self.contains(object.kind(), object.id()) {
                    let words = Phrase::new("refuse.exists_id", &[("id", object.id().to_string())])
                        .with("kind", kind_words(object.kind()));
                    return Err(DomainError::duplicate("id", words));
                }
                self.check_object(&object)?;
                Ok(Change::Upsert { object })
            }
            Mutation::Update(object) => {
                if !self.contains(object.kind(), object.id()) {
                    return Err(DomainError::not_found(
                        Phrase::new("refuse.no_such", &[("id", object.id().to_string())])
                            .with("kind", kind_words(object.kind())),
                    ));
                }
                self.check_object(&object)?;
                self.check_dependents_still_valid(&object)?;
                Ok(Change::Upsert { object })
            }
            Mutation::Delete(kind, id) => {
                let Some(object) = self.get(kind, id) else {
                    return Err(DomainError::not_found(
                        Phrase::new("refuse.no_such", &[("id", id.to_string())])
                            .with("kind", kind_words(kind)),
                    ));
                };
                let users = self.users_of(kind, id);
                if !users.is_empty() {
                    let args = [
                        ("name", object.name().to_string()),
                        ("users", super::usage::summarize(&users)),
                    ];
                    let words = Phrase::new("refuse.in_use", &args).with("kind", kind_words(kind));
                    return Err(DomainError::in_use(None, words));
                }
                Ok(Change::Delete { kind, id })
            }
        }
    }

    /// Validates and applies a whole list of objects (an import, the demo inventory), in
    /// dependency order; stops at the first refusal.
    pub fn from_objects(objects: impl IntoIterator<Item = Object>) -> Result<Self, DomainError> {
        let mut inventory = Inventory::default();
        for object in objects {
            let change = inventory.validate(Mutation::Create(object))?;
            inventory.apply(&change);
        }
        Ok(inventory)
    }

    fn name_taken(
        &self,
        kind: ObjectKind,
        id: Uuid,
        name: &str,
        scope: Option<PortgroupAttachment>,
    ) -> bool {
        // Port group names are unique per switch (or per host for standard ones).
        let scope = scope.map(|s| match s {
            PortgroupAttachment::Distributed(s) => s.0,
            PortgroupAttachment::Standard(h) => h.0,
        });
        self.named(kind, scope, name)
            .is_some_and(|other| other != id)
    }

    /// The object's own rules and its references, as if it were stored now.
    fn check_object(&self, object: &Object) -> Result<(), DomainError> {
        let scope = match object {
            Object::Portgroup(pg) => pg.attachment(),
            _ => None,
        };
        if self.name_taken(object.kind(), object.id(), object.name(), scope) {
            let code = if object.kind() == ObjectKind::Portgroup {
                "refuse.name_taken_switch"
            } else {
                "refuse.name_taken"
            };
            let words = Phrase::new(code, &[("name", object.name().to_string())])
                .with("kind", kind_words(object.kind()));
            return Err(DomainError::duplicate("name", words));
        }
        match object {
            Object::Cluster(_) => Ok(()),
            Object::Host(host) => self.check_host(host),
            Object::Datastore(ds) => self.check_datastore(ds),
            Object::Switch(sw) => self.check_host_list("host_ids", &sw.host_ids, false),
            Object::Portgroup(pg) => self.check_portgroup(pg),
            Object::Vm(vm) => self.check_vm(vm),
            Object::Rule(rule) => self.check_rule(rule),
        }
    }

    fn check_host(&self, host: &Host) -> Result<(), DomainError> {
        if !self.clusters.contains_key(&host.cluster_id) {
            return Err(unknown("cluster_id", ObjectKind::Cluster, host.cluster_id));
        }
        // A host in maintenance mode runs no VM (docs/DESIGN.md#maintenance-plans).
        if host.state == HostState::Maintenance {
            if let Some(vm) = self
                .vms
                .values()
                .find(|v| v.host_id == host.id && v.is_running())
            {
                let args = [("host", host.name.to_string()), ("vm", vm.name.to_string())];
                return Err(DomainError::in_use(
                    Some("state"),
                    Phrase::new("refuse.maintenance_runs", &args),
                ));
            }
        }
        Ok(())
    }

    fn check_host_list(
        &self,
        field: &str,
        hosts: &[HostId],
        required: bool,
    ) -> Result<(), DomainError> {
        if required && hosts.is_empty() {
            return Err(DomainError::invalid(
                field,
                Phrase::new("refuse.no_host", &[("field", field.to_string())]),
            ));
        }
        for (i, h) in hosts.iter().enumerate() {
            if !self.hosts.contains_key(h) {
                return Err(unknown(&format!("{field}[{i}]"), ObjectKind::Host, h));
            }
            if hosts[..i].contains(h) {
                return Err(DomainError::invalid(
                    format!("{field}[{i}]"),
                    Phrase::new(
                        "refuse.host_twice",
                        &[
                            ("field", field.to_string()),
                            ("host", self.hosts[h].name.to_string()),
                        ],
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_datastore(&self, ds: &Datastore) -> Result<(), DomainError> {
        self.check_host_list("host_ids", &ds.host_ids, true)?;
        if ds.kind == DatastoreKind::Local && ds.host_ids.len() != 1 {
            return Err(DomainError::invalid(
                "host_ids",
                Phrase::new(
                    "refuse.local_one_host",
                    &[("count", ds.host_ids.len().to_string())],
                ),
            ));
        }
        if let Some((vm, disk)) = self
            .vms
            .values()
            .flat_map(|vm| vm.disks.iter().map(move |d| (vm, d)))
            .filter(|(_, d)| d.datastore_id == ds.id)
            .max_by_key(|(_, d)| d.capacity_mib)
            .filter(|(_, d)| d.capacity_mib > ds.capacity_mib)
        {
            return Err(DomainError::invalid(
                "capacity_mib",
                Phrase::new(
                    "refuse.disk_larger",
                    &[
                        ("vm", vm.name.to_string()),
                        ("disk", disk.capacity_mib.to_string()),
                        ("datastore", ds.name.to_string()),
                        ("capacity", ds.capacity_mib.to_string()),
                    ],
                ),
            ));
        }
        let allocated = self.allocated_mib(ds.id, None);
        if allocated > ds.capacity_mib.get() {
            return Err(DomainError::invalid(
                "capacity_mib",
                Phrase::new(
                    "refuse.allocated",
                    &[
                        ("datastore", ds.name.to_string()),
                        ("allocated", allocated.to_string()),
                        ("capacity", ds.capacity_mib.to_string()),
                    ],
                ),
            ));
        }
        Ok(())
    }

    fn check_portgroup(&self, pg: &Portgroup) -> Result<(), DomainError> {
        match pg.attachment() {
            None => Err(DomainError::invalid(
                "switch_id",
                Phrase::new("refuse.portgroup_attachment", &[]),
            )),
            Some(PortgroupAttachment::Distributed(s)) if !self.switches.contains_key(&s) => {
                Err(unknown("switch_id", ObjectKind::Switch, s))
            }
            Some(PortgroupAttachment::Standard(h)) if !self.hosts.contains_key(&h) => {
                Err(unknown("host_id", ObjectKind::Host, h))
            }
            Some(_) => Ok(()),
        }
    }

    fn check_vm(&self, vm: &Vm) -> Result<(), DomainError> {
        let Some(host) = self.hosts.get(&vm.host_id) else {
            return Err(unknown("host_id", ObjectKind::Host, vm.host_id));
        };
        if host.state == HostState::Maintenance && vm.is_running() {
            return Err(DomainError::invalid(
                "host_id",
                Phrase::new(
                    "refuse.host_in_maintenance",
                    &[("host", host.name.to_string()), ("vm", vm.name.to_string())],
                ),
            ));
        }
        if vm.memory_reservation_mib > vm.memory_mib.get() {
            return Err(DomainError::invalid(
                "memory_reservation_mib",
                Phrase::new(
                    "refuse.reservation",
                    &[
                        ("reservation", vm.memory_reservation_mib.to_string()),
                        ("memory", vm.memory_mib.to_string()),
                    ],
                ),
            ));
        }
        self.check_vm_disks(vm, host)?;
        self.check_vm_nics(vm, host)?;
        self.check_vm_devices(vm, host)?;
        Ok(())
    }

    /// Each disk on a datastore the host mounts, fitting it and its free space.
    fn check_vm_disks(&self, vm: &Vm, host: &Host) -> Result<(), DomainError> {
        // Space needed per datastore by this VM's disks.
        let mut needed: BTreeMap<DatastoreId, u64> = BTreeMap::new();
        for (i, disk) in vm.disks.iter().enumerate() {
            let field = |f: &str| format!("disks[{i}].{f}");
            let Some(ds) = self.datastores.get(&disk.datastore_id) else {
                return Err(unknown(
                    &field("datastore_id"),
                    ObjectKind::Datastore,
                    disk.datastore_id,
                ));
            };
            if disk.used_mib > disk.capacity_mib.get() {
                return Err(DomainError::invalid(
                    field("used_mib"),
                    Phrase::new(
                        "refuse.disk_used",
                        &[
                            ("n", (i + 1).to_string()),
                            ("used", disk.used_mib.to_string()),
                            ("capacity", disk.capacity_mib.to_string()),
                        ],
                    ),
                ));
            }
            if !ds.host_ids.contains(&vm.host_id) {
                return Err(DomainError::invalid(
                    field("datastore_id"),
                    Phrase::new(
                        "refuse.disk_not_mounted",
                        &[
                            ("n", (i + 1).to_string()),
                            ("host", host.name.to_string()),
                            ("datastore", ds.name.to_string()),
                        ],
                    ),
                ));
            }
            if disk.capacity_mib > ds.capacity_mib {
                return Err(DomainError::invalid(
                    field("capacity_mib"),
                    Phrase::new(
                        "refuse.disk_too_large",
                        &[
                            ("n", (i + 1).to_string()),
                            ("disk", disk.capacity_mib.to_string()),
                            ("datastore", ds.name.to_string()),
                            ("capacity", ds.capacity_mib.to_string()),
                        ],
                    ),
                ));
            }
            let total = needed.entry(ds.id).or_default();
            *total += disk.allocated_mib();
            let free = ds
                .capacity_mib
                .get()
                .saturating_sub(self.allocated_mib(ds.id, Some(vm.id)));
            if *total > free {
                return Err(DomainError::invalid(
                    field("capacity_mib"),
                    Phrase::new(
                        "refuse.disk_no_space",
                        &[
                            ("n", (i + 1).to_string()),
                            ("datastore", ds.name.to_string()),
                            ("free", free.to_string()),
                            ("need", total.to_string()),
                        ],
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Each NIC on a port group the host reaches.
    fn check_vm_nics(&self, vm: &Vm, host: &Host) -> Result<(), DomainError> {
        for (i, nic) in vm.nics.iter().enumerate() {
            let field = format!("nics[{i}].portgroup_id");
            let Some(pg) = self.portgroups.get(&nic.portgroup_id) else {
                return Err(unknown(&field, ObjectKind::Portgroup, nic.portgroup_id));
            };
            // A disconnected adapter may name a network the host lacks (vCenter warns, as
            // the `network.portgroup` check does): it carries no traffic.
            if nic.connected && !self.host_reaches_portgroup(vm.host_id, pg) {
                return Err(DomainError::invalid(
                    field,
                    Phrase::new(
                        "refuse.nic_unreachable",
                        &[
                            ("n", (i + 1).to_string()),
                            ("portgroup", pg.name.to_string()),
                            ("host", host.name.to_string()),
                        ],
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Each device's backing: a file on a datastore the host mounts, or a host device.
    fn check_vm_devices(&self, vm: &Vm, host: &Host) -> Result<(), DomainError> {
        for (i, device) in vm.devices.iter().enumerate() {
            let field = format!("devices[{i}].datastore_id");
            match (device.backing, device.datastore_id) {
                (DeviceBacking::File, None) => {
                    return Err(DomainError::invalid(
                        field,
                        Phrase::new(
                            "refuse.device_needs_datastore",
                            &[("n", (i + 1).to_string())],
                        ),
                    ))
                }
                (DeviceBacking::HostDevice, Some(_)) => {
                    return Err(DomainError::invalid(
                        field,
                        Phrase::new("refuse.device_no_datastore", &[("n", (i + 1).to_string())]),
                    ))
                }
                (DeviceBacking::File, Some(id)) => {
                    let Some(ds) = self.datastores.get(&id) else {
                        return Err(unknown(&field, ObjectKind::Datastore, id));
                    };
                    if !ds.host_ids.contains(&vm.host_id) {
                        return Err(DomainError::invalid(
                            field,
                            Phrase::new(
                                "refuse.device_not_mounted",
                                &[
                                    ("n", (i + 1).to_string()),
                                    ("host", host.name.to_string()),
                                    ("datastore", ds.name.to_string()),
                                ],
                            ),
                        ));
                    }
                }
                (DeviceBacking::HostDevice, None) => {}
            }
        }
        Ok(())
    }

    /// An update must not break the objects that refer to the updated one.
    fn check_dependents_still_valid(&self, object: &Object) -> Result<(), DomainError> {
        match object {
            Object::Datastore(ds) => {
                for vm in self.vms.values() {
                    let uses = vm.disks.iter().any(|d| d.datastore_id == ds.id)
                        || vm.devices.iter().any(|d| d.datastore_id == Some(ds.id));
                    if uses && !ds.host_ids.contains(&vm.host_id) {
                        let host = &self.hosts[&vm.host_id].name;
                        return Err(DomainError::in_use(
                            Some("host_ids"),
                            Phrase::new(
                                "refuse.keep_mounting",
                                &[
                                    ("host", host.to_string()),
                                    ("datastore", ds.name.to_string()),
                                    ("vm", vm.name.to_string()),
                                ],
                            ),
                        ));
                    }
                }
                Ok(())
            }
            Object::Switch(sw) => {
                let removed: Vec<HostId> = self.switches[&sw.id]
                    .host_ids
                    .iter()
                    .filter(|h| !sw.host_ids.contains(h))
                    .copied()
                    .collect();
                for vm in self.vms.values().filter(|vm| removed.contains(&vm.host_id)) {
                    for nic in &vm.nics {
                        if self.portgroups[&nic.portgroup_id].switch_id == Some(sw.id) {
                            let host = &self.hosts[&vm.host_id].name;
                            return Err(DomainError::in_use(
                                Some("host_ids"),
                                Phrase::new(
                                    "refuse.keep_member",
                                    &[
                                        ("host", host.to_string()),
                                        ("switch", sw.name.to_string()),
                                        ("vm", vm.name.to_string()),
                                        (
                                            "portgroup",
                                            self.portgroups[&nic.portgroup_id].name.to_string(),
                                        ),
                                    ],
                                ),
                            ));
                        }
                    }
                }
                Ok(())
            }
            Object::Portgroup(pg) => {
                for vm in self.vms.values() {
                    if vm.nics.iter().any(|n| n.portgroup_id == pg.id)
                        && !self.host_reaches_portgroup(vm.host_id, pg)
                    {
                        return Err(DomainError::in_use(
                            Some("switch_id"),
                            Phrase::new(
                                "refuse.keep_reachable",
                                &[
                                    ("portgroup", pg.name.to_string()),
                                    ("host", self.hosts[&vm.host_id].name.to_string()),
                                    ("vm", vm.name.to_string()),
                                ],
                            ),
                        ));
                    }
                }
                Ok(())
            }
            Object::Host(host) => self.check_host_still_valid(host),
            Object::Cluster(_) | Object::Vm(_) | Object::Rule(_) => Ok(()),
        }
    }
}
