//! The one gate every inventory change goes through: a mutation is checked against the
//! whole inventory (names unique in their scope, every reference resolved, disks on datastores
//! their host mounts, space that fits, dependants not stranded) and becomes a [`Change`], or
//! is refused with a [`DomainError`] naming the field.

use super::Inventory;
use crate::error::DomainError;
use crate::ids::*;
use crate::model::*;
use crate::object::{Change, Mutation, Object, ObjectKind};
use std::collections::BTreeMap;
use uuid::Uuid;

fn unknown(field: &str, kind: &str, id: impl std::fmt::Display) -> DomainError {
    DomainError::invalid(field, format!("{field}: no {kind} has id {id}"))
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
                    return Err(DomainError::duplicate(
                        "id",
                        format!(
                            "a {} with id {} already exists",
                            object.kind().label(),
                            object.id()
                        ),
                    ));
                }
                self.check_object(&object)?;
                Ok(Change::Upsert { object })
            }
            Mutation::Update(object) => {
                if !self.contains(object.kind(), object.id()) {
                    return Err(DomainError::not_found(format!(
                        "no {} has id {}",
                        object.kind().label(),
                        object.id()
                    )));
                }
                self.check_object(&object)?;
                self.check_dependents_still_valid(&object)?;
                Ok(Change::Upsert { object })
            }
            Mutation::Delete(kind, id) => {
                let Some(object) = self.get(kind, id) else {
                    return Err(DomainError::not_found(format!(
                        "no {} has id {id}",
                        kind.label()
                    )));
                };
                let users = self.users_of(kind, id);
                if !users.is_empty() {
                    return Err(DomainError::in_use(
                        None,
                        format!(
                            "{} {} cannot be deleted: it is used by {}",
                            kind.label(),
                            object.name(),
                            super::usage::summarize(&users)
                        ),
                    ));
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
            let where_ = if object.kind() == ObjectKind::Portgroup {
                " on this switch"
            } else {
                ""
            };
            return Err(DomainError::duplicate(
                "name",
                format!(
                    "a {} named {} already exists{where_}",
                    object.kind().label(),
                    object.name()
                ),
            ));
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
            return Err(unknown("cluster_id", "cluster", host.cluster_id));
        }
        // A host in maintenance mode runs no VM (docs/DESIGN.md#maintenance-plans).
        if host.state == HostState::Maintenance {
            if let Some(vm) = self
                .vms
                .values()
                .find(|v| v.host_id == host.id && v.is_running())
            {
                return Err(DomainError::in_use(
                    Some("state"),
                    format!(
                        "state: {} cannot enter maintenance mode while {} runs on it: move its VMs first (an evacuation plan does)",
                        host.name, vm.name
                    ),
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
                format!("{field}: at least one host must be given"),
            ));
        }
        for (i, h) in hosts.iter().enumerate() {
            if !self.hosts.contains_key(h) {
                return Err(unknown(&format!("{field}[{i}]"), "host", h));
            }
            if hosts[..i].contains(h) {
                return Err(DomainError::invalid(
                    format!("{field}[{i}]"),
                    format!("{field}: host {} is listed twice", self.hosts[h].name),
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
                format!(
                    "a local datastore is mounted by exactly one host ({} given)",
                    ds.host_ids.len()
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
                format!(
                    "capacity_mib: VM {} has a {} MiB disk on {}, larger than {} MiB",
                    vm.name, disk.capacity_mib, ds.name, ds.capacity_mib
                ),
            ));
        }
        let allocated = self.allocated_mib(ds.id, None);
        if allocated > ds.capacity_mib.get() {
            return Err(DomainError::invalid(
                "capacity_mib",
                format!(
                    "capacity_mib: the disks on {} already take {allocated} MiB, more than {} MiB",
                    ds.name, ds.capacity_mib
                ),
            ));
        }
        Ok(())
    }

    fn check_portgroup(&self, pg: &Portgroup) -> Result<(), DomainError> {
        match pg.attachment() {
            None => Err(DomainError::invalid(
                "switch_id",
                "a port group is on a distributed switch (switch_id) or on one host's standard switch (host_id): give exactly one",
            )),
            Some(PortgroupAttachment::Distributed(s)) if !self.switches.contains_key(&s) => {
                Err(unknown("switch_id", "switch", s))
            }
            Some(PortgroupAttachment::Standard(h)) if !self.hosts.contains_key(&h) => {
                Err(unknown("host_id", "host", h))
            }
            Some(_) => Ok(()),
        }
    }

    fn check_vm(&self, vm: &Vm) -> Result<(), DomainError> {
        let Some(host) = self.hosts.get(&vm.host_id) else {
            return Err(unknown("host_id", "host", vm.host_id));
        };
        if host.state == HostState::Maintenance && vm.is_running() {
            return Err(DomainError::invalid(
                "host_id",
                format!(
                    "host_id: {} is in maintenance mode: it runs no powered-on VM such as {}",
                    host.name, vm.name
                ),
            ));
        }
        if vm.memory_reservation_mib > vm.memory_mib.get() {
            return Err(DomainError::invalid(
                "memory_reservation_mib",
                format!(
                    "memory_reservation_mib: the reservation ({} MiB) cannot exceed the VM's memory ({} MiB)",
                    vm.memory_reservation_mib, vm.memory_mib
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
                    "datastore",
                    disk.datastore_id,
                ));
            };
            if disk.used_mib > disk.capacity_mib.get() {
                return Err(DomainError::invalid(
                    field("used_mib"),
                    format!(
                        "disk {}: used space ({} MiB) cannot exceed its capacity ({} MiB)",
                        i + 1,
                        disk.used_mib,
                        disk.capacity_mib
                    ),
                ));
            }
            if !ds.host_ids.contains(&vm.host_id) {
                return Err(DomainError::invalid(
                    field("datastore_id"),
                    format!(
                        "disk {}: host {} does not mount datastore {}",
                        i + 1,
                        host.name,
                        ds.name
                    ),
                ));
            }
            if disk.capacity_mib > ds.capacity_mib {
                return Err(DomainError::invalid(
                    field("capacity_mib"),
                    format!(
                        "disk {}: {} MiB is larger than datastore {} ({} MiB), thin or not",
                        i + 1,
                        disk.capacity_mib,
                        ds.name,
                        ds.capacity_mib
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
                    format!(
                        "disk {}: datastore {} has {free} MiB free, the VM's disks there need {} MiB",
                        i + 1,
                        ds.name,
                        *total
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
                return Err(unknown(&field, "port group", nic.portgroup_id));
            };
            // A disconnected adapter may name a network the host lacks (vCenter warns, as
            // the `network.portgroup` check does): it carries no traffic.
            if nic.connected && !self.host_reaches_portgroup(vm.host_id, pg) {
                return Err(DomainError::invalid(
                    field,
                    format!(
                        "network adapter {}: port group {} is not available on host {}",
                        i + 1,
                        pg.name,
                        host.name
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
                        format!(
                            "device {}: a file backing needs the datastore that holds the file",
                            i + 1
                        ),
                    ))
                }
                (DeviceBacking::HostDevice, Some(_)) => {
                    return Err(DomainError::invalid(
                        field,
                        format!("device {}: a host-device backing has no datastore", i + 1),
                    ))
                }
                (DeviceBacking::File, Some(id)) => {
                    let Some(ds) = self.datastores.get(&id) else {
                        return Err(unknown(&field, "datastore", id));
                    };
                    if !ds.host_ids.contains(&vm.host_id) {
                        return Err(DomainError::invalid(
                            field,
                            format!(
                                "device {}: host {} does not mount datastore {}",
                                i + 1,
                                host.name,
                                ds.name
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
                            format!(
                                "host_ids: host {host} must keep mounting {}: VM {} has files on it",
                                ds.name, vm.name
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
                                format!(
                                    "host_ids: host {host} must stay a member of {}: VM {} is connected to its port group {}",
                                    sw.name, vm.name, self.portgroups[&nic.portgroup_id].name
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
                            format!(
                                "port group {} must stay reachable from host {}: VM {} is connected to it",
                                pg.name, self.hosts[&vm.host_id].name, vm.name
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
