//! The engine's runtime: one task owns the engine core (`domain::engine`), ticks it on the
//! injected clock (simulated time = wall time × speed factor), takes commands (start, cancel,
//! faults) between ticks, stores every event, records switchovers in the same transaction as
//! the VM's move, and pushes it all to live clients. Readers see a published copy, never the
//! engine itself. See docs/DESIGN.md#the-engine-runtime.
//!
//! - this module: the service's state, its reads and the commands callers send;
//! - `actor`: the task that owns the engine (ticks, commands, the switchover);
//! - `persist`: storing events and summaries (retried after a failure) and publishing them;
//! - `leases`: several replicas — leases, fencing, other replicas' migrations, recovery.

mod actor;
pub mod clock;
mod leases;
mod persist;

use crate::db::{self, Backend, Db, DbError};
use crate::inventory::InventoryService;
use crate::live::LiveHub;
use crate::sync::{Mutex, RwLock};
use clock::Clock;
use domain::checks::{CheckReport, MigrationRequest};
use domain::engine::driver::{BoxedDriver, Platforms};
use domain::engine::{Engine, GroupLimit};
use domain::migration::{Fault, FaultRequest, Migration, MigrationEvent};
use domain::platform::Platform;
use domain::{DomainError, FaultId, MigrationId, PlanId, VmId};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Finished migrations a fresh websocket snapshot includes (the newest).
pub const SNAPSHOT_FINISHED: usize = 100;

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Simulated seconds per wall second (1 to 1000).
    pub speed: f64,
    /// Wall time between ticks.
    pub tick: Duration,
    /// How long a replica's claim on its migrations lasts unless renewed (it renews three
    /// times per period); another replica ends them once it has run out.
    pub lease: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            speed: 1.0,
            tick: Duration::from_millis(250),
            lease: DEFAULT_LEASE,
        }
    }
}

pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

/// How long a cancel forwarded to the replica that owns the migration is awaited.
const REMOTE_CANCEL_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Refused(#[from] DomainError),
    #[error("the prerequisite checks failed: {}", .0.first_error().map_or("", |r| r.message.as_str()))]
    Blocked(CheckReport),
    #[error("{vm} already has a migration in flight ({id})")]
    Busy { vm: String, id: MigrationId },
    #[error(transparent)]
    Storage(#[from] DbError),
    #[error("the engine is shutting down")]
    Stopped,
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("no migration has id {0}")]
    NotFound(MigrationId),
    #[error("the migration is already {0}")]
    AlreadyFinished(&'static str),
    #[error("no fault has id {0}")]
    NoFault(FaultId),
    #[error(transparent)]
    Refused(#[from] DomainError),
    #[error(transparent)]
    Storage(#[from] DbError),
    #[error("the engine is shutting down")]
    Stopped,
    /// Another replica runs this migration (the cancel is forwarded to it).
    #[error("migration {0} runs on another replica")]
    Foreign(MigrationId),
}

/// A command, with the user it comes from (for `started_by` and the audit log).
enum Command {
    Start(
        MigrationRequest,
        String,
        oneshot::Sender<Result<Migration, StartError>>,
    ),
    Cancel(
        MigrationId,
        String,
        oneshot::Sender<Result<Migration, CommandError>>,
    ),
    AddFault(
        FaultRequest,
        String,
        oneshot::Sender<Result<Fault, CommandError>>,
    ),
    ClearFault(
        FaultId,
        String,
        oneshot::Sender<Result<Fault, CommandError>>,
    ),
    /// Another replica changed the faults: these are all of them now.
    ReplaceFaults(Vec<Fault>),
    /// Renew leases, honour forwarded cancels, take over expired migrations now.
    LeasePass,
    /// A plan step's moves, queued together under the plan's limits (no tick between them:
    /// they start as the plan's prediction has them start, docs/DESIGN.md#running-a-plan).
    StartPlanStep(
        PlanStep,
        oneshot::Sender<Vec<Result<Migration, StartError>>>,
    ),
    /// A plan's limits changed (paused, resumed), or it is over (`None`).
    PlanLimit(PlanId, Option<GroupLimit>),
}

/// What a plan step asks of the engine.
pub struct PlanStep {
    pub plan: PlanId,
    pub limit: GroupLimit,
    pub requests: Vec<MigrationRequest>,
    pub actor: String,
}

#[derive(Default)]
struct Published {
    migrations: BTreeMap<MigrationId, Migration>,
    faults: Vec<Fault>,
    /// Migrations other replicas run (or ran), with whether they are still in motion here.
    foreign: BTreeMap<MigrationId, bool>,
}

pub struct MigrationService {
    db: Db,
    inventory: Arc<InventoryService>,
    live: Arc<LiveHub>,
    clock: Arc<dyn Clock>,
    commands: mpsc::Sender<Command>,
    published: RwLock<Published>,
    /// Flips to `true` once the engine task has stopped and stored its last events.
    stopped: watch::Sender<bool>,
    /// Events and summaries a failed write left unstored, retried first (in order) at the
    /// next write; nothing is published before it is stored.
    pending: Mutex<(Vec<MigrationEvent>, Vec<Migration>)>,
    /// This replica's name, the owner of the migrations it runs.
    replica: String,
    lease: Duration,
    backend: Backend,
    /// Serializes the reading of other replicas' migrations.
    absorbing: tokio::sync::Mutex<()>,
    /// The platform figures of the driver, for predictions.
    platforms: Arc<dyn Platforms>,
    speed: f64,
}

impl MigrationService {
    /// The figures of the platform that would run a VM's migration (what predicts it).
    pub fn platform(&self, vm: VmId) -> Platform {
        self.platforms.platform(vm)
    }

    /// Marks migrations a crash left in flight as failed, then starts the engine task with
    /// the driver that moves the bytes (simulated, or the lab's QEMU).
    pub async fn start(
        inventory: Arc<InventoryService>,
        live: Arc<LiveHub>,
        clock: Arc<dyn Clock>,
        driver: BoxedDriver,
        config: EngineConfig,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Arc<Self>, DbError> {
        let db = inventory.db().clone();
        let backend = db::backend(&db).await?;
        let replica = inventory.replica().to_owned();
        let mut migrations = BTreeMap::new();
        let mut foreign = BTreeMap::new();
        for mut m in db::load_migrations(&db).await? {
            if !m.phase.is_final() {
                if backend == Backend::Sqlite {
                    // One replica: whoever ran it is gone.
                    let message = leases::stopped_message(&inventory, &m, None);
                    let now_ms = clock.unix_ms();
                    leases::fail_orphan(&db, &replica, &mut m, i64::MAX, now_ms, message).await?;
                } else {
                    // Another replica may be running it; if not, its lease runs out and the
                    // lease pass ends it.
                    inventory.begin_motion(&m);
                    foreign.insert(m.id, true);
                }
            }
            migrations.insert(m.id, m);
        }
        let faults = db::load_faults(&db).await?;
        let (commands, rx) = mpsc::channel(256);
        let platforms = driver.platforms();
        let service = Arc::new(MigrationService {
            db,
            inventory,
            live,
            clock,
            commands,
            published: RwLock::new(Published {
                migrations,
                faults: faults.clone(),
                foreign,
            }),
            stopped: watch::channel(false).0,
            pending: Mutex::new((Vec::new(), Vec::new())),
            replica,
            lease: config.lease,
            backend,
            absorbing: tokio::sync::Mutex::new(()),
            platforms,
            speed: config.speed,
        });
        let mut engine = Engine::new(driver);
        engine.replace_faults(faults);
        tokio::spawn(service.clone().run(engine, rx, config, shutdown));
        Ok(service)
    }

    // ---- reads -------------------------------------------------------------------------

    /// Every migration, newest first.
    pub fn list(&self) -> Vec<Migration> {
        let p = self.published.read();
        let mut list: Vec<Migration> = p.migrations.values().cloned().collect();
        list.sort_by(|a, b| b.created_at_ms.cmp(&a.created_at_ms).then(b.id.cmp(&a.id)));
        list
    }

    pub fn get(&self, id: MigrationId) -> Option<Migration> {
        let p = self.published.read();
        p.migrations.get(&id).cloned()
    }

    /// A migration's stored events, in order (`None` for an unknown migration).
    pub async fn events(&self, id: MigrationId) -> Result<Option<Vec<MigrationEvent>>, DbError> {
        if self.get(id).is_none() {
            return Ok(None);
        }
        db::load_events(&self.db, id).await.map(Some)
    }

    pub fn faults(&self) -> Vec<Fault> {
        let p = self.published.read();
        p.faults.clone()
    }

    /// What a fresh live client gets: the migrations in flight and the newest finished ones.
    pub fn snapshot(&self) -> (Vec<Migration>, Vec<Fault>) {
        let p = self.published.read();
        let mut finished: Vec<&Migration> = p
            .migrations
            .values()
            .filter(|m| m.phase.is_final())
            .collect();
        finished.sort_by_key(|m| std::cmp::Reverse(m.created_at_ms));
        let mut list: Vec<Migration> = p
            .migrations
            .values()
            .filter(|m| !m.phase.is_final())
            .cloned()
            .collect();
        list.extend(finished.into_iter().take(SNAPSHOT_FINISHED).cloned());
        (list, p.faults.clone())
    }

    // ---- commands ----------------------------------------------------------------------

    pub async fn start_migration(
        &self,
        request: MigrationRequest,
    ) -> Result<Migration, StartError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Start(request, crate::audit::current_actor(), tx))
            .await
            .map_err(|_| StartError::Stopped)?;
        rx.await.map_err(|_| StartError::Stopped)?
    }

    pub async fn cancel(&self, id: MigrationId) -> Result<Migration, CommandError> {
        let actor = crate::audit::current_actor();
        match self.ask(|tx| Command::Cancel(id, actor.clone(), tx)).await {
            Err(CommandError::Foreign(id)) => self.cancel_remote(id, &actor).await,
            other => other,
        }
    }

    pub async fn add_fault(&self, request: FaultRequest) -> Result<Fault, CommandError> {
        self.ask(|tx| Command::AddFault(request, crate::audit::current_actor(), tx))
            .await
    }

    pub async fn clear_fault(&self, id: FaultId) -> Result<Fault, CommandError> {
        self.ask(|tx| Command::ClearFault(id, crate::audit::current_actor(), tx))
            .await
    }

    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<Result<T, CommandError>>) -> Command,
    ) -> Result<T, CommandError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(command(tx))
            .await
            .map_err(|_| CommandError::Stopped)?;
        rx.await.map_err(|_| CommandError::Stopped)?
    }

    /// Queues a plan step's moves together; each is started or refused on its own.
    pub async fn start_plan_step(
        &self,
        step: PlanStep,
    ) -> Result<Vec<Result<Migration, StartError>>, StartError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::StartPlanStep(step, tx))
            .await
            .map_err(|_| StartError::Stopped)?;
        rx.await.map_err(|_| StartError::Stopped)
    }

    /// Sets a plan's limits (`None`: the plan is over).
    pub async fn set_plan_limit(&self, plan: PlanId, limit: Option<GroupLimit>) {
        let _ = self.commands.send(Command::PlanLimit(plan, limit)).await;
    }

    /// The engine's simulated seconds per wall second.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Every VM's platform figures (for plan predictions).
    pub fn platforms(&self) -> Arc<dyn Platforms> {
        self.platforms.clone()
    }

    /// Waits until the engine task has stopped (after the shutdown signal).
    pub async fn stopped(&self) {
        let mut rx = self.stopped.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// Another replica changed the faults: the engine takes the stored set.
    pub async fn reload_faults(&self) -> Result<(), DbError> {
        let faults = db::load_faults(&self.db).await?;
        // A stopped engine has nothing to apply them to.
        let _ = self.commands.send(Command::ReplaceFaults(faults)).await;
        Ok(())
    }

    /// Another replica forwarded a cancel: handle it (with the lease pass) now.
    pub async fn cancel_requested(&self, _id: MigrationId) {
        let _ = self.commands.send(Command::LeasePass).await;
    }
}
