//! What the inventory tells live clients, and the overview's tiles kept beside it
//! (docs/DESIGN.md#scoped-live-clients): each change goes to the clients that show one of the
//! clusters it touches, with the tiles it changed (their changed cells only, when a tile keeps
//! its hosts); a whole new inventory is a fresh snapshot.

use super::{Current, InventoryService};
use crate::live::{one_snapshot, snapshot_message, Frame, LiveBatch, Reach};
use app::protocol::LiveMessage;
use domain::migration::{Fault, Migration};
use domain::overview::{ClusterTile, TileChange};
use domain::{Change, ClusterId, HostId, Inventory};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

/// Every cluster's tile.
pub(super) fn tiles_of(inventory: &Inventory) -> BTreeMap<ClusterId, ClusterTile> {
    domain::overview::overview(inventory)
        .into_iter()
        .map(|t| (t.id, t))
        .collect()
}

impl InventoryService {
    /// Applies a stored change in memory and tells every live client.
    pub(super) fn commit_in_memory(&self, change: &Change, revision: u64) {
        let batch = {
            let mut current = self.current.write();
            let mut touched = BTreeSet::new();
            current.inventory.clusters_touched(change, &mut touched);
            current.inventory.apply(change);
            current.inventory.clusters_touched(change, &mut touched);
            current.revision = revision;
            change_batch(&mut current, change, revision, touched)
        };
        self.live.publish(batch);
    }

    /// Installs `next`, which is the current inventory with `change` applied, under `revision`.
    pub(super) fn install_changed(&self, next: Inventory, change: &Change, revision: u64) {
        let batch = {
            let mut current = self.current.write();
            let mut touched = BTreeSet::new();
            current.inventory.clusters_touched(change, &mut touched);
            next.clusters_touched(change, &mut touched);
            current.inventory = next;
            current.revision = revision;
            change_batch(&mut current, change, revision, touched)
        };
        self.live.publish(batch);
    }

    /// Installs a whole new inventory under `revision`: every live client gets a snapshot.
    pub(super) fn install(&self, inventory: Inventory, revision: u64) {
        {
            let mut current = self.current.write();
            current.tiles = tiles_of(&inventory);
            current.inventory = inventory;
            current.revision = revision;
        }
        self.live.publish(one_snapshot(self.snapshot_message()));
    }

    /// The snapshot message (inventory only), serialized.
    pub fn snapshot_message(&self) -> String {
        self.snapshot_message_with(None)
    }

    /// The snapshot message, with the migrations and faults a fresh client needs.
    pub fn snapshot_message_with(&self, live: Option<(&[Migration], &[Fault])>) -> String {
        let current = self.current.read();
        snapshot_message(current.revision, &current.inventory, live, None)
    }

    /// The snapshot for a client with `clusters` open: every tile, and what those clusters
    /// show; with the hosts they hold (whose migrations' progress the client gets).
    pub fn scoped_snapshot_message(
        &self,
        clusters: &BTreeSet<ClusterId>,
        live: Option<(&[Migration], &[Fault])>,
    ) -> (String, HashSet<HostId>) {
        let current = self.current.read();
        let part = current.inventory.scope(clusters);
        let mut tiles: Vec<&ClusterTile> = current.tiles.values().collect();
        tiles.sort_by(|a, b| a.name.cmp(&b.name));
        let hosts = part.hosts.keys().copied().collect();
        let text = snapshot_message(current.revision, &part, live, Some(&tiles));
        (text, hosts)
    }

    /// The hosts of `clusters` now.
    pub fn hosts_of(&self, clusters: &BTreeSet<ClusterId>) -> HashSet<HostId> {
        let current = self.current.read();
        current
            .inventory
            .hosts
            .values()
            .filter(|h| clusters.contains(&h.cluster_id))
            .map(|h| h.id)
            .collect()
    }

    /// Every cluster's tile, by name.
    pub fn overview(&self) -> Vec<ClusterTile> {
        let current = self.current.read();
        let mut tiles: Vec<ClusterTile> = current.tiles.values().cloned().collect();
        tiles.sort_by(|a, b| a.name.cmp(&b.name));
        tiles
    }
}

/// The change for the clients showing a cluster it touched, then the tiles it changed.
fn change_batch(
    current: &mut Current,
    change: &Change,
    revision: u64,
    touched: BTreeSet<ClusterId>,
) -> LiveBatch {
    let message = LiveMessage::InventoryChanged {
        revision,
        change: change.clone(),
    };
    let text = serde_json::to_string(&message).expect("live messages serialize");
    let reach = Reach::Clusters(touched.iter().copied().collect());
    let mut frames = vec![Frame::new(text, reach)];
    let (mut tiles, mut removed) = (Vec::new(), Vec::new());
    for id in touched {
        match current.inventory.clusters.get(&id) {
            Some(cluster) => {
                let tile = ClusterTile::of(&current.inventory, cluster);
                if current.tiles.get(&id) != Some(&tile) {
                    tiles.push(TileChange::between(current.tiles.get(&id), &tile));
                    current.tiles.insert(id, tile);
                }
            }
            None => {
                if current.tiles.remove(&id).is_some() {
                    removed.push(id);
                }
            }
        }
    }
    if !tiles.is_empty() || !removed.is_empty() {
        let message = LiveMessage::OverviewChanged { tiles, removed };
        let text = serde_json::to_string(&message).expect("live messages serialize");
        frames.push(Frame::new(text, Reach::Overview));
    }
    Arc::from(frames)
}
