//! The inventory as an RVTools export (docs/IMPORT.md#export): the tabs RVTools 4.x writes,
//! with its headers, holding what vmshift knows — so that the import reads it back to the
//! same inventory, and any tool that reads RVTools reads it too. vmshift is its one "vCenter"
//! (`VI SDK Server` = `vmshift`); VM UUIDs are vmshift's VM ids.

use crate::{Cell, Row, Separators, Table, Workbook};
use domain::evc;
use domain::*;

/// The server name the export gives its one "vCenter".
pub const SERVER: &str = "vmshift";

struct Tab {
    name: &'static str,
    headers: &'static [&'static str],
    rows: Vec<Vec<Cell>>,
}

impl Tab {
    fn new(name: &'static str, headers: &'static [&'static str]) -> Self {
        Tab {
            name,
            headers,
            rows: Vec::new(),
        }
    }

    fn push(&mut self, cells: Vec<Cell>) {
        debug_assert_eq!(cells.len(), self.headers.len(), "{}", self.name);
        self.rows.push(cells);
    }

    fn table(self) -> Table {
        let rows = self
            .rows
            .into_iter()
            .enumerate()
            .map(|(i, cells)| Row {
                number: i + 2,
                cells,
            })
            .collect();
        Table::new(
            self.name,
            self.headers.iter().map(|h| h.to_string()).collect(),
            rows,
            Separators::Point,
        )
    }
}

fn t(s: impl Into<String>) -> Cell {
    let s = s.into();
    if s.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(s)
    }
}
fn n(v: impl Into<f64>) -> Cell {
    Cell::Number(v.into())
}
fn b(v: bool) -> Cell {
    Cell::Bool(v)
}

/// A vmdk or vmx path as vSphere writes it: `[datastore] vm/file`.
fn path(inv: &Inventory, ds: DatastoreId, vm: &str, file: &str) -> String {
    let ds = inv.datastores.get(&ds).map_or("", |d| d.name.as_str());
    format!("[{ds}] {vm}/{file}")
}

fn vendor_model(v: CpuVendor) -> &'static str {
    match v {
        CpuVendor::Amd => "AMD EPYC Processor",
        CpuVendor::Intel => "Intel(R) Xeon(R) Processor",
    }
}

/// The inventory's tabs.
pub fn workbook(inv: &Inventory) -> Workbook {
    let mut tabs = vec![vinfo(inv)];
    tabs.extend(vm_children(inv));
    tabs.extend(hosts(inv));
    tabs.extend(networks(inv));
    Workbook {
        tables: tabs.into_iter().map(Tab::table).collect(),
    }
}

fn vinfo(inv: &Inventory) -> Tab {
    let mut info = Tab::new(
        "vInfo",
        &[
            "VM",
            "Powerstate",
            "Template",
            "CPUs",
            "Memory",
            "Active Memory",
            "NICs",
            "Disks",
            "Provisioned MiB",
            "In Use MiB",
            "Path",
            "FT State",
            "min Required EVC Mode Key",
            "Datacenter",
            "Cluster",
            "Host",
            "VM UUID",
            "VI SDK Server",
        ],
    );
    for vm in inv.vms.values() {
        let host = &inv.hosts[&vm.host_id];
        let cluster = inv
            .clusters
            .get(&host.cluster_id)
            .map_or("", |c| c.name.as_str());
        let name = vm.name.as_str();
        let provisioned: u64 = vm.disks.iter().map(|d| d.capacity_mib.get()).sum();
        let used: u64 = vm.disks.iter().map(|d| d.used_mib).sum();
        let vmx = vm.disks.first().map_or(String::new(), |d| {
            path(inv, d.datastore_id, name, &format!("{name}.vmx"))
        });
        info.push(vec![
            t(name),
            t(match vm.power_state {
                PowerState::On => "poweredOn",
                PowerState::Off => "poweredOff",
                PowerState::Suspended => "suspended",
            }),
            b(false),
            n(vm.vcpus.get()),
            n(vm.memory_mib.get() as f64),
            vm.workload
                .working_set_mib
                .map_or(Cell::Empty, |w| n(w.get() as f64)),
            n(vm.nics.len() as f64),
            n(vm.disks.len() as f64),
            n(provisioned as f64),
            n(used as f64),
            t(vmx),
            t(if vm.fault_tolerance {
                "running"
            } else {
                "notConfigured"
            }),
            t(evc::key(vm.cpu_feature_level, host.cpu_vendor)),
            t(SERVER),
            t(cluster),
            t(host.name.as_str()),
            t(vm.id.0.to_string()),
            t(SERVER),
        ]);
    }
    info
}

/// vDisk, vNetwork, vCD, vUSB, vMemory and vCPU: the VMs' disks, NICs, devices,
/// reservations and affinity.
fn vm_children(inv: &Inventory) -> Vec<Tab> {
    let mut disk = Tab::new("vDisk", &["VM", "Disk", "Capacity MiB", "Thin", "Path"]);
    let mut net = Tab::new(
        "vNetwork",
        &[
            "VM",
            "NIC label",
            "Adapter",
            "Network",
            "Switch",
            "Connected",
            "Starts Connected",
        ],
    );
    let mut cd = Tab::new("vCD", &["VM", "Device Node", "Connected", "Device Type"]);
    let mut usb = Tab::new("vUSB", &["VM", "Device Node", "Connected"]);
    let mut memory = Tab::new("vMemory", &["VM", "Size MiB", "Reservation"]);
    let mut cpu = Tab::new("vCPU", &["VM", "CPUs", "Affinity"]);
    for vm in inv.vms.values() {
        let name = vm.name.as_str();
        for (i, d) in vm.disks.iter().enumerate() {
            let file = if i == 0 {
                format!("{name}.vmdk")
            } else {
                format!("{name}_{i}.vmdk")
            };
            disk.push(vec![
                t(name),
                t(format!("Hard disk {}", i + 1)),
                n(d.capacity_mib.get() as f64),
                b(d.thin),
                t(path(inv, d.datastore_id, name, &file)),
            ]);
        }
        for (i, nic) in vm.nics.iter().enumerate() {
            let pg = &inv.portgroups[&nic.portgroup_id];
            let switch = pg
                .switch_id
                .and_then(|s| inv.switches.get(&s))
                .map_or("vSwitch0", |s| s.name.as_str());
            net.push(vec![
                t(name),
                t(format!("Network adapter {}", i + 1)),
                t("vmxnet3"),
                t(pg.name.as_str()),
                t(switch),
                b(nic.connected),
                b(nic.connected),
            ]);
        }
        let (mut cds, mut usbs) = (0, 0);
        for d in &vm.devices {
            match d.kind {
                DeviceKind::Cdrom => {
                    cds += 1;
                    let what = match (d.backing, d.datastore_id) {
                        (DeviceBacking::File, Some(ds)) => {
                            path(inv, ds, "iso", &format!("{name}.iso"))
                        }
                        (DeviceBacking::File, None) => "ISO image".into(),
                        (DeviceBacking::HostDevice, _) => "Host Device".into(),
                    };
                    cd.push(vec![
                        t(name),
                        t(format!("CD/DVD drive {cds}")),
                        b(d.connected),
                        t(what),
                    ]);
                }
                DeviceKind::Usb => {
                    usbs += 1;
                    usb.push(vec![t(name), t(format!("USB {usbs}")), b(d.connected)]);
                }
                DeviceKind::Floppy | DeviceKind::Serial => {}
            }
        }
        memory.push(vec![
            t(name),
            n(vm.memory_mib.get() as f64),
            n(vm.memory_reservation_mib as f64),
        ]);
        let affinity = if vm.cpu_affinity {
            format!("0-{}", vm.vcpus.get() - 1)
        } else {
            String::new()
        };
        cpu.push(vec![t(name), n(vm.vcpus.get()), t(affinity)]);
    }
    vec![disk, net, cd, usb, memory, cpu]
}

/// vCluster, vHost, vNIC, vSC_VMK and vDatastore.
fn hosts(inv: &Inventory) -> Vec<Tab> {
    let mut cluster = Tab::new(
        "vCluster",
        &["Name", "NumHosts", "EVC Mode", "VI SDK Server"],
    );
    let vendor_of = |c: ClusterId| {
        inv.hosts
            .values()
            .find(|h| h.cluster_id == c)
            .map_or(CpuVendor::Intel, |h| h.cpu_vendor)
    };
    for c in inv.clusters.values() {
        let hosts = inv.hosts.values().filter(|h| h.cluster_id == c.id).count();
        cluster.push(vec![
            t(c.name.as_str()),
            n(hosts as f64),
            t(c.evc_level.map_or("", |l| evc::key(l, vendor_of(c.id)))),
            t(SERVER),
        ]);
    }
    let mut host = Tab::new(
        "vHost",
        &[
            "Host",
            "Datacenter",
            "Cluster",
            "CPU Model",
            "Speed",
            "# CPU",
            "Cores per CPU",
            "# Cores",
            "# Memory",
            "in Maintenance Mode",
            "Connection state",
            "Max EVC",
            "VI SDK Server",
        ],
    );
    let mut nic = Tab::new("vNIC", &["Host", "Network Device", "Speed", "Duplex"]);
    let mut vmk = Tab::new(
        "vSC_VMK",
        &[
            "Host",
            "Port Group",
            "Device",
            "IP Address",
            "IP 6 Address",
            "Services",
        ],
    );
    for h in inv.hosts.values() {
        let cl = inv
            .clusters
            .get(&h.cluster_id)
            .map_or("", |c| c.name.as_str());
        host.push(vec![
            t(h.name.as_str()),
            t(SERVER),
            t(cl),
            t(vendor_model(h.cpu_vendor)),
            n(h.cpu_mhz.get()),
            n(1),
            n(h.cores.get()),
            n(h.cores.get()),
            n(h.memory_mib.get() as f64),
            b(h.state == HostState::Maintenance),
            t(match h.state {
                HostState::Disconnected => "disconnected",
                _ => "connected",
            }),
            t(evc::key(h.cpu_feature_level, h.cpu_vendor)),
            t(SERVER),
        ]);
        nic.push(vec![
            t(h.name.as_str()),
            t("vmnic0"),
            n(h.vmotion_link_gbps.get() * 1_000.0),
            t("Full"),
        ]);
        let (v4, v6) = match h.ip_family {
            IpFamily::V4 => ("192.0.2.10", ""),
            IpFamily::V6 => ("", "2001:db8::10"),
        };
        vmk.push(vec![
            t(h.name.as_str()),
            t("Management Network"),
            t("vmk0"),
            t(v4),
            t(v6),
            t(if h.vmotion_enabled {
                "management, vMotion"
            } else {
                "management"
            }),
        ]);
    }
    let mut ds = Tab::new(
        "vDatastore",
        &[
            "Name",
            "Type",
            "Capacity MiB",
            "Free MiB",
            "# Hosts",
            "Hosts",
            "VI SDK Server",
        ],
    );
    for d in inv.datastores.values() {
        let free = inv.free_mib(d);
        let hosts: Vec<&str> = d
            .host_ids
            .iter()
            .filter_map(|h| inv.hosts.get(h))
            .map(|h| h.name.as_str())
            .collect();
        ds.push(vec![
            t(d.name.as_str()),
            t(match d.kind {
                DatastoreKind::Nfs => "NFS",
                DatastoreKind::Vsan => "vsan",
                DatastoreKind::Local | DatastoreKind::VmfsShared => "VMFS",
            }),
            n(d.capacity_mib.get() as f64),
            n(free as f64),
            n(hosts.len() as f64),
            t(hosts.join(", ")),
            t(SERVER),
        ]);
    }
    vec![cluster, host, nic, vmk, ds]
}

/// dvSwitch, dvPort, vSwitch and vPort.
fn networks(inv: &Inventory) -> Vec<Tab> {
    let mut dvs = Tab::new(
        "dvSwitch",
        &["Switch", "Name", "Host members", "VI SDK Server"],
    );
    for s in inv.switches.values() {
        let members: Vec<&str> = s
            .host_ids
            .iter()
            .filter_map(|h| inv.hosts.get(h))
            .map(|h| h.name.as_str())
            .collect();
        dvs.push(vec![
            t(s.name.as_str()),
            t(s.name.as_str()),
            t(members.join(", ")),
            t(SERVER),
        ]);
    }
    let mut dvp = Tab::new("dvPort", &["Port", "Switch", "VLAN", "VI SDK Server"]);
    let mut vport = Tab::new(
        "vPort",
        &["Host", "Port Group", "Switch", "VLAN", "VI SDK Server"],
    );
    for p in inv.portgroups.values() {
        match p.attachment() {
            Some(PortgroupAttachment::Distributed(s)) => dvp.push(vec![
                t(p.name.as_str()),
                t(inv.switches.get(&s).map_or("", |s| s.name.as_str())),
                n(p.vlan.get()),
                t(SERVER),
            ]),
            Some(PortgroupAttachment::Standard(h)) => vport.push(vec![
                t(inv.hosts.get(&h).map_or("", |h| h.name.as_str())),
                t(p.name.as_str()),
                t("vSwitch0"),
                n(p.vlan.get()),
                t(SERVER),
            ]),
            None => {}
        }
    }
    vec![dvs, dvp, vport]
}
