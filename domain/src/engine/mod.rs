//! The engine core: admits queued migrations under vSphere's cost model, shares bandwidth
//! max-min fairly, steps every transfer through its driver, applies faults and cancels, and
//! turns all of it into progress events. Synchronous and clock-free: the caller passes the
//! simulated time that elapsed, so tests run hours of migrations in milliseconds.

mod admission;
pub mod driver;
mod messages;
mod pacing;
pub mod simulated;
#[cfg(test)]
mod tests;
mod tick;

use crate::checks::MigrationRequest;
use crate::migration::{Ending, Fault, FaultKind, Migration, MigrationEvent, Phase};
use crate::prediction::run_alone;
use crate::scheduling::Footprint;
use crate::transfer::{Resource, TransferPlan};
use crate::{DomainError, FaultId, Inventory, MigrationId, Phrase, PlanId, Vm, VmId};
use driver::{Driver, Platforms};
use messages::emit;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Longest simulated step; a tick covering more is cut into steps (bandwidth is re-shared
/// and queued migrations admitted between them).
pub const MAX_STEP_S: f64 = 0.25;
/// Most steps in one tick (at 1000× and 4 ticks/s a tick is 250 simulated seconds).
pub const MAX_STEPS_PER_TICK: usize = 1_000;
/// Bandwidth re-shares within one step (a transfer changes stage at most a few times).
const MAX_PASSES: usize = 8;

/// A migration waiting or running.
struct Active {
    record: Migration,
    request: MigrationRequest,
    plan: TransferPlan,
    footprint: Footprint,
    memory_estimate: f64,
    /// Admission order among equal priorities.
    order: u64,
    /// Simulated time of creation.
    created_s: f64,
    running: bool,
    /// Left the queue, held in its checking phase (a test hook: [`Engine::hold_at_checking`]).
    checking: bool,
    resources: Vec<Resource>,
    rounds_seen: usize,
    /// Simulated time of the last progress sample stored (docs/DESIGN.md#stored-history).
    sampled_s: f64,
    /// "web-01 keeps running on esx-01" (for failure messages).
    stays: Phrase,
    target_name: Phrase,
    /// The plan whose limits it runs under (docs/DESIGN.md#running-a-plan).
    group: Option<PlanId>,
    /// Memory the VM will take on its target host (live moves to another host), MiB.
    memory_mib: u64,
    /// Space its disks will take on the target datastore, MiB.
    disk_mib: u64,
}

/// A finished transfer whose VM may now be recorded on its target: store `moved`, `record`
/// and `event` in one transaction (docs/DESIGN.md#the-switchover).
#[derive(Debug, Clone)]
pub struct Switchover {
    pub moved: Vm,
    /// The migration, completed.
    pub record: Migration,
    /// Its last event.
    pub event: MigrationEvent,
    /// The migration as it stood just before: what a refused record ends from.
    before: Migration,
    /// Simulated seconds since the migration's creation.
    at_s: f64,
}

impl Switchover {
    /// The switchover could not be recorded (`reason`): the migration failed instead, with
    /// `message` saying where its VM is (the completed record is never stored).
    pub fn refused(self, message: Phrase, now_ms: i64) -> (Migration, MigrationEvent) {
        let mut record = self.before;
        let event = record.end(Ending::Failed(message), self.at_s, None, now_ms);
        (record, event)
    }
}

/// What one tick produced, in order.
#[derive(Debug, Default)]
pub struct TickOutput {
    pub events: Vec<MigrationEvent>,
    /// Summaries that changed phase, round or queue reason (to store and push whole).
    pub updated: Vec<Migration>,
    pub switchovers: Vec<Switchover>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Refused(#[from] DomainError),
    #[error("{vm} already has a migration in flight ({id})")]
    Busy { vm: String, id: MigrationId },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CancelError {
    #[error("no migration in flight has id {0}")]
    NotInFlight(MigrationId),
}

pub struct Engine<D: Driver> {
    driver: D,
    /// The platform figures each VM's migrations are predicted with (the driver's).
    platforms: Arc<dyn Platforms>,
    /// Simulated seconds since the engine started.
    now: f64,
    active: BTreeMap<MigrationId, Active>,
    next_order: u64,
    faults: BTreeMap<FaultId, Fault>,
    rates: HashMap<MigrationId, f64>,
    rates_stale: bool,
    admission_stale: bool,
    /// The simulated instant being processed (events are stamped with it): inside a step,
    /// the exact time a transfer reached a phase or its end.
    at: f64,
    /// Where the current tick's interval ends (real-time migrations start there).
    tick_end: f64,
    ticks: u64,
    /// Migrations leaving the queue stay in their checking phase (a test hook).
    hold_checking: bool,
    /// What other replicas' running migrations take (docs/DESIGN.md#several-replicas).
    elsewhere: Vec<Elsewhere>,
    /// Steps from event to event while nothing waits (a prediction's engine).
    fast_forward: bool,
    /// The limits of the plans whose moves are in flight.
    groups: BTreeMap<PlanId, GroupLimit>,
}

/// How a plan's moves are admitted (docs/DESIGN.md#running-a-plan): at most `max_running` at
/// once, none while paused, on top of vSphere's limits; `paced`, none where its links could
/// not carry it to convergence (docs/DESIGN.md#pacing).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupLimit {
    pub max_running: Option<usize>,
    pub paced: bool,
    pub paused: bool,
    /// The plan's title, for queue reasons.
    pub title: Phrase,
}

/// A migration another replica runs: it takes slots on the same hosts, links and datastores.
#[derive(Debug, Clone, PartialEq)]
pub struct Elsewhere {
    pub footprint: Footprint,
    pub replica: String,
}

impl<D: Driver> Engine<D> {
    pub fn new(driver: D) -> Self {
        Engine {
            platforms: driver.platforms(),
            driver,
            now: 0.0,
            active: BTreeMap::new(),
            next_order: 0,
            faults: BTreeMap::new(),
            rates: HashMap::new(),
            rates_stale: false,
            admission_stale: false,
            at: 0.0,
            tick_end: 0.0,
            ticks: 0,
            hold_checking: false,
            elsewhere: Vec::new(),
            fast_forward: false,
            groups: BTreeMap::new(),
        }
    }

    /// An engine for predictions: ticks of any length are stepped from event to event while
    /// no migration waits (see `tick`), with the same results as 0.25 s steps.
    pub fn for_prediction(driver: D) -> Self {
        let mut engine = Engine::new(driver);
        engine.fast_forward = true;
        engine
    }

    /// Sets the limits a plan's moves are admitted under (a pause holds its queued moves).
    pub fn set_group_limit(&mut self, plan: PlanId, limit: GroupLimit) {
        if self.groups.get(&plan) != Some(&limit) {
            self.groups.insert(plan, limit);
            self.admission_stale = true;
        }
    }

    /// Forgets a plan's limits (it is over).
    pub fn remove_group(&mut self, plan: PlanId) {
        if self.groups.remove(&plan).is_some() {
            self.admission_stale = true;
        }
    }

    /// Puts a queued or running migration under a plan's limits.
    pub fn join_group(&mut self, id: MigrationId, plan: PlanId) -> bool {
        match self.active.get_mut(&id) {
            Some(a) => {
                a.group = Some(plan);
                self.admission_stale = true;
                true
            }
            None => false,
        }
    }

    /// Holds migrations in their checking phase once they leave the queue (or lets them go
    /// on): a test hook, so that a cancel or a fault can be proven to hit that phase.
    pub fn hold_at_checking(&mut self, hold: bool) {
        if self.hold_checking != hold {
            self.hold_checking = hold;
            self.admission_stale = true;
        }
    }

    /// What other replicas' running migrations take now: queued migrations here are admitted
    /// only into the slots they leave (so vSphere's limits hold across every replica).
    pub fn set_elsewhere(&mut self, elsewhere: Vec<Elsewhere>) {
        if self.elsewhere != elsewhere {
            self.elsewhere = elsewhere;
            self.admission_stale = true;
        }
    }

    /// Whether migrations wait in the queue (the next tick may admit some).
    pub fn has_queued(&self) -> bool {
        self.active.values().any(|a| !a.running && !a.checking)
    }

    /// Whether migrations wait to start (queued, or held in their checking phase).
    pub(super) fn has_waiting(&self) -> bool {
        self.active.values().any(|a| !a.running)
    }

    /// The platform figures each VM's migrations are predicted with.
    pub fn platforms(&self) -> Arc<dyn Platforms> {
        self.platforms.clone()
    }

    pub fn driver(&self) -> &D {
        &self.driver
    }

    /// Simulated seconds since the engine started.
    pub fn now(&self) -> f64 {
        self.now
    }

    /// VMs with a migration queued or running.
    pub fn busy_vms(&self) -> BTreeSet<VmId> {
        self.active.values().map(|a| a.record.vm_id).collect()
    }

    pub fn in_flight(&self) -> usize {
        self.active.len()
    }

    pub fn get(&self, id: MigrationId) -> Option<&Migration> {
        self.active.get(&id).map(|a| &a.record)
    }

    pub fn faults(&self) -> Vec<Fault> {
        self.faults.values().cloned().collect()
    }

    /// Queues a migration. The caller has run the checks; the engine runs them again when
    /// the migration leaves the queue (the inventory may have changed meanwhile).
    pub fn submit(
        &mut self,
        inv: &Inventory,
        request: MigrationRequest,
        id: MigrationId,
        now_ms: i64,
    ) -> Result<(Migration, MigrationEvent), SubmitError> {
        if let Some(a) = self
            .active
            .values()
            .find(|a| a.record.vm_id == request.vm_id)
        {
            return Err(SubmitError::Busy {
                vm: a.record.vm_name.clone(),
                id: a.record.id,
            });
        }
        let plan = TransferPlan::of(inv, &request)?.on(self.platforms.platform(request.vm_id));
        let prediction = run_alone(inv, plan.clone());
        let vm = &inv.vms[&request.vm_id];
        let footprint = Footprint::of(
            vm,
            request.kind,
            request.target_host_id,
            request.target_datastore_id,
        );
        let words = messages::Words::of(inv, vm, request.kind, &plan);
        let memory_estimate = prediction.bytes_total - prediction.disk_bytes;
        let request_moves_live_memory = plan.memory.is_some();
        let disk_mib: u64 = plan
            .disks
            .iter()
            .map(|d| vm.disks[d.disk].allocated_mib())
            .sum();
        let record = Migration::queued(
            id,
            vm,
            &request,
            &plan,
            prediction,
            (words.route, words.target.clone()),
            now_ms,
        );
        let mut active = Active {
            record,
            request,
            plan,
            footprint,
            memory_estimate,
            order: self.next_order,
            created_s: self.now,
            running: false,
            checking: false,
            resources: Vec::new(),
            rounds_seen: 0,
            sampled_s: 0.0,
            stays: words.stays,
            target_name: words.target,
            group: None,
            memory_mib: if request_moves_live_memory {
                vm.memory_mib.get()
            } else {
                0
            },
            disk_mib,
        };
        self.next_order += 1;
        let event = emit(
            &mut active,
            self.now,
            Phase::Queued,
            None,
            0.0,
            Phrase::new("engine.queued", &[]),
        );
        let record = active.record.clone();
        self.active.insert(id, active);
        self.admission_stale = true;
        Ok((record, event))
    }

    /// Records who started a migration (its summary and later events carry it).
    pub fn attribute(&mut self, id: MigrationId, user: &str) -> Option<Migration> {
        let a = self.active.get_mut(&id)?;
        a.record.started_by = Some(user.to_owned());
        Some(a.record.clone())
    }

    /// Cancels a queued or running migration: the VM stays where it is.
    pub fn cancel(
        &mut self,
        id: MigrationId,
        now_ms: i64,
    ) -> Result<(Migration, MigrationEvent), CancelError> {
        let a = self.active.get(&id).ok_or(CancelError::NotInFlight(id))?;
        let message = Phrase::new("engine.cancelled", &[]).with("stays", a.stays.clone());
        self.at = self.now;
        Ok(self.end(id, Ending::Cancelled(message), now_ms))
    }

    /// Ends every migration in flight (the server is stopping): each VM stays on its source.
    pub fn stop_all(&mut self, now_ms: i64) -> Vec<(Migration, MigrationEvent)> {
        let ids: Vec<MigrationId> = self.active.keys().copied().collect();
        self.at = self.now;
        ids.into_iter()
            .map(|id| {
                let message = Phrase::new("engine.shut_down", &[])
                    .with("stays", self.active[&id].stays.clone());
                self.end(id, Ending::Failed(message), now_ms)
            })
            .collect()
    }

    /// Injects a fault; running migrations it hits fail at the next tick.
    pub fn add_fault(&mut self, fault: Fault) {
        self.faults.insert(fault.id, fault);
    }

    /// Replaces the faults (another replica changed them); cleared ones may free the queue.
    pub fn replace_faults(&mut self, faults: Vec<Fault>) {
        self.faults = faults.into_iter().map(|f| (f.id, f)).collect();
        self.admission_stale = true;
    }

    /// Lets go of a migration someone else has ended (another replica took it over after
    /// this one's lease expired): the driver aborts, the slots free up, no event is made.
    pub fn abandon(&mut self, id: MigrationId) -> Option<Migration> {
        let a = self.active.remove(&id)?;
        if a.running {
            self.driver.abort(id);
            self.rates.remove(&id);
            self.rates_stale = true;
        }
        self.admission_stale = true;
        Some(a.record)
    }

    /// Ids of the migrations in flight.
    pub fn ids(&self) -> Vec<MigrationId> {
        self.active.keys().copied().collect()
    }

    pub fn clear_fault(&mut self, id: FaultId) -> Option<Fault> {
        let f = self.faults.remove(&id);
        self.admission_stale = true;
        f
    }

    /// Ends a migration before its switchover (failed or cancelled): the driver lets go, the
    /// slots free up.
    fn end(&mut self, id: MigrationId, ending: Ending, now_ms: i64) -> (Migration, MigrationEvent) {
        let mut a = self.active.remove(&id).expect("ending an active migration");
        if a.running {
            self.driver.abort(id);
            self.rates.remove(&id);
            self.rates_stale = true;
        }
        self.admission_stale = true;
        let event = a.record.end(ending, self.at - a.created_s, None, now_ms);
        (a.record, event)
    }

    /// What a fault does to a migration, if anything.
    fn hit_by(fault: &Fault, a: &Active) -> Option<Phrase> {
        let target = fault.target_id;
        let touches_host = a.plan.source_host.0 == target || a.plan.target_host.0 == target;
        let host = || vec![("host", fault.target_name.clone())];
        let (code, args) = match fault.kind {
            FaultKind::VmotionLinkDown if a.plan.kind.moves_host() && touches_host => {
                ("engine.fault.link_down", host())
            }
            FaultKind::HostDown if touches_host => ("engine.fault.host_down", host()),
            FaultKind::DatastoreFull if a.plan.target_datastore.is_some_and(|d| d.0 == target) => (
                "engine.fault.datastore_full",
                vec![("datastore", fault.target_name.clone())],
            ),
            _ => return None,
        };
        Some(Phrase::new(code, &args).with("stays", a.stays.clone()))
    }
}
