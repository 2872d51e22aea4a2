//! The import format: the export's lists of objects, in any order within a list. Imported
//! objects are created, or replace the object with the same id.

use super::inventory::Object;
use super::model::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryFile {
    #[serde(default)]
    pub clusters: Vec<Cluster>,
    #[serde(default)]
    pub hosts: Vec<Host>,
    #[serde(default)]
    pub datastores: Vec<Datastore>,
    #[serde(default)]
    pub switches: Vec<Switch>,
    #[serde(default)]
    pub portgroups: Vec<Portgroup>,
    #[serde(default)]
    pub vms: Vec<Vm>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
}

impl InventoryFile {
    /// Every object with its path in the file (`vms[3]`), in dependency order: what an object
    /// refers to comes before it.
    pub fn into_objects(self) -> Vec<(String, Object)> {
        let mut out = Vec::new();
        fn push<T>(
            out: &mut Vec<(String, Object)>,
            list: Vec<T>,
            key: &str,
            wrap: fn(T) -> Object,
        ) {
            for (i, item) in list.into_iter().enumerate() {
                out.push((format!("{key}[{i}]"), wrap(item)));
            }
        }
        push(&mut out, self.clusters, "clusters", Object::Cluster);
        push(&mut out, self.hosts, "hosts", Object::Host);
        push(&mut out, self.datastores, "datastores", Object::Datastore);
        push(&mut out, self.switches, "switches", Object::Switch);
        push(&mut out, self.portgroups, "portgroups", Object::Portgroup);
        push(&mut out, self.vms, "vms", Object::Vm);
        out
    }

    pub fn len(&self) -> usize {
        self.clusters.len()
            + self.hosts.len()
            + self.datastores.len()
            + self.switches.len()
            + self.portgroups.len()
            + self.vms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
