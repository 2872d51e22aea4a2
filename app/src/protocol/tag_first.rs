//! [`LiveMessage`] read tag first in the browser (docs/DESIGN.md#tag-first-reading): the
//! inventory, migrations and plans it carries are read straight from the frame's JSON.

use domain::migration::{Fault, Migration};
use domain::overview::{ClusterTile, TileChange};
use domain::platform::Platform;
use domain::tag_first::{rest, unknown, TagFirst};
use domain::{Change, ClusterId, Inventory};
use serde::de::MapAccess;
use serde::Deserialize;

use super::{LabGuest, LiveMessage};

// The fields of the struct variants, as the derived `Serialize` writes them.
#[derive(Deserialize)]
struct Snapshot {
    revision: u64,
    inventory: Inventory,
    #[serde(default)]
    migrations: Option<Vec<Migration>>,
    #[serde(default)]
    faults: Option<Vec<Fault>>,
    #[serde(default)]
    overview: Option<Vec<ClusterTile>>,
}
#[derive(Deserialize)]
struct OverviewChanged {
    tiles: Vec<TileChange>,
    #[serde(default)]
    removed: Vec<ClusterId>,
}
#[derive(Deserialize)]
struct InventoryChanged {
    revision: u64,
    change: Change,
}
#[derive(Deserialize)]
struct FaultsChanged {
    faults: Vec<Fault>,
}
#[derive(Deserialize)]
struct LabHeartbeats {
    guests: Vec<LabGuest>,
    #[serde(default)]
    platform: Option<Platform>,
}

const VARIANTS: &[&str] = &[
    "snapshot",
    "overview_changed",
    "inventory_changed",
    "migration_event",
    "migration_updated",
    "faults_changed",
    "plan_updated",
    "lab_heartbeats",
];

impl TagFirst for LiveMessage {
    const TAG: &'static str = "type";
    const EXPECTING: &'static str = "a live message tagged with its type";

    fn variant<'de, A: MapAccess<'de>>(tag: &str, map: A) -> Result<Self, A::Error> {
        Ok(match tag {
            "snapshot" => {
                let s: Snapshot = rest(map)?;
                LiveMessage::Snapshot {
                    revision: s.revision,
                    inventory: s.inventory,
                    migrations: s.migrations,
                    faults: s.faults,
                    overview: s.overview,
                }
            }
            "overview_changed" => {
                let OverviewChanged { tiles, removed } = rest(map)?;
                LiveMessage::OverviewChanged { tiles, removed }
            }
            "inventory_changed" => {
                let InventoryChanged { revision, change } = rest(map)?;
                LiveMessage::InventoryChanged { revision, change }
            }
            "migration_event" => LiveMessage::MigrationEvent(rest(map)?),
            "migration_updated" => LiveMessage::MigrationUpdated(rest(map)?),
            "faults_changed" => LiveMessage::FaultsChanged {
                faults: rest::<FaultsChanged, _>(map)?.faults,
            },
            "plan_updated" => LiveMessage::PlanUpdated(rest(map)?),
            "lab_heartbeats" => {
                let LabHeartbeats { guests, platform } = rest(map)?;
                LiveMessage::LabHeartbeats { guests, platform }
            }
            other => return Err(unknown(other, VARIANTS)),
        })
    }
}
domain::tag_first_in_browser!(LiveMessage);

#[cfg(test)]
mod tests;
