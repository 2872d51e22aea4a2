//! The demo inventory an empty database gets (`--demo`): a data file in the export format
//! (`server/data/demo.json`), embedded in the binary and validated at start by the same gate
//! as any import. What each of its objects is there to show: README, "The demo inventory".

use domain::{Inventory, InventoryFile};

const DEMO: &str = include_str!("../data/demo.json");

/// Parses and validates an inventory file in the export format (data of our own: a refusal is
/// a bug, and the tests below prove it cannot happen).
pub fn load(name: &str, text: &str) -> Inventory {
    let file: InventoryFile =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: not an inventory file: {e}"));
    let (inventory, _, _) = Inventory::default()
        .validate_import(file)
        .unwrap_or_else(|e| panic!("{name}: refused by the inventory gate: {e}"));
    inventory
}

/// The demo inventory.
pub fn demo_inventory() -> Inventory {
    load("server/data/demo.json", DEMO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{CpuVendor, DatastoreKind, Vm};

    #[test]
    fn the_demo_inventory_has_what_the_walkthrough_promises() {
        let inv = demo_inventory();
        assert_eq!(inv.clusters.len(), 2);
        assert!(inv.hosts.len() >= 6);
        assert!((28..=40).contains(&inv.vms.len()), "{}", inv.vms.len());
        assert!(inv
            .datastores
            .values()
            .any(|d| d.kind == DatastoreKind::Local));
        assert!(inv.datastores.values().any(|d| d.kind.is_shared()));
        assert_eq!(inv.switches.len(), 1);
        assert!(inv.portgroups.values().any(|p| p.host_id.is_some()));
        // Objects that later checks flag.
        let local = |vm: &Vm| {
            vm.disks
                .iter()
                .any(|d| inv.datastores[&d.datastore_id].kind == DatastoreKind::Local)
        };
        assert!(inv.vms.values().any(local), "a VM on local storage");
        assert!(
            inv.vms.values().any(|vm| vm
                .nics
                .iter()
                .any(|n| inv.portgroups[&n.portgroup_id].host_id.is_some())),
            "a VM on a standard-switch port group"
        );
        assert!(
            inv.hosts.values().any(|h| !h.vmotion_enabled),
            "a host without vMotion"
        );
        assert!(inv.hosts.values().any(|h| h.cpu_vendor == CpuVendor::Amd));
        assert!(
            inv.datastores
                .values()
                .any(|d| inv.free_mib(d) * 10 < d.capacity_mib.get()),
            "a nearly full datastore"
        );
    }
}
