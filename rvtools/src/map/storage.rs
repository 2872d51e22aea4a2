//! Datastores (docs/IMPORT.md#datastores): vDatastore when the export has it; else the
//! datastores the VMs' paths name (`[ds-01] web/web.vmx`), mounted by the hosts of the VMs on
//! them; else one shared datastore per cluster. Sizes the export does not give are made to
//! hold what is on them with half again to spare.

use super::hosts::Hosts;
use super::{need, Work};
use crate::{ReadError, Table};
use domain::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::num::NonZeroU32;

/// Throughput RVTools does not give (docs/IMPORT.md#defaults).
pub const DEFAULT_THROUGHPUT_MIB_S: u32 = 500;
const MIN_INFERRED_MIB: u64 = 1 << 20;

/// The datastores made.
#[derive(Debug, Default)]
pub struct Storage {
    /// By name, lower-cased.
    pub by_name: HashMap<String, DatastoreId>,
    /// Each cluster's datastore, when none could be read or inferred from paths.
    pub of_cluster: HashMap<ClusterId, DatastoreId>,
}

/// The datastore a path names: `[ds-01] web/web.vmx` → `ds-01`.
pub fn datastore_of_path(path: &str) -> Option<&str> {
    let rest = path.trim().strip_prefix('[')?;
    let end = rest.find(']')?;
    let name = rest[..end].trim();
    (!name.is_empty()).then_some(name)
}

impl Work<'_> {
    /// A datastore of the export (the inventory's id kept when it has one by that name), at
    /// the default throughput; its id.
    fn add_datastore(
        &mut self,
        storage: &mut Storage,
        name: Name,
        kind: DatastoreKind,
        capacity_mib: u64,
        host_ids: Vec<HostId>,
    ) -> DatastoreId {
        let key = name.as_str().to_lowercase();
        let (id, name) = self.ids.resolve(ObjectKind::Datastore, &name, None, None);
        let id = DatastoreId(id);
        storage.by_name.insert(key, id);
        self.file.datastores.push(Datastore {
            id,
            name,
            kind,
            capacity_mib: SizeMib::parse(capacity_mib.max(1)).expect("positive"),
            throughput_mib_s: NonZeroU32::new(DEFAULT_THROUGHPUT_MIB_S).expect("positive"),
            host_ids,
        });
        id
    }

    fn read_vdatastore(
        &mut self,
        storage: &mut Storage,
        hosts: &Hosts,
        t: &Table,
    ) -> Result<(), ReadError> {
        let name = need(t, &["Name"])?;
        let kind = t.column(&["Type"]);
        let capacity = need(t, &["Capacity MiB"])?;
        let mounted = t.column(&["Hosts"]);
        for row in &t.rows {
            let Some(n) = t.text(row, name).and_then(|n| Name::parse(&n).ok()) else {
                self.warn(
                    t,
                    row,
                    "Name",
                    "no usable datastore name: row left out".into(),
                );
                continue;
            };
            let host_ids: Vec<HostId> = mounted
                .and_then(|c| t.text(row, c))
                .map(|list| {
                    list.split([',', ';'])
                        .filter_map(|h| hosts.find(h))
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect()
                })
                .unwrap_or_default();
            if host_ids.is_empty() {
                self.warn(
                    t,
                    row,
                    "Hosts",
                    format!("no host of the export mounts datastore {n}: left out"),
                );
                continue;
            }
            let Some(mib) = t.number(row, capacity)?.filter(|m| *m >= 1.0) else {
                self.warn(
                    t,
                    row,
                    "Capacity MiB",
                    format!("datastore {n} has no capacity: left out"),
                );
                continue;
            };
            let typ = kind
                .and_then(|c| t.text(row, c))
                .unwrap_or_default()
                .to_lowercase();
            let kind = if typ.contains("vsan") {
                DatastoreKind::Vsan
            } else if typ.contains("nfs") {
                DatastoreKind::Nfs
            } else if host_ids.len() > 1 {
                DatastoreKind::VmfsShared
            } else {
                DatastoreKind::Local
            };
            self.add_datastore(storage, n, kind, mib as u64, host_ids);
        }
        let count = self.file.datastores.len();
        self.guess(
            count,
            format!("datastore throughput (RVTools has none): {DEFAULT_THROUGHPUT_MIB_S} MiB/s"),
        );
        Ok(())
    }

    /// Datastores named by the VMs' paths (vInfo Path, vDisk Path): the hosts of their VMs
    /// mount them; more than one host makes one shared.
    fn named_by_paths(&mut self, storage: &mut Storage, hosts: &Hosts) -> Result<(), ReadError> {
        let book = self.book;
        let info = book.get("vInfo").expect("required");
        let (vm, host) = (need(info, &["VM"])?, need(info, &["Host"])?);
        let provisioned = info.column(&["Provisioned MiB"]);
        let vm_host: HashMap<String, HostId> = info
            .rows
            .iter()
            .filter_map(|r| Some((info.text(r, vm)?, hosts.find(&info.text(r, host)?)?)))
            .collect();
        // Datastore → (hosts, MiB provisioned on it).
        let mut seen: BTreeMap<String, (BTreeSet<HostId>, f64)> = BTreeMap::new();
        let mut note = |ds: &str, h: HostId, mib: f64| {
            let e = seen.entry(ds.to_string()).or_default();
            e.0.insert(h);
            e.1 += mib;
        };
        if let Some(path) = info.column(&["Path"]) {
            for r in &info.rows {
                let (Some(p), Some(h)) = (
                    info.text(r, path),
                    info.text(r, host).and_then(|h| hosts.find(&h)),
                ) else {
                    continue;
                };
                if let Some(ds) = datastore_of_path(&p) {
                    let mib = provisioned
                        .map(|c| info.number(r, c))
                        .transpose()?
                        .flatten()
                        .unwrap_or(0.0);
                    note(
                        ds,
                        h,
                        if book.get("vDisk").is_some() {
                            0.0
                        } else {
                            mib
                        },
                    );
                }
            }
        }
        if let Some(disk) = book.get("vDisk") {
            let (dvm, dpath) = (need(disk, &["VM"])?, need(disk, &["Path"])?);
            let cap = disk.column(&["Capacity MiB"]);
            for r in &disk.rows {
                let (Some(v), Some(p)) = (disk.text(r, dvm), disk.text(r, dpath)) else {
                    continue;
                };
                let (Some(h), Some(ds)) = (vm_host.get(&v), datastore_of_path(&p)) else {
                    continue;
                };
                let mib = cap
                    .map(|c| disk.number(r, c))
                    .transpose()?
                    .flatten()
                    .unwrap_or(0.0);
                note(ds, *h, mib);
            }
        }
        let count = seen.len();
        for (name, (mounted, mib)) in seen {
            let Ok(n) = Name::parse(&name) else { continue };
            let kind = if mounted.len() > 1 {
                DatastoreKind::VmfsShared
            } else {
                DatastoreKind::Local
            };
            self.add_datastore(
                storage,
                n,
                kind,
                ((mib * 1.5) as u64).max(MIN_INFERRED_MIB),
                mounted.into_iter().collect(),
            );
        }
        self.guess(count, "datastores (no vDatastore tab): named by the VMs' paths, mounted by their VMs' hosts (shared when more than one), sized for their disks with half again to spare".into());
        Ok(())
    }

    /// One shared datastore per cluster, for VMs whose datastore nothing names.
    fn per_cluster(&mut self, storage: &mut Storage, hosts: &Hosts) -> Result<(), ReadError> {
        let book = self.book;
        let info = book.get("vInfo").expect("required");
        let host = need(info, &["Host"])?;
        let provisioned = info.column(&["Provisioned MiB"]);
        let mut mib: HashMap<ClusterId, f64> = HashMap::new();
        for r in &info.rows {
            let Some(c) = info
                .text(r, host)
                .and_then(|h| hosts.find(&h))
                .and_then(|h| hosts.cluster_of.get(&h))
            else {
                continue;
            };
            *mib.entry(*c).or_default() += provisioned
                .map(|p| info.number(r, p))
                .transpose()?
                .flatten()
                .unwrap_or(0.0);
        }
        let clusters: Vec<(ClusterId, String)> = self
            .file
            .clusters
            .iter()
            .map(|c| (c.id, c.name.to_string()))
            .collect();
        let mut made = 0;
        for (id, name) in clusters {
            let members = hosts.in_cluster.get(&id).cloned().unwrap_or_default();
            if members.is_empty() {
                continue;
            }
            let Ok(n) = Name::parse(&format!("{name}-datastore")) else {
                continue;
            };
            let size = ((mib.get(&id).copied().unwrap_or(0.0) * 1.5) as u64).max(MIN_INFERRED_MIB);
            let ds = self.add_datastore(storage, n, DatastoreKind::VmfsShared, size, members);
            storage.of_cluster.insert(id, ds);
            made += 1;
        }
        self.guess(made, "datastores (the export names none): one shared datastore per cluster, mounted by all its hosts, sized for its VMs' disks with half again to spare".into());
        Ok(())
    }
}

/// Datastores, read or inferred.
pub fn map(work: &mut Work<'_>, hosts: &Hosts) -> Result<Storage, ReadError> {
    let mut storage = Storage::default();
    let book = work.book;
    match book.get("vDatastore") {
        Some(t) => work.read_vdatastore(&mut storage, hosts, t)?,
        None => work.named_by_paths(&mut storage, hosts)?,
    }
    // Nothing names a datastore: one per cluster.
    if storage.by_name.is_empty() {
        work.per_cluster(&mut storage, hosts)?;
    }
    Ok(storage)
}
