//! The import format: the export's lists of objects, in any order within a list. Imported
//! objects are created, or replace the object with the same id.

use super::Inventory;
use crate::affinity::Rule;
use crate::error::DomainError;
use crate::model::*;
use crate::object::{Change, Mutation, Object, ObjectKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    /// Objects the file did not hold, removed on request.
    #[serde(default)]
    pub removed: usize,
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
        push(&mut out, self.rules, "rules", Object::Rule);
        out
    }

    pub fn len(&self) -> usize {
        self.clusters.len()
            + self.hosts.len()
            + self.datastores.len()
            + self.switches.len()
            + self.portgroups.len()
            + self.vms.len()
            + self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Inventory {
    /// The objects the file does not hold, in an order they can be deleted in (VMs first,
    /// clusters last). Affinity rules are vmshift's own (no export holds them): never listed.
    pub fn absent_from(&self, file: &InventoryFile) -> Vec<(ObjectKind, Uuid)> {
        use std::collections::HashSet;
        let mut out = Vec::new();
        let mut gone = |kind, ids: Vec<Uuid>, kept: HashSet<Uuid>| {
            out.extend(
                ids.into_iter()
                    .filter(|id| !kept.contains(id))
                    .map(|id| (kind, id)),
            );
        };
        gone(
            ObjectKind::Vm,
            self.vms.keys().map(|k| k.0).collect(),
            file.vms.iter().map(|o| o.id.0).collect(),
        );
        gone(
            ObjectKind::Portgroup,
            self.portgroups.keys().map(|k| k.0).collect(),
            file.portgroups.iter().map(|o| o.id.0).collect(),
        );
        gone(
            ObjectKind::Switch,
            self.switches.keys().map(|k| k.0).collect(),
            file.switches.iter().map(|o| o.id.0).collect(),
        );
        gone(
            ObjectKind::Datastore,
            self.datastores.keys().map(|k| k.0).collect(),
            file.datastores.iter().map(|o| o.id.0).collect(),
        );
        gone(
            ObjectKind::Host,
            self.hosts.keys().map(|k| k.0).collect(),
            file.hosts.iter().map(|o| o.id.0).collect(),
        );
        gone(
            ObjectKind::Cluster,
            self.clusters.keys().map(|k| k.0).collect(),
            file.clusters.iter().map(|o| o.id.0).collect(),
        );
        out
    }

    /// [`Self::validate_import`], then, with `remove_absent`, the deletion of every object the
    /// file does not hold ([`Self::absent_from`]) — all through the same gate, all or nothing.
    pub fn validate_import_replacing(
        &self,
        file: InventoryFile,
        remove_absent: bool,
    ) -> Result<(Inventory, Vec<Change>, ImportSummary), DomainError> {
        let absent = if remove_absent {
            self.absent_from(&file)
        } else {
            Vec::new()
        };
        let (mut next, mut changes, mut summary) = self.validate_import(file)?;
        for (kind, id) in absent {
            let change = next.validate(Mutation::Delete(kind, id)).map_err(|e| {
                e.reworded(Some("remove_absent".into()), |m| {
                    format!("remove_absent: {m}")
                })
            })?;
            next.apply(&change);
            changes.push(change);
            summary.removed += 1;
        }
        Ok((next, changes, summary))
    }

    /// Validates a whole import against the inventory as it grows, object by object, creating
    /// new ids and replacing known ones. All or nothing: the first refusal is returned with
    /// its field prefixed by the object's place in the file (`vms[3].disks[0].datastore_id`).
    /// On success, returns the inventory after the import and the changes to store.
    pub fn validate_import(
        &self,
        file: InventoryFile,
    ) -> Result<(Inventory, Vec<Change>, ImportSummary), DomainError> {
        let mut next = self.clone();
        let mut changes = Vec::with_capacity(file.len());
        let mut summary = ImportSummary::default();
        for (path, object) in file.into_objects() {
            // A mirrored object as it is (an export of this server imported again) is left
            // alone; a changed one is refused by the gate.
            if next.sources.contains_key(&object.id()) && next.same(&object) == Some(true) {
                continue;
            }
            let name = object.name().to_string();
            let mutation = if next.contains(object.kind(), object.id()) {
                summary.updated += 1;
                Mutation::Update(object)
            } else {
                summary.created += 1;
                Mutation::Create(object)
            };
            let change = next.validate(mutation).map_err(|e| {
                let field = Some(match &e.field {
                    Some(f) => format!("{path}.{f}"),
                    None => path.clone(),
                });
                e.reworded(field, |m| format!("{path} ({name}): {m}"))
            })?;
            next.apply(&change);
            changes.push(change);
        }
        Ok((next, changes, summary))
    }
}
