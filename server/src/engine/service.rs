//! The engine's runtime: one task owns the engine, ticks it on the injected clock (simulated
//! time = wall time × speed factor), takes commands (start, cancel, faults) between ticks,
//! stores every event, records switchovers in the same transaction as the VM's move, and
//! pushes it all to live clients. Readers see a published copy, never the engine itself.
//!
//! With several replicas (PostgreSQL), each runs its own engine for the migrations started
//! through it, holding each under a lease it renews in the database. The others show them
//! (see `replication`), forward cancels to the owner, and when an owner stops renewing, the
//! first to notice ends its migrations failed, VMs on their sources. Every write of the owner
//! is fenced: once another replica has ended a migration, the old owner's writes of it are
//! refused, the switchover included.

use super::clock::Clock;
use crate::audit;
use crate::db::{self, Backend, Db, DbError, Lease};
use crate::inventory_service::{InventoryService, ServiceError};
use crate::replication::{Notice, IDS_PER_NOTICE};
use app::protocol::LiveMessage;
use axum::extract::ws::Utf8Bytes;
use domain::checks::{check_migration, CheckReport, MigrationRequest};
use domain::engine::driver::{BoxedDriver, Platforms};
use domain::engine::simulated::SimulatedDriver;
use domain::engine::{CancelError, Engine, SubmitError};
use domain::migration::{Fault, FaultRequest, Migration, MigrationEvent, Phase};
use domain::platform::Platform;
use domain::{DomainError, FaultId, MigrationId, VmId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};
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
    clock: Arc<dyn Clock>,
    commands: mpsc::Sender<Command>,
    published: RwLock<Published>,
    /// Flips to `true` once the engine task has stopped and stored its last events.
    stopped: watch::Sender<bool>,
    /// Events and summaries a failed write left unstored, retried first (in order) at the
    /// next write; nothing is published before it is stored.
    pending: std::sync::Mutex<(Vec<MigrationEvent>, Vec<Migration>)>,
    /// This replica's name, the owner of the migrations it runs.
    replica: String,
    lease: Duration,
    backend: Backend,
    /// Serializes the reading of other replicas' migrations.
    absorbing: tokio::sync::Mutex<()>,
    /// The platform figures of the driver, for predictions.
    platforms: Arc<dyn Platforms>,
}

impl MigrationService {
    /// The figures of the platform that would run a VM's migration (what predicts it).
    pub fn platform(&self, vm: VmId) -> Platform {
        self.platforms.platform(vm)
    }

    /// Marks migrations a crash left in flight as failed, then starts the engine task.
    pub async fn start(
        db: Db,
        inventory: Arc<InventoryService>,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Arc<Self>, DbError> {
        let driver = Box::new(SimulatedDriver::new());
        Self::start_with(db, inventory, clock, config, shutdown, driver).await
    }

    /// Like [`Self::start`], with the driver that moves the bytes (simulated or QEMU).
    pub async fn start_with(
        db: Db,
        inventory: Arc<InventoryService>,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
        shutdown: watch::Receiver<bool>,
        driver: BoxedDriver,
    ) -> Result<Arc<Self>, DbError> {
        let backend = db::backend(&db).await?;
        let replica = inventory.replica().to_owned();
        let mut migrations = BTreeMap::new();
        let mut foreign = BTreeMap::new();
        for mut m in db::load_migrations(&db).await? {
            if !m.phase.is_final() {
                if backend == Backend::Sqlite {
                    // One replica: whoever ran it is gone.
                    let message = stopped_message(&inventory, &m, None);
                    let now_ms = clock.unix_ms();
                    fail_orphan(&db, &replica, &mut m, i64::MAX, now_ms, message).await?;
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
            clock,
            commands,
            published: RwLock::new(Published {
                migrations,
                faults: faults.clone(),
                foreign,
            }),
            stopped: watch::channel(false).0,
            pending: std::sync::Mutex::new((Vec::new(), Vec::new())),
            replica,
            lease: config.lease,
            backend,
            absorbing: tokio::sync::Mutex::new(()),
            platforms,
        });
        let mut engine = Engine::new(driver);
        engine.replace_faults(faults);
        tokio::spawn(service.clone().run(engine, rx, config, shutdown));
        Ok(service)
    }

    // ---- reads -------------------------------------------------------------------------

    /// Every migration, newest first.
    pub fn list(&self) -> Vec<Migration> {
        let p = self.published.read().unwrap_or_else(|e| e.into_inner());
        let mut list: Vec<Migration> = p.migrations.values().cloned().collect();
        list.sort_by(|a, b| b.created_at_ms.cmp(&a.created_at_ms).then(b.id.cmp(&a.id)));
        list
    }

    pub fn get(&self, id: MigrationId) -> Option<Migration> {
        let p = self.published.read().unwrap_or_else(|e| e.into_inner());
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
        let p = self.published.read().unwrap_or_else(|e| e.into_inner());
        p.faults.clone()
    }

    /// What a fresh live client gets: the migrations in flight and the newest finished ones.
    pub fn snapshot(&self) -> (Vec<Migration>, Vec<Fault>) {
        let p = self.published.read().unwrap_or_else(|e| e.into_inner());
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

    /// Asks the replica running a migration to cancel it, and waits (a while) for it.
    async fn cancel_remote(&self, id: MigrationId, actor: &str) -> Result<Migration, CommandError> {
        let mut tx = self.db.begin().await.map_err(DbError::from)?;
        if !db::request_cancel(&mut tx, id, actor).await? {
            drop(tx);
            self.absorb_foreign(&[id]).await?;
            return Err(match self.get(id) {
                Some(m) => CommandError::AlreadyFinished(m.phase.as_str()),
                None => CommandError::NotFound(id),
            });
        }
        let notice = Notice::Cancel {
            from: self.replica.clone(),
            id,
        };
        db::notify(&mut tx, &notice.encode()).await?;
        tx.commit().await.map_err(DbError::from)?;
        let deadline = tokio::time::Instant::now() + REMOTE_CANCEL_WAIT;
        let record = loop {
            match self.get(id) {
                Some(m) if m.phase.is_final() => break m,
                Some(m) if tokio::time::Instant::now() >= deadline => break m,
                None => return Err(CommandError::NotFound(id)),
                Some(_) => tokio::time::sleep(Duration::from_millis(25)).await,
            }
        };
        let entry = audit::Record {
            action: "migration.cancel",
            object_kind: Some("migration".into()),
            object_id: Some(id.to_string()),
            summary: format!(
                "cancelled the {} of {}",
                record.kind.label(),
                record.vm_name
            ),
            before: None,
            after: serde_json::to_value(&record).ok(),
        };
        audit::record(&self.db, actor, entry).await;
        Ok(record)
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

    // ---- the engine task ---------------------------------------------------------------

    async fn run(
        self: Arc<Self>,
        mut engine: Engine<BoxedDriver>,
        mut commands: mpsc::Receiver<Command>,
        config: EngineConfig,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut interval = tokio::time::interval(config.tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut lease_interval = tokio::time::interval(config.lease / 3);
        lease_interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last = self.clock.elapsed();
        loop {
            tokio::select! {
                _ = interval.tick() => {
                    let now = self.clock.elapsed();
                    let dt = (now - last).as_secs_f64() * config.speed;
                    last = now;
                    if engine.in_flight() > 0 {
                        self.tick(&mut engine, dt).await;
                    }
                }
                _ = lease_interval.tick() => self.lease_pass(&mut engine).await,
                command = commands.recv() => match command {
                    Some(command) => self.handle(&mut engine, command).await,
                    None => break,
                },
                _ = shutdown.changed() => break,
            }
        }
        // A clean stop: what is in flight fails now, VMs on their sources, all stored.
        let ended = engine.stop_all(self.clock.unix_ms());
        if !ended.is_empty() {
            let (records, events): (Vec<Migration>, Vec<MigrationEvent>) =
                ended.into_iter().unzip();
            for m in &records {
                self.inventory.end_motion(m);
            }
            tracing::info!(
                count = records.len(),
                "migrations in flight ended by the shutdown"
            );
            // If this write fails, the next start (or another replica) fails them all the same.
            self.persist(&mut engine, events, records).await;
        }
        self.stopped.send_replace(true);
    }

    /// Waits until the engine task has stopped (after the shutdown signal).
    pub async fn stopped(&self) {
        let mut rx = self.stopped.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    async fn handle(&self, engine: &mut Engine<BoxedDriver>, command: Command) {
        match command {
            Command::Start(request, actor, reply) => {
                let result = self.submit(engine, request, &actor).await;
                if let Ok(m) = &result {
                    let summary = format!(
                        "started a {} of {} ({})",
                        m.kind.label(),
                        m.vm_name,
                        m.route
                    );
                    let entry = audit::Record::about("migration.start", "migration", m.id, summary)
                        .after(m);
                    audit::record(&self.db, &actor, entry).await;
                }
                let _ = reply.send(result);
            }
            Command::Cancel(id, actor, reply) => {
                let result = self.cancel_now(engine, id).await;
                if let Ok(m) = &result {
                    let summary = format!("cancelled the {} of {}", m.kind.label(), m.vm_name);
                    let entry =
                        audit::Record::about("migration.cancel", "migration", m.id, summary)
                            .after(m);
                    audit::record(&self.db, &actor, entry).await;
                }
                let _ = reply.send(result);
            }
            Command::AddFault(request, actor, reply) => {
                let result = self.fault_now(engine, request).await;
                if let Ok(f) = &result {
                    let summary = format!("injected {} on {}", f.kind.label(), f.target_name);
                    let entry =
                        audit::Record::about("fault.inject", "fault", f.id, summary).after(f);
                    audit::record(&self.db, &actor, entry).await;
                }
                let _ = reply.send(result);
            }
            Command::ReplaceFaults(faults) => {
                engine.replace_faults(faults);
                self.publish_faults(engine);
            }
            Command::LeasePass => self.lease_pass(engine).await,
            Command::ClearFault(id, actor, reply) => {
                let result = self.clear_fault_now(engine, id).await;
                if let Ok(f) = &result {
                    let summary = format!("cleared {} on {}", f.kind.label(), f.target_name);
                    let entry =
                        audit::Record::about("fault.clear", "fault", f.id, summary).before(f);
                    audit::record(&self.db, &actor, entry).await;
                }
                let _ = reply.send(result);
            }
        }
    }

    async fn submit(
        &self,
        engine: &mut Engine<BoxedDriver>,
        request: MigrationRequest,
        actor: &str,
    ) -> Result<Migration, StartError> {
        let id = MigrationId::new_random();
        let now_ms = self.clock.unix_ms();
        let (record, event) = {
            let inv = self.inventory.read();
            request.options.validate()?;
            let mut busy = engine.busy_vms();
            busy.extend(self.inventory.busy_vms());
            if busy.contains(&request.vm_id) {
                let existing = self
                    .list()
                    .into_iter()
                    .find(|m| m.vm_id == request.vm_id && !m.phase.is_final());
                return Err(StartError::Busy {
                    vm: existing
                        .as_ref()
                        .map_or_else(String::new, |m| m.vm_name.clone()),
                    id: existing.map_or(id, |m| m.id),
                });
            }
            let report = check_migration(&inv, &request, &busy)?;
            if !report.allowed {
                return Err(StartError::Blocked(report));
            }
            let (_, event) = engine
                .submit(&inv, request, id, now_ms)
                .map_err(|e| match e {
                    SubmitError::Refused(d) => StartError::Refused(d),
                    SubmitError::Busy { vm, id } => StartError::Busy { vm, id },
                })?;
            let record = engine.attribute(id, actor).expect("just submitted");
            (record, event)
        };
        // Its objects are the engine's from now on (before any await: no edit slips in).
        self.inventory.begin_motion(&record);
        let encoded = [serde_json::to_string(&event).expect("events serialize")];
        if let Err(e) = self
            .store(
                std::slice::from_ref(&event),
                &encoded,
                std::slice::from_ref(&record),
            )
            .await
        {
            let _ = engine.cancel(id, now_ms);
            self.inventory.end_motion(&record);
            // Another replica started one for this VM a moment ago.
            if let DbError::Sqlx(s) = &e {
                if db::is_unique_violation(s) {
                    let existing = db::in_flight_for_vm(&self.db, record.vm_id)
                        .await
                        .ok()
                        .flatten();
                    return Err(StartError::Busy {
                        vm: record.vm_name.clone(),
                        id: existing.unwrap_or(id),
                    });
                }
            }
            return Err(e.into());
        }
        tracing::info!(migration = %id, vm = %record.vm_name, kind = record.kind.as_str(), "migration queued");
        self.publish(&[event], std::slice::from_ref(&record));
        Ok(record)
    }

    async fn cancel_now(
        &self,
        engine: &mut Engine<BoxedDriver>,
        id: MigrationId,
    ) -> Result<Migration, CommandError> {
        let (record, event) = match engine.cancel(id, self.clock.unix_ms()) {
            Ok(done) => done,
            Err(CancelError::NotInFlight(_)) => {
                let foreign = self.is_foreign(id);
                return Err(match self.get(id) {
                    Some(m) if !m.phase.is_final() && foreign => CommandError::Foreign(id),
                    Some(m) => CommandError::AlreadyFinished(m.phase.as_str()),
                    None => CommandError::NotFound(id),
                });
            }
        };
        // The engine has let go: the VM is free whatever the write does (a failed write is
        // retried before anything newer).
        self.inventory.end_motion(&record);
        tracing::info!(migration = %id, vm = %record.vm_name, "migration cancelled");
        self.persist(engine, vec![event], vec![record.clone()])
            .await;
        Ok(record)
    }

    async fn fault_now(
        &self,
        engine: &mut Engine<BoxedDriver>,
        request: FaultRequest,
    ) -> Result<Fault, CommandError> {
        let target_name = request.resolve(&self.inventory.read())?;
        let duplicate = || {
            DomainError::duplicate(
                "target_id",
                format!(
                    "target_id: {target_name} already has a {} fault",
                    request.kind.as_str()
                ),
            )
        };
        if engine
            .faults()
            .iter()
            .any(|f| f.kind == request.kind && f.target_id == request.target_id)
        {
            return Err(duplicate().into());
        }
        let fault = Fault {
            id: FaultId::new_random(),
            kind: request.kind,
            target_id: request.target_id,
            target_name: target_name.clone(),
            created_at_ms: self.clock.unix_ms(),
        };
        let mut tx = self.db.begin().await.map_err(DbError::from)?;
        if !db::insert_fault(&mut tx, &fault).await? {
            return Err(duplicate().into());
        }
        self.notify_faults(&mut tx).await?;
        tx.commit().await.map_err(DbError::from)?;
        engine.add_fault(fault.clone());
        tracing::warn!(kind = fault.kind.as_str(), target = %fault.target_name, "fault injected");
        self.publish_faults(engine);
        Ok(fault)
    }

    async fn clear_fault_now(
        &self,
        engine: &mut Engine<BoxedDriver>,
        id: FaultId,
    ) -> Result<Fault, CommandError> {
        let mut tx = self.db.begin().await.map_err(DbError::from)?;
        let stored = db::delete_fault(&mut tx, id).await?;
        self.notify_faults(&mut tx).await?;
        tx.commit().await.map_err(DbError::from)?;
        let cleared = engine.clear_fault(id);
        let fault = stored.or(cleared).ok_or(CommandError::NoFault(id))?;
        self.publish_faults(engine);
        Ok(fault)
    }

    async fn notify_faults(&self, tx: &mut db::Tx<'_>) -> Result<(), DbError> {
        let notice = Notice::Faults {
            from: self.replica.clone(),
        };
        db::notify(tx, &notice.encode()).await
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

    fn publish_faults(&self, engine: &Engine<BoxedDriver>) {
        let faults = engine.faults();
        self.published
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .faults = faults.clone();
        let text = serde_json::to_string(&LiveMessage::FaultsChanged { faults })
            .expect("faults serialize");
        self.inventory
            .publish(crate::inventory_service::one_message(text));
    }

    async fn tick(&self, engine: &mut Engine<BoxedDriver>, dt: f64) {
        let now_ms = self.clock.unix_ms();
        let out = {
            let inv = self.inventory.read();
            engine.tick(&inv, dt, now_ms)
        };
        for m in out.updated.iter().filter(|m| m.phase.is_final()) {
            self.inventory.end_motion(m);
        }
        self.persist(engine, out.events, out.updated).await;
        for s in out.switchovers {
            let lease = self.lease_until(now_ms);
            let (record, event) = match self
                .inventory
                .switchover(s.moved, &s.record, &s.event, &lease)
                .await
            {
                Ok(_) => {
                    tracing::info!(migration = %s.record.id, vm = %s.record.vm_name, "migration completed");
                    (s.record, s.event)
                }
                Err(ServiceError::Fenced) => {
                    // Another replica ended it (this one's lease had run out): nothing was
                    // written, the VM is on its source; show what the other one recorded.
                    tracing::warn!(migration = %s.record.id, "switchover refused: the migration was taken over");
                    self.inventory.end_motion(&s.record);
                    self.mark_foreign(s.record.id);
                    if let Err(e) = self.absorb_foreign(&[s.record.id]).await {
                        tracing::error!(error = %e, "could not read a migration taken over");
                    }
                    continue;
                }
                Err(e) => {
                    // Nothing was written: the VM is where it was.
                    let reason = match &e {
                        ServiceError::Fenced => unreachable!("handled above"),
                        ServiceError::Refused(d) => d.message.clone(),
                        ServiceError::Storage(s) => {
                            tracing::error!(error = %s, "could not record a switchover");
                            "the database refused the change".into()
                        }
                    };
                    let mut record = s.record;
                    let mut event = s.event;
                    event.phase = Phase::Failed;
                    // Below 100 (nothing completed) and not below what clients saw.
                    let shown = self.get(record.id).map_or(0.0, |m| m.percent);
                    event.percent = shown.max(99.0_f64.min(event.percent));
                    event.eta_s = None;
                    event.rate_bytes_s = 0.0;
                    event.message = format!(
                        "The switchover could not be recorded ({reason}); {} stays on its source",
                        record.vm_name
                    );
                    record.phase = Phase::Failed;
                    record.state = Phase::Failed.state();
                    record.percent = event.percent;
                    record.eta_s = None;
                    record.message = event.message.clone();
                    record.error = Some(event.message.clone());
                    record.result = None;
                    record.downtime_ms = None;
                    self.inventory.end_motion(&record);
                    self.persist(engine, vec![event], vec![record]).await;
                    continue;
                }
            };
            self.publish(&[event], &[record]);
        }
    }

    /// Stores events and summaries (after whatever an earlier failure left pending), then
    /// publishes them. On a storage failure nothing is published and all stays pending.
    async fn persist(
        &self,
        engine: &mut Engine<BoxedDriver>,
        events: Vec<MigrationEvent>,
        records: Vec<Migration>,
    ) {
        let (mut all_events, mut all_records) =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        all_events.extend(events);
        all_records.extend(records);
        // A second attempt when the first failed because another replica took some of these
        // migrations over: without them, the rest goes through.
        for attempt in 0..2 {
            if all_events.is_empty() && all_records.is_empty() {
                return;
            }
            // Each event is encoded once: the same JSON is stored and, prefixed with its
            // type, sent live.
            let encoded: Vec<String> = all_events
                .iter()
                .map(|e| serde_json::to_string(e).expect("events serialize"))
                .collect();
            let error = match self.store(&all_events, &encoded, &all_records).await {
                Ok(()) => {
                    self.publish_encoded(&all_events, encoded, &all_records);
                    return;
                }
                Err(e) => e,
            };
            let lost = if attempt == 0 {
                self.lost_among(&error, &all_events, &all_records).await
            } else {
                Vec::new()
            };
            if lost.is_empty() {
                tracing::error!(error = %error, pending = all_events.len(), "could not store migration events; retrying at the next tick");
                *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = (all_events, all_records);
                return;
            }
            all_events.retain(|e| !lost.contains(&e.migration_id));
            all_records.retain(|m| !lost.contains(&m.id));
            self.let_go(engine, &lost).await;
        }
    }

    /// Which migrations of a failed write another replica owns now.
    async fn lost_among(
        &self,
        error: &DbError,
        events: &[MigrationEvent],
        records: &[Migration],
    ) -> Vec<MigrationId> {
        if let DbError::Fenced(id) = error {
            return vec![*id];
        }
        let ids: BTreeSet<MigrationId> = events
            .iter()
            .map(|e| e.migration_id)
            .chain(records.iter().map(|m| m.id))
            .collect();
        let ids: Vec<MigrationId> = ids.into_iter().collect();
        db::lost_of(&self.db, &self.replica, &ids)
            .await
            .unwrap_or_default()
    }

    /// Migrations another replica ended: the engine lets go, readers see its record.
    async fn let_go(&self, engine: &mut Engine<BoxedDriver>, lost: &[MigrationId]) {
        for id in lost {
            if let Some(m) = engine.abandon(*id) {
                tracing::warn!(migration = %id, vm = %m.vm_name, "migration taken over by another replica; let go");
                self.inventory.end_motion(&m);
            }
            self.mark_foreign(*id);
        }
        if let Err(e) = self.absorb_foreign(lost).await {
            tracing::error!(error = %e, "could not read migrations taken over");
        }
    }

    fn lease_until(&self, now_ms: i64) -> Lease {
        Lease {
            owner: self.replica.clone(),
            expires_at_ms: now_ms.saturating_add(self.lease.as_millis() as i64),
        }
    }

    /// Renews this replica's leases (letting go of what it no longer holds), runs the cancels
    /// other replicas forwarded, and ends the migrations of replicas that stopped renewing.
    async fn lease_pass(&self, engine: &mut Engine<BoxedDriver>) {
        let now_ms = self.clock.unix_ms();
        if engine.in_flight() > 0 {
            match db::renew_leases(&self.db, &self.lease_until(now_ms)).await {
                Ok(held) => {
                    let held: BTreeSet<MigrationId> = held.into_iter().collect();
                    let lost: Vec<MigrationId> = engine
                        .ids()
                        .into_iter()
                        .filter(|id| !held.contains(id))
                        .collect();
                    if !lost.is_empty() {
                        self.let_go(engine, &lost).await;
                    }
                }
                Err(e) => tracing::error!(error = %e, "could not renew the migration leases"),
            }
            match db::cancel_requests(&self.db, &self.replica).await {
                Ok(requests) => {
                    for (id, actor) in requests {
                        if self.cancel_now(engine, id).await.is_ok() {
                            tracing::info!(migration = %id, by = %actor, "cancel forwarded by another replica");
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "could not read forwarded cancels"),
            }
        }
        if self.backend == Backend::Postgres {
            if let Err(e) = self.take_over_expired(now_ms).await {
                tracing::error!(error = %e, "could not end the migrations of a stopped replica");
            }
        }
    }

    /// Fails the migrations whose owner let its lease expire: the VM stays on its source.
    async fn take_over_expired(&self, now_ms: i64) -> Result<(), DbError> {
        for (id, owner) in db::expired_leases(&self.db, &self.replica, now_ms).await? {
            let Some((mut m, _)) = db::load_migration(&self.db, id).await? else {
                continue;
            };
            let message = stopped_message(&self.inventory, &m, owner.as_deref());
            let event =
                fail_orphan(&self.db, &self.replica, &mut m, now_ms, now_ms, message).await?;
            let Some(event) = event else { continue };
            self.mark_foreign(id);
            let was_in_motion = self
                .published
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .foreign
                .insert(id, false)
                .unwrap_or(false);
            if was_in_motion {
                self.inventory.end_motion(&m);
            }
            self.publish(&[event], &[m]);
        }
        Ok(())
    }

    fn is_foreign(&self, id: MigrationId) -> bool {
        self.published
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .foreign
            .contains_key(&id)
    }

    /// Records that a migration is (now) another replica's, no longer in motion here.
    fn mark_foreign(&self, id: MigrationId) {
        self.published
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .foreign
            .entry(id)
            .or_insert(false);
    }

    /// Reads what other replicas stored of these migrations and shows it here: summaries,
    /// events not seen yet (in order), and which objects are in motion.
    pub async fn absorb_foreign(&self, ids: &[MigrationId]) -> Result<(), DbError> {
        let _one_at_a_time = self.absorbing.lock().await;
        // What to read, from which `seq` on (ours, not taken over, are the engine's).
        let wanted: BTreeMap<MigrationId, (u64, Option<bool>)> = {
            let p = self.published.read().unwrap_or_else(|e| e.into_inner());
            ids.iter()
                .filter_map(|id| {
                    let known = p.migrations.get(id).map(|m| m.last_seq);
                    let foreign = p.foreign.get(id).copied();
                    (known.is_none() || foreign.is_some())
                        .then_some((*id, (known.unwrap_or(0), foreign)))
                })
                .collect()
        };
        if wanted.is_empty() {
            return Ok(());
        }
        let ids: Vec<MigrationId> = wanted.keys().copied().collect();
        let records = db::load_migrations_by_id(&self.db, &ids).await?;
        let after: Vec<(MigrationId, u64)> =
            wanted.iter().map(|(id, (seq, _))| (*id, *seq)).collect();
        let mut fresh: BTreeMap<MigrationId, Vec<(MigrationEvent, String)>> = BTreeMap::new();
        for (event, json) in db::load_events_after_many(&self.db, &after).await? {
            fresh
                .entry(event.migration_id)
                .or_default()
                .push((event, json));
        }
        let (mut events, mut encoded, mut summaries) = (Vec::new(), Vec::new(), Vec::new());
        for (mut record, owner) in records {
            let (_, foreign) = wanted[&record.id];
            if owner.as_deref() == Some(self.replica.as_str()) && foreign.is_none() {
                continue;
            }
            // The owner stores a summary only when it changes (phase, round, queue): bring
            // it up to the events stored since, or readers would see it go back.
            let news = fresh.remove(&record.id).unwrap_or_default();
            for (e, _) in &news {
                if e.seq > record.last_seq {
                    record.absorb(e);
                }
            }
            let moving = !record.phase.is_final();
            let in_motion = foreign.unwrap_or(false);
            if moving && !in_motion {
                self.inventory.begin_motion(&record);
            } else if !moving && in_motion {
                self.inventory.end_motion(&record);
            }
            let changed = {
                let mut p = self.published.write().unwrap_or_else(|e| e.into_inner());
                p.foreign.insert(record.id, moving);
                p.migrations
                    .get(&record.id)
                    .is_none_or(|old| summary_changed(old, &record))
            };
            for (e, json) in news {
                events.push(e);
                encoded.push(json);
            }
            if changed {
                summaries.push(record);
            }
        }
        // One batch for all: one frame list shared by every client.
        self.publish_encoded(&events, encoded, &summaries);
        Ok(())
    }

    /// After a lost connection to the other replicas: everything in flight, read again.
    pub async fn resync_foreign(&self) -> Result<(), DbError> {
        let mut ids: BTreeSet<MigrationId> =
            db::in_flight_ids(&self.db).await?.into_iter().collect();
        {
            let p = self.published.read().unwrap_or_else(|e| e.into_inner());
            ids.extend(
                p.foreign
                    .iter()
                    .filter(|(_, moving)| **moving)
                    .map(|(id, _)| *id),
            );
        }
        let ids: Vec<MigrationId> = ids.into_iter().collect();
        self.absorb_foreign(&ids).await
    }

    /// Stores events and summaries in one transaction.
    async fn store(
        &self,
        events: &[MigrationEvent],
        encoded: &[String],
        records: &[Migration],
    ) -> Result<(), DbError> {
        let lease = self.lease_until(self.clock.unix_ms());
        let mut tx = self.db.begin().await?;
        for m in records {
            if !db::store_migration(&mut tx, m, &lease).await? {
                return Err(DbError::Fenced(m.id));
            }
        }
        db::store_encoded_events(&mut tx, events, encoded).await?;
        if self.backend == Backend::Postgres {
            let ids: BTreeSet<MigrationId> = events
                .iter()
                .map(|e| e.migration_id)
                .chain(records.iter().map(|m| m.id))
                .collect();
            let ids: Vec<MigrationId> = ids.into_iter().collect();
            for chunk in ids.chunks(IDS_PER_NOTICE) {
                let notice = Notice::Migrations {
                    from: self.replica.clone(),
                    ids: chunk.to_vec(),
                };
                db::notify(&mut tx, &notice.encode()).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Updates what readers see, then pushes the summaries and events to live clients.
    fn publish(&self, events: &[MigrationEvent], records: &[Migration]) {
        let encoded = events
            .iter()
            .map(|e| serde_json::to_string(e).expect("events serialize"))
            .collect();
        self.publish_encoded(events, encoded, records);
    }

    fn publish_encoded(
        &self,
        events: &[MigrationEvent],
        encoded: Vec<String>,
        records: &[Migration],
    ) {
        if events.is_empty() && records.is_empty() {
            return;
        }
        {
            let mut p = self.published.write().unwrap_or_else(|e| e.into_inner());
            for e in events {
                if let Some(m) = p.migrations.get_mut(&e.migration_id) {
                    m.absorb(e);
                }
            }
            for m in records {
                p.migrations.insert(m.id, m.clone());
            }
        }
        let mut frames: Vec<Utf8Bytes> = Vec::with_capacity(records.len() + events.len());
        for m in records {
            let text = serde_json::to_string(&LiveMessage::MigrationUpdated(Box::new(m.clone())))
                .expect("live messages serialize");
            frames.push(text.into());
        }
        for json in encoded {
            frames.push(event_message(&json).into());
        }
        self.inventory.publish(Arc::from(frames));
    }
}

/// `{"type":"migration_event", ...the event's fields}` from the event's own JSON object.
fn event_message(event_json: &str) -> String {
    let fields = event_json.strip_prefix('{').unwrap_or(event_json);
    let mut text = String::with_capacity(event_json.len() + 28);
    text.push_str("{\"type\":\"migration_event\",");
    text.push_str(fields);
    text
}

/// Whether a summary changed in what events do not carry (clients get events anyway): the
/// owner pushes a summary on the same occasions.
fn summary_changed(old: &Migration, new: &Migration) -> bool {
    old.phase != new.phase
        || old.round != new.round
        || old.queue_reason != new.queue_reason
        || old.rounds.len() != new.rounds.len()
        || old.result != new.result
        || old.error != new.error
        || old.downtime_ms != new.downtime_ms
        || old.max_throttle != new.max_throttle
        || old.started_at_ms != new.started_at_ms
        || old.finished_at_ms != new.finished_at_ms
}

/// Why a migration in flight was abandoned, and where its VM is.
fn stopped_message(inventory: &InventoryService, m: &Migration, replica: Option<&str>) -> String {
    let host = {
        let inv = inventory.read();
        inv.vms.get(&m.vm_id).map(|vm| {
            inv.hosts
                .get(&vm.host_id)
                .map_or("?", |h| h.name.as_str())
                .to_owned()
        })
    };
    let what = match replica {
        Some(r) => format!(
            "the vmshift replica running this migration ({r}) stopped renewing its lease; another replica ended it"
        ),
        None => "vmshift stopped while this migration was in flight".to_string(),
    };
    match host {
        Some(host) => format!(
            "{what}; {} stays where the last committed state records it, on {host}",
            m.vm_name
        ),
        None => what,
    }
}

/// Fails a migration its owner abandoned (a crash, a replica that stopped renewing): claims
/// it for `replica` if its lease has expired by `now_ms`, then stores it failed with its last
/// event, in one transaction. `None` when it could not be claimed (it ended, or its owner
/// renewed, or another replica was first).
async fn fail_orphan(
    db: &Db,
    replica: &str,
    m: &mut Migration,
    claim_at_ms: i64,
    finished_at_ms: i64,
    message: String,
) -> Result<Option<MigrationEvent>, DbError> {
    let events = db::load_events(db, m.id).await?;
    let last = events.last();
    let event = MigrationEvent {
        migration_id: m.id,
        seq: last.map_or(m.last_seq, |e| e.seq) + 1,
        sim_time_s: last.map_or(m.sim_time_s, |e| e.sim_time_s),
        phase: Phase::Failed,
        percent: last.map_or(m.percent, |e| e.percent.max(m.percent)),
        bytes_sent: last.map_or(m.bytes_sent, |e| e.bytes_sent),
        bytes_total_estimate: last.map_or(m.bytes_total_estimate, |e| e.bytes_total_estimate),
        rate_bytes_s: 0.0,
        eta_s: None,
        round: last.map_or(m.round, |e| e.round),
        dirty_rate_bytes_s: 0.0,
        remaining_dirty_bytes: 0.0,
        expected_downtime_ms: 0.0,
        message,
    };
    let mut tx = db.begin().await?;
    if !db::claim(&mut tx, m.id, replica, claim_at_ms).await? {
        return Ok(None);
    }
    m.absorb(&event);
    m.finished_at_ms = Some(finished_at_ms);
    let lease = Lease {
        owner: replica.to_owned(),
        expires_at_ms: finished_at_ms,
    };
    if !db::store_migration(&mut tx, m, &lease).await? {
        return Ok(None);
    }
    db::store_events(&mut tx, std::slice::from_ref(&event)).await?;
    let notice = Notice::Migrations {
        from: replica.to_owned(),
        ids: vec![m.id],
    };
    db::notify(&mut tx, &notice.encode()).await?;
    tx.commit().await?;
    tracing::warn!(migration = %m.id, vm = %m.vm_name, "migration left in flight marked failed");
    Ok(Some(event))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_event_message_is_the_event_with_its_type() {
        let e = MigrationEvent {
            migration_id: MigrationId::new_random(),
            seq: 3,
            sim_time_s: 1.5,
            phase: Phase::MemoryPrecopy,
            percent: 12.0,
            bytes_sent: 1.0,
            bytes_total_estimate: 2.0,
            rate_bytes_s: 3.0,
            eta_s: None,
            round: 1,
            dirty_rate_bytes_s: 4.0,
            remaining_dirty_bytes: 5.0,
            expected_downtime_ms: 6.0,
            message: "a \"quoted\"\nline".into(),
        };
        let text = event_message(&serde_json::to_string(&e).unwrap());
        assert!(!text.contains('\n'), "one message, one line");
        let parsed: LiveMessage = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed, LiveMessage::MigrationEvent(e));
    }
}
