//! Clusters and hosts (docs/IMPORT.md#hosts): vCluster, vHost, and the clusters and hosts the
//! VMs name in vInfo; link speed from vNIC, vMotion and IP family from vSC_VMK.

use super::{host_key, need, Work};
use crate::{ReadError, Table};
use domain::evc;
use domain::*;
use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;

/// Figures RVTools does not give, documented in docs/IMPORT.md#defaults.
pub const DEFAULT_FEATURE_LEVEL: u32 = 6;
pub const DEFAULT_LINK_GBPS: f64 = 10.0;
const DEFAULT_CORES: u32 = 32;
const DEFAULT_MHZ: u32 = 2_600;
const DEFAULT_MEMORY_MIB: u64 = 512 * 1024;
/// Clusterless hosts go to this cluster (vmshift's hosts belong to one).
const STANDALONE: &str = "Standalone hosts";

/// The hosts and clusters made, as the rest of the mapping finds them.
#[derive(Debug, Default)]
pub struct Hosts {
    /// Host by [`host_key`].
    pub by_key: HashMap<String, HostId>,
    pub cluster_of: HashMap<HostId, ClusterId>,
    pub in_cluster: BTreeMap<ClusterId, Vec<HostId>>,
    /// Cluster by the name the export gives it.
    pub clusters: HashMap<String, ClusterId>,
    /// The CPU feature level each host offers its VMs (lowered by its cluster's EVC).
    pub level_of: HashMap<HostId, u32>,
    /// Hosts whose level the export gave (`Max EVC`).
    pub levels_read: usize,
}

impl Hosts {
    /// The CPU feature level `host` offers a VM: its own, lowered to its cluster's EVC level.
    pub fn offered(&self, host: HostId, file: &InventoryFile) -> u32 {
        let own = self
            .level_of
            .get(&host)
            .copied()
            .unwrap_or(DEFAULT_FEATURE_LEVEL);
        let evc = self
            .cluster_of
            .get(&host)
            .and_then(|c| file.clusters.iter().find(|k| k.id == *c))
            .and_then(|c| c.evc_level);
        evc.map_or(own, |e| e.min(own))
    }

    /// The host a VM names (by [`host_key`]).
    pub fn find(&self, name: &str) -> Option<HostId> {
        self.by_key.get(&host_key(name)).copied()
    }
}

fn positive(v: Option<f64>) -> Option<f64> {
    v.filter(|v| *v > 0.0)
}

impl Work<'_> {
    fn cluster(&mut self, hosts: &mut Hosts, name: &str) -> ClusterId {
        let name = if name.trim().is_empty() {
            STANDALONE
        } else {
            name.trim()
        };
        if let Some(id) = hosts.clusters.get(name) {
            return *id;
        }
        let parsed = Name::parse(name).unwrap_or_else(|_| Name::parse(STANDALONE).expect("a name"));
        let (id, parsed) = self.ids.resolve(ObjectKind::Cluster, &parsed, None, None);
        let id = ClusterId(id);
        let evc_level = self.current.clusters.get(&id).and_then(|c| c.evc_level);
        self.file.clusters.push(Cluster {
            id,
            name: parsed,
            evc_level,
        });
        hosts.clusters.insert(name.to_string(), id);
        hosts.in_cluster.insert(id, Vec::new());
        id
    }

    /// The cluster's EVC level: what vCluster says, else what its hosts run with
    /// (`Current EVC`, the first one read unless `over`).
    fn set_evc(&mut self, cluster: ClusterId, level: u32, over: bool) {
        if let Some(c) = self.file.clusters.iter_mut().find(|c| c.id == cluster) {
            if over || c.evc_level.is_none() {
                c.evc_level = Some(level);
            }
        }
    }

    fn add_host(&mut self, hosts: &mut Hosts, mut host: Host) {
        let key = host_key(host.name.as_str());
        let (id, name) = self.ids.resolve(ObjectKind::Host, &host.name, None, None);
        (host.id, host.name) = (HostId(id), name);
        hosts.by_key.insert(key, host.id);
        hosts.level_of.insert(host.id, host.cpu_feature_level);
        hosts.cluster_of.insert(host.id, host.cluster_id);
        hosts
            .in_cluster
            .entry(host.cluster_id)
            .or_default()
            .push(host.id);
        self.file.hosts.push(host);
    }

    /// Each vHost row a host; a row without a usable name is left out with a warning.
    fn hosts_from_vhost(&mut self, hosts: &mut Hosts, t: &Table) -> Result<(), ReadError> {
        let name = need(t, &["Host"])?;
        let cluster = t.column(&["Cluster"]);
        let cores = t.column(&["# Cores"]);
        let sockets = t.column(&["# CPU"]);
        let per_socket = t.column(&["Cores per CPU"]);
        let speed = t.column(&["Speed"]);
        let memory = t.column(&["# Memory"]);
        let model = t.column(&["CPU Model"]);
        let maintenance = t.column(&["in Maintenance Mode", "Maintenance Mode"]);
        let connection = t.column(&["Connection state"]);
        let max_evc = t.column(&["Max EVC", "Max EVC Mode"]);
        let current_evc = t.column(&["Current EVC", "Current EVC Mode"]);
        let mut defaulted = 0;
        for row in &t.rows {
            let Some(n) = t.text(row, name) else {
                self.warn(t, row, "Host", "no host name: row left out".into());
                continue;
            };
            let Ok(n) = Name::parse(&n) else {
                self.warn(
                    t,
                    row,
                    "Host",
                    format!("\"{n}\" is not a usable name: row left out"),
                );
                continue;
            };
            if hosts.find(n.as_str()).is_some() {
                self.warn(
                    t,
                    row,
                    "Host",
                    format!("host {n} appears twice: row left out"),
                );
                continue;
            }
            let number = |c: Option<usize>| {
                c.map(|c| t.number(row, c))
                    .transpose()
                    .map(|v| positive(v.flatten()))
            };
            let counted = number(cores)?.or(match (number(sockets)?, number(per_socket)?) {
                (Some(s), Some(p)) => Some(s * p),
                _ => None,
            });
            let mhz = number(speed)?;
            let mib = number(memory)?;
            if counted.is_none() || mhz.is_none() || mib.is_none() {
                defaulted += 1;
            }
            let vendor = match model.and_then(|c| t.text(row, c)) {
                Some(m) if m.to_lowercase().contains("amd") => CpuVendor::Amd,
                _ => CpuVendor::Intel,
            };
            let in_maintenance = maintenance
                .map(|c| t.boolean(row, c))
                .transpose()?
                .flatten()
                == Some(true);
            let disconnected = connection.and_then(|c| t.text(row, c)).is_some_and(|s| {
                matches!(s.to_lowercase().as_str(), "disconnected" | "notresponding")
            });
            let cluster_id = self.cluster(
                hosts,
                &cluster.and_then(|c| t.text(row, c)).unwrap_or_default(),
            );
            let level = max_evc
                .and_then(|c| t.text(row, c))
                .and_then(|k| evc::level(&k));
            hosts.levels_read += usize::from(level.is_some());
            if let Some(current) = current_evc
                .and_then(|c| t.text(row, c))
                .and_then(|k| evc::level(&k))
            {
                self.set_evc(cluster_id, current, false);
            }
            self.add_host(
                hosts,
                Host {
                    id: HostId(uuid::Uuid::nil()),
                    name: n,
                    cluster_id,
                    cpu_vendor: vendor,
                    cpu_feature_level: level.unwrap_or(DEFAULT_FEATURE_LEVEL),
                    cores: NonZeroU32::new(counted.map_or(DEFAULT_CORES, |c| c as u32))
                        .unwrap_or(NonZeroU32::MIN),
                    cpu_mhz: NonZeroU32::new(mhz.map_or(DEFAULT_MHZ, |c| c as u32))
                        .unwrap_or(NonZeroU32::MIN),
                    memory_mib: SizeMib::parse(mib.map_or(DEFAULT_MEMORY_MIB, |m| m as u64))
                        .unwrap_or_else(|_| SizeMib::parse(DEFAULT_MEMORY_MIB).expect("a size")),
                    state: if disconnected {
                        HostState::Disconnected
                    } else if in_maintenance {
                        HostState::Maintenance
                    } else {
                        HostState::Connected
                    },
                    vmotion_enabled: true,
                    vmotion_link_gbps: LinkGbps::parse(DEFAULT_LINK_GBPS).expect("a speed"),
                    ip_family: IpFamily::V4,
                },
            );
        }
        self.guess(defaulted, format!("cores, speed or memory of a host (vHost left them empty): {DEFAULT_CORES} cores, {DEFAULT_MHZ} MHz, {} GiB", DEFAULT_MEMORY_MIB / 1024));
        Ok(())
    }

    /// Hosts the VMs name that vHost does not list (or all, without vHost), in the VM's
    /// cluster; their memory made to hold their VMs with a quarter to spare.
    fn hosts_from_vinfo(&mut self, hosts: &mut Hosts) -> Result<(), ReadError> {
        let t = self.book.get("vInfo").expect("required");
        let host = need(t, &["Host"])?;
        let cluster = t.column(&["Cluster"]);
        let memory = t.column(&["Memory"]);
        let mut wanted: BTreeMap<String, (String, String, f64)> = BTreeMap::new();
        for row in &t.rows {
            let Some(h) = t.text(row, host) else { continue };
            if hosts.find(&h).is_some() {
                continue;
            }
            let mib = memory
                .map(|c| t.number(row, c))
                .transpose()?
                .flatten()
                .unwrap_or(0.0);
            let e = wanted.entry(host_key(&h)).or_insert_with(|| {
                (
                    h.clone(),
                    cluster.and_then(|c| t.text(row, c)).unwrap_or_default(),
                    0.0,
                )
            });
            e.2 += mib;
        }
        let count = wanted.len();
        for (_, (name, cluster, mib)) in wanted {
            let Ok(n) = Name::parse(&name) else { continue };
            let cluster_id = self.cluster(hosts, &cluster);
            let memory = ((mib * 1.25) as u64).max(DEFAULT_MEMORY_MIB);
            self.add_host(
                hosts,
                Host {
                    id: HostId(uuid::Uuid::nil()),
                    name: n,
                    cluster_id,
                    cpu_vendor: CpuVendor::Intel,
                    cpu_feature_level: DEFAULT_FEATURE_LEVEL,
                    cores: NonZeroU32::new(DEFAULT_CORES).expect("positive"),
                    cpu_mhz: NonZeroU32::new(DEFAULT_MHZ).expect("positive"),
                    memory_mib: SizeMib::parse(memory).expect("positive"),
                    state: HostState::Connected,
                    vmotion_enabled: true,
                    vmotion_link_gbps: LinkGbps::parse(DEFAULT_LINK_GBPS).expect("a speed"),
                    ip_family: IpFamily::V4,
                },
            );
        }
        self.guess(count, "hosts named by VMs (vInfo, column Host) that vHost does not list: made with their VMs' memory and a quarter to spare, 32 cores".into());
        Ok(())
    }

    /// vMotion link speed from the fastest physical NIC (vNIC, Mbit/s); vMotion enabled and
    /// IP family from the VMkernel adapters (vSC_VMK).
    fn links(&mut self, hosts: &Hosts) -> Result<(), ReadError> {
        let mut speed: HashMap<HostId, f64> = HashMap::new();
        if let Some(t) = self.book.get("vNIC") {
            let (host, mbps) = (need(t, &["Host"])?, need(t, &["Speed"])?);
            for row in &t.rows {
                let (Some(h), Some(s)) = (t.text(row, host), t.number(row, mbps)?) else {
                    continue;
                };
                if let Some(id) = hosts.find(&h) {
                    let e = speed.entry(id).or_default();
                    *e = e.max(s / 1_000.0);
                }
            }
        }
        let mut v6: HashMap<HostId, bool> = HashMap::new();
        let mut vmotion: HashMap<HostId, bool> = HashMap::new();
        if let Some(t) = self.book.get("vSC_VMK") {
            let host = need(t, &["Host"])?;
            let (v4c, v6c) = (t.column(&["IP Address"]), t.column(&["IP 6 Address"]));
            let services = t.column(&["Services"]);
            for row in &t.rows {
                let Some(id) = t.text(row, host).and_then(|h| hosts.find(&h)) else {
                    continue;
                };
                if let Some(c) = services {
                    let on = t
                        .text(row, c)
                        .is_some_and(|s| s.to_lowercase().contains("vmotion"));
                    *vmotion.entry(id).or_default() |= on;
                }
                let has4 = v4c.and_then(|c| t.text(row, c)).is_some();
                let has6 = v6c.and_then(|c| t.text(row, c)).is_some();
                let e = v6.entry(id).or_insert(true);
                *e = *e && has6 && !has4;
            }
        }
        let mut defaulted = 0;
        for h in &mut self.file.hosts {
            match speed.get(&h.id).and_then(|g| LinkGbps::parse(*g).ok()) {
                Some(g) => h.vmotion_link_gbps = g,
                None => defaulted += 1,
            }
            if v6.get(&h.id) == Some(&true) {
                h.ip_family = IpFamily::V6;
            }
            if let Some(on) = vmotion.get(&h.id) {
                h.vmotion_enabled = *on;
            }
        }
        self.guess(
            defaulted,
            format!("vMotion link speed (no vNIC row for the host): {DEFAULT_LINK_GBPS} Gbit/s"),
        );
        let levels = self.file.hosts.len() - hosts.levels_read;
        self.guess(levels, format!("CPU feature level (no Max EVC in vHost): {DEFAULT_FEATURE_LEVEL}, so every VM may run on every such host of its cluster"));
        Ok(())
    }
}

/// Clusters and hosts.
pub fn map(work: &mut Work<'_>) -> Result<Hosts, ReadError> {
    let mut hosts = Hosts::default();
    if let Some(t) = work.book.get("vCluster") {
        let name = need(t, &["Name", "Cluster"])?;
        let mode = t.column(&["EVC Mode", "EVC"]);
        for row in &t.rows {
            if let Some(n) = t.text(row, name) {
                let id = work.cluster(&mut hosts, &n);
                if let Some(l) = mode
                    .and_then(|c| t.text(row, c))
                    .and_then(|k| evc::level(&k))
                {
                    work.set_evc(id, l, true);
                }
            }
        }
    }
    match work.book.get("vHost") {
        Some(t) => work.hosts_from_vhost(&mut hosts, t)?,
        None => work.guess(1, "hosts (no vHost tab): from the VMs' Host column".into()),
    }
    work.hosts_from_vinfo(&mut hosts)?;
    work.links(&hosts)?;
    Ok(hosts)
}
