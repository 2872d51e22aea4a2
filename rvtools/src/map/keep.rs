//! What RVTools does not hold, kept from the objects a newer export updates
//! (docs/IMPORT.md#matching): a datastore's throughput, a VM's workload (its working set too
//! when the export gives no Active Memory) the order of a datastore's or switch's hosts, and the used size of each thin disk whose place
//! and capacity did not change. New objects get the documented defaults instead.

use domain::{Inventory, InventoryFile};

/// The same members in the order they had (a list that did not change is not a change).
fn same_order<T: Ord + Copy>(now: &mut Vec<T>, was: &[T]) {
    let (mut a, mut b) = (now.clone(), was.to_vec());
    a.sort();
    b.sort();
    if a == b {
        *now = was.to_vec();
    }
}

pub(crate) fn unexported(file: &mut InventoryFile, current: &Inventory) {
    for d in &mut file.datastores {
        if let Some(old) = current.datastores.get(&d.id) {
            d.throughput_mib_s = old.throughput_mib_s;
            same_order(&mut d.host_ids, &old.host_ids);
        }
    }
    for s in &mut file.switches {
        if let Some(old) = current.switches.get(&s.id) {
            same_order(&mut s.host_ids, &old.host_ids);
        }
    }
    for vm in &mut file.vms {
        let Some(old) = current.vms.get(&vm.id) else {
            continue;
        };
        let working_set = vm.workload.working_set_mib.or(old.workload.working_set_mib);
        vm.workload = old.workload.clone();
        vm.workload.working_set_mib = working_set;
        for (disk, was) in vm.disks.iter_mut().zip(&old.disks) {
            if disk.thin
                && was.thin
                && disk.datastore_id == was.datastore_id
                && disk.capacity_mib == was.capacity_mib
            {
                disk.used_mib = was.used_mib;
            }
        }
    }
}
