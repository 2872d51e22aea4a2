//! vCenter's objects as vmshift's (docs/VCENTER.md#mapping): the property paths read per type,
//! and the objects they make. Ids derive from the vCenter's instance UUID and each object's
//! managed object id, so a resync finds the same objects.

use super::collect::{Object as Read, Wanted};
use super::soap::MoRef;
use domain::*;
use std::collections::HashMap;
use std::num::NonZeroU32;
use uuid::Uuid;

/// The property paths vmshift reads, per type (the table in docs/VCENTER.md#mapping).
pub const WANTED: Wanted<'static> = &[
    (
        "ClusterComputeResource",
        &["name", "summary.currentEVCModeKey"],
    ),
    (
        "HostSystem",
        &[
            "name",
            "parent",
            "summary.hardware.numCpuCores",
            "summary.hardware.cpuMhz",
            "summary.hardware.memorySize",
            "summary.hardware.cpuModel",
            "runtime.connectionState",
            "runtime.inMaintenanceMode",
            "summary.config.vmotionEnabled",
            "summary.maxEVCModeKey",
        ],
    ),
    (
        "Datastore",
        &[
            "name",
            "summary.capacity",
            "summary.type",
            "summary.multipleHostAccess",
            "host",
        ],
    ),
    (
        "VirtualMachine",
        &[
            "name",
            "runtime.host",
            "runtime.powerState",
            "config.hardware.numCPU",
            "config.hardware.memoryMB",
            "config.template",
            "config.hardware.device",
        ],
    ),
];

/// Figures vSphere does not have (docs/VCENTER.md#defaults).
const DEFAULT_THROUGHPUT_MIB_S: u32 = 500;
const DEFAULT_LINK_GBPS: f64 = 10.0;
const DEFAULT_FEATURE_LEVEL: u32 = 6;
const STANDALONE: &str = "Standalone hosts";

/// The namespace of vCenter-derived ids.
const NAMESPACE: Uuid = Uuid::from_u128(0x8c3b_1f7e_52a4_4d0b_b1e6_0a9f_4c27_d815);

fn id(instance: &str, r: &MoRef) -> Uuid {
    Uuid::new_v5(
        &NAMESPACE,
        format!("{instance}/{}/{}", r.kind, r.value).as_bytes(),
    )
}

fn name(o: &Read) -> Option<Name> {
    o.text("name").and_then(|n| Name::parse(n).ok())
}

/// The objects read, as an import file for the gate.
pub fn inventory(instance: &str, objects: &[Read]) -> InventoryFile {
    let mut file = InventoryFile::default();
    let of = |kind: &'static str| objects.iter().filter(move |o| o.obj.kind == kind);
    let mut standalone: Option<ClusterId> = None;
    for c in of("ClusterComputeResource") {
        let Some(n) = name(c) else { continue };
        file.clusters.push(Cluster {
            id: ClusterId(id(instance, &c.obj)),
            name: n,
            evc_level: c
                .text("summary.currentEVCModeKey")
                .and_then(domain::evc::level),
        });
    }
    let clusters: HashMap<Uuid, ClusterId> = file.clusters.iter().map(|c| (c.id.0, c.id)).collect();
    for h in of("HostSystem") {
        let Some(n) = name(h) else { continue };
        let parent = h.refs("parent").first().map(|p| id(instance, p));
        let cluster_id = match parent.and_then(|p| clusters.get(&p)) {
            Some(c) => *c,
            None => *standalone.get_or_insert_with(|| {
                let cid = ClusterId(Uuid::new_v5(
                    &NAMESPACE,
                    format!("{instance}/standalone").as_bytes(),
                ));
                file.clusters.push(Cluster {
                    id: cid,
                    name: Name::parse(STANDALONE).expect("a name"),
                    evc_level: None,
                });
                cid
            }),
        };
        let nz = |v: Option<f64>, d: u32| {
            NonZeroU32::new(v.map_or(d, |v| v as u32)).unwrap_or(NonZeroU32::MIN)
        };
        let memory = h
            .number("summary.hardware.memorySize")
            .map_or(512 * 1024, |b| (b / 1_048_576.0) as u64);
        let state = if h.boolean("runtime.inMaintenanceMode") == Some(true) {
            HostState::Maintenance
        } else if h
            .text("runtime.connectionState")
            .is_some_and(|s| s != "connected")
        {
            HostState::Disconnected
        } else {
            HostState::Connected
        };
        file.hosts.push(Host {
            id: HostId(id(instance, &h.obj)),
            name: n,
            cluster_id,
            cpu_vendor: if h
                .text("summary.hardware.cpuModel")
                .is_some_and(|m| m.to_lowercase().contains("amd"))
            {
                CpuVendor::Amd
            } else {
                CpuVendor::Intel
            },
            cpu_feature_level: h
                .text("summary.maxEVCModeKey")
                .and_then(domain::evc::level)
                .unwrap_or(DEFAULT_FEATURE_LEVEL),
            cores: nz(h.number("summary.hardware.numCpuCores"), 32),
            cpu_mhz: nz(h.number("summary.hardware.cpuMhz"), 2_600),
            memory_mib: SizeMib::parse(memory.max(1)).unwrap_or(SizeMib::parse(1).expect("1")),
            state,
            vmotion_enabled: h.boolean("summary.config.vmotionEnabled").unwrap_or(false),
            vmotion_link_gbps: LinkGbps::parse(DEFAULT_LINK_GBPS).expect("a speed"),
            ip_family: IpFamily::V4,
        });
    }
    let hosts: HashMap<Uuid, HostId> = file.hosts.iter().map(|h| (h.id.0, h.id)).collect();
    for d in of("Datastore") {
        let Some(n) = name(d) else { continue };
        let host_ids: Vec<HostId> = d
            .refs("host")
            .iter()
            .filter_map(|r| hosts.get(&id(instance, r)).copied())
            .collect();
        let kind = match d.text("summary.type").unwrap_or("").to_lowercase().as_str() {
            "nfs" | "nfs41" => DatastoreKind::Nfs,
            "vsan" => DatastoreKind::Vsan,
            _ if host_ids.len() > 1 || d.boolean("summary.multipleHostAccess") == Some(true) => {
                DatastoreKind::VmfsShared
            }
            _ => DatastoreKind::Local,
        };
        let capacity = d
            .number("summary.capacity")
            .map_or(1, |b| (b / 1_048_576.0) as u64);
        file.datastores.push(Datastore {
            id: DatastoreId(id(instance, &d.obj)),
            name: n,
            kind,
            capacity_mib: SizeMib::parse(capacity.max(1)).expect("positive"),
            throughput_mib_s: NonZeroU32::new(DEFAULT_THROUGHPUT_MIB_S).expect("positive"),
            host_ids,
        });
    }
    let datastores: HashMap<Uuid, DatastoreId> =
        file.datastores.iter().map(|d| (d.id.0, d.id)).collect();
    for v in of("VirtualMachine") {
        if v.boolean("config.template") == Some(true) {
            continue;
        }
        let (Some(n), Some(host)) = (
            name(v),
            v.refs("runtime.host")
                .first()
                .and_then(|h| hosts.get(&id(instance, h))),
        ) else {
            continue;
        };
        let disks = v
            .props
            .get("config.hardware.device")
            .map(|d| disks(instance, &d.xml, &datastores))
            .unwrap_or_default();
        let level = file
            .hosts
            .iter()
            .find(|h| h.id == *host)
            .map_or(DEFAULT_FEATURE_LEVEL, |h| h.cpu_feature_level);
        file.vms.push(Vm {
            id: VmId(id(instance, &v.obj)),
            name: n,
            host_id: *host,
            power_state: match v.text("runtime.powerState") {
                Some("poweredOn") => PowerState::On,
                Some("suspended") => PowerState::Suspended,
                _ => PowerState::Off,
            },
            vcpus: NonZeroU32::new(v.number("config.hardware.numCPU").unwrap_or(1.0) as u32)
                .unwrap_or(NonZeroU32::MIN),
            memory_mib: SizeMib::parse(
                v.number("config.hardware.memoryMB").unwrap_or(1.0).max(1.0) as u64,
            )
            .expect("positive"),
            memory_reservation_mib: 0,
            cpu_feature_level: level,
            disks,
            nics: Vec::new(),
            devices: Vec::new(),
            workload: Workload::default(),
            fault_tolerance: false,
            cpu_affinity: false,
        });
    }
    file
}

/// The VM's virtual disks from its device list (`VirtualDisk`: `capacityInKB`, the backing's
/// datastore and thin provisioning).
fn disks(instance: &str, xml: &str, datastores: &HashMap<Uuid, DatastoreId>) -> Vec<Disk> {
    let wrapped = super::collect::fragment(xml);
    let Ok(doc) = roxmltree::Document::parse(&wrapped) else {
        return Vec::new();
    };
    let Some(val) = doc.root_element().first_element_child() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for dev in val.children().filter(|n| n.is_element()) {
        let is_disk = dev
            .attributes()
            .any(|a| a.name() == "type" && a.value().ends_with("VirtualDisk"));
        if !is_disk {
            continue;
        }
        let text = |n: roxmltree::Node<'_, '_>, name: &str| super::soap::text_of(n, name);
        let kib = text(dev, "capacityInKB")
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or(0);
        let Some(backing) = super::soap::child(dev, "backing") else {
            continue;
        };
        let ds = super::soap::child(backing, "datastore")
            .and_then(super::soap::moref)
            .and_then(|r| datastores.get(&id(instance, &r)).copied());
        let (Some(ds), Some(capacity)) = (ds, SizeMib::parse((kib / 1024).max(1)).ok()) else {
            continue;
        };
        let thin = text(backing, "thinProvisioned").as_deref() == Some("true");
        out.push(Disk {
            datastore_id: ds,
            capacity_mib: capacity,
            used_mib: if thin {
                capacity.get() / 2
            } else {
                capacity.get()
            },
            thin,
        });
    }
    out
}
