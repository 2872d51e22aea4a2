//! The engine core: admits queued migrations under vSphere's cost model, shares bandwidth
//! max-min fairly, steps every transfer through its driver, applies faults and cancels, and
//! turns all of it into progress events. Synchronous and clock-free: the caller passes the
//! simulated time that elapsed, so tests run hours of migrations in milliseconds.

pub mod driver;
pub mod simulated;
#[cfg(test)]
mod tests;

use crate::checks::SPACE_HEADROOM;
use crate::checks::{check_migration, MigrationRequest};
use crate::migration::{Fault, FaultKind, Migration, MigrationEvent, Phase};
use crate::prediction::run_alone;
use crate::scheduling::{max_min_fair, Flow, Footprint, SlotUsage};
use crate::transfer::{capacity, Resource, TransferEnd, TransferPlan, TransferProgress};
use crate::{DatastoreId, DomainError, FaultId, HostId, Inventory, MigrationId, Vm, VmId};
use driver::{Driver, DriverError, Platforms};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Longest simulated step; a tick covering more is cut into steps (bandwidth is re-shared
/// and queued migrations admitted between them).
pub const MAX_STEP_S: f64 = 0.25;
/// Most steps in one tick (at 1000× and 4 ticks/s a tick is 250 simulated seconds).
pub const MAX_STEPS_PER_TICK: usize = 1_000;
/// Bandwidth re-shares within one step (a transfer changes stage at most a few times).
const MAX_PASSES: usize = 8;
/// Percent shown until the switchover is committed.
const PERCENT_BEFORE_COMMIT: f64 = 99.0;

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
    resources: Vec<Resource>,
    rounds_seen: usize,
    /// "web-01 keeps running on esx-01" (for failure messages).
    stays: String,
    target_name: String,
    /// Memory the VM will take on its target host (live moves to another host), MiB.
    memory_mib: u64,
    /// Space its disks will take on the target datastore, MiB.
    disk_mib: u64,
}

/// A finished transfer whose VM may now be recorded on its target: store `moved`, `record`
/// and `event` in one transaction.
#[derive(Debug, Clone)]
pub struct Switchover {
    pub moved: Vm,
    pub record: Migration,
    pub event: MigrationEvent,
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
        }
    }

    fn has_queued(&self) -> bool {
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
        let host_name = |h| {
            inv.hosts
                .get(&h)
                .map_or_else(|| "?".to_string(), |h| h.name.as_str().to_owned())
        };
        let ds_names: Vec<String> = {
            let mut ids: Vec<_> = vm.disks.iter().map(|d| d.datastore_id).collect();
            ids.dedup();
            ids.iter()
                .filter_map(|d| inv.datastores.get(d).map(|d| d.name.as_str().to_owned()))
                .collect()
        };
        let mut stays = format!(
            "{} keeps running on {}",
            vm.name.as_str(),
            host_name(vm.host_id)
        );
        if request.kind.moves_storage() && !ds_names.is_empty() {
            stays.push_str(&format!(" with its disks on {}", ds_names.join(", ")));
        }
        let target_name = match (request.kind.moves_host(), plan.target_datastore) {
            (true, Some(d)) => format!(
                "{} and {}",
                host_name(plan.target_host),
                inv.datastores.get(&d).map_or("?", |d| d.name.as_str())
            ),
            (true, None) => host_name(plan.target_host),
            (false, Some(d)) => inv
                .datastores
                .get(&d)
                .map_or("?", |d| d.name.as_str())
                .to_owned(),
            (false, None) => "?".into(),
        };
        let memory_estimate = prediction.bytes_total - prediction.disk_bytes;
        let request_moves_live_memory = plan.memory.is_some();
        let disk_mib: u64 = plan
            .disks
            .iter()
            .map(|d| vm.disks[d.disk].allocated_mib())
            .sum();
        let mut route = Vec::new();
        if request.kind.moves_host() {
            route.push(format!(
                "{} → {}",
                host_name(vm.host_id),
                host_name(plan.target_host)
            ));
        }
        if let Some(d) = plan.target_datastore {
            route.push(format!(
                "{} → {}",
                if ds_names.is_empty() {
                    "—".to_string()
                } else {
                    ds_names.join(", ")
                },
                inv.datastores.get(&d).map_or("?", |d| d.name.as_str())
            ));
        }
        let record = Migration {
            id,
            vm_id: vm.id,
            vm_name: vm.name.as_str().to_owned(),
            kind: request.kind,
            source_host_id: vm.host_id,
            target_host_id: plan.target_host,
            source_datastore_ids: vm.disks.iter().map(|d| d.datastore_id).collect(),
            target_datastore_id: plan.target_datastore,
            route: route.join(" · "),
            target: target_name.clone(),
            options: request.options,
            state: Phase::Queued.state(),
            phase: Phase::Queued,
            percent: 0.0,
            queue_reason: None,
            message: String::new(),
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
            prediction: prediction.clone(),
            result: None,
            error: None,
            started_by: None,
            last_seq: 0,
            real: false,
        };
        let mut active = Active {
            record,
            request,
            plan,
            footprint,
            memory_estimate,
            order: self.next_order,
            created_s: self.now,
            running: false,
            resources: Vec::new(),
            rounds_seen: 0,
            stays,
            target_name,
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
            "Queued".into(),
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
        let message = format!("Cancelled by the user: {}", a.stays);
        self.at = self.now;
        Ok(self.end(id, Phase::Cancelled, message, now_ms))
    }

    /// Ends every migration in flight (the server is stopping): each VM stays on its source.
    pub fn stop_all(&mut self, now_ms: i64) -> Vec<(Migration, MigrationEvent)> {
        let ids: Vec<MigrationId> = self.active.keys().copied().collect();
        self.at = self.now;
        ids.into_iter()
            .map(|id| {
                let message = format!(
                    "vmshift was shut down during the migration: {}",
                    self.active[&id].stays
                );
                self.end(id, Phase::Failed, message, now_ms)
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

    /// Ends a migration (failed or cancelled): the driver lets go, the slots free up.
    fn end(
        &mut self,
        id: MigrationId,
        phase: Phase,
        message: String,
        now_ms: i64,
    ) -> (Migration, MigrationEvent) {
        let mut a = self.active.remove(&id).expect("ending an active migration");
        if a.running {
            self.driver.abort(id);
            self.rates.remove(&id);
            self.rates_stale = true;
        }
        self.admission_stale = true;
        a.record.finished_at_ms = Some(now_ms);
        a.record.rate_bytes_s = 0.0;
        let event = emit(&mut a, self.at, phase, None, 0.0, message);
        (a.record, event)
    }

    /// What a fault does to a migration, if anything.
    fn hit_by(fault: &Fault, a: &Active) -> Option<String> {
        let target = fault.target_id;
        let touches_host = a.plan.source_host.0 == target || a.plan.target_host.0 == target;
        match fault.kind {
            FaultKind::VmotionLinkDown if a.plan.kind.moves_host() && touches_host => {
                Some(format!(
                    "The vMotion network of {} went down: the migration failed and {}",
                    fault.target_name, a.stays
                ))
            }
            FaultKind::HostDown if touches_host => Some(format!(
                "Host {} stopped responding: the migration failed and {}",
                fault.target_name, a.stays
            )),
            FaultKind::DatastoreFull if a.plan.target_datastore.is_some_and(|d| d.0 == target) => {
                Some(format!(
                    "Datastore {} ran out of space: the migration failed and {}",
                    fault.target_name, a.stays
                ))
            }
            _ => None,
        }
    }

    /// Advances simulated time by `dt` seconds.
    pub fn tick(&mut self, inv: &Inventory, dt: f64, now_ms: i64) -> TickOutput {
        let mut out = TickOutput::default();
        self.at = self.now;
        self.tick_end = self.now + dt;
        self.apply_faults(now_ms, &mut out);
        // Admission runs when something changed (a submit, an end, a cleared fault), and
        // about once a second while migrations wait (the inventory may have changed).
        self.ticks += 1;
        if self.has_queued() && (self.admission_stale || self.ticks.is_multiple_of(4)) {
            self.admit(inv, now_ms, &mut out);
        }
        let steps = ((dt / MAX_STEP_S).ceil() as usize).clamp(1, MAX_STEPS_PER_TICK);
        let h = dt / steps as f64;
        let mut stepped: BTreeSet<MigrationId> = BTreeSet::new();
        for _ in 0..steps {
            self.at = self.now;
            if self.admission_stale && self.has_queued() {
                self.admit(inv, now_ms, &mut out);
            }
            // Every running transfer gets the whole step. One whose stage changes to other
            // resources stops there; once all have run, bandwidth is shared again and those
            // go on with the rest of their step: no simulated time is lost.
            let mut pending: Vec<(MigrationId, f64)> = self
                .active
                .iter()
                .filter(|(_, a)| a.running)
                .map(|(id, _)| (*id, h))
                .collect();
            for _pass in 0..MAX_PASSES {
                if pending.is_empty() {
                    break;
                }
                if self.rates_stale {
                    self.share_bandwidth(inv, now_ms, &mut out);
                }
                let mut again = Vec::new();
                for (id, left) in pending {
                    if !self.active.contains_key(&id) {
                        continue;
                    }
                    stepped.insert(id);
                    let start = self.now + (h - left);
                    if let Some(rest) = self.step(inv, id, start, left, now_ms, &mut out) {
                        again.push((id, rest));
                    }
                }
                pending = again;
            }
            self.now += h;
        }
        self.at = self.now;
        if self.rates_stale {
            self.share_bandwidth(inv, now_ms, &mut out);
        }
        // One progress event per running migration per tick.
        for id in stepped {
            let progress = self.driver.progress(id);
            let Some(a) = self.active.get_mut(&id) else {
                continue;
            };
            let rate = self.rates.get(&id).copied().unwrap_or(0.0);
            let phase = a.record.phase;
            // The pre-copy's message follows the SDPS throttle as it rises.
            let message = match &progress {
                Some(p) if phase == Phase::MemoryPrecopy && p.phase == phase => phase_message(a, p),
                _ => a.record.message.clone(),
            };
            let e = emit(a, self.now, phase, progress.as_ref(), rate, message);
            out.events.push(e);
            if a.rounds_seen != a.record.round as usize + 1 && phase >= Phase::MemoryPrecopy {
                a.record.rounds = self.driver.rounds(id);
                a.rounds_seen = a.record.round as usize + 1;
                a.record.max_throttle = self.driver.max_throttle(id);
                out.updated.push(a.record.clone());
            }
        }
        out
    }

    fn apply_faults(&mut self, now_ms: i64, out: &mut TickOutput) {
        if self.faults.is_empty() {
            return;
        }
        let hits: Vec<(MigrationId, String)> = self
            .active
            .iter()
            .filter(|(_, a)| a.running)
            .filter_map(|(id, a)| {
                self.faults
                    .values()
                    .find_map(|f| Self::hit_by(f, a))
                    .map(|m| (*id, m))
            })
            .collect();
        for (id, message) in hits {
            let (record, event) = self.end(id, Phase::Failed, message, now_ms);
            out.events.push(event);
            out.updated.push(record);
        }
    }

    /// Starts queued migrations that fit, highest priority first, then oldest first.
    fn admit(&mut self, inv: &Inventory, now_ms: i64, out: &mut TickOutput) {
        self.admission_stale = false;
        let running: Vec<Footprint> = self
            .active
            .values()
            .filter(|a| a.running)
            .map(|a| a.footprint.clone())
            .collect();
        let mut usage = SlotUsage::of(&running);
        // What the running migrations will take on their targets once they land.
        let mut memory_heading: HashMap<HostId, u64> = HashMap::new();
        let mut space_heading: HashMap<DatastoreId, u64> = HashMap::new();
        for a in self.active.values().filter(|a| a.running) {
            *memory_heading.entry(a.plan.target_host).or_default() += a.memory_mib;
            if let Some(d) = a.plan.target_datastore {
                *space_heading.entry(d).or_default() += a.disk_mib;
            }
        }
        let mut queued: Vec<(u8, u64, MigrationId)> = self
            .active
            .iter()
            .filter(|(_, a)| !a.running)
            .map(|(id, a)| (a.request.options.priority.unwrap_or(5), a.order, *id))
            .collect();
        queued.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
        let mut busy = self.busy_vms();
        for (_, _, id) in queued {
            let a = &self.active[&id];
            let reason = usage
                .queue_reason(inv, &a.footprint)
                .or_else(|| reservation_reason(inv, a, &memory_heading, &space_heading));
            if let Some(reason) = reason {
                let a = self.active.get_mut(&id).expect("queued");
                if a.record.queue_reason.as_deref() != Some(&reason) {
                    a.record.queue_reason = Some(reason.clone());
                    let e = emit(a, self.now, Phase::Queued, None, 0.0, reason);
                    out.events.push(e);
                    out.updated.push(a.record.clone());
                }
                continue;
            }
            // Leaves the queue: the checks again, against the inventory and faults of now
            // (the VM itself is not "busy" for its own checks).
            let vm = a.record.vm_id;
            busy.remove(&vm);
            let fault = self.faults.values().find_map(|f| Self::hit_by(f, a));
            let a = self.active.get_mut(&id).expect("queued");
            let e = emit(
                a,
                self.now,
                Phase::Checking,
                None,
                0.0,
                "Checking prerequisites".into(),
            );
            out.events.push(e);
            let blocked = match check_migration(inv, &a.request, &busy) {
                Ok(report) => report.first_error().map(|r| r.message.clone()),
                Err(e) => Some(e.message),
            };
            busy.insert(vm);
            if let Some(message) = fault {
                let (record, event) = self.end(id, Phase::Failed, message, now_ms);
                out.events.push(event);
                out.updated.push(record);
                continue;
            }
            if let Some(reason) = blocked {
                let message = format!("Prerequisite check failed: {reason}; {}", a.stays);
                let (record, event) = self.end(id, Phase::Failed, message, now_ms);
                out.events.push(event);
                out.updated.push(record);
                continue;
            }
            if let Err(DriverError(reason)) = self.driver.prepare(id, &a.plan, a.memory_estimate) {
                let message = format!("Could not prepare the destination: {reason}; {}", a.stays);
                let (record, event) = self.end(id, Phase::Failed, message, now_ms);
                out.events.push(event);
                out.updated.push(record);
                continue;
            }
            usage.add(&a.footprint);
            *memory_heading.entry(a.plan.target_host).or_default() += a.memory_mib;
            if let Some(d) = a.plan.target_datastore {
                *space_heading.entry(d).or_default() += a.disk_mib;
            }
            a.running = true;
            a.record.started_at_ms = Some(now_ms);
            a.resources = self.driver.resources(id);
            let message = format!("Preparing the destination on {}", a.target_name);
            // A hypervisor starts now, in real time: at the end of the interval this tick
            // simulates, not at its start.
            let at = if self.driver.real_time(id) {
                self.tick_end.max(self.now)
            } else {
                self.now
            };
            a.record.real = self.driver.real_time(id);
            let e = emit(a, at, Phase::Preparing, None, 0.0, message);
            out.events.push(e);
            out.updated.push(a.record.clone());
            self.rates_stale = true;
        }
    }

    /// Max-min fair rates for every running transfer over the resources it crosses now. A
    /// transfer that must cross a resource with no bandwidth at all (a link at 0 Gbit/s)
    /// would wait forever: it fails instead, the VM staying where it is.
    fn share_bandwidth(&mut self, inv: &Inventory, now_ms: i64, out: &mut TickOutput) {
        self.rates_stale = false;
        let mut index: HashMap<Resource, usize> = HashMap::new();
        let mut capacities = Vec::new();
        let mut ids = Vec::new();
        let mut flows = Vec::new();
        let mut dead = Vec::new();
        for (id, a) in self.active.iter().filter(|(_, a)| a.running) {
            if let Some(r) = a.resources.iter().find(|r| capacity(inv, **r) <= 0.0) {
                let what = match r {
                    Resource::Link(h) => format!(
                        "the vMotion link of {} is down",
                        inv.hosts.get(h).map_or("?", |h| h.name.as_str())
                    ),
                    Resource::Datastore(d) => format!(
                        "datastore {} is gone",
                        inv.datastores.get(d).map_or("?", |d| d.name.as_str())
                    ),
                };
                dead.push((*id, format!("No bandwidth: {what}; {}", a.stays)));
                continue;
            }
            let resources = a
                .resources
                .iter()
                .map(|r| {
                    *index.entry(*r).or_insert_with(|| {
                        capacities.push(capacity(inv, *r));
                        capacities.len() - 1
                    })
                })
                .collect();
            ids.push(*id);
            flows.push(Flow {
                resources,
                cap: a.plan.cap,
            });
        }
        let rates = max_min_fair(&capacities, &flows);
        self.rates = ids.into_iter().zip(rates).collect();
        for (id, message) in dead {
            let (record, event) = self.end(id, Phase::Failed, message, now_ms);
            out.events.push(event);
            out.updated.push(record);
        }
    }

    /// Runs one transfer from simulated time `start` for `left` seconds. Returns the time
    /// left when it stopped because its stage now crosses other resources (to go on once
    /// bandwidth is shared again); `None` when the step is done, or the migration ended or
    /// stalled.
    fn step(
        &mut self,
        inv: &Inventory,
        id: MigrationId,
        start: f64,
        mut left: f64,
        now_ms: i64,
        out: &mut TickOutput,
    ) -> Option<f64> {
        let mut at = start;
        loop {
            let rate = self.rates.get(&id).copied().unwrap_or(0.0);
            let step = match self.driver.step(id, left, rate) {
                Ok(s) => s,
                Err(DriverError(reason)) => {
                    let stays = &self.active[&id].stays;
                    let message = format!("The hypervisor reported an error: {reason}; {stays}");
                    self.at = at;
                    let (record, event) = self.end(id, Phase::Failed, message, now_ms);
                    out.events.push(event);
                    out.updated.push(record);
                    return None;
                }
            };
            left -= step.used_s;
            at += step.used_s;
            self.at = at;
            let a = self.active.get_mut(&id).expect("running");
            match step.end {
                Some(TransferEnd::Converged { .. }) => {
                    self.switch_over(inv, id, rate, &step.progress, now_ms, out);
                    return None;
                }
                Some(TransferEnd::Failed { reason }) => {
                    let message = format!("{reason}; {}", a.stays);
                    let (record, event) = self.end(id, Phase::Failed, message, now_ms);
                    out.events.push(event);
                    out.updated.push(record);
                    return None;
                }
                None => {}
            }
            if step.progress.phase != a.record.phase {
                let message = phase_message(a, &step.progress);
                let e = emit(
                    a,
                    at,
                    step.progress.phase,
                    Some(&step.progress),
                    rate,
                    message,
                );
                out.events.push(e);
                out.updated.push(a.record.clone());
            }
            let resources = self.driver.resources(id);
            if resources != a.resources {
                // The next stage (or disk) crosses other links or datastores.
                a.resources = resources;
                self.rates_stale = true;
                return (left > 1e-12).then_some(left);
            }
            if left <= 1e-12 || step.used_s <= 0.0 {
                // Done with this step, or no bandwidth (stalled until the share changes).
                return None;
            }
        }
    }

    fn switch_over(
        &mut self,
        inv: &Inventory,
        id: MigrationId,
        rate: f64,
        progress: &TransferProgress,
        now_ms: i64,
        out: &mut TickOutput,
    ) {
        let rounds = self.driver.rounds(id);
        let max_throttle = self.driver.max_throttle(id);
        let downtime = self.driver.switchover(id);
        let mut a = self.active.remove(&id).expect("running");
        a.record.max_throttle = max_throttle;
        self.rates.remove(&id);
        self.rates_stale = true;
        self.admission_stale = true;
        let vm = inv.vms.get(&a.record.vm_id);
        let (downtime, vm) = match (downtime, vm) {
            (Ok(d), Some(vm)) => (d, vm),
            (Err(DriverError(reason)), _) => {
                a.record.finished_at_ms = Some(now_ms);
                let message = format!("The switchover failed: {reason}; {}", a.stays);
                let e = emit(&mut a, self.at, Phase::Failed, None, 0.0, message);
                out.events.push(e);
                out.updated.push(a.record);
                return;
            }
            (_, None) => {
                a.record.finished_at_ms = Some(now_ms);
                let message = "The VM was deleted during the migration".to_string();
                let e = emit(&mut a, self.at, Phase::Failed, None, 0.0, message);
                out.events.push(e);
                out.updated.push(a.record);
                return;
            }
        };
        if !rounds.is_empty() {
            a.record.rounds = rounds;
        }
        a.record.downtime_ms = Some(downtime * 1000.0);
        a.record.finished_at_ms = Some(now_ms);
        let mut moved = vm.clone();
        moved.host_id = a.plan.target_host;
        if let Some(d) = a.plan.target_datastore {
            for disk in &mut moved.disks {
                disk.datastore_id = d;
            }
        }
        let message = format!(
            "{} now runs on {} (downtime {:.0} ms)",
            a.record.vm_name,
            a.target_name,
            downtime * 1000.0
        );
        let event = emit(
            &mut a,
            self.at,
            Phase::Completed,
            Some(progress),
            rate,
            message,
        );
        out.switchovers.push(Switchover {
            moved,
            record: a.record,
            event,
        });
    }
}

/// Why a migration that fits the slots must still wait: its target host or datastore
/// lacks what the migrations already heading there will take.
fn reservation_reason(
    inv: &Inventory,
    a: &Active,
    memory_heading: &HashMap<HostId, u64>,
    space_heading: &HashMap<DatastoreId, u64>,
) -> Option<String> {
    if a.memory_mib > 0 {
        let heading = memory_heading
            .get(&a.plan.target_host)
            .copied()
            .unwrap_or(0);
        if heading > 0 {
            if let Some(host) = inv.hosts.get(&a.plan.target_host) {
                let free = host
                    .memory_mib
                    .get()
                    .saturating_sub(inv.host_load(host.id).running_memory_mib);
                if free < heading + a.memory_mib {
                    return Some(format!(
                        "waiting: {} has {} free, {} of it taken by migrations already heading there",
                        host.name,
                        crate::format::mib(free),
                        crate::format::mib(heading)
                    ));
                }
            }
        }
    }
    if let Some(d) = a.plan.target_datastore.filter(|_| a.disk_mib > 0) {
        let heading = space_heading.get(&d).copied().unwrap_or(0);
        if heading > 0 {
            if let Some(ds) = inv.datastores.get(&d) {
                let capacity = ds.capacity_mib.get();
                let free = capacity.saturating_sub(inv.allocated_mib(ds.id, None));
                let headroom = (capacity as f64 * SPACE_HEADROOM) as u64;
                if free < heading + a.disk_mib + headroom {
                    return Some(format!(
                        "waiting: datastore {} has {} free, {} of it taken by disks already being copied there",
                        ds.name,
                        crate::format::mib(free),
                        crate::format::mib(heading)
                    ));
                }
            }
        }
    }
    None
}

/// What a phase change says.
fn phase_message(a: &Active, p: &TransferProgress) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    match p.phase {
        Phase::DiskCopy => format!(
            "Copying {:.0} MiB of disk to {} (writes mirrored)",
            a.plan.disk_bytes() / MIB,
            a.target_name
        ),
        Phase::MemoryPrecopy if p.throttle > 0.0 => format!(
            "Pre-copying memory; SDPS slows the guest by {:.0} % so that the copy converges",
            p.throttle * 100.0
        ),
        Phase::MemoryPrecopy => "Pre-copying memory".into(),
        Phase::Switchover => format!(
            "Switchover: the VM is stunned while the last {:.1} MiB are sent",
            p.remaining_dirty / MIB
        ),
        other => other.label().into(),
    }
}

/// Builds the next event of a migration and folds it into its summary. `percent` only rises
/// and stays below 100 until the switchover is committed.
fn emit(
    a: &mut Active,
    now: f64,
    phase: Phase,
    progress: Option<&TransferProgress>,
    rate: f64,
    message: String,
) -> MigrationEvent {
    let r = &a.record;
    let mut e = MigrationEvent {
        migration_id: r.id,
        seq: r.last_seq + 1,
        sim_time_s: (now - a.created_s).max(r.sim_time_s),
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
        Phase::Failed | Phase::Cancelled => e.eta_s = None,
        _ => {}
    }
    if let Phase::Preparing = phase {
        e.eta_s = a.record.eta_s;
    }
    a.record.absorb(&e);
    e
}
