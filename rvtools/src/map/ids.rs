//! Which inventory object an exported one is (docs/IMPORT.md#matching): an id derived from
//! the vCenter and the object's own id in it (a VM's UUID, else its managed object id) or its
//! name, so that a newer export of the same environment lands on the same objects even when a
//! VM was renamed; else the object of the inventory with the same name (a first import over
//! objects made by hand or from JSON); else the derived id. With several vCenters in one
//! export, a name one vCenter already used is suffixed with the vCenter's name.

use domain::{Inventory, Name, ObjectKind};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// The namespace of derived ids (a fixed, random UUID: vmshift's own).
const NAMESPACE: Uuid = Uuid::from_u128(0x5f0e_6a0c_2b7d_4c1e_9a43_8d21_7e6b_f3a9);

/// The ids and names handed out so far, across the vCenters of one export.
pub(crate) struct Ids {
    /// Current objects by kind and name.
    by_name: HashMap<(ObjectKind, String), Uuid>,
    /// Ids of the current inventory.
    known: HashSet<Uuid>,
    /// Ids handed out by this import (a name match is used once).
    claimed: HashSet<Uuid>,
    /// Names handed out by the vCenters before the current one, by kind.
    names: HashSet<(ObjectKind, String)>,
    /// Names handed out by the current vCenter.
    names_now: HashSet<(ObjectKind, String)>,
    /// The current vCenter: its instance UUID or server name (empty when the export says
    /// neither) and the name its clashing names are suffixed with.
    vcenter: String,
    server: String,
    /// What each key was resolved to (asking twice gives the same answer).
    resolved: HashMap<String, (Uuid, Name)>,
    /// Ids already put in the file.
    placed: HashSet<Uuid>,
    /// Names suffixed so far.
    pub suffixed: usize,
}

impl Ids {
    pub fn new(current: &Inventory) -> Self {
        let mut by_name = HashMap::new();
        let mut put = |kind, id: Uuid, key: String| {
            by_name.entry((kind, key)).or_insert(id);
        };
        for o in current.clusters.values() {
            put(ObjectKind::Cluster, o.id.0, o.name.as_str().to_lowercase());
        }
        for o in current.hosts.values() {
            put(ObjectKind::Host, o.id.0, o.name.as_str().to_lowercase());
        }
        for o in current.datastores.values() {
            put(
                ObjectKind::Datastore,
                o.id.0,
                o.name.as_str().to_lowercase(),
            );
        }
        for o in current.switches.values() {
            put(ObjectKind::Switch, o.id.0, o.name.as_str().to_lowercase());
        }
        for o in current.portgroups.values() {
            let scope = o.switch_id.map(|s| s.0).or(o.host_id.map(|h| h.0));
            let key = format!(
                "{}/{}",
                scope.unwrap_or_default(),
                o.name.as_str().to_lowercase()
            );
            put(ObjectKind::Portgroup, o.id.0, key);
        }
        for o in current.vms.values() {
            put(ObjectKind::Vm, o.id.0, o.name.as_str().to_lowercase());
        }
        let known = by_name.values().copied().collect();
        Ids {
            by_name,
            known,
            claimed: HashSet::new(),
            names: HashSet::new(),
            names_now: HashSet::new(),
            vcenter: String::new(),
            server: String::new(),
            resolved: HashMap::new(),
            placed: HashSet::new(),
            suffixed: 0,
        }
    }

    /// The objects that follow come from this vCenter.
    pub fn enter(&mut self, vcenter: &str, server: &str) {
        self.names.extend(self.names_now.drain());
        self.vcenter = vcenter.to_lowercase();
        self.server = server.to_string();
    }

    /// The id and name of an exported object: `external` is its id in vCenter when the export
    /// gives one, `name` its name. Port groups are named in their switch or host (`scope`).
    pub fn resolve(
        &mut self,
        kind: ObjectKind,
        name: &Name,
        external: Option<&str>,
        scope: Option<Uuid>,
    ) -> (Uuid, Name) {
        let scoped = |n: &str| match scope {
            Some(s) => format!("{s}/{}", n.to_lowercase()),
            None => n.to_lowercase(),
        };
        let key = match external {
            Some(e) => format!("{}/{kind:?}/id/{}", self.vcenter, e.to_lowercase()),
            None => format!("{}/{kind:?}/name/{}", self.vcenter, scoped(name.as_str())),
        };
        if let Some(done) = self.resolved.get(&key) {
            return done.clone();
        }
        let derived = Uuid::new_v5(&NAMESPACE, key.as_bytes());
        let name = self.unclashed(kind, name, scope);
        let id = if self.known.contains(&derived) {
            derived
        } else {
            match self.by_name.get(&(kind, scoped(name.as_str()))) {
                Some(id) if !self.claimed.contains(id) => *id,
                _ => derived,
            }
        };
        self.claimed.insert(id);
        self.resolved.insert(key, (id, name.clone()));
        (id, name)
    }

    /// Whether `id` is put in the file for the first time (and now is).
    pub fn place(&mut self, id: Uuid) -> bool {
        self.placed.insert(id)
    }

    /// `name`, or `name (server)` when an earlier vCenter of the export used it.
    fn unclashed(&mut self, kind: ObjectKind, name: &Name, scope: Option<Uuid>) -> Name {
        let key = (kind, name.as_str().to_lowercase());
        let name = if scope.is_none() && self.names.contains(&key) {
            match Name::parse(&format!("{name} ({})", self.server)) {
                Ok(n) => {
                    self.suffixed += 1;
                    n
                }
                Err(_) => name.clone(),
            }
        } else {
            name.clone()
        };
        self.names_now.insert(key);
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    #[test]
    fn an_external_id_wins_over_a_name_and_names_clashing_across_vcenters_are_suffixed() {
        let mut ids = Ids::new(&Inventory::default());
        ids.enter("uuid-a", "vc-a");
        let (a, an) = ids.resolve(ObjectKind::Vm, &n("web"), Some("4201-aa"), None);
        assert_eq!(an.as_str(), "web");
        ids.enter("uuid-b", "vc-b");
        let (b, bn) = ids.resolve(ObjectKind::Vm, &n("web"), Some("4201-aa"), None);
        assert_ne!(a, b, "the same UUID in two vCenters is two VMs");
        assert_eq!(bn.as_str(), "web (vc-b)");
        // The same VM renamed in a newer export of vc-a keeps its id.
        let mut again = Ids::new(&Inventory::default());
        again.enter("uuid-a", "vc-a");
        let (renamed, _) = again.resolve(ObjectKind::Vm, &n("web-renamed"), Some("4201-AA"), None);
        assert_eq!(renamed, a);
    }
}
