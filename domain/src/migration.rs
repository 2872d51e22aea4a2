//! Migrations as the API and the pages see them: phases, the progress events of docs/DESIGN.md#the-progress-stream, and
//! the faults an admin injects for drills.

use super::checks::{MigrationKind, MigrationOptions, MigrationRequest};
use super::ids::*;
use super::phrase::Phrase;
use super::precopy::Round;
use super::prediction::Prediction;
use super::transfer::{TransferPlan, TransferProgress};
use super::DomainError;
pub use crate::phase::{MigrationState, Phase};
use serde::{Deserialize, Serialize};

/// What a completed migration did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MigrationResult {
    /// Simulated seconds from start to switchover.
    pub duration_s: f64,
    pub downtime_ms: f64,
    pub bytes: f64,
}

/// One progress event (docs/DESIGN.md#the-progress-stream). `seq` counts the stored events from 1
/// per migration with no gaps; a transient one repeats the seq of the last stored one. `percent`
/// never goes backwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationEvent {
    pub migration_id: MigrationId,
    pub seq: u64,
    /// Simulated seconds since the migration was created.
    pub sim_time_s: f64,
    pub phase: Phase,
    pub percent: f64,
    pub bytes_sent: f64,
    pub bytes_total_estimate: f64,
    pub rate_bytes_s: f64,
    /// Seconds left at the current rate (absent while nothing moves).
    pub eta_s: Option<f64>,
    /// Pre-copy round (0 before the memory phase).
    pub round: u32,
    pub dirty_rate_bytes_s: f64,
    pub remaining_dirty_bytes: f64,
    pub expected_downtime_ms: f64,
    pub message: String,
    /// The message as a code and values, for the pages (docs/DESIGN.md#languages): on the
    /// events whose message differs from the one before (a progress tick repeats it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<Phrase>,
    /// A progress point sent live and not stored (docs/DESIGN.md#stored-history): the history
    /// keeps every phase change, round boundary and message, and a progress sample at most
    /// every [`HISTORY_SAMPLE_S`] simulated seconds.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub transient: bool,
}

/// How often, in simulated seconds, a migration's stored history samples its progress between
/// the events it always keeps (docs/DESIGN.md#stored-history).
pub const HISTORY_SAMPLE_S: f64 = 1.0;

/// A migration: what was asked, where it stands, what it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Migration {
    pub id: MigrationId,
    pub vm_id: VmId,
    pub vm_name: String,
    pub kind: MigrationKind,
    pub source_host_id: HostId,
    /// The host after the move (the source host for a Storage vMotion).
    pub target_host_id: HostId,
    /// Where each disk was, in the VM's disk order.
    pub source_datastore_ids: Vec<DatastoreId>,
    pub target_datastore_id: Option<DatastoreId>,
    /// The move in words, named when it was asked ("esx-01 → esx-02 · san-01 → san-02").
    pub route: String,
    /// Where the VM goes, in words ("esx-02", "vsan-prod", "esx-02 and vsan-prod").
    pub target: String,
    /// The same as a code and values, for the pages (docs/DESIGN.md#languages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_words: Option<Phrase>,
    pub options: MigrationOptions,
    pub state: MigrationState,
    pub phase: Phase,
    pub percent: f64,
    /// Why it waits, while queued.
    pub queue_reason: Option<String>,
    /// The same as a code and values, for the pages (docs/DESIGN.md#languages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_words: Option<Phrase>,
    /// The last word: what is happening, or why it ended.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<Phrase>,
    /// Wall-clock times, milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// When it left the queue.
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    /// Simulated seconds since creation (the time of the last event).
    pub sim_time_s: f64,
    pub bytes_sent: f64,
    pub bytes_total_estimate: f64,
    pub rate_bytes_s: f64,
    pub eta_s: Option<f64>,
    pub round: u32,
    pub dirty_rate_bytes_s: f64,
    pub remaining_dirty_bytes: f64,
    pub expected_downtime_ms: f64,
    /// Stun time at switchover, once completed.
    pub downtime_ms: Option<f64>,
    /// Highest SDPS throttle applied to the guest (0 = none).
    pub max_throttle: f64,
    /// Pre-copy rounds done so far.
    pub rounds: Vec<Round>,
    /// What the engine predicted when the migration was started.
    pub prediction: Prediction,
    /// What it did, once completed.
    pub result: Option<MigrationResult>,
    /// Why it failed, once failed.
    pub error: Option<String>,
    /// Who started it (accounts come with teams; `None` until then).
    pub started_by: Option<String>,
    /// Sequence number of the last event.
    pub last_seq: u64,
    /// Run by a real hypervisor (the QEMU driver's lab), not simulated: its figures are
    /// measured.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub real: bool,
    /// The hypervisor's own id of the move (vCenter's task, `task-123`), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_task: Option<String>,
}

impl Migration {
    /// Applies an event to the summary (the browser and the server keep it the same way).
    pub fn absorb(&mut self, e: &MigrationEvent) {
        self.phase = e.phase;
        self.state = e.phase.state();
        match e.phase {
            Phase::Failed => self.error = Some(e.message.clone()),
            Phase::Completed => {
                self.result = Some(MigrationResult {
                    duration_s: e.sim_time_s,
                    downtime_ms: self.downtime_ms.unwrap_or(e.expected_downtime_ms),
                    bytes: e.bytes_sent,
                })
            }
            _ => {}
        }
        self.percent = self.percent.max(e.percent);
        self.sim_time_s = e.sim_time_s;
        self.bytes_sent = e.bytes_sent;
        self.bytes_total_estimate = e.bytes_total_estimate;
        self.rate_bytes_s = e.rate_bytes_s;
        self.eta_s = e.eta_s;
        self.round = e.round;
        self.dirty_rate_bytes_s = e.dirty_rate_bytes_s;
        self.remaining_dirty_bytes = e.remaining_dirty_bytes;
        self.expected_downtime_ms = e.expected_downtime_ms;
        // A progress tick repeats the message: copied only when it changes (this runs for
        // every event of every migration).
        if e.message != self.message {
            self.words = e.words.clone();
            self.message = e.message.clone();
        } else if e.words.is_some() {
            self.words = e.words.clone();
        }
        self.last_seq = e.seq;
        if e.phase != Phase::Queued {
            self.queue_reason = None;
            self.queue_words = None;
        }
    }
}

/// Percent shown until a switchover is committed: 100 means the VM runs on its target.
pub const PERCENT_BEFORE_COMMIT: f64 = 99.0;

/// How a migration ends. See docs/DESIGN.md#how-a-migration-ends.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// The switchover is recorded: the VM runs on its target after `downtime_ms` of stun.
    Completed { downtime_ms: f64, message: Phrase },
    /// A check, a fault, the driver or the switchover's record failed; the VM stays where it
    /// was.
    Failed(Phrase),
    /// Cancelled by a user; the VM stays where it was.
    Cancelled(Phrase),
    /// Its owner went away mid-flight (a crash, a replica that stopped renewing its lease):
    /// failed, the VM where the last committed state has it.
    Orphaned(Phrase),
}

impl Migration {
    /// The next progress event of this migration, folded into the summary. `sim_time_s`
    /// (seconds since creation) and `percent` never go back; `percent` stays below 100 until
    /// the switchover is committed. See docs/DESIGN.md#the-progress-stream.
    pub fn record_event(
        &mut self,
        phase: Phase,
        sim_time_s: f64,
        progress: Option<&TransferProgress>,
        rate: f64,
        message: Phrase,
    ) -> MigrationEvent {
        // Words only where the message changes: a tick's event repeats the last ones.
        let changed = message.english != self.message || self.words.is_none();
        let Phrase {
            code,
            args,
            parts,
            english,
        } = message;
        let words = (changed && !code.is_empty()).then(|| Phrase {
            code,
            args,
            parts,
            english: String::new(),
        });
        self.record(phase, sim_time_s, progress, rate, (english, words), true)
    }

    /// The next event saying the same as the last (a progress tick, on the engine's hot
    /// path: nothing is worded again); stored in the history, or only sent live (`transient`,
    /// the seq of the last stored event).
    pub fn record_progress(
        &mut self,
        phase: Phase,
        sim_time_s: f64,
        progress: Option<&TransferProgress>,
        rate: f64,
        stored: bool,
    ) -> MigrationEvent {
        let message = self.message.clone();
        self.record(phase, sim_time_s, progress, rate, (message, None), stored)
    }

    fn record(
        &mut self,
        phase: Phase,
        sim_time_s: f64,
        progress: Option<&TransferProgress>,
        rate: f64,
        (message, words): (String, Option<Phrase>),
        stored: bool,
    ) -> MigrationEvent {
        let r = &*self;
        let mut e = MigrationEvent {
            migration_id: r.id,
            seq: r.last_seq + u64::from(stored),
            sim_time_s: sim_time_s.max(r.sim_time_s),
            phase,
            percent: r.percent,
            bytes_sent: r.bytes_sent,
            bytes_total_estimate: r.bytes_total_estimate,
            rate_bytes_s: if phase.is_final() { 0.0 } else { rate },
            eta_s: None,
            round: r.round,
            dirty_rate_bytes_s: r.dirty_rate_bytes_s,
            remaining_dirty_bytes: r.remaining_dirty_bytes,
            expected_downtime_ms: r.expected_downtime_ms,
            message,
            words,
            transient: !stored,
        };
        if let Some(p) = progress {
            e.bytes_sent = p.bytes_sent;
            e.bytes_total_estimate = p.bytes_total_estimate.max(p.bytes_sent);
            e.round = p.round;
            e.dirty_rate_bytes_s = p.dirty_rate;
            e.remaining_dirty_bytes = p.remaining_dirty;
            e.expected_downtime_ms = p.expected_downtime_s * 1000.0;
            if e.bytes_total_estimate > 0.0 {
                let raw = 100.0 * e.bytes_sent / e.bytes_total_estimate;
                e.percent = e.percent.max(raw.min(PERCENT_BEFORE_COMMIT));
            }
            if rate > 0.0 && !phase.is_final() {
                e.eta_s = Some((e.bytes_total_estimate - e.bytes_sent).max(0.0) / rate);
            }
        }
        match phase {
            Phase::Completed => {
                e.percent = 100.0;
                e.eta_s = Some(0.0);
                e.remaining_dirty_bytes = 0.0;
            }
            Phase::Preparing => e.eta_s = self.eta_s,
            _ => {}
        }
        self.absorb(&e);
        e
    }

    /// A migration just asked for, queued, with what was predicted for it and its route
    /// and target in words.
    pub fn queued(
        id: MigrationId,
        vm: &crate::Vm,
        request: &MigrationRequest,
        plan: &TransferPlan,
        prediction: Prediction,
        (route, target): (String, Phrase),
        now_ms: i64,
    ) -> Migration {
        Migration {
            id,
            vm_id: vm.id,
            vm_name: vm.name.as_str().to_owned(),
            kind: request.kind,
            source_host_id: vm.host_id,
            target_host_id: plan.target_host,
            source_datastore_ids: vm.disks.iter().map(|d| d.datastore_id).collect(),
            target_datastore_id: plan.target_datastore,
            route,
            target: target.english.clone(),
            target_words: Some(target.without_english()),
            options: request.options,
            state: Phase::Queued.state(),
            phase: Phase::Queued,
            percent: 0.0,
            queue_reason: None,
            queue_words: None,
            message: String::new(),
            words: None,
            created_at_ms: now_ms,
            started_at_ms: None,
            finished_at_ms: None,
            sim_time_s: 0.0,
            bytes_sent: 0.0,
            bytes_total_estimate: prediction.bytes_total,
            rate_bytes_s: 0.0,
            eta_s: Some(prediction.duration_s),
            round: 0,
            dirty_rate_bytes_s: 0.0,
            remaining_dirty_bytes: 0.0,
            expected_downtime_ms: prediction.downtime_ms,
            downtime_ms: None,
            max_throttle: 0.0,
            rounds: Vec::new(),
            prediction,
            result: None,
            error: None,
            started_by: None,
            last_seq: 0,
            real: false,
            external_task: None,
        }
    }

    /// Ends the migration — the one way every migration ends, in the engine core, its
    /// runtime and recovery alike: the final event (after `progress`, if given), folded into
    /// the summary, finished at `now_ms`.
    pub fn end(
        &mut self,
        ending: Ending,
        sim_time_s: f64,
        progress: Option<&TransferProgress>,
        now_ms: i64,
    ) -> MigrationEvent {
        let (phase, message) = match ending {
            Ending::Completed {
                downtime_ms,
                message,
            } => {
                self.downtime_ms = Some(downtime_ms);
                (Phase::Completed, message)
            }
            Ending::Failed(m) | Ending::Orphaned(m) => (Phase::Failed, m),
            Ending::Cancelled(m) => (Phase::Cancelled, m),
        };
        self.finished_at_ms = Some(now_ms);
        self.rate_bytes_s = 0.0;
        self.record_event(phase, sim_time_s, progress, 0.0, message)
    }
}

/// A failure an admin injects to rehearse (or a test uses to prove the VM stays put).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The vMotion network of a host is cut.
    VmotionLinkDown,
    /// A host stops answering.
    HostDown,
    /// A datastore has no space left.
    DatastoreFull,
}

impl FaultKind {
    pub const ALL: [FaultKind; 3] = [
        FaultKind::VmotionLinkDown,
        FaultKind::HostDown,
        FaultKind::DatastoreFull,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::VmotionLinkDown => "vmotion_link_down",
            FaultKind::HostDown => "host_down",
            FaultKind::DatastoreFull => "datastore_full",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            FaultKind::VmotionLinkDown => "vMotion link down",
            FaultKind::HostDown => "Host down",
            FaultKind::DatastoreFull => "Datastore full",
        }
    }

    /// Whether the fault is about a host (else a datastore).
    pub fn targets_host(self) -> bool {
        !matches!(self, FaultKind::DatastoreFull)
    }
}

/// What a user sends to inject a fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRequest {
    pub kind: FaultKind,
    pub target_id: uuid::Uuid,
}

/// An injected fault, in effect until it is cleared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub id: FaultId,
    pub kind: FaultKind,
    pub target_id: uuid::Uuid,
    /// Name of the host or datastore.
    pub target_name: String,
    pub created_at_ms: i64,
}

impl FaultRequest {
    /// Resolves the target against the inventory, naming the field when it is wrong.
    pub fn resolve(&self, inv: &super::Inventory) -> Result<String, DomainError> {
        let name = if self.kind.targets_host() {
            inv.hosts
                .get(&HostId(self.target_id))
                .map(|h| h.name.to_string())
        } else {
            inv.datastores
                .get(&DatastoreId(self.target_id))
                .map(|d| d.name.to_string())
        };
        name.ok_or_else(|| {
            DomainError::invalid(
                "target_id",
                format!(
                    "target_id: no {} has id {}",
                    if self.kind.targets_host() {
                        "host"
                    } else {
                        "datastore"
                    },
                    self.target_id
                ),
            )
        })
    }
}
