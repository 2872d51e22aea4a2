//! Synthetic inventories of any size (benchmarks, scale tests, `gen-inventory`): `clusters` of
//! `hosts_per_cluster` hosts, each cluster with one shared datastore and one vDS. Names are
//! numbered (`esx-001-002`, `vm-001-002-003`) so a test can find an object by name.

use crate::*;
use std::num::NonZeroU32;

fn name(s: &str) -> Name {
    Name::parse(s).expect("generated names are valid")
}
fn nz32(v: u32) -> NonZeroU32 {
    NonZeroU32::new(v).expect("positive")
}
fn nz64(v: u64) -> SizeMib {
    SizeMib::parse(v).expect("positive, in range")
}
fn gbps(v: f64) -> LinkGbps {
    LinkGbps::parse(v).expect("in range")
}

/// `clusters` of `hosts_per_cluster` hosts with `vms_per_host` running VMs each.
pub fn scale_inventory(
    clusters: usize,
    hosts_per_cluster: usize,
    vms_per_host: usize,
) -> Inventory {
    let mut inv = Inventory::default();
    let put = |inv: &mut Inventory, o: Object| inv.apply(&Change::Upsert { object: o });
    for c in 0..clusters {
        let cluster = Cluster {
            id: ClusterId::new_random(),
            name: name(&format!("cluster-{c:03}")),
            evc_level: None,
        };
        put(&mut inv, Object::Cluster(cluster.clone()));
        let mut host_ids = Vec::new();
        for h in 0..hosts_per_cluster {
            let host = Host {
                id: HostId::new_random(),
                name: name(&format!("esx-{c:03}-{h:03}")),
                cluster_id: cluster.id,
                cpu_vendor: CpuVendor::Intel,
                cpu_feature_level: 6 + (h % 3) as u32,
                cores: nz32(64),
                cpu_mhz: nz32(2_600),
                memory_mib: nz64(1024 * 1024),
                state: HostState::Connected,
                vmotion_enabled: true,
                vmotion_link_gbps: gbps(25.0),
                ip_family: IpFamily::V4,
            };
            host_ids.push(host.id);
            put(&mut inv, Object::Host(host));
        }
        let ds = Datastore {
            id: DatastoreId::new_random(),
            name: name(&format!("san-{c:03}")),
            kind: DatastoreKind::VmfsShared,
            capacity_mib: nz64(64 << 20), // 64 TiB
            throughput_mib_s: nz32(2_000),
            host_ids: host_ids.clone(),
        };
        put(&mut inv, Object::Datastore(ds.clone()));
        let sw = Switch {
            id: SwitchId::new_random(),
            name: name(&format!("dvs-{c:03}")),
            host_ids: host_ids.clone(),
        };
        put(&mut inv, Object::Switch(sw.clone()));
        let pg = Portgroup {
            id: PortgroupId::new_random(),
            name: name(&format!("pg-{c:03}")),
            vlan: VlanId::parse(100).expect("valid"),
            switch_id: Some(sw.id),
            host_id: None,
        };
        put(&mut inv, Object::Portgroup(pg.clone()));
        for (h, host_id) in host_ids.iter().enumerate() {
            for v in 0..vms_per_host {
                let vm = Vm {
                    id: VmId::new_random(),
                    name: name(&format!("vm-{c:03}-{h:03}-{v:03}")),
                    host_id: *host_id,
                    power_state: PowerState::On,
                    vcpus: nz32(2),
                    memory_mib: nz64(8 * 1024),
                    memory_reservation_mib: 0,
                    cpu_feature_level: 6,
                    disks: vec![Disk {
                        datastore_id: ds.id,
                        capacity_mib: nz64(50 * 1024),
                        used_mib: 20 * 1024,
                        thin: true,
                    }],
                    nics: vec![Nic {
                        portgroup_id: pg.id,
                        connected: true,
                    }],
                    devices: vec![],
                    workload: Workload::default(),
                    fault_tolerance: false,
                    cpu_affinity: false,
                };
                put(&mut inv, Object::Vm(vm));
            }
        }
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_generator_makes_the_requested_size() {
        let inv = scale_inventory(2, 3, 4);
        assert_eq!(inv.hosts.len(), 6);
        assert_eq!(inv.vms.len(), 24);
        // It skips the gate for speed, so check it would have passed it.
        assert_eq!(Inventory::from_objects(inv.objects()).unwrap(), inv);
    }
}
