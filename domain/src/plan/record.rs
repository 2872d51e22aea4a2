//! A stored plan and its run (docs/DESIGN.md#running-a-plan): what was planned and predicted,
//! where the run stands, each move's outcome against its prediction. The server's runner
//! changes it only through the transitions here, so a plan never goes back from an end.

use super::{Draft, PlanOptions, PlanPrediction, PlannedMove, Step, WhatIf};
use crate::ids::*;
use crate::migration::Phase;
use crate::phrase::{english_template, Phrase};
use serde::{Deserialize, Serialize};

/// Where a plan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanState {
    /// Stored, not started.
    Draft,
    /// Started, waiting for its `start_at`.
    Scheduled,
    Running,
    /// No new move starts; moves in flight go on.
    Paused,
    Completed,
    /// A move failed and the plan said to stop, or a step could not be done.
    Failed,
    Cancelled,
    /// vmshift stopped while it ran.
    Interrupted,
}

impl PlanState {
    pub fn is_final(self) -> bool {
        matches!(
            self,
            PlanState::Completed
                | PlanState::Failed
                | PlanState::Cancelled
                | PlanState::Interrupted
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PlanState::Draft => "draft",
            PlanState::Scheduled => "scheduled",
            PlanState::Running => "running",
            PlanState::Paused => "paused",
            PlanState::Completed => "completed",
            PlanState::Failed => "failed",
            PlanState::Cancelled => "cancelled",
            PlanState::Interrupted => "interrupted",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PlanState::Draft => "Draft",
            PlanState::Scheduled => "Scheduled",
            PlanState::Running => "Running",
            PlanState::Paused => "Paused",
            PlanState::Completed => "Completed",
            PlanState::Failed => "Failed",
            PlanState::Cancelled => "Cancelled",
            PlanState::Interrupted => "Interrupted",
        }
    }
}

/// One move of a running plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoveRun {
    pub vm_id: VmId,
    pub step: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration_id: Option<MigrationId>,
    /// Queued, running phases, then completed, failed or cancelled; `None`: not started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// Simulated seconds from the plan's start: when it left the queue and when it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The same as a code and values, for the pages (docs/DESIGN.md#languages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_words: Option<Phrase>,
}

impl MoveRun {
    pub fn is_done(&self) -> bool {
        self.phase.is_some_and(Phase::is_final)
    }
}

/// A plan: what was asked, drafted and predicted, and its run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRecord {
    pub id: PlanId,
    pub draft: Draft,
    pub options: PlanOptions,
    pub prediction: PlanPrediction,
    pub what_if: Vec<WhatIf>,
    pub state: PlanState,
    /// What is happening, or why it ended.
    pub message: String,
    /// The same as a code and values, for the pages (docs/DESIGN.md#languages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_words: Option<Phrase>,
    pub created_by: String,
    pub created_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at_ms: Option<i64>,
    /// The step running (or next).
    pub step: usize,
    /// Simulated seconds the plan has run (its clock: steps back to back), up to the end of
    /// its last finished step.
    pub elapsed_s: f64,
    /// The plan's clock at its last update (within the running step).
    #[serde(default)]
    pub clock_s: f64,
    /// When the run is predicted to end, re-computed from the moves still to go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_end_ms: Option<i64>,
    pub moves: Vec<MoveRun>,
    /// What the run did beside the moves ("esx-03 entered maintenance mode").
    #[serde(default)]
    pub log: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_words: Vec<Phrase>,
}

impl PlanRecord {
    pub fn new(
        id: PlanId,
        draft: Draft,
        options: PlanOptions,
        prediction: PlanPrediction,
        what_if: Vec<WhatIf>,
        created_by: &str,
        now_ms: i64,
    ) -> Self {
        let moves = draft
            .steps
            .iter()
            .enumerate()
            .flat_map(|(i, s)| match s {
                Step::Moves { moves } => moves
                    .iter()
                    .map(|m| MoveRun {
                        vm_id: m.vm_id,
                        step: i,
                        migration_id: None,
                        phase: None,
                        start_s: None,
                        end_s: None,
                        error: None,
                        error_words: None,
                    })
                    .collect::<Vec<_>>(),
                _ => Vec::new(),
            })
            .collect();
        PlanRecord {
            id,
            draft,
            options,
            prediction,
            what_if,
            state: PlanState::Draft,
            message: english_template("plan.run.planned")
                .unwrap_or_default()
                .into(),
            message_words: Some(Phrase::new("plan.run.planned", &[])),
            created_by: created_by.into(),
            created_at_ms: now_ms,
            started_at_ms: None,
            finished_at_ms: None,
            step: 0,
            elapsed_s: 0.0,
            clock_s: 0.0,
            predicted_end_ms: None,
            moves,
            log: Vec::new(),
            log_words: Vec::new(),
        }
    }

    pub fn title(&self) -> &str {
        &self.draft.title
    }

    /// Moves over (completed, failed or cancelled), and all of them.
    pub fn progress(&self) -> (usize, usize) {
        (
            self.moves.iter().filter(|m| m.is_done()).count(),
            self.moves.len(),
        )
    }

    pub fn completed_moves(&self) -> usize {
        self.moves
            .iter()
            .filter(|m| m.phase == Some(Phase::Completed))
            .count()
    }

    /// The planned move of a run's move.
    pub fn planned(&self, index: usize) -> Option<&PlannedMove> {
        let run = self.moves.get(index)?;
        match self.draft.steps.get(run.step)? {
            Step::Moves { moves } => moves.iter().find(|m| m.vm_id == run.vm_id),
            _ => None,
        }
    }

    /// The move's index among the run's moves.
    pub fn index_of(&self, step: usize, vm: VmId) -> Option<usize> {
        self.moves
            .iter()
            .position(|m| m.step == step && m.vm_id == vm)
    }

    /// The hosts the running step is emptying for their maintenance (shown on the map).
    pub fn evacuating(&self) -> Vec<HostId> {
        if !matches!(self.state, PlanState::Running | PlanState::Paused) {
            return Vec::new();
        }
        match (
            self.draft.steps.get(self.step),
            self.draft.steps.get(self.step + 1),
        ) {
            (Some(Step::Moves { .. }), Some(Step::EnterMaintenance { host_ids })) => {
                host_ids.clone()
            }
            _ => Vec::new(),
        }
    }

    /// Says `words`: the plan's message (in English) and its words for the pages.
    pub fn say(&mut self, words: Phrase) {
        self.message = words.english.clone();
        self.message_words = Some(words);
    }

    /// Adds `words` to what the run did beside the moves.
    pub fn note(&mut self, words: Phrase) {
        self.log.push(words.english.clone());
        self.log_words.push(words);
    }

    /// Ends the plan (once: an ended plan stays as it ended).
    pub fn finish(&mut self, state: PlanState, message: Phrase, now_ms: i64) -> bool {
        if self.state.is_final() || !state.is_final() {
            return false;
        }
        self.state = state;
        self.say(message);
        self.finished_at_ms = Some(now_ms);
        self.predicted_end_ms = None;
        true
    }

    /// The plan's seconds still to go when `step` has run `in_step_s`: what the prediction
    /// gives the rest of this step (at least what the moves in flight still need, `floor_s`)
    /// and the steps after it.
    pub fn remaining_s(&self, step: usize, in_step_s: f64, floor_s: f64) -> f64 {
        let spans = &self.prediction.steps;
        let this = spans
            .get(step)
            .map_or(0.0, |s| (s.end_s - s.start_s - in_step_s).max(0.0))
            .max(floor_s);
        let later: f64 = spans
            .iter()
            .skip(step + 1)
            .map(|s| s.end_s - s.start_s)
            .sum();
        this + later
    }
}
