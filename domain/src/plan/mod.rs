//! Maintenance plans (docs/DESIGN.md#maintenance-plans): a goal at cluster scope — empty a
//! host for maintenance, drain a datastore, patch a cluster host by host, move a wave of VMs —
//! turned into ordered steps of moves, each VM placed where every check passes against the
//! inventory as the earlier moves leave it (`placement`), with the VMs that cannot move named
//! with why and how to fix it; then the whole plan predicted by the engine core itself in fast
//! forward (`predict`). Pure: no clock, no I/O.

pub mod placement;
pub mod predict;
pub mod record;
mod rolling;
mod tag_first;
#[cfg(test)]
mod tests;

use crate::checks::MigrationKind;
use crate::engine::driver::Platforms;
use crate::ids::*;
use crate::{DomainError, Inventory, Phrase};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;

/// What is asked of a plan: its goal and how it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    pub goal: Goal,
    #[serde(default)]
    pub options: PlanOptions,
}

/// A plan drafted and predicted, nothing stored: placement, blockers, the prediction and the
/// what-if rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    pub draft: Draft,
    pub options: PlanOptions,
    pub prediction: PlanPrediction,
    pub what_if: Vec<WhatIf>,
}

/// Drafts and predicts a plan (`busy`: VMs with a migration in flight; `platforms`: whose
/// figures each VM moves with).
pub fn preview(
    inv: &Inventory,
    request: &PlanRequest,
    busy: &BTreeSet<VmId>,
    platforms: Arc<dyn Platforms>,
    now_ms: i64,
) -> Result<Preview, DomainError> {
    // The goal's fields are named as the request has them (`goal.host_id`).
    let draft = draft(inv, &request.goal, &request.options, busy).map_err(|e| match &e.field {
        Some(f) if !f.starts_with("options.") => {
            let field = Some(format!("goal.{f}"));
            e.clone().reworded(field, |m| format!("goal.{m}"))
        }
        _ => e,
    })?;
    let prediction = predict(inv, &draft, &request.options, platforms.clone(), now_ms);
    let what_if = what_if(inv, &draft, &request.options, platforms, now_ms);
    Ok(Preview {
        draft,
        options: request.options.clone(),
        prediction,
        what_if,
    })
}

pub use crate::prediction::Breakdown;
pub use placement::draft;
pub use predict::{predict, what_if, MoveTimeline, PlanPrediction, StepSpan, WhatIf, Window};
pub use record::{MoveRun, PlanRecord, PlanState};

/// What a plan is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Goal {
    /// Every VM off the host — running ones by vMotion (a combined move to shared storage for
    /// disks on the host's local datastore), powered-off and suspended ones cold — then the
    /// host in maintenance mode.
    EvacuateHost {
        host_id: HostId,
        #[serde(default = "yes")]
        enter_maintenance: bool,
    },
    /// The host out of maintenance mode, then the VMs it had (`return_vm_ids`) back on it where
    /// the checks allow.
    ExitMaintenance {
        host_id: HostId,
        #[serde(default)]
        return_vm_ids: Vec<VmId>,
    },
    /// Every disk off the datastore, by Storage vMotion.
    DrainDatastore { datastore_id: DatastoreId },
    /// Every host of the cluster in turn (`at_a_time` together): evacuated, in maintenance for
    /// `maintenance_s`, back, its VMs returned.
    RollingMaintenance {
        cluster_id: ClusterId,
        #[serde(default = "one")]
        at_a_time: u32,
        #[serde(default)]
        maintenance_s: u32,
    },
    /// A wave of moves, each to its target or to any valid one.
    Moves { moves: Vec<MoveRequest> },
}

fn yes() -> bool {
    true
}

fn one() -> u32 {
    1
}

/// One move of a wave: the VM and, if given, where it goes and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    pub vm_id: VmId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_host_id: Option<HostId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_datastore_id: Option<DatastoreId>,
    /// Higher first when the plan's order is by priority (0–10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
}

/// In which order the moves of a step are queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// The largest VMs first: the longest moves start early, the tail is short.
    #[default]
    LargestFirst,
    SmallestFirst,
    /// The moves' priorities, highest first (a wave's `priority`), then as given.
    ByPriority,
}

/// Whether a plan holds back a live move its links could not carry to convergence
/// (docs/DESIGN.md#pacing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pacing {
    /// A move waits while its share of a link would be under twice the fastest dirty rate
    /// on it.
    #[default]
    Converge,
    /// Only vSphere's slot limits (and `max_concurrent`) hold moves back.
    VsphereLimits,
}

/// How a plan runs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlanOptions {
    /// Moves running at once at most (`None`: only vSphere's limits).
    pub max_concurrent: Option<u32>,
    pub bandwidth_cap_mbps: Option<u32>,
    pub downtime_target_ms: Option<u32>,
    pub order: Order,
    /// When it starts (ms since the epoch; `None`: when started).
    pub start_at_ms: Option<i64>,
    /// When it must be over: the prediction says whether it fits.
    pub must_finish_by_ms: Option<i64>,
    /// A failed move stops the plan (else the others go on).
    pub stop_on_failure: bool,
    pub pacing: Pacing,
}

impl PlanOptions {
    /// Checks the values, naming the field of the one that does not fit.
    pub fn validate(&self) -> Result<(), crate::DomainError> {
        let invalid = |field: &str, code: &str| {
            Err(crate::DomainError::invalid(
                format!("options.{field}"),
                Phrase::new(code, &[]),
            ))
        };
        if self.max_concurrent == Some(0) || self.max_concurrent.is_some_and(|n| n > 1_000) {
            return invalid("max_concurrent", "refuse.max_concurrent");
        }
        crate::checks::MigrationOptions {
            downtime_target_ms: self.downtime_target_ms,
            bandwidth_cap_mbps: self.bandwidth_cap_mbps,
            priority: None,
        }
        .validate()?;
        if let (Some(start), Some(end)) = (self.start_at_ms, self.must_finish_by_ms) {
            if end <= start {
                return invalid("must_finish_by_ms", "refuse.window");
            }
        }
        Ok(())
    }
}

/// One planned move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedMove {
    pub vm_id: VmId,
    pub vm_name: String,
    pub kind: MigrationKind,
    /// Whether the VM runs (a live move) or not (a cold one).
    pub live: bool,
    pub source_host_id: HostId,
    pub target_host_id: HostId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_datastore_id: Option<DatastoreId>,
    /// Where it goes, in words ("esx-04", "esx-04 and san-gold").
    pub target: String,
    /// The same as a code and values, for the pages (docs/DESIGN.md#languages).
    #[serde(default)]
    pub target_phrase: Phrase,
    /// Why it moves ("off esx-03 for maintenance").
    pub why: String,
    #[serde(default)]
    pub why_phrase: Phrase,
    pub memory_mib: u64,
    #[serde(default)]
    pub priority: u8,
}

/// A VM that cannot move, and why: the check that fails, its message and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocker {
    pub vm_id: VmId,
    pub vm_name: String,
    /// The failing check's id (`storage.local`, `affinity.rules`, `resources.memory`…).
    pub check: String,
    /// The wording's code and values, as a check result's (docs/DESIGN.md#languages).
    #[serde(default)]
    pub code: String,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub args: std::collections::BTreeMap<String, String>,
    pub message: String,
    pub remedy: String,
}

/// One step of a plan, run after the previous one is over.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Moves, run together under the engine's limits (and the plan's).
    Moves { moves: Vec<PlannedMove> },
    /// Hosts put in maintenance mode, once empty.
    EnterMaintenance { host_ids: Vec<HostId> },
    /// Hosts left in maintenance for a while (simulated seconds).
    Hold { seconds: u32 },
    /// Hosts out of maintenance mode.
    ExitMaintenance { host_ids: Vec<HostId> },
}

/// A plan as drafted: its steps and what blocks it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub goal: Goal,
    pub title: String,
    #[serde(default)]
    pub title_phrase: Phrase,
    pub steps: Vec<Step>,
    pub blockers: Vec<Blocker>,
    /// Hosts that will not enter maintenance, and why (a VM that cannot leave).
    pub notes: Vec<String>,
    #[serde(default)]
    pub note_phrases: Vec<Phrase>,
}

impl Draft {
    /// Its title as a phrase (a plan stored before titles had codes: its English).
    pub fn title_words(&self) -> Phrase {
        if self.title_phrase.code.is_empty() {
            Phrase::raw(self.title.clone())
        } else {
            self.title_phrase.clone()
        }
    }

    /// Every planned move, in order.
    pub fn moves(&self) -> impl Iterator<Item = &PlannedMove> {
        self.steps.iter().flat_map(|s| match s {
            Step::Moves { moves } => moves.as_slice(),
            _ => &[],
        })
    }
}
