//! [`Goal`] and [`Step`] read tag first in the browser (docs/DESIGN.md#tag-first-reading).

use serde::de::MapAccess;
use serde::Deserialize;

use super::{one, yes, Goal, MoveRequest, PlannedMove, Step};
use crate::ids::*;
use crate::tag_first::{rest, unknown, TagFirst};

// The fields of the variants, as the derived `Serialize` writes them and the REST API reads
// them (unknown fields refused, the same defaults).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvacuateHost {
    host_id: HostId,
    #[serde(default = "yes")]
    enter_maintenance: bool,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExitMaintenance {
    host_id: HostId,
    #[serde(default)]
    return_vm_ids: Vec<VmId>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DrainDatastore {
    datastore_id: DatastoreId,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollingMaintenance {
    cluster_id: ClusterId,
    #[serde(default = "one")]
    at_a_time: u32,
    #[serde(default)]
    maintenance_s: u32,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Moves {
    moves: Vec<MoveRequest>,
}

impl TagFirst for Goal {
    const TAG: &'static str = "kind";
    const EXPECTING: &'static str = "a plan's goal tagged with its kind";

    fn variant<'de, A: MapAccess<'de>>(tag: &str, map: A) -> Result<Self, A::Error> {
        Ok(match tag {
            "evacuate_host" => {
                let EvacuateHost {
                    host_id,
                    enter_maintenance,
                } = rest(map)?;
                Goal::EvacuateHost {
                    host_id,
                    enter_maintenance,
                }
            }
            "exit_maintenance" => {
                let ExitMaintenance {
                    host_id,
                    return_vm_ids,
                } = rest(map)?;
                Goal::ExitMaintenance {
                    host_id,
                    return_vm_ids,
                }
            }
            "drain_datastore" => Goal::DrainDatastore {
                datastore_id: rest::<DrainDatastore, _>(map)?.datastore_id,
            },
            "rolling_maintenance" => {
                let RollingMaintenance {
                    cluster_id,
                    at_a_time,
                    maintenance_s,
                } = rest(map)?;
                Goal::RollingMaintenance {
                    cluster_id,
                    at_a_time,
                    maintenance_s,
                }
            }
            "moves" => Goal::Moves {
                moves: rest::<Moves, _>(map)?.moves,
            },
            other => {
                return Err(unknown(
                    other,
                    &[
                        "evacuate_host",
                        "exit_maintenance",
                        "drain_datastore",
                        "rolling_maintenance",
                        "moves",
                    ],
                ))
            }
        })
    }
}
crate::tag_first_in_browser!(Goal);

#[derive(Deserialize)]
struct MovesStep {
    moves: Vec<PlannedMove>,
}
#[derive(Deserialize)]
struct Hosts {
    host_ids: Vec<HostId>,
}
#[derive(Deserialize)]
struct Hold {
    seconds: u32,
}

impl TagFirst for Step {
    const TAG: &'static str = "step";
    const EXPECTING: &'static str = "a plan's step tagged with its kind";

    fn variant<'de, A: MapAccess<'de>>(tag: &str, map: A) -> Result<Self, A::Error> {
        Ok(match tag {
            "moves" => Step::Moves {
                moves: rest::<MovesStep, _>(map)?.moves,
            },
            "enter_maintenance" => Step::EnterMaintenance {
                host_ids: rest::<Hosts, _>(map)?.host_ids,
            },
            "hold" => Step::Hold {
                seconds: rest::<Hold, _>(map)?.seconds,
            },
            "exit_maintenance" => Step::ExitMaintenance {
                host_ids: rest::<Hosts, _>(map)?.host_ids,
            },
            other => {
                return Err(unknown(
                    other,
                    &["moves", "enter_maintenance", "hold", "exit_maintenance"],
                ))
            }
        })
    }
}
crate::tag_first_in_browser!(Step);

#[cfg(test)]
mod tests;
