//! Messages of the live websocket (`/ws`), shared by the server and the browser.

use domain::migration::{Fault, Migration, MigrationEvent};
use domain::overview::ClusterTile;
use domain::{Change, Inventory};
use serde::{Deserialize, Serialize};

mod tag_first;

/// A message from the server. `revision` counts inventory changes: a client that sees a gap
/// knows it missed something (the server then sends a fresh snapshot). Migration events carry
/// their own `seq` per migration, with the same rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveMessage {
    Snapshot {
        revision: u64,
        inventory: Inventory,
        /// Migrations in flight and the recent ones (absent: keep what you have).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        migrations: Option<Vec<Migration>>,
        /// Faults in effect (absent: keep what you have).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        faults: Option<Vec<Fault>>,
        /// Present for a client with some clusters open (docs/DESIGN.md#scoped-live-clients):
        /// every cluster's tile, and `inventory` holds only what the open clusters show.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        overview: Option<Vec<ClusterTile>>,
    },
    /// Overview tiles that changed (a tile's changed cells only, when its hosts are the same),
    /// and clusters that are gone (scoped clients only).
    OverviewChanged {
        tiles: Vec<domain::overview::TileChange>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        removed: Vec<domain::ClusterId>,
    },
    InventoryChanged {
        revision: u64,
        change: Change,
    },
    /// A progress event (docs/DESIGN.md#the-progress-stream).
    MigrationEvent(MigrationEvent),
    /// A migration was created or changed phase: its whole summary.
    MigrationUpdated(Box<Migration>),
    FaultsChanged {
        faults: Vec<Fault>,
    },
    /// A maintenance plan was stored or changed: its whole record.
    PlanUpdated(Box<domain::plan::PlanRecord>),
    /// The real guests of the lab (QEMU driver), once a second: which host runs each and its
    /// last heartbeat.
    LabHeartbeats {
        guests: Vec<LabGuest>,
        /// The figures the lab's migrations are predicted with.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        platform: Option<domain::platform::Platform>,
    },
}

/// A real lab VM as last seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabGuest {
    pub vm_id: domain::VmId,
    /// The host whose QEMU process runs it now.
    pub host_id: domain::HostId,
    /// Heartbeats since the guest booted (its workload's counter: it continues across
    /// migrations); `None` until the first.
    pub heartbeat: Option<u64>,
    pub uptime_ms: Option<u64>,
    /// Disk blocks re-read and found intact / damaged.
    pub disk_ok: u64,
    pub disk_bad: u64,
}

/// A message from a browser: what it shows, so the server sends only that
/// (docs/DESIGN.md#scoped-live-clients).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    Scope(LiveScope),
}

/// What a live client wants: the whole inventory (`full`), or the overview with these clusters
/// open; `events` asks for every migration's progress (the Tasks page), not only the open
/// clusters' ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveScope {
    #[serde(default)]
    pub full: bool,
    #[serde(default)]
    pub clusters: Vec<domain::ClusterId>,
    #[serde(default)]
    pub events: bool,
}
