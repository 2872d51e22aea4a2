//! vCenter's objects as vmshift's (docs/VCENTER.md#mapping): the property paths read per type,
//! and the objects they make. Ids derive from the vCenter's instance UUID and each object's
//! managed object id, so a resync finds the same objects.

use super::collect::{Object as Read, Wanted};
use super::devices::Plug;
use super::parsed::Cache;
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
            // The vMotion link (super::vmknic).
            "config.virtualNicManagerInfo.netConfig",
            "config.network.portgroup",
            "config.network.vswitch",
            "config.network.pnic",
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
    ("DistributedVirtualSwitch", &["name", "summary.hostMember"]),
    (
        "DistributedVirtualPortgroup",
        &[
            "name",
            "key",
            "config.distributedVirtualSwitch",
            "config.defaultPortConfig",
            "config.uplink",
            "host",
        ],
    ),
    ("Network", &["name", "host"]),
    (
        "VirtualMachine",
        &[
            "name",
            "runtime.host",
            "runtime.powerState",
            "runtime.faultToleranceState",
            "runtime.minRequiredEVCModeKey",
            "config.hardware.numCPU",
            "config.hardware.memoryMB",
            "config.template",
            "config.hardware.device",
            "config.cpuAffinity",
            "resourceConfig.memoryAllocation.reservation",
            "layoutEx",
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

/// The objects read as an import file for the gate, with each object's managed object id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapped {
    pub file: InventoryFile,
    pub morefs: HashMap<Uuid, String>,
}

/// The objects read, mapped.
pub fn inventory(instance: &str, objects: &[&Read]) -> Mapped {
    inventory_with(instance, objects, &mut Cache::default())
}

/// [`inventory`], parsing only the structures `cache` does not hold already.
pub fn inventory_with(instance: &str, objects: &[&Read], cache: &mut Cache) -> Mapped {
    let mut out = Mapped::default();
    let file = &mut out.file;
    let morefs = &mut out.morefs;
    let mut standalone: Option<ClusterId> = None;
    for c in of(objects, "ClusterComputeResource") {
        let Some(n) = name(c) else { continue };
        morefs.insert(id(instance, &c.obj), c.obj.value.clone());
        file.clusters.push(Cluster {
            id: ClusterId(id(instance, &c.obj)),
            name: n,
            evc_level: c
                .text("summary.currentEVCModeKey")
                .and_then(domain::evc::level),
        });
    }
    let clusters: HashMap<Uuid, ClusterId> = file.clusters.iter().map(|c| (c.id.0, c.id)).collect();
    for h in of(objects, "HostSystem") {
        let Some(n) = name(h) else { continue };
        let parent = h.refs("parent").first().map(|p| id(instance, p));
        let cluster_id = match parent.and_then(|p| clusters.get(&p)) {
            Some(c) => *c,
            None => *standalone.get_or_insert_with(|| {
                let cid = ClusterId(Uuid::new_v5(
                    &NAMESPACE,
                    format!("{instance}/standalone").as_bytes(),
                ));
                morefs.insert(cid.0, "standalone".into());
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
        morefs.insert(id(instance, &h.obj), h.obj.value.clone());
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
            vmotion_link_gbps: cache
                .link_gbps(h)
                .and_then(|g| LinkGbps::parse(g).ok())
                .unwrap_or_else(|| LinkGbps::parse(DEFAULT_LINK_GBPS).expect("a speed")),
            ip_family: IpFamily::V4,
        });
    }
    let hosts: HashMap<Uuid, HostId> = file.hosts.iter().map(|h| (h.id.0, h.id)).collect();
    for d in of(objects, "Datastore") {
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
        morefs.insert(id(instance, &d.obj), d.obj.value.clone());
        file.datastores.push(Datastore {
            id: DatastoreId(id(instance, &d.obj)),
            name: n,
            kind,
            capacity_mib: SizeMib::parse(capacity.max(1)).expect("positive"),
            throughput_mib_s: NonZeroU32::new(DEFAULT_THROUGHPUT_MIB_S).expect("positive"),
            host_ids,
        });
    }
    let networks = networks(instance, objects, &mut out);
    vms(instance, objects, &networks, &mut out, cache);
    cache.sweep();
    out
}

/// Port groups by where a NIC plugs: a distributed one by its key, a standard network on a
/// host by both.
#[derive(Default)]
struct Networks {
    distributed: HashMap<String, PortgroupId>,
    standard: HashMap<(MoRef, HostId), PortgroupId>,
}

/// A distributed port group's VLAN: its VLAN id, 0 for a trunk or none.
fn vlan(o: &Read) -> VlanId {
    let xml = o
        .props
        .get("config.defaultPortConfig")
        .map_or("", |v| v.xml.as_str());
    let wrapped = super::collect::fragment(xml);
    let id = roxmltree::Document::parse(&wrapped).ok().and_then(|doc| {
        let vlan = doc.descendants().find(|n| n.tag_name().name() == "vlan")?;
        super::soap::text_of(vlan, "vlanId")?.parse::<u16>().ok()
    });
    VlanId::parse(id.unwrap_or(0)).unwrap_or_else(|_| VlanId::parse(0).expect("0"))
}

fn of<'a>(objects: &'a [&'a Read], kind: &'static str) -> impl Iterator<Item = &'a Read> {
    objects.iter().copied().filter(move |o| o.obj.kind == kind)
}

/// Distributed switches (`VmwareDistributedVirtualSwitch` is one) and their members.
fn switches(instance: &str, objects: &[&Read], out: &mut Mapped) -> HashMap<String, SwitchId> {
    let (file, morefs) = (&mut out.file, &mut out.morefs);
    let hosts: HashMap<Uuid, HostId> = file.hosts.iter().map(|h| (h.id.0, h.id)).collect();
    let host_ids = |refs: &[MoRef]| -> Vec<HostId> {
        refs.iter()
            .filter_map(|r| hosts.get(&id(instance, r)).copied())
            .collect()
    };
    let mut found = HashMap::new();
    for sw in
        of(objects, "DistributedVirtualSwitch").chain(of(objects, "VmwareDistributedVirtualSwitch"))
    {
        let Some(n) = name(sw) else { continue };
        let mut members = host_ids(sw.refs("summary.hostMember"));
        if members.is_empty() {
            // Servers that leave hostMember empty: the hosts its port groups reach.
            let own = |p: &&Read| {
                p.refs("config.distributedVirtualSwitch")
                    .first()
                    .is_some_and(|s| s.value == sw.obj.value)
            };
            for p in of(objects, "DistributedVirtualPortgroup").filter(own) {
                for h in host_ids(p.refs("host")) {
                    if !members.contains(&h) {
                        members.push(h);
                    }
                }
            }
        }
        let sid = SwitchId(id(instance, &sw.obj));
        found.insert(sw.obj.value.clone(), sid);
        morefs.insert(sid.0, sw.obj.value.clone());
        file.switches.push(Switch {
            id: sid,
            name: n,
            host_ids: members,
        });
    }
    found
}

/// Distributed port groups (uplink port groups left out), and a standard port group per host
/// of each standard network.
fn networks(instance: &str, objects: &[&Read], mapped: &mut Mapped) -> Networks {
    let switches = switches(instance, objects, mapped);
    let (file, morefs) = (&mut mapped.file, &mut mapped.morefs);
    let hosts: HashMap<Uuid, HostId> = file.hosts.iter().map(|h| (h.id.0, h.id)).collect();
    let uplink = |p: &&Read| {
        p.boolean("config.uplink") == Some(true)
            || p.text("name").is_some_and(|n| n.contains("DVUplinks"))
    };
    let mut out = Networks::default();
    for p in of(objects, "DistributedVirtualPortgroup").filter(|p| !uplink(p)) {
        let switch = p
            .refs("config.distributedVirtualSwitch")
            .first()
            .and_then(|s| switches.get(&s.value));
        let (Some(n), Some(switch)) = (name(p), switch) else {
            continue;
        };
        let pid = PortgroupId(id(instance, &p.obj));
        morefs.insert(pid.0, p.obj.value.clone());
        file.portgroups.push(Portgroup {
            id: pid,
            name: n,
            vlan: vlan(p),
            switch_id: Some(*switch),
            host_id: None,
        });
        out.distributed
            .insert(p.text("key").unwrap_or(&p.obj.value).to_string(), pid);
    }
    for net in of(objects, "Network") {
        let Some(n) = name(net) else { continue };
        for r in net.refs("host") {
            let Some(h) = hosts.get(&id(instance, r)) else {
                continue;
            };
            let key = format!("{instance}/{}/{}", net.obj.value, r.value);
            let pid = PortgroupId(Uuid::new_v5(&NAMESPACE, key.as_bytes()));
            morefs.insert(pid.0, format!("{}@{}", net.obj.value, r.value));
            file.portgroups.push(Portgroup {
                id: pid,
                name: n.clone(),
                vlan: VlanId::parse(0).expect("0"),
                switch_id: None,
                host_id: Some(*h),
            });
            out.standard.insert((net.obj.clone(), *h), pid);
        }
    }
    out
}

/// VMs (templates left out) with their disks, NICs and devices.
fn vms(
    instance: &str,
    objects: &[&Read],
    networks: &Networks,
    mapped: &mut Mapped,
    cache: &mut Cache,
) {
    let (file, morefs) = (&mut mapped.file, &mut mapped.morefs);
    let hosts: HashMap<Uuid, (HostId, u32)> = file
        .hosts
        .iter()
        .map(|h| (h.id.0, (h.id, h.cpu_feature_level)))
        .collect();
    let datastores: HashMap<Uuid, DatastoreId> =
        file.datastores.iter().map(|d| (d.id.0, d.id)).collect();
    let ds = |r: &MoRef| datastores.get(&id(instance, r)).copied();
    for v in of(objects, "VirtualMachine") {
        if v.boolean("config.template") == Some(true) {
            continue;
        }
        let host = v
            .refs("runtime.host")
            .first()
            .and_then(|h| hosts.get(&id(instance, h)));
        let (Some(n), Some((host, level))) = (name(v), host) else {
            continue;
        };
        let parts = cache.vm(v);
        let (read, committed) = (&parts.devices, &parts.committed);
        let disks = read
            .disks
            .iter()
            .zip(&read.disk_keys)
            .filter_map(|((mib, d, thin), key)| {
                // A thin disk holds what layoutEx says its files hold (else half, guessed).
                let used = match committed.get(key) {
                    Some(bytes) => (bytes / 1_048_576).min(*mib),
                    None if *thin => mib / 2,
                    None => *mib,
                };
                Some(Disk {
                    datastore_id: ds(d)?,
                    capacity_mib: SizeMib::parse(*mib).ok()?,
                    used_mib: if *thin { used } else { *mib },
                    thin: *thin,
                })
            })
            .collect();
        let nics = read
            .nics
            .iter()
            .filter_map(|(plug, connected)| {
                let portgroup_id = match plug {
                    Plug::Distributed(key) => networks.distributed.get(&key.value).copied(),
                    Plug::Standard(net) => networks.standard.get(&(net.clone(), *host)).copied(),
                }?;
                Some(Nic {
                    portgroup_id,
                    connected: *connected,
                })
            })
            .collect();
        let devices = read
            .devices
            .iter()
            .map(|(kind, backing, d, connected)| Device {
                kind: *kind,
                backing: *backing,
                datastore_id: d.as_ref().and_then(ds),
                connected: *connected,
            })
            .collect();
        let number = |path: &str, default: f64| v.number(path).unwrap_or(default).max(0.0);
        morefs.insert(id(instance, &v.obj), v.obj.value.clone());
        file.vms.push(Vm {
            id: VmId(id(instance, &v.obj)),
            name: n,
            host_id: *host,
            power_state: match v.text("runtime.powerState") {
                Some("poweredOn") => PowerState::On,
                Some("suspended") => PowerState::Suspended,
                _ => PowerState::Off,
            },
            vcpus: NonZeroU32::new(number("config.hardware.numCPU", 1.0) as u32)
                .unwrap_or(NonZeroU32::MIN),
            memory_mib: SizeMib::parse(number("config.hardware.memoryMB", 1.0).max(1.0) as u64)
                .expect("positive"),
            memory_reservation_mib: number("resourceConfig.memoryAllocation.reservation", 0.0)
                as u64,
            cpu_feature_level: v
                .text("runtime.minRequiredEVCModeKey")
                .and_then(domain::evc::level)
                .unwrap_or(*level),
            disks,
            nics,
            devices,
            workload: Workload::default(),
            fault_tolerance: v
                .text("runtime.faultToleranceState")
                .is_some_and(|s| s != "notConfigured"),
            cpu_affinity: v
                .props
                .get("config.cpuAffinity")
                .is_some_and(|a| a.xml.contains("affinitySet")),
        });
    }
}
