//! Maintenance plans (docs/DESIGN.md#maintenance-plans): previewed (drafted and predicted,
//! nothing written), stored as drafts, started, paused, resumed and cancelled. Each started
//! plan is run by its own task (`runner`) on this replica; the stored record is the truth
//! every replica reads, and each change is pushed to live clients.

mod runner;

use crate::audit;
use crate::db::{self, Backend, Db, DbError};
use crate::engine::clock::Clock;
use crate::engine::MigrationService;
use crate::inventory::InventoryService;
use crate::live::LiveHub;
use crate::sync::Mutex;
use app::protocol::LiveMessage;
use domain::plan::{self, PlanRecord, PlanRequest, PlanState, Preview};
use domain::{DomainError, PlanId};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("no plan has id {0}")]
    NotFound(PlanId),
    /// The plan's state does not allow it ("the plan is already running").
    #[error("{}", .0.english)]
    Conflict(domain::Phrase),
    #[error(transparent)]
    Refused(#[from] DomainError),
    #[error(transparent)]
    Storage(#[from] DbError),
    /// Another replica runs it (ask that one).
    #[error("plan {0} runs on another replica")]
    Elsewhere(PlanId),
}

/// What a running plan's task is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Control {
    Pause,
    Resume,
    Cancel,
}

type Reply = oneshot::Sender<PlanRecord>;
/// A control, who sent it, and where the plan as it stands afterwards goes.
type Order = (Control, String, Reply);

pub struct PlanService {
    db: Db,
    inventory: Arc<InventoryService>,
    migrations: Arc<MigrationService>,
    live: Arc<LiveHub>,
    clock: Arc<dyn Clock>,
    /// How often a running plan looks at its moves.
    poll: Duration,
    /// The plans this replica runs, and how to reach their tasks.
    running: Mutex<BTreeMap<PlanId, mpsc::Sender<Order>>>,
    shutdown: watch::Receiver<bool>,
    /// A plan another replica runs and has not written for this long (three of the engine's
    /// leases; a running plan writes every second) has lost its replica.
    orphaned_after: Duration,
}

impl PlanService {
    /// Marks the plans a stopped vmshift left running as interrupted, then serves.
    pub async fn start(
        inventory: Arc<InventoryService>,
        migrations: Arc<MigrationService>,
        live: Arc<LiveHub>,
        clock: Arc<dyn Clock>,
        poll: Duration,
        lease: Duration,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Arc<Self>, DbError> {
        let db = inventory.db().clone();
        let service = Arc::new(PlanService {
            db,
            inventory,
            migrations,
            live,
            clock,
            poll,
            running: Mutex::new(BTreeMap::new()),
            shutdown,
            orphaned_after: (lease * 3).max(Duration::from_secs(2)),
        });
        service.interrupt_orphans().await?;
        // With several replicas, one may die while the others run on: look again each lease.
        tokio::spawn(service.clone().watch_orphans(lease));
        Ok(service)
    }

    async fn watch_orphans(self: Arc<Self>, lease: Duration) {
        let mut shutdown = self.shutdown.clone();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(lease) => {}
                _ = shutdown.changed() => return,
            }
            if let Err(e) = self.interrupt_orphans().await {
                tracing::warn!(error = %e, "looking for plans left by a stopped replica failed");
            }
        }
    }

    /// Plans left running by a vmshift that stopped (this one before a restart, or a replica
    /// gone silent): not run here, and (with several replicas) unwritten for three leases.
    async fn interrupt_orphans(&self) -> Result<(), DbError> {
        let backend = db::backend(&self.db).await?;
        let now = self.clock.unix_ms();
        for (mut plan, updated) in db::unfinished_plans(&self.db).await? {
            if self.running.lock().contains_key(&plan.id) {
                continue;
            }
            let silent = now - updated > self.orphaned_after.as_millis() as i64;
            if backend == Backend::Postgres && !silent {
                continue;
            }
            let (done, total) = plan.progress();
            let message = domain::Phrase::new(
                "plan.run.interrupted_orphan",
                &[("done", done.to_string()), ("total", total.to_string())],
            );
            if plan.finish(PlanState::Interrupted, message, now) {
                tracing::warn!(plan = %plan.id, "plan interrupted by a stop");
                self.store(&plan).await?;
            }
        }
        Ok(())
    }

    // ---- reads -------------------------------------------------------------------------

    /// Drafts and predicts a plan on the inventory as it is now; nothing is written.
    pub fn preview(&self, request: &PlanRequest) -> Result<Preview, DomainError> {
        // A copy: planning a large cluster must not hold the inventory's lock.
        let (_, inv) = self.inventory.snapshot();
        let mut busy = self.inventory.busy_vms();
        busy.extend(
            self.migrations
                .list()
                .iter()
                .filter(|m| !m.phase.is_final())
                .map(|m| m.vm_id),
        );
        let now = self.clock.unix_ms();
        plan::preview(&inv, request, &busy, self.migrations.platforms(), now)
    }

    pub async fn list(&self) -> Result<Vec<PlanRecord>, DbError> {
        db::load_plans(&self.db).await
    }

    pub async fn get(&self, id: PlanId) -> Result<PlanRecord, PlanError> {
        db::load_plan(&self.db, id)
            .await?
            .ok_or(PlanError::NotFound(id))
    }

    // ---- commands ----------------------------------------------------------------------

    /// Stores a draft: the preview of `request`, as the admin saw it.
    pub async fn create(&self, request: &PlanRequest) -> Result<PlanRecord, PlanError> {
        let preview = self.preview(request)?;
        let actor = audit::current_actor();
        let plan = PlanRecord::new(
            PlanId::new_random(),
            preview.draft,
            preview.options,
            preview.prediction,
            preview.what_if,
            &actor,
            self.clock.unix_ms(),
        );
        self.store(&plan).await?;
        let summary = domain::Phrase::new(
            "audit.plan_created",
            &[
                ("moves", plan.moves.len().to_string()),
                ("blocked", plan.draft.blockers.len().to_string()),
            ],
        )
        .with("plan", plan.draft.title_words());
        let entry = audit::Record::about("plan.create", "plan", plan.id, summary).after(&plan);
        audit::record(&self.db, &actor, entry).await;
        Ok(plan)
    }

    /// Starts a draft: it runs now, or waits for its `start_at`.
    pub async fn start_plan(self: &Arc<Self>, id: PlanId) -> Result<PlanRecord, PlanError> {
        let mut plan = self.get(id).await?;
        if plan.state != PlanState::Draft {
            return Err(PlanError::Conflict(
                domain::Phrase::new("server.plan_not_draft", &[])
                    .with("state", plan_state_words(plan.state)),
            ));
        }
        if plan.moves.is_empty()
            && plan
                .draft
                .steps
                .iter()
                .all(|s| matches!(s, plan::Step::Moves { .. }))
        {
            return Err(PlanError::Conflict(domain::Phrase::new(
                "server.plan_nothing_to_do",
                &[],
            )));
        }
        let actor = audit::current_actor();
        let now = self.clock.unix_ms();
        plan.started_at_ms = Some(now);
        let waits = plan.options.start_at_ms.is_some_and(|at| at > now);
        plan.state = if waits {
            PlanState::Scheduled
        } else {
            PlanState::Running
        };
        plan.say(domain::Phrase::new(
            if waits {
                "plan.run.scheduled"
            } else {
                "plan.run.starting"
            },
            &[],
        ));
        // Known as running here before it is stored as running (not taken for an orphan).
        let (tx, rx) = mpsc::channel(8);
        self.running.lock().insert(id, tx);
        if let Err(e) = self.store(&plan).await {
            self.running.lock().remove(&id);
            return Err(e.into());
        }
        let entry = audit::Record::about(
            "plan.start",
            "plan",
            id,
            domain::Phrase::new("audit.plan_started", &[]).with("plan", plan.draft.title_words()),
        );
        audit::record(&self.db, &actor, entry).await;
        tokio::spawn(self.clone().run(plan.clone(), rx, actor));
        Ok(plan)
    }

    pub async fn pause(&self, id: PlanId) -> Result<PlanRecord, PlanError> {
        self.control(id, Control::Pause, "plan.pause", "paused")
            .await
    }

    pub async fn resume(&self, id: PlanId) -> Result<PlanRecord, PlanError> {
        self.control(id, Control::Resume, "plan.resume", "resumed")
            .await
    }

    /// Cancels a plan: its moves in flight are cancelled, every VM stays where it is. A
    /// draft is simply cancelled.
    pub async fn cancel(&self, id: PlanId) -> Result<PlanRecord, PlanError> {
        let plan = self.get(id).await?;
        if plan.state == PlanState::Draft {
            let mut plan = plan;
            let now = self.clock.unix_ms();
            plan.finish(
                PlanState::Cancelled,
                domain::Phrase::new("plan.run.cancelled_draft", &[]),
                now,
            );
            self.store(&plan).await?;
            let actor = audit::current_actor();
            let entry = audit::Record::about(
                "plan.cancel",
                "plan",
                id,
                domain::Phrase::new("audit.plan_cancelled", &[])
                    .with("plan", plan.draft.title_words()),
            );
            audit::record(&self.db, &actor, entry).await;
            return Ok(plan);
        }
        self.control(id, Control::Cancel, "plan.cancel", "cancelled")
            .await
    }

    async fn control(
        &self,
        id: PlanId,
        control: Control,
        action: &'static str,
        verb: &str,
    ) -> Result<PlanRecord, PlanError> {
        let plan = self.get(id).await?;
        if plan.state.is_final() || plan.state == PlanState::Draft {
            return Err(PlanError::Conflict(
                domain::Phrase::new("server.plan_not_running", &[])
                    .with("state", plan_state_words(plan.state)),
            ));
        }
        let sender = self.running.lock().get(&id).cloned();
        let Some(sender) = sender else {
            return Err(PlanError::Elsewhere(id));
        };
        let actor = audit::current_actor();
        let (tx, rx) = oneshot::channel();
        if sender.send((control, actor.clone(), tx)).await.is_err() {
            return Err(PlanError::Conflict(domain::Phrase::new(
                "server.plan_just_ended",
                &[],
            )));
        }
        let plan = rx
            .await
            .map_err(|_| PlanError::Conflict(domain::Phrase::new("server.plan_just_ended", &[])))?;
        let words = domain::Phrase::new(&format!("audit.plan_{verb}"), &[])
            .with("plan", plan.draft.title_words());
        let entry = audit::Record::about(action, "plan", id, words);
        audit::record(&self.db, &actor, entry).await;
        Ok(plan)
    }

    /// Another replica changed a plan: live clients here get it too.
    pub async fn reload(&self, id: PlanId) -> Result<(), DbError> {
        if let Some(plan) = db::load_plan(&self.db, id).await? {
            self.live
                .publish_message(&LiveMessage::PlanUpdated(Box::new(plan)));
        }
        Ok(())
    }

    /// Stores a plan and pushes it to live clients.
    async fn store(&self, plan: &PlanRecord) -> Result<(), DbError> {
        db::store_plan(
            &self.db,
            plan,
            self.inventory.replica(),
            self.clock.unix_ms(),
        )
        .await?;
        self.live
            .publish_message(&LiveMessage::PlanUpdated(Box::new(plan.clone())));
        Ok(())
    }
}

/// A plan's state as a name the pages translate.
fn plan_state_words(state: PlanState) -> domain::Phrase {
    domain::Phrase::name("plan_state", state.as_str(), state.as_str())
}
