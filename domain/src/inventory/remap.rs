//! An import file's ids changed (docs/VCENTER.md#mirrored-objects): objects whose source gave
//! them a new id but that are known under an old one keep the old one, and every reference to
//! them follows.

use super::import::InventoryFile;
use crate::ids::*;
use std::collections::HashMap;
use uuid::Uuid;

impl InventoryFile {
    /// Replaces each id that is a key of `map` by its value, in the objects and in every
    /// reference to them.
    pub fn remap_ids(&mut self, map: &HashMap<Uuid, Uuid>) {
        if map.is_empty() {
            return;
        }
        let m = |id: Uuid| map.get(&id).copied().unwrap_or(id);
        for c in &mut self.clusters {
            c.id = ClusterId(m(c.id.0));
        }
        for h in &mut self.hosts {
            h.id = HostId(m(h.id.0));
            h.cluster_id = ClusterId(m(h.cluster_id.0));
        }
        let hosts = |ids: &mut Vec<HostId>| ids.iter_mut().for_each(|h| *h = HostId(m(h.0)));
        for d in &mut self.datastores {
            d.id = DatastoreId(m(d.id.0));
            hosts(&mut d.host_ids);
        }
        for s in &mut self.switches {
            s.id = SwitchId(m(s.id.0));
            hosts(&mut s.host_ids);
        }
        for p in &mut self.portgroups {
            p.id = PortgroupId(m(p.id.0));
            p.switch_id = p.switch_id.map(|s| SwitchId(m(s.0)));
            p.host_id = p.host_id.map(|h| HostId(m(h.0)));
        }
        for v in &mut self.vms {
            v.id = VmId(m(v.id.0));
            v.host_id = HostId(m(v.host_id.0));
            for d in &mut v.disks {
                d.datastore_id = DatastoreId(m(d.datastore_id.0));
            }
            for n in &mut v.nics {
                n.portgroup_id = PortgroupId(m(n.portgroup_id.0));
            }
            for d in &mut v.devices {
                d.datastore_id = d.datastore_id.map(|i| DatastoreId(m(i.0)));
            }
        }
        for r in &mut self.rules {
            r.cluster_id = ClusterId(m(r.cluster_id.0));
            r.vm_ids.iter_mut().for_each(|v| *v = VmId(m(v.0)));
            hosts(&mut r.host_ids);
        }
    }
}
