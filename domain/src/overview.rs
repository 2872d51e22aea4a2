//! The map's overview at scale (docs/DESIGN.md#the-map-at-scale): every cluster as a tile of
//! aggregates with one small cell per host, the clusters a change touches (so a live client
//! gets only what it has open), and the part of the inventory one or more open clusters show.

use crate::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Up to this many VMs the map opens every cluster at once; past it, it shows the overview.
pub const EXPANDED_UP_TO_VMS: usize = 2_000;

/// One cluster's aggregates and its host grid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClusterTile {
    pub id: ClusterId,
    pub name: String,
    /// The vCenter it is mirrored from (docs/VCENTER.md#mirrored-objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcenter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evc_level: Option<u32>,
    pub vms: u32,
    pub running_vms: u32,
    /// vCPUs of running VMs, and the hosts' cores.
    pub vcpus: u64,
    pub cores: u64,
    /// Memory of running VMs, and the hosts' memory (MiB).
    pub memory_mib: u64,
    pub capacity_mib: u64,
    /// Space allocated and capacity of the datastores its hosts mount (MiB).
    pub datastores: u32,
    pub space_used_mib: u64,
    pub space_mib: u64,
    pub maintenance: u32,
    /// Its hosts by name.
    pub hosts: Vec<HostCell>,
}

/// One host of the grid (short keys: 2,500 of them travel with the overview).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HostCell {
    #[serde(rename = "i")]
    pub id: HostId,
    #[serde(rename = "n")]
    pub name: String,
    /// The larger of its CPU and memory load, percent.
    #[serde(rename = "l")]
    pub load: u8,
    #[serde(rename = "s")]
    pub state: HostState,
    #[serde(rename = "v")]
    pub vms: u32,
}

impl ClusterTile {
    /// The tile of `cluster` as `inv` holds it.
    pub fn of(inv: &Inventory, cluster: &Cluster) -> ClusterTile {
        let mut hosts: Vec<&Host> = inv
            .hosts
            .values()
            .filter(|h| h.cluster_id == cluster.id)
            .collect();
        hosts.sort_by(|a, b| a.name.cmp(&b.name));
        let mut tile = ClusterTile {
            id: cluster.id,
            name: cluster.name.to_string(),
            vcenter: inv.sources.get(&cluster.id.0).map(|s| s.vcenter.clone()),
            evc_level: cluster.evc_level,
            vms: 0,
            running_vms: 0,
            vcpus: 0,
            cores: 0,
            memory_mib: 0,
            capacity_mib: 0,
            datastores: 0,
            space_used_mib: 0,
            space_mib: 0,
            maintenance: 0,
            hosts: Vec::with_capacity(hosts.len()),
        };
        let members: BTreeSet<HostId> = hosts.iter().map(|h| h.id).collect();
        for h in hosts {
            let load = inv.host_load(h.id);
            let (cores, memory) = (u64::from(h.cores.get()), h.memory_mib.get());
            tile.vms += load.vms;
            tile.running_vms += load.running_vms;
            tile.vcpus += load.running_vcpus;
            tile.cores += cores;
            tile.memory_mib += load.running_memory_mib;
            tile.capacity_mib += memory;
            tile.maintenance += u32::from(h.state == HostState::Maintenance);
            let busiest = format::percent(load.running_vcpus, cores)
                .max(format::percent(load.running_memory_mib, memory));
            tile.hosts.push(HostCell {
                id: h.id,
                name: h.name.to_string(),
                load: busiest.round() as u8,
                state: h.state,
                vms: load.vms,
            });
        }
        for ds in inv.datastores.values() {
            if ds.host_ids.iter().any(|h| members.contains(h)) {
                tile.datastores += 1;
                tile.space_used_mib += inv.allocated_mib(ds.id, None);
                tile.space_mib += ds.capacity_mib.get();
            }
        }
        tile
    }

    pub fn cpu_percent(&self) -> f64 {
        format::percent(self.vcpus, self.cores)
    }

    pub fn memory_percent(&self) -> f64 {
        format::percent(self.memory_mib, self.capacity_mib)
    }

    pub fn space_percent(&self) -> f64 {
        format::percent(self.space_used_mib, self.space_mib)
    }
}

/// How a tile changed, for clients holding it (docs/DESIGN.md#scoped-live-clients): the whole
/// tile when its hosts changed or moved, else its aggregates with only the cells that changed
/// (`cells`: their indexes in the held tile's `hosts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TileChange {
    pub tile: ClusterTile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cells: Option<Vec<u32>>,
}

impl TileChange {
    /// What turns `old` (the tile clients hold, if any) into `new`.
    pub fn between(old: Option<&ClusterTile>, new: &ClusterTile) -> TileChange {
        let same_hosts = |old: &ClusterTile| {
            old.hosts.len() == new.hosts.len()
                && old.hosts.iter().zip(&new.hosts).all(|(a, b)| a.id == b.id)
        };
        match old {
            Some(old) if same_hosts(old) => {
                let (cells, hosts) = old
                    .hosts
                    .iter()
                    .zip(&new.hosts)
                    .enumerate()
                    .filter(|(_, (was, now))| was != now)
                    .map(|(i, (_, now))| (i as u32, now.clone()))
                    .unzip();
                let tile = ClusterTile {
                    hosts,
                    ..new.without_hosts()
                };
                TileChange {
                    tile,
                    cells: Some(cells),
                }
            }
            _ => TileChange {
                tile: new.clone(),
                cells: None,
            },
        }
    }

    /// The tile this change makes of `old`; `None` for a change of cells to a tile not held
    /// or held with fewer hosts (the client is out of step: it resyncs).
    pub fn apply(self, old: Option<&ClusterTile>) -> Option<ClusterTile> {
        let Some(cells) = self.cells else {
            return Some(self.tile);
        };
        let mut hosts = old?.hosts.clone();
        for (i, cell) in cells.into_iter().zip(self.tile.hosts) {
            *hosts.get_mut(i as usize)? = cell;
        }
        Some(ClusterTile { hosts, ..self.tile })
    }
}

impl ClusterTile {
    /// The tile's aggregates, with no host cells.
    fn without_hosts(&self) -> ClusterTile {
        ClusterTile {
            id: self.id,
            name: self.name.clone(),
            vcenter: self.vcenter.clone(),
            evc_level: self.evc_level,
            vms: self.vms,
            running_vms: self.running_vms,
            vcpus: self.vcpus,
            cores: self.cores,
            memory_mib: self.memory_mib,
            capacity_mib: self.capacity_mib,
            datastores: self.datastores,
            space_used_mib: self.space_used_mib,
            space_mib: self.space_mib,
            maintenance: self.maintenance,
            hosts: Vec::new(),
        }
    }
}

/// Every cluster's tile, by name.
pub fn overview(inv: &Inventory) -> Vec<ClusterTile> {
    let mut tiles: Vec<ClusterTile> = inv
        .clusters
        .values()
        .map(|c| ClusterTile::of(inv, c))
        .collect();
    tiles.sort_by(|a, b| a.name.cmp(&b.name));
    tiles
}

/// The clusters whose hosts an object reaches, as `inv` would hold it.
fn clusters_of(inv: &Inventory, object: &Object, out: &mut BTreeSet<ClusterId>) {
    let of_hosts = |hosts: &[HostId], out: &mut BTreeSet<ClusterId>| {
        out.extend(
            hosts
                .iter()
                .filter_map(|h| inv.hosts.get(h).map(|h| h.cluster_id)),
        )
    };
    match object {
        Object::Cluster(c) => {
            out.insert(c.id);
        }
        Object::Host(h) => {
            out.insert(h.cluster_id);
        }
        Object::Datastore(d) => of_hosts(&d.host_ids, out),
        Object::Switch(s) => of_hosts(&s.host_ids, out),
        Object::Portgroup(p) => match p.attachment() {
            Some(PortgroupAttachment::Standard(h)) => of_hosts(&[h], out),
            Some(PortgroupAttachment::Distributed(s)) => {
                if let Some(sw) = inv.switches.get(&s) {
                    of_hosts(&sw.host_ids, out)
                }
            }
            None => {}
        },
        Object::Vm(v) => of_hosts(&[v.host_id], out),
        Object::Rule(r) => {
            out.insert(r.cluster_id);
        }
    }
}

impl Inventory {
    /// The clusters `change` touches in this inventory: call it before the change is applied
    /// and again after (a VM moved between clusters touches both).
    pub fn clusters_touched(&self, change: &Change, out: &mut BTreeSet<ClusterId>) {
        match change {
            Change::Upsert { object } => {
                clusters_of(self, object, out);
                if let Some(old) = self.get(object.kind(), object.id()) {
                    clusters_of(self, &old, out);
                }
            }
            Change::Delete { kind, id } | Change::Source { kind, id, .. } => {
                if let Some(old) = self.get(*kind, *id) {
                    clusters_of(self, &old, out);
                }
            }
            Change::Batch { changes } => {
                for c in changes {
                    self.clusters_touched(c, out);
                }
            }
        }
    }

    /// What the map shows of `clusters`: them, their hosts and VMs, the datastores, switches
    /// and port groups their hosts reach (whole: a bar still counts the hosts elsewhere), their
    /// affinity rules, and where these objects come from.
    pub fn scope(&self, clusters: &BTreeSet<ClusterId>) -> Inventory {
        let mut part = Inventory::default();
        let hosts: BTreeSet<HostId> = self
            .hosts
            .values()
            .filter(|h| clusters.contains(&h.cluster_id))
            .map(|h| h.id)
            .collect();
        let reaches = |ids: &[HostId]| ids.iter().any(|h| hosts.contains(h));
        for c in clusters.iter().filter_map(|c| self.clusters.get(c)) {
            part.clusters.insert(c.id, c.clone());
        }
        for h in hosts.iter().filter_map(|h| self.hosts.get(h)) {
            part.hosts.insert(h.id, h.clone());
        }
        for d in self.datastores.values().filter(|d| reaches(&d.host_ids)) {
            part.datastores.insert(d.id, d.clone());
        }
        for s in self.switches.values().filter(|s| reaches(&s.host_ids)) {
            part.switches.insert(s.id, s.clone());
        }
        for p in self.portgroups.values() {
            let shown = match p.attachment() {
                Some(PortgroupAttachment::Standard(h)) => hosts.contains(&h),
                Some(PortgroupAttachment::Distributed(s)) => part.switches.contains_key(&s),
                None => false,
            };
            if shown {
                part.portgroups.insert(p.id, p.clone());
            }
        }
        for v in self.vms.values().filter(|v| hosts.contains(&v.host_id)) {
            part.vms.insert(v.id, v.clone());
        }
        for r in self
            .rules
            .values()
            .filter(|r| clusters.contains(&r.cluster_id))
        {
            part.rules.insert(r.id, r.clone());
        }
        let ids: Vec<uuid::Uuid> = part.objects().map(|o| o.id()).collect();
        for id in ids {
            if let Some(s) = self.sources.get(&id) {
                part.sources.insert(id, s.clone());
            }
        }
        part.reindex();
        // A datastore shared with hosts left out holds their VMs' disks too.
        for id in part.datastores.keys() {
            let outside = self
                .allocated_mib(*id, None)
                .saturating_sub(part.allocated_mib(*id, None));
            if outside > 0 {
                part.outside.insert(*id, outside);
            }
        }
        part
    }
}

#[cfg(test)]
mod tests;
