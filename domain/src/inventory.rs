//! The inventory and its single gate: every mutation is validated here, against the whole
//! inventory, before anything is stored or applied.

use super::error::DomainError;
use super::ids::*;
use super::model::*;
use super::usage::summarize;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The kinds of inventory object, spelled as in the API paths' singular form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Cluster,
    Host,
    Datastore,
    Switch,
    Portgroup,
    Vm,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 6] = [
        ObjectKind::Cluster,
        ObjectKind::Host,
        ObjectKind::Datastore,
        ObjectKind::Switch,
        ObjectKind::Portgroup,
        ObjectKind::Vm,
    ];

    /// Plain words for messages ("host", "port group").
    pub fn label(self) -> &'static str {
        match self {
            ObjectKind::Cluster => "cluster",
            ObjectKind::Host => "host",
            ObjectKind::Datastore => "datastore",
            ObjectKind::Switch => "switch",
            ObjectKind::Portgroup => "port group",
            ObjectKind::Vm => "VM",
        }
    }

    /// The collection name used in API paths (`/api/v1/{plural}`).
    pub fn plural(self) -> &'static str {
        match self {
            ObjectKind::Cluster => "clusters",
            ObjectKind::Host => "hosts",
            ObjectKind::Datastore => "datastores",
            ObjectKind::Switch => "switches",
            ObjectKind::Portgroup => "portgroups",
            ObjectKind::Vm => "vms",
        }
    }

    pub fn from_plural(plural: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.plural() == plural)
    }
}

/// Any inventory object, tagged with its kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "object", rename_all = "snake_case")]
pub enum Object {
    Cluster(Cluster),
    Host(Host),
    Datastore(Datastore),
    Switch(Switch),
    Portgroup(Portgroup),
    Vm(Vm),
}

impl Object {
    pub fn kind(&self) -> ObjectKind {
        match self {
            Object::Cluster(_) => ObjectKind::Cluster,
            Object::Host(_) => ObjectKind::Host,
            Object::Datastore(_) => ObjectKind::Datastore,
            Object::Switch(_) => ObjectKind::Switch,
            Object::Portgroup(_) => ObjectKind::Portgroup,
            Object::Vm(_) => ObjectKind::Vm,
        }
    }

    pub fn id(&self) -> Uuid {
        match self {
            Object::Cluster(o) => o.id.0,
            Object::Host(o) => o.id.0,
            Object::Datastore(o) => o.id.0,
            Object::Switch(o) => o.id.0,
            Object::Portgroup(o) => o.id.0,
            Object::Vm(o) => o.id.0,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Object::Cluster(o) => o.name.as_str(),
            Object::Host(o) => o.name.as_str(),
            Object::Datastore(o) => o.name.as_str(),
            Object::Switch(o) => o.name.as_str(),
            Object::Portgroup(o) => o.name.as_str(),
            Object::Vm(o) => o.name.as_str(),
        }
    }

    /// Gives the object another id (an update addressed by path keeps the path's id).
    pub fn set_id(&mut self, id: Uuid) {
        match self {
            Object::Cluster(o) => o.id = ClusterId(id),
            Object::Host(o) => o.id = HostId(id),
            Object::Datastore(o) => o.id = DatastoreId(id),
            Object::Switch(o) => o.id = SwitchId(id),
            Object::Portgroup(o) => o.id = PortgroupId(id),
            Object::Vm(o) => o.id = VmId(id),
        }
    }
}

/// A requested change, not yet validated.
#[derive(Debug, Clone, PartialEq)]
pub enum Mutation {
    Create(Object),
    Update(Object),
    Delete(ObjectKind, Uuid),
}

/// A validated change, ready to be stored and applied (and broadcast to browsers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    Upsert { object: Object },
    Delete { kind: ObjectKind, id: Uuid },
}

mod as_list {
    //! Serializes an id-keyed map as the list of its values.
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub trait Keyed {
        type Key: Ord;
        fn key(&self) -> Self::Key;
    }

    pub fn serialize<S, K, V>(map: &BTreeMap<K, V>, s: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        V: Serialize,
    {
        s.collect_seq(map.values())
    }

    pub fn deserialize<'de, D, V>(d: D) -> Result<BTreeMap<V::Key, V>, D::Error>
    where
        D: Deserializer<'de>,
        V: Deserialize<'de> + Keyed,
    {
        let list = Vec::<V>::deserialize(d)?;
        Ok(list.into_iter().map(|v| (v.key(), v)).collect())
    }
}

macro_rules! keyed {
    ($($t:ty => $k:ty),*) => {$(
        impl as_list::Keyed for $t {
            type Key = $k;
            fn key(&self) -> $k { self.id }
        }
    )*};
}
keyed!(Cluster => ClusterId, Host => HostId, Datastore => DatastoreId, Switch => SwitchId,
    Portgroup => PortgroupId, Vm => VmId);

/// The whole cluster inventory. Serialized as lists of objects (the import/export format).
///
/// Read the maps freely; change them only through [`Inventory::validate`] and
/// [`Inventory::apply`], which keep the derived space index current. Code that fills the maps
/// directly (loading from storage) must call [`Inventory::reindex`] afterwards.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "InventoryLists")]
pub struct Inventory {
    #[serde(with = "as_list", default)]
    pub clusters: BTreeMap<ClusterId, Cluster>,
    #[serde(with = "as_list", default)]
    pub hosts: BTreeMap<HostId, Host>,
    #[serde(with = "as_list", default)]
    pub datastores: BTreeMap<DatastoreId, Datastore>,
    #[serde(with = "as_list", default)]
    pub switches: BTreeMap<SwitchId, Switch>,
    #[serde(with = "as_list", default)]
    pub portgroups: BTreeMap<PortgroupId, Portgroup>,
    #[serde(with = "as_list", default)]
    pub vms: BTreeMap<VmId, Vm>,
    /// MiB allocated on each datastore by VM disks (derived).
    #[serde(skip)]
    allocated: BTreeMap<DatastoreId, u64>,
    /// Load of the VMs on each host (derived).
    #[serde(skip)]
    loads: BTreeMap<HostId, super::usage::HostLoad>,
}

/// The serialized form, before the derived index is built.
#[derive(Deserialize)]
struct InventoryLists {
    #[serde(with = "as_list", default)]
    clusters: BTreeMap<ClusterId, Cluster>,
    #[serde(with = "as_list", default)]
    hosts: BTreeMap<HostId, Host>,
    #[serde(with = "as_list", default)]
    datastores: BTreeMap<DatastoreId, Datastore>,
    #[serde(with = "as_list", default)]
    switches: BTreeMap<SwitchId, Switch>,
    #[serde(with = "as_list", default)]
    portgroups: BTreeMap<PortgroupId, Portgroup>,
    #[serde(with = "as_list", default)]
    vms: BTreeMap<VmId, Vm>,
}

impl From<InventoryLists> for Inventory {
    fn from(l: InventoryLists) -> Self {
        let mut inv = Inventory {
            clusters: l.clusters,
            hosts: l.hosts,
            datastores: l.datastores,
            switches: l.switches,
            portgroups: l.portgroups,
            vms: l.vms,
            allocated: BTreeMap::new(),
            loads: BTreeMap::new(),
        };
        inv.reindex();
        inv
    }
}

impl PartialEq for Inventory {
    fn eq(&self, other: &Self) -> bool {
        // The index is derived from the rest.
        self.clusters == other.clusters
            && self.hosts == other.hosts
            && self.datastores == other.datastores
            && self.switches == other.switches
            && self.portgroups == other.portgroups
            && self.vms == other.vms
    }
}

fn unknown(field: &str, kind: &str, id: impl std::fmt::Display) -> DomainError {
    DomainError::invalid(field, format!("{field}: no {kind} has id {id}"))
}

impl Inventory {
    /// Looks an object up by kind and id.
    pub fn get(&self, kind: ObjectKind, id: Uuid) -> Option<Object> {
        match kind {
            ObjectKind::Cluster => self
                .clusters
                .get(&ClusterId(id))
                .cloned()
                .map(Object::Cluster),
            ObjectKind::Host => self.hosts.get(&HostId(id)).cloned().map(Object::Host),
            ObjectKind::Datastore => self
                .datastores
                .get(&DatastoreId(id))
                .cloned()
                .map(Object::Datastore),
            ObjectKind::Switch => self
                .switches
                .get(&SwitchId(id))
                .cloned()
                .map(Object::Switch),
            ObjectKind::Portgroup => self
                .portgroups
                .get(&PortgroupId(id))
                .cloned()
                .map(Object::Portgroup),
            ObjectKind::Vm => self.vms.get(&VmId(id)).cloned().map(Object::Vm),
        }
    }

    pub fn contains(&self, kind: ObjectKind, id: Uuid) -> bool {
        match kind {
            ObjectKind::Cluster => self.clusters.contains_key(&ClusterId(id)),
            ObjectKind::Host => self.hosts.contains_key(&HostId(id)),
            ObjectKind::Datastore => self.datastores.contains_key(&DatastoreId(id)),
            ObjectKind::Switch => self.switches.contains_key(&SwitchId(id)),
            ObjectKind::Portgroup => self.portgroups.contains_key(&PortgroupId(id)),
            ObjectKind::Vm => self.vms.contains_key(&VmId(id)),
        }
    }

    /// Every object, in dependency order (what an object refers to comes before it).
    pub fn objects(&self) -> impl Iterator<Item = Object> + '_ {
        let clusters = self.clusters.values().cloned().map(Object::Cluster);
        let hosts = self.hosts.values().cloned().map(Object::Host);
        let datastores = self.datastores.values().cloned().map(Object::Datastore);
        let switches = self.switches.values().cloned().map(Object::Switch);
        let portgroups = self.portgroups.values().cloned().map(Object::Portgroup);
        let vms = self.vms.values().cloned().map(Object::Vm);
        clusters
            .chain(hosts)
            .chain(datastores)
            .chain(switches)
            .chain(portgroups)
            .chain(vms)
    }

    /// Validates a mutation against the whole inventory: the one gate for every change.
    /// Returns the change to store and apply, or why it is refused (naming the field).
    pub fn validate(&self, mutation: Mutation) -> Result<Change, DomainError> {
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
                            summarize(&users)
                        ),
                    ));
                }
                Ok(Change::Delete { kind, id })
            }
        }
    }

    /// Applies a validated change. Infallible: validation already happened.
    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::Upsert { object } => match object.clone() {
                Object::Cluster(o) => {
                    self.clusters.insert(o.id, o);
                }
                Object::Host(o) => {
                    self.hosts.insert(o.id, o);
                }
                Object::Datastore(o) => {
                    self.datastores.insert(o.id, o);
                }
                Object::Switch(o) => {
                    self.switches.insert(o.id, o);
                }
                Object::Portgroup(o) => {
                    self.portgroups.insert(o.id, o);
                }
                Object::Vm(o) => {
                    if let Some(old) = self.vms.get(&o.id).cloned() {
                        self.add_allocation(&old, -1);
                    }
                    self.add_allocation(&o, 1);
                    self.vms.insert(o.id, o);
                }
            },
            Change::Delete { kind, id } => {
                let id = *id;
                match kind {
                    ObjectKind::Cluster => drop(self.clusters.remove(&ClusterId(id))),
                    ObjectKind::Host => drop(self.hosts.remove(&HostId(id))),
                    ObjectKind::Datastore => drop(self.datastores.remove(&DatastoreId(id))),
                    ObjectKind::Switch => drop(self.switches.remove(&SwitchId(id))),
                    ObjectKind::Portgroup => drop(self.portgroups.remove(&PortgroupId(id))),
                    ObjectKind::Vm => {
                        if let Some(old) = self.vms.remove(&VmId(id)) {
                            self.add_allocation(&old, -1);
                        }
                    }
                }
            }
        }
    }

    /// Validates a whole import against the inventory as it grows, object by object, creating
    /// new ids and replacing known ones. All or nothing: the first refusal is returned with
    /// its field prefixed by the object's place in the file (`vms[3].disks[0].datastore_id`).
    /// On success, returns the inventory after the import and the changes to store.
    pub fn validate_import(
        &self,
        file: super::import::InventoryFile,
    ) -> Result<(Inventory, Vec<Change>, super::import::ImportSummary), DomainError> {
        let mut next = self.clone();
        let mut changes = Vec::with_capacity(file.len());
        let mut summary = super::import::ImportSummary::default();
        for (path, object) in file.into_objects() {
            let name = object.name().to_string();
            let mutation = if next.contains(object.kind(), object.id()) {
                summary.updated += 1;
                Mutation::Update(object)
            } else {
                summary.created += 1;
                Mutation::Create(object)
            };
            let change = next.validate(mutation).map_err(|e| DomainError {
                code: e.code,
                message: format!("{path} ({name}): {}", e.message),
                field: Some(match e.field {
                    Some(f) => format!("{path}.{f}"),
                    None => path.clone(),
                }),
            })?;
            next.apply(&change);
            changes.push(change);
        }
        Ok((next, changes, summary))
    }

    pub(crate) fn loads_index(&self) -> &BTreeMap<HostId, super::usage::HostLoad> {
        &self.loads
    }

    /// Rebuilds the derived index after the maps were filled directly.
    pub fn reindex(&mut self) {
        self.allocated.clear();
        self.loads.clear();
        let vms: Vec<Vm> = self.vms.values().cloned().collect();
        for vm in &vms {
            self.add_allocation(vm, 1);
        }
    }

    /// Adds (`sign > 0`) or removes a VM's share of the derived figures.
    fn add_allocation(&mut self, vm: &Vm, sign: i8) {
        let add = |total: &mut u64, amount: u64| {
            if sign > 0 {
                *total += amount;
            } else {
                *total = total.saturating_sub(amount);
            }
        };
        for disk in &vm.disks {
            add(
                self.allocated.entry(disk.datastore_id).or_insert(0),
                disk.allocated_mib(),
            );
        }
        let load = self.loads.entry(vm.host_id).or_default();
        let mut vms = u64::from(load.vms);
        add(&mut vms, 1);
        load.vms = vms as u32;
        if vm.is_running() {
            let mut running = u64::from(load.running_vms);
            add(&mut running, 1);
            load.running_vms = running as u32;
            add(&mut load.running_vcpus, u64::from(vm.vcpus.get()));
            add(&mut load.running_memory_mib, vm.memory_mib.get());
            add(&mut load.reserved_memory_mib, vm.memory_reservation_mib);
        }
    }

    /// MiB allocated on a datastore by all VM disks, leaving out the disks of `except` (a VM
    /// about to be replaced).
    pub fn allocated_mib(&self, datastore: DatastoreId, except: Option<VmId>) -> u64 {
        let all = self.allocated.get(&datastore).copied().unwrap_or(0);
        let own: u64 = except
            .and_then(|id| self.vms.get(&id))
            .map(|vm| {
                vm.disks
                    .iter()
                    .filter(|d| d.datastore_id == datastore)
                    .map(Disk::allocated_mib)
                    .sum()
            })
            .unwrap_or(0);
        all.saturating_sub(own)
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
        let same = |other_id: Uuid, other: &str| other_id != id && other == name;
        match kind {
            ObjectKind::Cluster => self
                .clusters
                .values()
                .any(|o| same(o.id.0, o.name.as_str())),
            ObjectKind::Host => self.hosts.values().any(|o| same(o.id.0, o.name.as_str())),
            ObjectKind::Datastore => self
                .datastores
                .values()
                .any(|o| same(o.id.0, o.name.as_str())),
            ObjectKind::Switch => self
                .switches
                .values()
                .any(|o| same(o.id.0, o.name.as_str())),
            // Port group names are unique per switch (or per host for standard ones).
            ObjectKind::Portgroup => self
                .portgroups
                .values()
                .any(|o| same(o.id.0, o.name.as_str()) && o.attachment() == scope),
            ObjectKind::Vm => self.vms.values().any(|o| same(o.id.0, o.name.as_str())),
        }
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
        }
    }

    fn check_host(&self, host: &Host) -> Result<(), DomainError> {
        if !self.clusters.contains_key(&host.cluster_id) {
            return Err(unknown("cluster_id", "cluster", host.cluster_id));
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
        if vm.memory_reservation_mib > vm.memory_mib.get() {
            return Err(DomainError::invalid(
                "memory_reservation_mib",
                format!(
                    "memory_reservation_mib: the reservation ({} MiB) cannot exceed the VM's memory ({} MiB)",
                    vm.memory_reservation_mib, vm.memory_mib
                ),
            ));
        }
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
        for (i, nic) in vm.nics.iter().enumerate() {
            let field = format!("nics[{i}].portgroup_id");
            let Some(pg) = self.portgroups.get(&nic.portgroup_id) else {
                return Err(unknown(&field, "port group", nic.portgroup_id));
            };
            if !self.host_reaches_portgroup(vm.host_id, pg) {
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
            Object::Cluster(_) | Object::Host(_) | Object::Vm(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
