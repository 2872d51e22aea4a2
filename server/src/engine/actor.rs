//! The task that owns the engine core: it ticks it, runs the commands between ticks, and
//! records each switchover in one transaction with the VM's move (docs/DESIGN.md#the-switchover).

use super::{Command, CommandError, EngineConfig, MigrationService, StartError};
use crate::audit;
use crate::db::{self, Backend, DbError, Notice};
use crate::failpoints::Action;
use crate::inventory::ServiceError;
use app::protocol::LiveMessage;
use domain::checks::{check_migration, MigrationRequest};
use domain::engine::driver::BoxedDriver;
use domain::engine::{CancelError, Elsewhere, Engine, SubmitError, Switchover};
use domain::migration::{Fault, FaultRequest, Migration, MigrationEvent};
use domain::scheduling::Footprint;
use domain::{DomainError, FaultId, MigrationId, Mutation, Object};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

impl MigrationService {
    pub(super) async fn run(
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
        let mut faults_changed = self.inventory.faults_changed();
        loop {
            tokio::select! {
                Ok(()) = faults_changed.changed() => self.reload_faults_now(&mut engine).await,
                _ = interval.tick() => {
                    let now = self.clock.elapsed();
                    let dt = (now - last).as_secs_f64() * config.speed;
                    last = now;
                    if engine.in_flight() > 0 {
                        let hold = self.inventory.failpoints().armed("engine.checking");
                        engine.hold_at_checking(hold == Some(Action::Hold));
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

    async fn handle(&self, engine: &mut Engine<BoxedDriver>, command: Command) {
        match command {
            Command::Start(request, actor, reply) => {
                let result = self.submit(engine, request, &actor).await;
                if let Ok(m) = &result {
                    let summary = started(m, "audit.migration_started");
                    let entry = audit::Record::about("migration.start", "migration", m.id, summary)
                        .after(m);
                    audit::record(&self.db, &actor, entry).await;
                }
                let _ = reply.send(result);
            }
            Command::Cancel(id, actor, reply) => {
                let result = self.cancel_now(engine, id).await;
                if let Ok(m) = &result {
                    let summary = cancelled(m);
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
                    let summary = fault_words("audit.fault_injected", f);
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
            Command::StartPlanStep(step, reply) => {
                engine.set_group_limit(step.plan, step.limit);
                let mut results = Vec::with_capacity(step.requests.len());
                for request in step.requests {
                    let result = self.submit(engine, request, &step.actor).await;
                    if let Ok(m) = &result {
                        engine.join_group(m.id, step.plan);
                        let summary = started(m, "audit.migration_started_plan");
                        let entry =
                            audit::Record::about("migration.start", "migration", m.id, summary)
                                .after(m);
                        audit::record(&self.db, &step.actor, entry).await;
                    }
                    results.push(result);
                }
                let _ = reply.send(results);
            }
            Command::PlanLimit(plan, Some(limit)) => engine.set_group_limit(plan, limit),
            Command::PlanLimit(plan, None) => engine.remove_group(plan),
            Command::ClearFault(id, actor, reply) => {
                let result = self.clear_fault_now(engine, id).await;
                if let Ok(f) = &result {
                    let summary = fault_words("audit.fault_cleared", f);
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

    pub(super) async fn cancel_now(
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
        db::notify(tx, &notice).await
    }

    /// With several replicas (PostgreSQL) and migrations waiting here: the admission lock,
    /// and the engine told what the other replicas' running migrations take.
    async fn admission(&self, engine: &mut Engine<BoxedDriver>) -> Option<db::AdmissionLock> {
        if self.backend != Backend::Postgres || !engine.has_queued() {
            return None;
        }
        let lock = match db::lock_admission(&self.db).await {
            Ok(lock) => lock,
            Err(e) => {
                tracing::error!(error = %e, "could not take the admission lock");
                return None;
            }
        };
        match db::running_elsewhere(&self.db, &self.replica).await {
            Ok(list) => engine.set_elsewhere(
                list.into_iter()
                    .map(|(m, replica)| Elsewhere {
                        footprint: Footprint::of_migration(&m),
                        replica,
                    })
                    .collect(),
            ),
            Err(e) => tracing::error!(error = %e, "could not read the other replicas' migrations"),
        }
        Some(lock)
    }

    /// The stored faults replace the engine's (an object deleted took its faults with it).
    async fn reload_faults_now(&self, engine: &mut Engine<BoxedDriver>) {
        match db::load_faults(&self.db).await {
            Ok(faults) => {
                engine.replace_faults(faults);
                self.publish_faults(engine);
            }
            Err(e) => tracing::error!(error = %e, "could not reload the faults"),
        }
    }

    fn publish_faults(&self, engine: &Engine<BoxedDriver>) {
        let faults = engine.faults();
        self.published.write().faults = faults.clone();
        self.live
            .publish_message(&LiveMessage::FaultsChanged { faults });
    }

    async fn tick(&self, engine: &mut Engine<BoxedDriver>, dt: f64) {
        let now_ms = self.clock.unix_ms();
        // Several replicas: one admits at a time, knowing the slots the others' migrations
        // take, until what it admitted is stored.
        let admission = self.admission(engine).await;
        let out = {
            let inv = self.inventory.read();
            engine.tick(&inv, dt, now_ms)
        };
        for m in out.updated.iter().filter(|m| m.phase.is_final()) {
            self.inventory.end_motion(m);
        }
        self.persist(engine, out.events, out.updated).await;
        if let Some(lock) = admission {
            lock.release().await;
        }
        for s in out.switchovers {
            let lease = self.lease_until(now_ms);
            let (record, event) = match self
                .inventory
                .switchover(s.moved.clone(), &s.record, &s.event, &lease)
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
                    let reason = match &e {
                        ServiceError::Refused(d) => d.message.clone(),
                        ServiceError::Fenced | ServiceError::Storage(_) => {
                            tracing::error!(error = %e, "could not record a switchover");
                            "the database refused the change".into()
                        }
                    };
                    self.switchover_refused(engine, s, reason, now_ms).await;
                    continue;
                }
            };
            self.publish(&[event], &[record]);
        }
    }

    /// A switchover whose record was refused: nothing was written. The VM is where its
    /// hypervisor runs it — on its source for a simulated VM, which moves only when the record
    /// is written; a real hypervisor may have switched over already, and then the VM is
    /// recorded where it really runs (docs/DESIGN.md#the-switchover).
    async fn switchover_refused(
        &self,
        engine: &mut Engine<BoxedDriver>,
        s: Switchover,
        reason: String,
        now_ms: i64,
    ) {
        let truth = engine.driver().locate(s.record.vm_id);
        let moved = s.moved.clone();
        let moved_already = truth.is_some_and(|at| {
            at.host == moved.host_id && moved.disks.iter().all(|d| d.datastore_id == at.datastore)
        });
        let vm = ("vm", s.record.vm_name.clone());
        let message = if moved_already {
            let target = ("target", s.record.target.clone());
            domain::Phrase::new("engine.unrecorded_moved", &[vm, target])
        } else {
            domain::Phrase::new("engine.unrecorded_stays", &[vm])
        }
        .with("reason", domain::Phrase::raw(reason));
        let (record, event) = s.refused(message, now_ms);
        self.inventory.end_motion(&record);
        self.persist(engine, vec![event], vec![record]).await;
        if moved_already {
            // Recorded as the system's doing (no user's request runs here).
            let update = Mutation::Update(Object::Vm(moved));
            if let Err(e) = self.inventory.apply(update).await {
                tracing::error!(error = %e, "could not record where the hypervisor runs a VM");
            }
        }
    }
}

/// A migration's kind as a name the pages translate.
fn kind_words(m: &Migration) -> domain::Phrase {
    domain::Phrase::name("migration_kind", m.kind.as_str(), m.kind.label())
}

/// "started a vMotion of web-01 (esx-01 → esx-02)" (`code`: for a plan or not).
fn started(m: &Migration, code: &str) -> domain::Phrase {
    let args = [("vm", m.vm_name.clone()), ("route", m.route.clone())];
    domain::Phrase::new(code, &args).with("kind", kind_words(m))
}

/// "cancelled the vMotion of web-01".
pub(super) fn cancelled(m: &Migration) -> domain::Phrase {
    domain::Phrase::new("audit.migration_cancelled", &[("vm", m.vm_name.clone())])
        .with("kind", kind_words(m))
}

/// "injected Host down on esx-02" / "cleared …".
fn fault_words(code: &str, f: &Fault) -> domain::Phrase {
    let kind = domain::Phrase::name("fault_kind", f.kind.as_str(), f.kind.label());
    domain::Phrase::new(code, &[("target", f.target_name.clone())]).with("kind", kind)
}
