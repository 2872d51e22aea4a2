//! The inventory: every cluster, host, datastore, switch, port group and VM, with the derived
//! figures kept current as changes are applied (space allocated per datastore, load per
//! host). It changes only through its one gate: [`Inventory::validate`] (in `validate`) turns
//! a requested [`Mutation`] into a [`Change`], or refuses it naming the field; [`Inventory::apply`]
//! applies a validated change. See docs/DESIGN.md#the-inventory-gate.

pub mod import;
mod remap;
pub mod report;
mod rules;
#[cfg(test)]
mod tests;
pub mod usage;
pub mod validate;

use crate::affinity::Rule;
use crate::ids::*;
use crate::model::*;
use crate::object::{Change, Object, ObjectKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// Load on one host from the VMs placed on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostLoad {
    pub vms: u32,
    pub running_vms: u32,
    /// vCPUs of running VMs.
    pub running_vcpus: u64,
    /// Memory of running VMs, MiB.
    pub running_memory_mib: u64,
    /// Reservations of running VMs, MiB.
    pub reserved_memory_mib: u64,
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
    Portgroup => PortgroupId, Vm => VmId, Rule => RuleId);

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
    /// Affinity rules (docs/DESIGN.md#affinity-rules).
    #[serde(with = "as_list", default)]
    pub rules: BTreeMap<RuleId, Rule>,
    /// MiB allocated on each datastore by VM disks (derived).
    #[serde(skip)]
    allocated: BTreeMap<DatastoreId, u64>,
    /// Load of the VMs on each host (derived).
    #[serde(skip)]
    loads: BTreeMap<HostId, HostLoad>,
    /// Every object by its kind, scope (a port group's switch or host) and name (derived): a
    /// name is checked once, not against every object (docs/DESIGN.md#the-inventory-gate).
    #[serde(skip)]
    names: HashMap<NameKey, Uuid>,
    /// The objects mirrored from a connection, by id (docs/VCENTER.md#mirrored-objects): not
    /// part of the import/export format (the export leaves it out).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sources: BTreeMap<Uuid, crate::source::Source>,
    /// MiB allocated on some of these datastores by VMs this part of the inventory leaves out
    /// (made by [`Inventory::scope`], docs/DESIGN.md#scoped-live-clients), counted in their
    /// space. The whole inventory has none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outside: BTreeMap<DatastoreId, u64>,
}

/// An object's name where it must be unique: its kind, its scope (a port group's switch or
/// host), its name.
pub(crate) type NameKey = (ObjectKind, Option<Uuid>, String);

/// A port group's scope: the switch or host its name is unique on.
fn scope_of(p: &Portgroup) -> Option<Uuid> {
    match p.attachment() {
        Some(PortgroupAttachment::Distributed(s)) => Some(s.0),
        Some(PortgroupAttachment::Standard(h)) => Some(h.0),
        None => None,
    }
}

fn object_name_key(o: &Object) -> NameKey {
    let scope = match o {
        Object::Portgroup(p) => scope_of(p),
        _ => None,
    };
    (o.kind(), scope, o.name().to_string())
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
    #[serde(with = "as_list", default)]
    rules: BTreeMap<RuleId, Rule>,
    #[serde(default)]
    sources: BTreeMap<Uuid, crate::source::Source>,
    #[serde(default)]
    outside: BTreeMap<DatastoreId, u64>,
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
            rules: l.rules,
            allocated: BTreeMap::new(),
            loads: BTreeMap::new(),
            names: HashMap::new(),
            sources: l.sources,
            outside: l.outside,
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
            && self.rules == other.rules
            && self.sources == other.sources
            && self.outside == other.outside
    }
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
            ObjectKind::Rule => self.rules.get(&RuleId(id)).cloned().map(Object::Rule),
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
            ObjectKind::Rule => self.rules.contains_key(&RuleId(id)),
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
        let rules = self.rules.values().cloned().map(Object::Rule);
        clusters
            .chain(hosts)
            .chain(datastores)
            .chain(switches)
            .chain(portgroups)
            .chain(vms)
            .chain(rules)
    }

    /// Applies a validated change. Infallible: validation already happened.
    pub fn apply(&mut self, change: &Change) {
        let (kind, id) = match change {
            Change::Upsert { object } => (object.kind(), object.id()),
            Change::Delete { kind, id } => (*kind, *id),
            Change::Source { id, source, .. } => {
                match source {
                    Some(s) => self.sources.insert(*id, s.clone()),
                    None => self.sources.remove(id),
                };
                return;
            }
            Change::Batch { changes } => {
                changes.iter().for_each(|c| self.apply(c));
                return;
            }
        };
        if let Some(old) = self.name_key(kind, id) {
            self.names.remove(&old);
        }
        if let Change::Upsert { object } = change {
            self.names.insert(object_name_key(object), id);
        }
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
                Object::Rule(o) => {
                    self.rules.insert(o.id, o);
                }
            },
            Change::Delete { kind, id } => {
                let id = *id;
                self.sources.remove(&id);
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
                    ObjectKind::Rule => drop(self.rules.remove(&RuleId(id))),
                }
            }
            Change::Source { .. } | Change::Batch { .. } => {}
        }
    }

    /// The name key of a stored object.
    fn name_key(&self, kind: ObjectKind, id: Uuid) -> Option<NameKey> {
        let plain = |name: &crate::Name| Some((kind, None, name.as_str().to_string()));
        match kind {
            ObjectKind::Cluster => plain(&self.clusters.get(&ClusterId(id))?.name),
            ObjectKind::Host => plain(&self.hosts.get(&HostId(id))?.name),
            ObjectKind::Datastore => plain(&self.datastores.get(&DatastoreId(id))?.name),
            ObjectKind::Switch => plain(&self.switches.get(&SwitchId(id))?.name),
            ObjectKind::Portgroup => {
                let p = self.portgroups.get(&PortgroupId(id))?;
                Some((kind, scope_of(p), p.name.as_str().to_string()))
            }
            ObjectKind::Vm => plain(&self.vms.get(&VmId(id))?.name),
            ObjectKind::Rule => plain(&self.rules.get(&RuleId(id))?.name),
        }
    }

    /// The object of `kind` named `name` in `scope`, if any: from the index when it holds
    /// every object, else (maps filled directly and not reindexed) by looking at each.
    pub(crate) fn named(&self, kind: ObjectKind, scope: Option<Uuid>, name: &str) -> Option<Uuid> {
        let total = self.clusters.len()
            + self.hosts.len()
            + self.datastores.len()
            + self.switches.len()
            + self.portgroups.len()
            + self.vms.len()
            + self.rules.len();
        let key = (kind, scope, name.to_string());
        if self.names.len() == total {
            let id = *self.names.get(&key)?;
            // An object renamed in place (tests do) is not trusted: checked against the map.
            if self.name_key(kind, id).as_ref() == Some(&key) {
                return Some(id);
            }
        }
        // The ids of `kind` only, each looked at without copying its object.
        let ids: Vec<Uuid> = match kind {
            ObjectKind::Cluster => self.clusters.keys().map(|k| k.0).collect(),
            ObjectKind::Host => self.hosts.keys().map(|k| k.0).collect(),
            ObjectKind::Datastore => self.datastores.keys().map(|k| k.0).collect(),
            ObjectKind::Switch => self.switches.keys().map(|k| k.0).collect(),
            ObjectKind::Portgroup => self.portgroups.keys().map(|k| k.0).collect(),
            ObjectKind::Vm => self.vms.keys().map(|k| k.0).collect(),
            ObjectKind::Rule => self.rules.keys().map(|k| k.0).collect(),
        };
        ids.into_iter()
            .find(|id| self.name_key(kind, *id).as_ref() == Some(&key))
    }

    pub(crate) fn loads_index(&self) -> &BTreeMap<HostId, HostLoad> {
        &self.loads
    }

    /// Rebuilds the derived index after the maps were filled directly.
    pub fn reindex(&mut self) {
        self.allocated.clear();
        self.loads.clear();
        self.names = self
            .objects()
            .map(|o| (object_name_key(&o), o.id()))
            .collect();
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
        let all = self.allocated.get(&datastore).copied().unwrap_or(0)
            + self.outside.get(&datastore).copied().unwrap_or(0);
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
}
