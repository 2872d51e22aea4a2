//! The demo inventory loaded into an empty database, and a generator of large inventories for
//! benchmarks. The demo deliberately contains objects that later prerequisite checks flag.

use domain::*;
use std::num::NonZeroU32;

fn name(s: &str) -> Name {
    Name::parse(s).expect("demo names are valid")
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

struct HostSpec {
    name: &'static str,
    vendor: CpuVendor,
    level: u32,
    cores: u32,
    memory_gib: u64,
    vmotion: bool,
    link: f64,
    state: HostState,
}

/// Builds the demo inventory (validated object by object through the inventory gate).
pub fn demo_inventory() -> Inventory {
    let mut objects = Vec::new();
    let prod = Cluster {
        id: ClusterId::new_random(),
        name: name("Production"),
        evc_level: Some(6),
    };
    let edge = Cluster {
        id: ClusterId::new_random(),
        name: name("Edge"),
        evc_level: None,
    };
    objects.push(Object::Cluster(prod.clone()));
    objects.push(Object::Cluster(edge.clone()));

    let specs = [
        // name, vendor, feature level, cores, GiB, vMotion, link, state
        HostSpec {
            name: "esx-01",
            vendor: CpuVendor::Intel,
            level: 8,
            cores: 48,
            memory_gib: 512,
            vmotion: true,
            link: 25.0,
            state: HostState::Connected,
        },
        HostSpec {
            name: "esx-02",
            vendor: CpuVendor::Intel,
            level: 8,
            cores: 48,
            memory_gib: 512,
            vmotion: true,
            link: 25.0,
            state: HostState::Connected,
        },
        HostSpec {
            name: "esx-03",
            vendor: CpuVendor::Intel,
            level: 7,
            cores: 32,
            memory_gib: 384,
            vmotion: true,
            link: 10.0,
            state: HostState::Connected,
        },
        HostSpec {
            name: "esx-04",
            vendor: CpuVendor::Intel,
            level: 6,
            cores: 32,
            memory_gib: 256,
            vmotion: true,
            link: 10.0,
            state: HostState::Connected,
        },
        // No vMotion VMkernel adapter: vMotion to or from it is refused.
        HostSpec {
            name: "esx-05",
            vendor: CpuVendor::Intel,
            level: 7,
            cores: 32,
            memory_gib: 256,
            vmotion: false,
            link: 10.0,
            state: HostState::Connected,
        },
        // In maintenance mode.
        HostSpec {
            name: "esx-06",
            vendor: CpuVendor::Intel,
            level: 8,
            cores: 48,
            memory_gib: 512,
            vmotion: true,
            link: 25.0,
            state: HostState::Maintenance,
        },
        // Another CPU vendor, and a slow vMotion link.
        HostSpec {
            name: "edge-01",
            vendor: CpuVendor::Amd,
            level: 5,
            cores: 64,
            memory_gib: 256,
            vmotion: true,
            link: 1.0,
            state: HostState::Connected,
        },
        HostSpec {
            name: "edge-02",
            vendor: CpuVendor::Intel,
            level: 4,
            cores: 16,
            memory_gib: 64,
            vmotion: true,
            link: 0.5,
            state: HostState::Connected,
        },
    ];
    let mut hosts = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let host = Host {
            id: HostId::new_random(),
            name: name(s.name),
            cluster_id: if i < 6 { prod.id } else { edge.id },
            cpu_vendor: s.vendor,
            cpu_feature_level: s.level,
            cores: nz32(s.cores),
            cpu_mhz: nz32(2_800),
            memory_mib: nz64(s.memory_gib * 1024),
            state: s.state,
            vmotion_enabled: s.vmotion,
            vmotion_link_gbps: gbps(s.link),
            ip_family: if s.name == "edge-02" {
                IpFamily::V6
            } else {
                IpFamily::V4
            },
        };
        objects.push(Object::Host(host.clone()));
        hosts.push(host);
    }
    let prod_hosts: Vec<HostId> = hosts[..6].iter().map(|h| h.id).collect();
    let all_hosts: Vec<HostId> = hosts.iter().map(|h| h.id).collect();

    let datastore =
        |n: &str, kind: DatastoreKind, gib: u64, tput: u32, host_ids: Vec<HostId>| Datastore {
            id: DatastoreId::new_random(),
            name: name(n),
            kind,
            capacity_mib: nz64(gib * 1024),
            throughput_mib_s: nz32(tput),
            host_ids,
        };
    let san = datastore(
        "san-gold",
        DatastoreKind::VmfsShared,
        20_480,
        1_200,
        prod_hosts.clone(),
    );
    let vsan = datastore(
        "vsan-prod",
        DatastoreKind::Vsan,
        16_384,
        900,
        prod_hosts.clone(),
    );
    let nfs = datastore(
        "nfs-archive",
        DatastoreKind::Nfs,
        8_192,
        400,
        all_hosts.clone(),
    );
    // Nearly full: Storage vMotion onto it fails for lack of space.
    let tight = datastore(
        "san-tight",
        DatastoreKind::VmfsShared,
        600,
        800,
        prod_hosts.clone(),
    );
    let mut locals = Vec::new();
    for h in &hosts {
        let ds = datastore(
            &format!("local-{}", h.name),
            DatastoreKind::Local,
            1_800,
            500,
            vec![h.id],
        );
        locals.push(ds);
    }
    for ds in [&san, &vsan, &nfs, &tight].into_iter().chain(locals.iter()) {
        objects.push(Object::Datastore(ds.clone()));
    }

    // The distributed switch spans production and edge-01, not edge-02.
    let mut dvs_members = prod_hosts.clone();
    dvs_members.push(hosts[6].id);
    let dvs = Switch {
        id: SwitchId::new_random(),
        name: name("dvs-prod"),
        host_ids: dvs_members,
    };
    objects.push(Object::Switch(dvs.clone()));
    let portgroup =
        |n: &str, vlan: u16, switch_id: Option<SwitchId>, host_id: Option<HostId>| Portgroup {
            id: PortgroupId::new_random(),
            name: name(n),
            vlan: VlanId::parse(vlan).expect("valid vlan"),
            switch_id,
            host_id,
        };
    let pg_web = portgroup("pg-web", 110, Some(dvs.id), None);
    let pg_app = portgroup("pg-app", 120, Some(dvs.id), None);
    let pg_db = portgroup("pg-db", 130, Some(dvs.id), None);
    // A standard-switch port group on esx-03 only: its VMs cannot vMotion away.
    let pg_legacy = portgroup("vss-legacy", 200, None, Some(hosts[2].id));
    let pg_edge = portgroup("vss-edge", 300, None, Some(hosts[7].id));
    for pg in [&pg_web, &pg_app, &pg_db, &pg_legacy, &pg_edge] {
        objects.push(Object::Portgroup(pg.clone()));
    }

    struct VmSpec {
        name: &'static str,
        host: usize,
        vcpus: u32,
        memory_gib: u64,
        disk_gib: u64,
        ds: &'static str,
        pg: &'static str,
        dirty: f64,
    }
    let vm_specs = [
        VmSpec {
            name: "web-01",
            host: 0,
            vcpus: 2,
            memory_gib: 4,
            disk_gib: 40,
            ds: "san-gold",
            pg: "pg-web",
            dirty: 20.0,
        },
        VmSpec {
            name: "web-02",
            host: 1,
            vcpus: 2,
            memory_gib: 4,
            disk_gib: 40,
            ds: "san-gold",
            pg: "pg-web",
            dirty: 20.0,
        },
        VmSpec {
            name: "web-03",
            host: 2,
            vcpus: 2,
            memory_gib: 4,
            disk_gib: 40,
            ds: "vsan-prod",
            pg: "pg-web",
            dirty: 25.0,
        },
        VmSpec {
            name: "web-04",
            host: 3,
            vcpus: 2,
            memory_gib: 4,
            disk_gib: 40,
            ds: "vsan-prod",
            pg: "pg-web",
            dirty: 25.0,
        },
        VmSpec {
            name: "app-01",
            host: 0,
            vcpus: 4,
            memory_gib: 16,
            disk_gib: 80,
            ds: "san-gold",
            pg: "pg-app",
            dirty: 80.0,
        },
        VmSpec {
            name: "app-02",
            host: 1,
            vcpus: 4,
            memory_gib: 16,
            disk_gib: 80,
            ds: "san-gold",
            pg: "pg-app",
            dirty: 80.0,
        },
        VmSpec {
            name: "app-03",
            host: 2,
            vcpus: 4,
            memory_gib: 16,
            disk_gib: 80,
            ds: "vsan-prod",
            pg: "pg-app",
            dirty: 60.0,
        },
        VmSpec {
            name: "app-04",
            host: 3,
            vcpus: 8,
            memory_gib: 32,
            disk_gib: 120,
            ds: "vsan-prod",
            pg: "pg-app",
            dirty: 150.0,
        },
        VmSpec {
            name: "db-01",
            host: 0,
            vcpus: 16,
            memory_gib: 128,
            disk_gib: 800,
            ds: "san-gold",
            pg: "pg-db",
            dirty: 600.0,
        },
        VmSpec {
            name: "db-02",
            host: 1,
            vcpus: 16,
            memory_gib: 128,
            disk_gib: 800,
            ds: "san-gold",
            pg: "pg-db",
            dirty: 400.0,
        },
        VmSpec {
            name: "db-03",
            host: 3,
            vcpus: 8,
            memory_gib: 64,
            disk_gib: 500,
            ds: "vsan-prod",
            pg: "pg-db",
            dirty: 250.0,
        },
        VmSpec {
            name: "cache-01",
            host: 2,
            vcpus: 4,
            memory_gib: 48,
            disk_gib: 20,
            ds: "san-gold",
            pg: "pg-app",
            dirty: 900.0,
        },
        VmSpec {
            name: "cache-02",
            host: 3,
            vcpus: 4,
            memory_gib: 48,
            disk_gib: 20,
            ds: "vsan-prod",
            pg: "pg-app",
            dirty: 900.0,
        },
        VmSpec {
            name: "mq-01",
            host: 0,
            vcpus: 4,
            memory_gib: 8,
            disk_gib: 60,
            ds: "san-gold",
            pg: "pg-app",
            dirty: 45.0,
        },
        VmSpec {
            name: "mq-02",
            host: 1,
            vcpus: 4,
            memory_gib: 8,
            disk_gib: 60,
            ds: "vsan-prod",
            pg: "pg-app",
            dirty: 45.0,
        },
        VmSpec {
            name: "ci-runner-01",
            host: 4,
            vcpus: 8,
            memory_gib: 16,
            disk_gib: 100,
            ds: "san-gold",
            pg: "pg-app",
            dirty: 120.0,
        },
        VmSpec {
            name: "ci-runner-02",
            host: 4,
            vcpus: 8,
            memory_gib: 16,
            disk_gib: 100,
            ds: "vsan-prod",
            pg: "pg-app",
            dirty: 120.0,
        },
        VmSpec {
            name: "monitor-01",
            host: 2,
            vcpus: 2,
            memory_gib: 8,
            disk_gib: 200,
            ds: "nfs-archive",
            pg: "pg-app",
            dirty: 15.0,
        },
        VmSpec {
            name: "backup-01",
            host: 3,
            vcpus: 4,
            memory_gib: 8,
            disk_gib: 400,
            ds: "nfs-archive",
            pg: "pg-app",
            dirty: 10.0,
        },
        VmSpec {
            name: "jump-01",
            host: 1,
            vcpus: 1,
            memory_gib: 2,
            disk_gib: 20,
            ds: "san-gold",
            pg: "pg-web",
            dirty: 2.0,
        },
        VmSpec {
            name: "dns-01",
            host: 0,
            vcpus: 1,
            memory_gib: 2,
            disk_gib: 16,
            ds: "san-gold",
            pg: "pg-app",
            dirty: 1.0,
        },
        VmSpec {
            name: "dns-02",
            host: 2,
            vcpus: 1,
            memory_gib: 2,
            disk_gib: 16,
            ds: "vsan-prod",
            pg: "pg-app",
            dirty: 1.0,
        },
        // Fails later checks on purpose:
        VmSpec {
            name: "build-local",
            host: 0,
            vcpus: 4,
            memory_gib: 8,
            disk_gib: 100,
            ds: "local-esx-01",
            pg: "pg-app",
            dirty: 30.0,
        },
        VmSpec {
            name: "legacy-erp",
            host: 2,
            vcpus: 4,
            memory_gib: 16,
            disk_gib: 120,
            ds: "san-gold",
            pg: "vss-legacy",
            dirty: 40.0,
        },
        VmSpec {
            name: "vault-01",
            host: 4,
            vcpus: 2,
            memory_gib: 4,
            disk_gib: 30,
            ds: "san-gold",
            pg: "pg-app",
            dirty: 5.0,
        },
        VmSpec {
            name: "edge-gw-01",
            host: 6,
            vcpus: 2,
            memory_gib: 4,
            disk_gib: 20,
            ds: "nfs-archive",
            pg: "pg-web",
            dirty: 10.0,
        },
        VmSpec {
            name: "edge-gw-02",
            host: 7,
            vcpus: 2,
            memory_gib: 4,
            disk_gib: 20,
            ds: "local-edge-02",
            pg: "vss-edge",
            dirty: 10.0,
        },
        VmSpec {
            name: "iot-hub",
            host: 6,
            vcpus: 4,
            memory_gib: 8,
            disk_gib: 50,
            ds: "local-edge-01",
            pg: "pg-app",
            dirty: 35.0,
        },
        VmSpec {
            name: "ft-billing",
            host: 1,
            vcpus: 2,
            memory_gib: 8,
            disk_gib: 60,
            ds: "san-gold",
            pg: "pg-db",
            dirty: 30.0,
        },
        VmSpec {
            name: "license-srv",
            host: 3,
            vcpus: 1,
            memory_gib: 2,
            disk_gib: 10,
            ds: "vsan-prod",
            pg: "pg-app",
            dirty: 1.0,
        },
        VmSpec {
            name: "archive-old",
            host: 2,
            vcpus: 2,
            memory_gib: 4,
            disk_gib: 500,
            ds: "nfs-archive",
            pg: "pg-app",
            dirty: 0.5,
        },
        VmSpec {
            name: "analytics-01",
            host: 0,
            vcpus: 32,
            memory_gib: 64,
            disk_gib: 200,
            ds: "san-gold",
            pg: "pg-app",
            dirty: 300.0,
        },
        VmSpec {
            name: "tight-01",
            host: 1,
            vcpus: 2,
            memory_gib: 4,
            disk_gib: 560,
            ds: "san-tight",
            pg: "pg-app",
            dirty: 5.0,
        },
    ];
    let ds_by_name = |n: &str| {
        [&san, &vsan, &nfs, &tight]
            .into_iter()
            .chain(locals.iter())
            .find(|d| d.name.as_str() == n)
            .map(|d| d.id)
            .expect("demo datastore exists")
    };
    let pg_by_name = |n: &str| {
        [&pg_web, &pg_app, &pg_db, &pg_legacy, &pg_edge]
            .into_iter()
            .find(|p| p.name.as_str() == n)
            .map(|p| p.id)
            .expect("demo port group exists")
    };
    for s in &vm_specs {
        let thin = !s.name.starts_with("db-") && s.name != "tight-01";
        let capacity = s.disk_gib * 1024;
        let mut vm = Vm {
            id: VmId::new_random(),
            name: name(s.name),
            host_id: hosts[s.host].id,
            power_state: if s.name == "archive-old" {
                PowerState::Off
            } else {
                PowerState::On
            },
            vcpus: nz32(s.vcpus),
            memory_mib: nz64(s.memory_gib * 1024),
            memory_reservation_mib: if s.name.starts_with("db-") {
                s.memory_gib * 512
            } else {
                0
            },
            cpu_feature_level: hosts[s.host].cpu_feature_level.min(6),
            disks: vec![Disk {
                datastore_id: ds_by_name(s.ds),
                capacity_mib: nz64(capacity),
                used_mib: if thin { capacity * 2 / 5 } else { capacity },
                thin,
            }],
            nics: vec![Nic {
                portgroup_id: pg_by_name(s.pg),
                connected: true,
            }],
            devices: vec![],
            workload: Workload {
                dirty_rate_mib_s: RateMibS::parse(s.dirty).expect("in range"),
                working_set_mib: (s.dirty < 100.0).then(|| nz64(s.memory_gib * 256)),
                zero_page_fraction: Fraction::parse(0.15).expect("in range"),
                disk_write_mib_s: RateMibS::parse(s.dirty / 10.0).expect("in range"),
            },
            fault_tolerance: s.name == "ft-billing",
            cpu_affinity: s.name == "license-srv",
        };
        if s.name == "web-02" {
            // An ISO on the host's local datastore, still connected.
            vm.devices.push(Device {
                kind: DeviceKind::Cdrom,
                backing: DeviceBacking::File,
                datastore_id: Some(ds_by_name("local-esx-02")),
                connected: true,
            });
        }
        if s.name == "web-03" {
            // A second, disconnected adapter on esx-03's standard port group: a warning.
            vm.nics.push(Nic {
                portgroup_id: pg_by_name("vss-legacy"),
                connected: false,
            });
        }
        if s.name == "app-03" {
            // A disconnected CD-ROM on the host's physical drive: a warning.
            vm.devices.push(Device {
                kind: DeviceKind::Cdrom,
                backing: DeviceBacking::HostDevice,
                datastore_id: None,
                connected: false,
            });
        }
        if s.name == "jump-01" {
            vm.devices.push(Device {
                kind: DeviceKind::Usb,
                backing: DeviceBacking::HostDevice,
                datastore_id: None,
                connected: true,
            });
        }
        objects.push(Object::Vm(vm));
    }
    Inventory::from_objects(objects).expect("the demo inventory is valid")
}

/// Name of the cluster whose VMs are real lab guests under the QEMU driver.
pub const LAB_CLUSTER: &str = "Lab";

/// The lab cluster for the QEMU driver: two hosts on one switch, a datastore both see and a
/// local one on each, and two small guests — `lab-web` on the shared datastore (it can
/// vMotion) and `lab-db` on lab-esx-01's local datastore (the local-storage check stops its
/// vMotion; a Storage vMotion or a combined move takes it across).
pub fn lab_objects() -> Vec<Object> {
    let mut objects = Vec::new();
    let cluster = Cluster {
        id: ClusterId::new_random(),
        name: name(LAB_CLUSTER),
        evc_level: None,
    };
    objects.push(Object::Cluster(cluster.clone()));
    let hosts: Vec<Host> = ["lab-esx-01", "lab-esx-02"]
        .into_iter()
        .map(|n| Host {
            id: HostId::new_random(),
            name: name(n),
            cluster_id: cluster.id,
            cpu_vendor: CpuVendor::Intel,
            cpu_feature_level: 6,
            cores: nz32(2),
            cpu_mhz: nz32(2_000),
            memory_mib: nz64(8 * 1024),
            state: HostState::Connected,
            vmotion_enabled: true,
            // Their "vMotion network" is this machine's loopback between two QEMU processes
            // under TCG: ~300 MB/s at most, as measured (docs/PERFORMANCE.md, issue 6).
            vmotion_link_gbps: gbps(2.5),
            ip_family: IpFamily::V4,
        })
        .collect();
    for h in &hosts {
        objects.push(Object::Host(h.clone()));
    }
    let ids: Vec<HostId> = hosts.iter().map(|h| h.id).collect();
    let datastore = |n: &str, kind: DatastoreKind, host_ids: Vec<HostId>| Datastore {
        id: DatastoreId::new_random(),
        name: name(n),
        kind,
        capacity_mib: nz64(16 * 1024),
        throughput_mib_s: nz32(200),
        host_ids,
    };
    let shared = datastore("lab-shared", DatastoreKind::Nfs, ids.clone());
    let local_1 = datastore("lab-local-01", DatastoreKind::Local, vec![ids[0]]);
    let local_2 = datastore("lab-local-02", DatastoreKind::Local, vec![ids[1]]);
    for d in [&shared, &local_1, &local_2] {
        objects.push(Object::Datastore(d.clone()));
    }
    let switch = Switch {
        id: SwitchId::new_random(),
        name: name("dvs-lab"),
        host_ids: ids.clone(),
    };
    objects.push(Object::Switch(switch.clone()));
    let pg = Portgroup {
        id: PortgroupId::new_random(),
        name: name("pg-lab"),
        vlan: VlanId::parse(150).expect("valid vlan"),
        switch_id: Some(switch.id),
        host_id: None,
    };
    objects.push(Object::Portgroup(pg.clone()));
    for (vm_name, ds, dirty, disk_write) in [
        ("lab-web", &shared, 8.0, 1.0),
        ("lab-db", &local_1, 16.0, 2.0),
    ] {
        objects.push(Object::Vm(Vm {
            id: VmId::new_random(),
            name: name(vm_name),
            host_id: ids[0],
            power_state: PowerState::On,
            vcpus: nz32(1),
            memory_mib: nz64(256),
            memory_reservation_mib: 0,
            cpu_feature_level: 6,
            disks: vec![Disk {
                datastore_id: ds.id,
                capacity_mib: nz64(crate::lab::LAB_DISK_MIB),
                used_mib: crate::lab::LAB_DISK_MIB / 2,
                thin: true,
            }],
            nics: vec![Nic {
                portgroup_id: pg.id,
                connected: true,
            }],
            devices: vec![],
            workload: Workload {
                dirty_rate_mib_s: RateMibS::parse(dirty).expect("in range"),
                working_set_mib: Some(nz64(64)),
                // The lab guest touches its kernel, initramfs and working set only.
                zero_page_fraction: Fraction::parse(0.6).expect("in range"),
                disk_write_mib_s: RateMibS::parse(disk_write).expect("in range"),
            },
            fault_tolerance: false,
            cpu_affinity: false,
        }));
    }
    objects
}

/// The demo inventory with the lab cluster (for the QEMU driver).
pub fn demo_with_lab() -> Inventory {
    let objects: Vec<Object> = demo_inventory().objects().chain(lab_objects()).collect();
    Inventory::from_objects(objects).expect("the demo and the lab are valid together")
}

#[cfg(test)]
mod tests {
    use super::*;

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
