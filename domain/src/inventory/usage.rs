//! Figures derived from the inventory: space allocated on datastores, load on hosts, and who
//! uses an object (to explain why it cannot be deleted).

use super::{HostLoad, Inventory};
use crate::ids::*;
use crate::model::*;

impl Inventory {
    /// Free MiB on a datastore (never negative).
    pub fn free_mib(&self, datastore: &Datastore) -> u64 {
        datastore
            .capacity_mib
            .get()
            .saturating_sub(self.allocated_mib(datastore.id, None))
    }

    /// Load on a host from its VMs (kept current by `apply`).
    pub fn host_load(&self, host: HostId) -> HostLoad {
        self.loads_index().get(&host).copied().unwrap_or_default()
    }

    /// Whether `host` can reach a port group: a member of its vDS, or the host it lives on.
    pub fn host_reaches_portgroup(&self, host: HostId, portgroup: &Portgroup) -> bool {
        match portgroup.attachment() {
            Some(PortgroupAttachment::Standard(h)) => h == host,
            Some(PortgroupAttachment::Distributed(s)) => self
                .switches
                .get(&s)
                .is_some_and(|sw| sw.host_ids.contains(&host)),
            None => false,
        }
    }

    /// Plain-words description of every object that refers to `kind`/`id`.
    pub fn users_of(&self, kind: crate::object::ObjectKind, id: uuid::Uuid) -> Vec<String> {
        use crate::object::ObjectKind as K;
        let mut users = Vec::new();
        match kind {
            K::Cluster => {
                for h in self.hosts.values().filter(|h| h.cluster_id.0 == id) {
                    users.push(format!("host {}", h.name));
                }
            }
            K::Host => {
                let host = HostId(id);
                for vm in self.vms.values().filter(|vm| vm.host_id == host) {
                    users.push(format!("VM {}", vm.name));
                }
                for ds in self
                    .datastores
                    .values()
                    .filter(|d| d.host_ids.contains(&host))
                {
                    users.push(format!("datastore {} (mounted)", ds.name));
                }
                for sw in self
                    .switches
                    .values()
                    .filter(|s| s.host_ids.contains(&host))
                {
                    users.push(format!("switch {} (member)", sw.name));
                }
                for pg in self.portgroups.values().filter(|p| p.host_id == Some(host)) {
                    users.push(format!("port group {}", pg.name));
                }
            }
            K::Datastore => {
                let ds = DatastoreId(id);
                for vm in self.vms.values() {
                    let disk = vm.disks.iter().position(|d| d.datastore_id == ds);
                    let device = vm.devices.iter().any(|d| d.datastore_id == Some(ds));
                    if let Some(i) = disk {
                        users.push(format!("VM {} (disk {})", vm.name, i + 1));
                    } else if device {
                        users.push(format!("VM {} (device backing file)", vm.name));
                    }
                }
            }
            K::Switch => {
                for pg in self
                    .portgroups
                    .values()
                    .filter(|p| p.switch_id == Some(SwitchId(id)))
                {
                    users.push(format!("port group {}", pg.name));
                }
            }
            K::Portgroup => {
                for vm in self.vms.values() {
                    if let Some(i) = vm
                        .nics
                        .iter()
                        .position(|n| n.portgroup_id == PortgroupId(id))
                    {
                        users.push(format!("VM {} (network adapter {})", vm.name, i + 1));
                    }
                }
            }
            K::Vm => {
                for rule in self.rules.values().filter(|r| r.vm_ids.contains(&VmId(id))) {
                    users.push(format!("affinity rule {}", rule.name));
                }
            }
            K::Rule => {}
        }
        if kind == K::Host {
            for rule in self
                .rules
                .values()
                .filter(|r| r.host_ids.contains(&HostId(id)))
            {
                users.push(format!("affinity rule {}", rule.name));
            }
        }
        if kind == K::Cluster {
            for rule in self.rules.values().filter(|r| r.cluster_id.0 == id) {
                users.push(format!("affinity rule {}", rule.name));
            }
        }
        users.sort();
        users
    }
}

/// "a, b, c and 4 more": a short list of names for a message.
pub fn summarize(items: &[String]) -> String {
    const SHOWN: usize = 5;
    if items.len() <= SHOWN {
        items.join(", ")
    } else {
        format!(
            "{} and {} more",
            items[..SHOWN].join(", "),
            items.len() - SHOWN
        )
    }
}
