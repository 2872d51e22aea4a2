//! The engine's runtime: one task owns the engine, ticks it on the injected clock (simulated
//! time = wall time × speed factor), takes commands (start, cancel, faults) between ticks,
//! stores every event, records switchovers in the same transaction as the VM's move, and
//! pushes it all to live clients. Readers see a published copy, never the engine itself.

use super::clock::Clock;
use super::scheduler::{CancelError, Engine, SubmitError};
use super::simulated::SimulatedDriver;
use crate::audit;
use crate::db::{self, Db, DbError};
use crate::inventory_service::{InventoryService, ServiceError};
use app::domain::checks::{check_migration, CheckReport, MigrationRequest};
use app::domain::migration::{Fault, FaultRequest, Migration, MigrationEvent, Phase};
use app::domain::{DomainError, FaultId, MigrationId};
use app::protocol::LiveMessage;
use axum::extract::ws::Utf8Bytes;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Finished migrations a fresh websocket snapshot includes (the newest).
pub const SNAPSHOT_FINISHED: usize = 100;

/// How the engine runs.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    /// Simulated seconds per wall second (1 to 1000).
    pub speed: f64,
    /// Wall time between ticks.
    pub tick: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            speed: 1.0,
            tick: Duration::from_millis(250),
        }
    }
}

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
}

#[derive(Default)]
struct Published {
    migrations: BTreeMap<MigrationId, Migration>,
    faults: Vec<Fault>,
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
}

impl MigrationService {
    /// Marks migrations a crash left in flight as failed, then starts the engine task.
    pub async fn start(
        db: Db,
        inventory: Arc<InventoryService>,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Arc<Self>, DbError> {
        let mut migrations = BTreeMap::new();
        for mut m in db::load_migrations(&db).await? {
            if !m.phase.is_final() {
                recover(&db, &inventory, &mut m, clock.unix_ms()).await?;
            }
            migrations.insert(m.id, m);
        }
        let (commands, rx) = mpsc::channel(256);
        let service = Arc::new(MigrationService {
            db,
            inventory,
            clock,
            commands,
            published: RwLock::new(Published {
                migrations,
                faults: Vec::new(),
            }),
            stopped: watch::channel(false).0,
            pending: std::sync::Mutex::new((Vec::new(), Vec::new())),
        });
        let engine = Engine::new(SimulatedDriver::new());
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
        self.ask(|tx| Command::Cancel(id, crate::audit::current_actor(), tx))
            .await
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
        mut engine: Engine<SimulatedDriver>,
        mut commands: mpsc::Receiver<Command>,
        config: EngineConfig,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut interval = tokio::time::interval(config.tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
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
            // If this write fails, the next start marks them failed all the same.
            self.persist(events, records).await;
        }
        self.stopped.send_replace(true);
    }

    /// Waits until the engine task has stopped (after the shutdown signal).
    pub async fn stopped(&self) {
        let mut rx = self.stopped.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    async fn handle(&self, engine: &mut Engine<SimulatedDriver>, command: Command) {
        match command {
            Command::Start(request, actor, reply) => {
                let result = self.submit(engine, request, &actor).await;
                if let Ok(m) = &result {
                    let entry = audit::Record {
                        action: "migration.start",
                        object_kind: Some("migration".into()),
                        object_id: Some(m.id.to_string()),
                        summary: format!(
                            "started a {} of {} ({})",
                            m.kind.label(),
                            m.vm_name,
                            m.route
                        ),
                        before: None,
                        after: serde_json::to_value(m).ok(),
                    };
                    audit::record(&self.db, &actor, entry).await;
                }
                let _ = reply.send(result);
            }
            Command::Cancel(id, actor, reply) => {
                let result = self.cancel_now(engine, id).await;
                if let Ok(m) = &result {
                    let entry = audit::Record {
                        action: "migration.cancel",
                        object_kind: Some("migration".into()),
                        object_id: Some(m.id.to_string()),
                        summary: format!("cancelled the {} of {}", m.kind.label(), m.vm_name),
                        before: None,
                        after: serde_json::to_value(m).ok(),
                    };
                    audit::record(&self.db, &actor, entry).await;
                }
                let _ = reply.send(result);
            }
            Command::AddFault(request, actor, reply) => {
                let result = self.fault_now(engine, request);
                if let Ok(f) = &result {
                    let entry = audit::Record {
                        action: "fault.inject",
                        object_kind: Some("fault".into()),
                        object_id: Some(f.id.to_string()),
                        summary: format!("injected {} on {}", f.kind.label(), f.target_name),
                        before: None,
                        after: serde_json::to_value(f).ok(),
                    };
                    audit::record(&self.db, &actor, entry).await;
                }
                let _ = reply.send(result);
            }
            Command::ClearFault(id, actor, reply) => {
                let result = engine.clear_fault(id).ok_or(CommandError::NoFault(id));
                if let Ok(f) = &result {
                    self.publish_faults(engine);
                    let entry = audit::Record {
                        action: "fault.clear",
                        object_kind: Some("fault".into()),
                        object_id: Some(f.id.to_string()),
                        summary: format!("cleared {} on {}", f.kind.label(), f.target_name),
                        before: serde_json::to_value(f).ok(),
                        after: None,
                    };
                    audit::record(&self.db, &actor, entry).await;
                }
                let _ = reply.send(result);
            }
        }
    }

    async fn submit(
        &self,
        engine: &mut Engine<SimulatedDriver>,
        request: MigrationRequest,
        actor: &str,
    ) -> Result<Migration, StartError> {
        let id = MigrationId::new_random();
        let now_ms = self.clock.unix_ms();
        let (record, event) = {
            let inv = self.inventory.read();
            request.options.validate()?;
            let busy = engine.busy_vms();
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
            return Err(e.into());
        }
        tracing::info!(migration = %id, vm = %record.vm_name, kind = record.kind.as_str(), "migration queued");
        self.publish(&[event], std::slice::from_ref(&record));
        Ok(record)
    }

    async fn cancel_now(
        &self,
        engine: &mut Engine<SimulatedDriver>,
        id: MigrationId,
    ) -> Result<Migration, CommandError> {
        let (record, event) = match engine.cancel(id, self.clock.unix_ms()) {
            Ok(done) => done,
            Err(CancelError::NotInFlight(_)) => {
                return Err(match self.get(id) {
                    Some(m) => CommandError::AlreadyFinished(m.phase.as_str()),
                    None => CommandError::NotFound(id),
                })
            }
        };
        // The engine has let go: the VM is free whatever the write does (a failed write is
        // retried before anything newer).
        self.inventory.end_motion(&record);
        tracing::info!(migration = %id, vm = %record.vm_name, "migration cancelled");
        self.persist(vec![event], vec![record.clone()]).await;
        Ok(record)
    }

    fn fault_now(
        &self,
        engine: &mut Engine<SimulatedDriver>,
        request: FaultRequest,
    ) -> Result<Fault, CommandError> {
        let target_name = request.resolve(&self.inventory.read())?;
        if engine
            .faults()
            .iter()
            .any(|f| f.kind == request.kind && f.target_id == request.target_id)
        {
            return Err(DomainError::duplicate(
                "target_id",
                format!(
                    "target_id: {target_name} already has a {} fault",
                    request.kind.as_str()
                ),
            )
            .into());
        }
        let fault = Fault {
            id: FaultId::new_random(),
            kind: request.kind,
            target_id: request.target_id,
            target_name,
            created_at_ms: self.clock.unix_ms(),
        };
        engine.add_fault(fault.clone());
        tracing::warn!(kind = fault.kind.as_str(), target = %fault.target_name, "fault injected");
        self.publish_faults(engine);
        Ok(fault)
    }

    fn publish_faults(&self, engine: &Engine<SimulatedDriver>) {
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

    async fn tick(&self, engine: &mut Engine<SimulatedDriver>, dt: f64) {
        let now_ms = self.clock.unix_ms();
        let out = {
            let inv = self.inventory.read();
            engine.tick(&inv, dt, now_ms)
        };
        for m in out.updated.iter().filter(|m| m.phase.is_final()) {
            self.inventory.end_motion(m);
        }
        self.persist(out.events, out.updated).await;
        for s in out.switchovers {
            let (record, event) = match self
                .inventory
                .switchover(s.moved, &s.record, &s.event)
                .await
            {
                Ok(_) => {
                    tracing::info!(migration = %s.record.id, vm = %s.record.vm_name, "migration completed");
                    (s.record, s.event)
                }
                Err(e) => {
                    // Nothing was written: the VM is where it was.
                    let reason = match &e {
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
                    self.persist(vec![event], vec![record]).await;
                    continue;
                }
            };
            self.publish(&[event], &[record]);
        }
    }

    /// Stores events and summaries (after whatever an earlier failure left pending), then
    /// publishes them. On a storage failure nothing is published and all stays pending.
    async fn persist(&self, events: Vec<MigrationEvent>, records: Vec<Migration>) {
        let (mut all_events, mut all_records) =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        all_events.extend(events);
        all_records.extend(records);
        if all_events.is_empty() && all_records.is_empty() {
            return;
        }
        // Each event is encoded once: the same JSON is stored and, prefixed with its type,
        // sent live.
        let encoded: Vec<String> = all_events
            .iter()
            .map(|e| serde_json::to_string(e).expect("events serialize"))
            .collect();
        match self.store(&all_events, &encoded, &all_records).await {
            Ok(()) => self.publish_encoded(&all_events, encoded, &all_records),
            Err(e) => {
                tracing::error!(error = %e, pending = all_events.len(), "could not store migration events; retrying at the next tick");
                *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = (all_events, all_records);
            }
        }
    }

    /// Stores events and summaries in one transaction.
    async fn store(
        &self,
        events: &[MigrationEvent],
        encoded: &[String],
        records: &[Migration],
    ) -> Result<(), DbError> {
        let mut tx = self.db.begin().await?;
        for m in records {
            db::store_migration(&mut tx, m).await?;
        }
        db::store_encoded_events(&mut tx, events, encoded).await?;
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

/// A migration a crash left in flight: failed, with a message saying where the VM is.
async fn recover(
    db: &Db,
    inventory: &InventoryService,
    m: &mut Migration,
    now_ms: i64,
) -> Result<(), DbError> {
    let events = db::load_events(db, m.id).await?;
    let last = events.last();
    let location = {
        let inv = inventory.read();
        inv.vms.get(&m.vm_id).map(|vm| {
            let host = inv
                .hosts
                .get(&vm.host_id)
                .map_or("?", |h| h.name.as_str())
                .to_owned();
            host
        })
    };
    let message = match location {
        Some(host) => format!(
            "vmshift stopped while this migration was in flight; {} stays where the last committed state records it, on {host}",
            m.vm_name
        ),
        None => "vmshift stopped while this migration was in flight".to_string(),
    };
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
    m.absorb(&event);
    m.finished_at_ms = Some(now_ms);
    tracing::warn!(migration = %m.id, vm = %m.vm_name, "migration left in flight by a stop marked failed");
    let mut tx = db.begin().await?;
    db::store_migration(&mut tx, m).await?;
    db::store_events(&mut tx, std::slice::from_ref(&event)).await?;
    tx.commit().await?;
    Ok(())
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
