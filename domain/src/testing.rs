//! Test fixtures shared by the domain's tests.

use super::*;
use std::num::NonZeroU32;

pub fn name(s: &str) -> Name {
    Name::parse(s).unwrap()
}

pub fn nz64(v: u64) -> SizeMib {
    SizeMib::parse(v).unwrap()
}

pub fn nz32(v: u32) -> NonZeroU32 {
    NonZeroU32::new(v).unwrap()
}

/// A small valid inventory: one cluster, hosts a and b, a shared datastore on both, a local
/// one on a, a vDS with both hosts and a port group on it, a standard port group on a.
pub struct Fixture {
    pub inv: Inventory,
    pub cluster: ClusterId,
    pub a: HostId,
    pub b: HostId,
    pub shared: DatastoreId,
    pub local_a: DatastoreId,
    pub vds: SwitchId,
    pub pg_vds: PortgroupId,
    pub pg_std_a: PortgroupId,
}

impl Fixture {
    /// Changes a VM through the inventory's gate.
    pub fn update_vm(&mut self, id: VmId, f: impl FnOnce(&mut Vm)) {
        let mut v = self.inv.vms[&id].clone();
        f(&mut v);
        let change = self.inv.validate(Mutation::Update(Object::Vm(v))).unwrap();
        self.inv.apply(&change);
    }
}

pub fn host(cluster: ClusterId, n: &str) -> Host {
    Host {
        id: HostId::new_random(),
        name: name(n),
        cluster_id: cluster,
        cpu_vendor: CpuVendor::Intel,
        cpu_feature_level: 5,
        cores: nz32(32),
        cpu_mhz: nz32(2600),
        memory_mib: nz64(262_144),
        state: HostState::Connected,
        vmotion_enabled: true,
        vmotion_link_gbps: LinkGbps::parse(10.0).unwrap(),
        ip_family: IpFamily::V4,
    }
}

pub fn vm(n: &str, host: HostId, disks: Vec<Disk>, nics: Vec<Nic>) -> Vm {
    Vm {
        id: VmId::new_random(),
        name: name(n),
        host_id: host,
        power_state: PowerState::On,
        vcpus: nz32(2),
        memory_mib: nz64(4096),
        memory_reservation_mib: 0,
        cpu_feature_level: 4,
        disks,
        nics,
        devices: vec![],
        workload: Workload::default(),
        fault_tolerance: false,
        cpu_affinity: false,
    }
}

pub fn disk(ds: DatastoreId, capacity: u64, used: u64, thin: bool) -> Disk {
    Disk {
        datastore_id: ds,
        capacity_mib: nz64(capacity),
        used_mib: used,
        thin,
    }
}

pub fn nic(pg: PortgroupId) -> Nic {
    Nic {
        portgroup_id: pg,
        connected: true,
    }
}

pub fn fixture() -> Fixture {
    let cluster = Cluster {
        id: ClusterId::new_random(),
        name: name("prod"),
        evc_level: None,
    };
    let a = host(cluster.id, "esx-a");
    let b = host(cluster.id, "esx-b");
    let shared = Datastore {
        id: DatastoreId::new_random(),
        name: name("san-01"),
        kind: DatastoreKind::VmfsShared,
        capacity_mib: nz64(100_000),
        throughput_mib_s: nz32(500),
        host_ids: vec![a.id, b.id],
    };
    let local_a = Datastore {
        id: DatastoreId::new_random(),
        name: name("local-a"),
        kind: DatastoreKind::Local,
        capacity_mib: nz64(10_000),
        throughput_mib_s: nz32(200),
        host_ids: vec![a.id],
    };
    let vds = Switch {
        id: SwitchId::new_random(),
        name: name("dvs-01"),
        host_ids: vec![a.id, b.id],
    };
    let pg_vds = Portgroup {
        id: PortgroupId::new_random(),
        name: name("vm-net"),
        vlan: VlanId::parse(10).unwrap(),
        switch_id: Some(vds.id),
        host_id: None,
    };
    let pg_std_a = Portgroup {
        id: PortgroupId::new_random(),
        name: name("legacy"),
        vlan: VlanId::parse(0).unwrap(),
        switch_id: None,
        host_id: Some(a.id),
    };
    let f = Fixture {
        cluster: cluster.id,
        a: a.id,
        b: b.id,
        shared: shared.id,
        local_a: local_a.id,
        vds: vds.id,
        pg_vds: pg_vds.id,
        pg_std_a: pg_std_a.id,
        inv: Inventory::default(),
    };
    let inv = Inventory::from_objects([
        Object::Cluster(cluster),
        Object::Host(a),
        Object::Host(b),
        Object::Datastore(shared),
        Object::Datastore(local_a),
        Object::Switch(vds),
        Object::Portgroup(pg_vds),
        Object::Portgroup(pg_std_a),
    ])
    .expect("fixture is valid");
    Fixture { inv, ..f }
}

/// `value` written as JSON reads back the same through serde's derived reading and the
/// browser's tag-first one (docs/DESIGN.md#tag-first-reading).
pub fn reads_the_same_tag_first<T>(value: &T)
where
    T: serde::Serialize
        + for<'de> serde::Deserialize<'de>
        + crate::tag_first::TagFirst
        + PartialEq
        + std::fmt::Debug,
{
    let json = serde_json::to_string(value).unwrap();
    let derived: T = serde_json::from_str(&json).unwrap();
    let tagged: T =
        crate::tag_first::deserialize(&mut serde_json::Deserializer::from_str(&json)).unwrap();
    assert_eq!(&derived, value);
    assert_eq!(&tagged, value, "{json}");
}
