//! VMs (docs/IMPORT.md#vms): vInfo rows (templates left out), their disks from vDisk (or
//! vInfo's provisioned and used sizes), NICs from vNetwork (or vInfo's `Network #n`), CD/DVD
//! drives and USB devices from vCD and vUSB, Fault Tolerance from vInfo.

use super::hosts::Hosts;
use super::network::Network;
use super::storage::{datastore_of_path, Storage};
use super::{need, Work};
use crate::{ReadError, Row, Table, Workbook};
use domain::evc;
use domain::*;
use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;

/// Rows of a child tab by the VM they belong to.
fn by_vm(t: Option<&Table>) -> Result<HashMap<String, Vec<&Row>>, ReadError> {
    let mut out: HashMap<String, Vec<&Row>> = HashMap::new();
    if let Some(t) = t {
        let vm = need(t, &["VM"])?;
        for r in &t.rows {
            if let Some(v) = t.text(r, vm) {
                out.entry(v).or_default().push(r);
            }
        }
    }
    Ok(out)
}

/// The networks each VM's NICs name, with the VM's host: what port groups must exist.
pub fn networks_named(book: &Workbook, hosts: &Hosts) -> Result<Vec<(HostId, String)>, ReadError> {
    let info = book.get("vInfo").expect("required");
    let (vm, host) = (need(info, &["VM"])?, need(info, &["Host"])?);
    let host_of: HashMap<String, HostId> = info
        .rows
        .iter()
        .filter_map(|r| Some((info.text(r, vm)?, hosts.find(&info.text(r, host)?)?)))
        .collect();
    let mut out = Vec::new();
    match book.get("vNetwork") {
        Some(t) => {
            let (v, n) = (need(t, &["VM"])?, need(t, &["Network"])?);
            for r in &t.rows {
                if let (Some(h), Some(name)) =
                    (t.text(r, v).and_then(|v| host_of.get(&v)), t.text(r, n))
                {
                    out.push((*h, name));
                }
            }
        }
        None => {
            for r in &info.rows {
                let Some(h) = info.text(r, vm).and_then(|v| host_of.get(&v)) else {
                    continue;
                };
                for i in 1..=8 {
                    if let Some(name) = info
                        .column(&[&format!("Network #{i}")])
                        .and_then(|c| info.text(r, c))
                    {
                        out.push((*h, name));
                    }
                }
            }
        }
    }
    Ok(out)
}

struct Columns {
    vm: usize,
    power: usize,
    template: Option<usize>,
    cpus: usize,
    memory: usize,
    host: usize,
    provisioned: Option<usize>,
    in_use: Option<usize>,
    disks: Option<usize>,
    path: Option<usize>,
    ft: Option<usize>,
    active: Option<usize>,
    uuid: Option<usize>,
    evc: Option<usize>,
}

impl Columns {
    fn of(t: &Table) -> Result<Self, ReadError> {
        Ok(Columns {
            vm: need(t, &["VM"])?,
            power: need(t, &["Powerstate"])?,
            template: t.column(&["Template"]),
            cpus: need(t, &["CPUs"])?,
            memory: need(t, &["Memory"])?,
            host: need(t, &["Host"])?,
            provisioned: t.column(&["Provisioned MiB"]),
            in_use: t.column(&["In Use MiB"]),
            disks: t.column(&["Disks"]),
            path: t.column(&["Path"]),
            ft: t.column(&["FT State"]),
            active: t.column(&["Active Memory"]),
            uuid: t.column(&["VM UUID", "VM ID"]),
            evc: t.column(&["min Required EVC Mode Key"]),
        })
    }
}

/// What the VMs' disks, NICs and devices come from.
pub(super) struct Children<'t> {
    pub disks: HashMap<String, Vec<&'t Row>>,
    pub nics: HashMap<String, Vec<&'t Row>>,
    pub cds: HashMap<String, Vec<&'t Row>>,
    pub usbs: HashMap<String, Vec<&'t Row>>,
    pub memory: HashMap<String, Vec<&'t Row>>,
    pub cpu: HashMap<String, Vec<&'t Row>>,
    pub partitions: HashMap<String, Vec<&'t Row>>,
}

#[derive(Default)]
pub(super) struct Tally {
    pub split_disks: usize,
    pub from_network_columns: usize,
    pub working_sets: usize,
}

impl Work<'_> {
    /// The VM's disks: its vDisk rows, else its provisioned and used sizes split over its
    /// `Disks` count, on the datastore its path names or its cluster's.
    #[allow(clippy::too_many_arguments)]
    fn disks(
        &mut self,
        info: &Table,
        c: &Columns,
        row: &Row,
        host: HostId,
        rows: Option<&Vec<&Row>>,
        partitions: Option<f64>,
        storage: &Storage,
        hosts: &Hosts,
        tally: &mut Tally,
    ) -> Result<Vec<Disk>, ReadError> {
        let mounted = |ds: DatastoreId, file: &InventoryFile| {
            file.datastores
                .iter()
                .any(|d| d.id == ds && d.host_ids.contains(&host))
        };
        let fallback = info
            .text(row, c.path.unwrap_or(usize::MAX))
            .and_then(|p| datastore_of_path(&p).map(str::to_lowercase))
            .and_then(|n| storage.by_name.get(&n).copied())
            .or_else(|| {
                hosts
                    .cluster_of
                    .get(&host)
                    .and_then(|cl| storage.of_cluster.get(cl))
                    .copied()
            });
        let mut out = Vec::new();
        let provisioned = c
            .provisioned
            .map(|p| info.number(row, p))
            .transpose()?
            .flatten()
            .unwrap_or(0.0);
        let used = c
            .in_use
            .map(|p| info.number(row, p))
            .transpose()?
            .flatten()
            .or(partitions)
            .unwrap_or(provisioned)
            .min(provisioned);
        // What a thin disk holds: the VM's share in use (vDisk gives no used size per disk).
        let in_use = if provisioned > 0.0 {
            used / provisioned
        } else {
            1.0
        };
        if let (Some(rows), Some(t)) = (rows, self.book.get("vDisk")) {
            let (cap, thin, path) = (
                need(t, &["Capacity MiB"])?,
                t.column(&["Thin"]),
                t.column(&["Path"]),
            );
            for r in rows {
                let Some(mib) = t.number(r, cap)?.filter(|m| *m >= 1.0) else {
                    continue;
                };
                let ds = path
                    .and_then(|p| t.text(r, p))
                    .and_then(|p| datastore_of_path(&p).map(str::to_lowercase))
                    .and_then(|n| storage.by_name.get(&n).copied())
                    .or(fallback);
                let Some(ds) = ds.filter(|d| mounted(*d, &self.file)) else {
                    self.warn(t, r, "Path", "the disk's datastore is unknown or not mounted by the VM's host: disk left out".into());
                    continue;
                };
                let thin = thin
                    .map(|c| t.boolean(r, c))
                    .transpose()?
                    .flatten()
                    .unwrap_or(false);
                let capacity = mib as u64;
                out.push(Disk {
                    datastore_id: ds,
                    capacity_mib: SizeMib::parse(capacity).expect("positive"),
                    used_mib: if thin {
                        (capacity as f64 * in_use) as u64
                    } else {
                        capacity
                    },
                    thin,
                });
            }
            return Ok(out);
        }
        let count = c
            .disks
            .map(|d| info.number(row, d))
            .transpose()?
            .flatten()
            .unwrap_or(1.0)
            .max(1.0) as u64;
        let per = (provisioned as u64) / count;
        if per == 0 {
            return Ok(out);
        }
        let Some(ds) = fallback.filter(|d| mounted(*d, &self.file)) else {
            self.warn(
                info,
                row,
                "Path",
                "no datastore the VM's host mounts holds its disks: disks left out".into(),
            );
            return Ok(out);
        };
        tally.split_disks += 1;
        let thin = used < provisioned;
        for _ in 0..count {
            out.push(Disk {
                datastore_id: ds,
                capacity_mib: SizeMib::parse(per).expect("positive"),
                used_mib: if thin { (used as u64) / count } else { per },
                thin,
            });
        }
        Ok(out)
    }
}

fn power(text: &str) -> Option<PowerState> {
    match text.to_lowercase().as_str() {
        "poweredon" | "on" => Some(PowerState::On),
        "poweredoff" | "off" => Some(PowerState::Off),
        "suspended" => Some(PowerState::Suspended),
        _ => None,
    }
}

/// What a vInfo row must give for a VM: its name, host, power state, vCPUs and memory;
/// `None` (with a warning, or counted as a template) when the row is left out.
struct Basics {
    name: String,
    vm_name: Name,
    host: HostId,
    power_state: PowerState,
    vcpus: f64,
    memory: f64,
}

fn basics(
    work: &mut Work<'_>,
    info: &Table,
    c: &Columns,
    row: &Row,
    hosts: &Hosts,
    names: &mut HashSet<String>,
) -> Result<Option<Basics>, ReadError> {
    let Some(name) = info.text(row, c.vm) else {
        work.warn(info, row, "VM", "no VM name: row left out".into());
        return Ok(None);
    };
    if c.template
        .map(|t| info.boolean(row, t))
        .transpose()?
        .flatten()
        == Some(true)
    {
        work.report.templates_skipped += 1;
        return Ok(None);
    }
    let Ok(vm_name) = Name::parse(&name) else {
        work.warn(
            info,
            row,
            "VM",
            format!("\"{name}\" is not a usable name: row left out"),
        );
        return Ok(None);
    };
    if !names.insert(name.to_lowercase()) {
        work.warn(
            info,
            row,
            "VM",
            format!("VM {name} appears twice: the second is left out"),
        );
        return Ok(None);
    }
    let Some(host) = info.text(row, c.host).and_then(|h| hosts.find(&h)) else {
        work.warn(
            info,
            row,
            "Host",
            format!("VM {name} names no host: left out"),
        );
        return Ok(None);
    };
    let state = info.text(row, c.power).unwrap_or_default();
    let Some(power_state) = power(&state) else {
        work.warn(
            info,
            row,
            "Powerstate",
            format!("VM {name}: \"{state}\" is not a power state: left out"),
        );
        return Ok(None);
    };
    let vcpus = info.number(row, c.cpus)?.filter(|v| *v >= 1.0);
    let memory = info.number(row, c.memory)?.filter(|v| *v >= 1.0);
    let (Some(vcpus), Some(memory)) = (vcpus, memory) else {
        work.warn(
            info,
            row,
            "CPUs",
            format!("VM {name} has no CPUs or memory: left out"),
        );
        return Ok(None);
    };
    Ok(Some(Basics {
        name,
        vm_name,
        host,
        power_state,
        vcpus,
        memory,
    }))
}

impl Work<'_> {
    /// The VM's memory reservation (vMemory, `Reservation`, MiB); 0 without one.
    fn reservation(&self, rows: Option<&Vec<&Row>>) -> Result<u64, ReadError> {
        let (Some(rows), Some(t)) = (rows, self.book.get("vMemory")) else {
            return Ok(0);
        };
        let Some(col) = t.column(&["Reservation"]) else {
            return Ok(0);
        };
        Ok(rows
            .first()
            .map(|r| t.number(r, col))
            .transpose()?
            .flatten()
            .map_or(0, |m| m.max(0.0) as u64))
    }

    /// What the guest's partitions hold (vPartition, `Consumed MiB`), when the export has them:
    /// the VM's used space when vInfo gives no `In Use MiB`.
    fn consumed(&self, rows: Option<&Vec<&Row>>) -> Result<Option<f64>, ReadError> {
        let (Some(rows), Some(t)) = (rows, self.book.get("vPartition")) else {
            return Ok(None);
        };
        let Some(col) = t.column(&["Consumed MiB"]) else {
            return Ok(None);
        };
        let mut sum = None;
        for r in rows {
            if let Some(v) = t.number(r, col)? {
                *sum.get_or_insert(0.0) += v.max(0.0);
            }
        }
        Ok(sum)
    }

    /// Whether the VM is pinned to CPUs (vCPU, `Affinity` not empty).
    fn affinity(&self, rows: Option<&Vec<&Row>>) -> bool {
        let (Some(rows), Some(t)) = (rows, self.book.get("vCPU")) else {
            return false;
        };
        t.column(&["Affinity"])
            .is_some_and(|c| rows.iter().any(|r| t.text(r, c).is_some()))
    }
}

/// The VMs of vInfo.
pub fn map(
    work: &mut Work<'_>,
    hosts: &Hosts,
    storage: &Storage,
    net: &Network,
) -> Result<(), ReadError> {
    let book = work.book;
    let info = book.get("vInfo").expect("required");
    let c = Columns::of(info)?;
    let children = Children {
        disks: by_vm(book.get("vDisk"))?,
        nics: by_vm(book.get("vNetwork"))?,
        cds: by_vm(book.get("vCD"))?,
        usbs: by_vm(book.get("vUSB"))?,
        memory: by_vm(book.get("vMemory"))?,
        cpu: by_vm(book.get("vCPU"))?,
        partitions: by_vm(book.get("vPartition"))?,
    };
    let mut tally = Tally::default();
    let mut names: HashSet<String> = HashSet::new();
    for row in &info.rows {
        let Some(Basics {
            name,
            vm_name,
            host,
            power_state,
            vcpus,
            memory,
        }) = basics(work, info, &c, row, hosts, &mut names)?
        else {
            continue;
        };
        let disks = work.disks(
            info,
            &c,
            row,
            host,
            children.disks.get(&name),
            work.consumed(children.partitions.get(&name))?,
            storage,
            hosts,
            &mut tally,
        )?;
        let nics = work.nics(
            info,
            row,
            &name,
            host,
            children.nics.get(&name),
            net,
            &mut tally,
        )?;
        let devices = work.devices(&name, &children, storage)?;
        let ft = c.ft.and_then(|f| info.text(row, f)).is_some_and(|s| {
            !matches!(s.to_lowercase().as_str(), "notconfigured" | "disabled" | "")
        });
        let mut workload = Workload::default();
        if let Some(active) = c.active.map(|a| info.number(row, a)).transpose()?.flatten() {
            workload.working_set_mib = SizeMib::parse(active as u64).ok();
            tally.working_sets += usize::from(workload.working_set_mib.is_some());
        }
        let external = c.uuid.and_then(|u| info.text(row, u));
        let (id, vm_name) = work
            .ids
            .resolve(ObjectKind::Vm, &vm_name, external.as_deref(), None);
        let id = VmId(id);
        work.file.vms.push(Vm {
            id,
            name: vm_name,
            host_id: host,
            power_state,
            vcpus: NonZeroU32::new(vcpus as u32).unwrap_or(NonZeroU32::MIN),
            memory_mib: SizeMib::parse(memory as u64).expect("positive"),
            memory_reservation_mib: work.reservation(children.memory.get(&name))?,
            cpu_feature_level: c
                .evc
                .and_then(|e| info.text(row, e))
                .and_then(|k| evc::level(&k))
                .unwrap_or_else(|| hosts.offered(host, &work.file)),
            disks,
            nics,
            devices,
            workload,
            fault_tolerance: ft,
            cpu_affinity: work.affinity(children.cpu.get(&name)),
        });
    }
    work.guess(tally.split_disks, "disks (no vDisk row for the VM): vInfo's provisioned and used sizes split evenly over its disk count, thin when less is used than provisioned".into());
    work.guess(
        tally.from_network_columns,
        "NICs (no vNetwork tab): one per network vInfo's Network #n columns name, connected".into(),
    );
    work.guess(
        tally.working_sets,
        "working set: vInfo's Active Memory".into(),
    );
    let vms = work.file.vms.len();
    work.guess(vms, "VM workloads (RVTools has none): dirty rate 10 MiB/s, 10 % zero pages, 1 MiB/s disk writes (docs/IMPORT.md#defaults)".into());
    Ok(())
}
