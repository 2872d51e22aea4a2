//! One tick of the engine: faults applied, queued migrations admitted (`admission`),
//! bandwidth shared max-min fairly, every running transfer stepped through its driver, and
//! converged ones handed over for their switchover (docs/DESIGN.md#the-engine).

use super::driver::{Driver, DriverError};
use super::messages::{emit, phase_message, precopy_words_changed};
use super::{Active, Engine, Switchover, TickOutput, MAX_PASSES, MAX_STEPS_PER_TICK, MAX_STEP_S};
use crate::migration::{Ending, Phase, HISTORY_SAMPLE_S};
use crate::scheduling::{max_min_fair, Flow};
use crate::transfer::{capacity, Resource, TransferEnd, TransferProgress};
use crate::{Inventory, MigrationId, Phrase};
use std::collections::{BTreeSet, HashMap};

impl<D: Driver> Engine<D> {
    /// Advances simulated time by `dt` seconds.
    pub fn tick(&mut self, inv: &Inventory, dt: f64, now_ms: i64) -> TickOutput {
        let mut out = TickOutput::default();
        self.at = self.now;
        self.tick_end = self.now + dt;
        self.apply_faults(now_ms, &mut out);
        // Admission runs when something changed (a submit, an end, a cleared fault), and
        // about once a second while migrations wait (the inventory may have changed).
        self.ticks += 1;
        if self.has_waiting() && (self.admission_stale || self.ticks.is_multiple_of(4)) {
            self.admit(inv, now_ms, &mut out);
        }
        let mut stepped: BTreeSet<MigrationId> = BTreeSet::new();
        if self.fast_forward {
            self.fast_forward_by(inv, dt, now_ms, &mut out, &mut stepped);
        } else {
            let steps = ((dt / MAX_STEP_S).ceil() as usize).clamp(1, MAX_STEPS_PER_TICK);
            let h = dt / steps as f64;
            for _ in 0..steps {
                self.at = self.now;
                if self.admission_stale && self.has_waiting() {
                    self.admit(inv, now_ms, &mut out);
                }
                self.run_step(inv, h, MAX_PASSES, now_ms, &mut out, &mut stepped);
            }
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
            // The pre-copy's message follows the SDPS throttle as it rises; otherwise a tick
            // says what the last event said.
            let e = match &progress {
                Some(p)
                    if phase == Phase::MemoryPrecopy
                        && p.phase == phase
                        && precopy_words_changed(a, p) =>
                {
                    let message = phase_message(a, p);
                    emit(a, self.now, phase, progress.as_ref(), rate, message)
                }
                _ => {
                    // Stored: a round's boundary, or a sample once a simulated second.
                    let at = self.now - a.created_s;
                    let stored = progress.as_ref().is_some_and(|p| p.round != a.record.round)
                        || at - a.sampled_s >= HISTORY_SAMPLE_S;
                    a.record
                        .record_progress(phase, at, progress.as_ref(), rate, stored)
                }
            };
            if !e.transient {
                a.sampled_s = e.sim_time_s;
            }
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

    /// One step of `h` seconds: every running transfer given the whole step. One whose stage
    /// changes to other resources stops there; once all have run, bandwidth is shared again
    /// and those go on with the rest of their step (up to `passes` times): no simulated time
    /// is lost.
    fn run_step(
        &mut self,
        inv: &Inventory,
        h: f64,
        passes: usize,
        now_ms: i64,
        out: &mut TickOutput,
        stepped: &mut BTreeSet<MigrationId>,
    ) {
        self.at = self.now;
        let mut pending: Vec<(MigrationId, f64)> = Vec::with_capacity(self.active.len());
        pending.extend(
            self.active
                .iter()
                .filter(|(_, a)| a.running)
                .map(|(id, _)| (*id, h)),
        );
        for _pass in 0..passes {
            if pending.is_empty() {
                break;
            }
            if self.rates_stale {
                self.share_bandwidth(inv, now_ms, out);
            }
            let mut again = Vec::new();
            for (id, left) in pending {
                if !self.active.contains_key(&id) {
                    continue;
                }
                stepped.insert(id);
                let start = self.now + (h - left);
                if let Some(rest) = self.step(inv, id, start, left, now_ms, out) {
                    again.push((id, rest));
                }
            }
            pending = again;
        }
        self.now += h;
    }

    /// Fast forward (predictions, docs/DESIGN.md#plan-prediction): steps that end where the
    /// next transfer changes stage or ends, so that every share of bandwidth holds for a whole
    /// step — exact, however long the moves; and queued migrations admitted, as in a run, on
    /// the 0.25 s grid after whatever freed their slot.
    fn fast_forward_by(
        &mut self,
        inv: &Inventory,
        dt: f64,
        now_ms: i64,
        out: &mut TickOutput,
        stepped: &mut BTreeSet<MigrationId>,
    ) {
        let end = self.now + dt;
        while end - self.now > 1e-9 {
            let to_grid = (self.now / MAX_STEP_S).ceil() * MAX_STEP_S - self.now;
            let admitting = self.admission_stale && self.has_waiting();
            if admitting && to_grid <= 1e-9 {
                self.at = self.now;
                self.admit(inv, now_ms, out);
            }
            if self.rates_stale {
                self.share_bandwidth(inv, now_ms, out);
            }
            let mut h = self
                .active
                .iter()
                .filter(|(_, a)| a.running)
                .filter_map(|(id, _)| {
                    let rate = self.rates.get(id).copied().unwrap_or(0.0);
                    self.driver.horizon(*id, rate)
                })
                // A stage left with a rounding residue ends within a nanosecond.
                .map(|t| t.max(1e-9))
                .fold(end - self.now, f64::min);
            if self.admission_stale && self.has_waiting() {
                let to_grid = if to_grid <= 1e-9 { MAX_STEP_S } else { to_grid };
                h = h.min(to_grid);
            }
            self.run_step(inv, h, usize::MAX, now_ms, out, stepped);
        }
    }

    fn apply_faults(&mut self, now_ms: i64, out: &mut TickOutput) {
        if self.faults.is_empty() {
            return;
        }
        let hits: Vec<(MigrationId, Phrase)> = self
            .active
            .iter()
            .filter(|(_, a)| a.running || a.checking)
            .filter_map(|(id, a)| {
                self.faults
                    .values()
                    .find_map(|f| Self::hit_by(f, a))
                    .map(|m| (*id, m))
            })
            .collect();
        for (id, message) in hits {
            let (record, event) = self.end(id, Ending::Failed(message), now_ms);
            out.events.push(event);
            out.updated.push(record);
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
                    Resource::Link(h) => Phrase::new(
                        "engine.failed.link_down",
                        &[(
                            "host",
                            inv.hosts.get(h).map_or("?", |h| h.name.as_str()).into(),
                        )],
                    ),
                    Resource::Datastore(d) => Phrase::new(
                        "engine.failed.datastore_gone",
                        &[(
                            "datastore",
                            inv.datastores
                                .get(d)
                                .map_or("?", |d| d.name.as_str())
                                .into(),
                        )],
                    ),
                };
                dead.push((*id, what.with("stays", a.stays.clone())));
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
            let (record, event) = self.end(id, Ending::Failed(message), now_ms);
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
                    let stays = self.active[&id].stays.clone();
                    let message = Phrase::new("engine.failed.hypervisor", &[])
                        .with("reason", Phrase::raw(reason))
                        .with("stays", stays);
                    self.at = at;
                    let (record, event) = self.end(id, Ending::Failed(message), now_ms);
                    out.events.push(event);
                    out.updated.push(record);
                    return None;
                }
            };
            left -= step.used_s;
            at += step.used_s;
            self.at = at;
            let external = self.driver.external_task(id);
            let a = self.active.get_mut(&id).expect("running");
            if a.record.external_task.is_none() && external.is_some() {
                a.record.external_task = external;
                out.updated.push(a.record.clone());
            }
            match step.end {
                Some(TransferEnd::Converged { .. }) => {
                    self.switch_over(inv, id, &step.progress, now_ms, out);
                    return None;
                }
                Some(TransferEnd::Failed { reason }) => {
                    let message = Phrase::new("engine.failed.transfer", &[])
                        .with("reason", reason)
                        .with("stays", a.stays.clone());
                    let (record, event) = self.end(id, Ending::Failed(message), now_ms);
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
        let at_s = self.at - a.created_s;
        let failed = |mut a: Active, message: Phrase, out: &mut TickOutput| {
            let e = a.record.end(Ending::Failed(message), at_s, None, now_ms);
            out.events.push(e);
            out.updated.push(a.record);
        };
        let (downtime_s, vm) = match (downtime, inv.vms.get(&a.record.vm_id)) {
            (Ok(d), Some(vm)) => (d, vm),
            (Err(DriverError(reason)), _) => {
                let message = Phrase::new("engine.failed.switchover", &[])
                    .with("reason", Phrase::raw(reason))
                    .with("stays", a.stays.clone());
                return failed(a, message, out);
            }
            (_, None) => {
                let message = Phrase::new("engine.failed.vm_deleted", &[]);
                return failed(a, message, out);
            }
        };
        if !rounds.is_empty() {
            a.record.rounds = rounds;
        }
        let mut moved = vm.clone();
        // Where the hypervisor says the VM is, when it says (vCenter), else where it was sent.
        let landed = self.driver.landed(id);
        moved.host_id = landed.map_or(a.plan.target_host, |l| l.host);
        if let Some(d) = a.plan.target_datastore {
            let d = landed.map_or(d, |l| l.datastore);
            for disk in &mut moved.disks {
                disk.datastore_id = d;
            }
        }
        let before = a.record.clone();
        let ending = Ending::Completed {
            downtime_ms: downtime_s * 1000.0,
            message: match &a.record.external_task {
                // vCenter does not report the downtime.
                Some(task) => Phrase::new(
                    "engine.completed_vcenter",
                    &[("vm", a.record.vm_name.clone()), ("task", task.clone())],
                ),
                None => Phrase::new(
                    "engine.completed",
                    &[
                        ("vm", a.record.vm_name.clone()),
                        ("downtime", format!("{:.0}", downtime_s * 1000.0)),
                    ],
                ),
            }
            .with("target", a.target_name.clone()),
        };
        let event = a.record.end(ending, at_s, Some(progress), now_ms);
        out.switchovers.push(Switchover {
            moved,
            record: a.record,
            event,
            before,
            at_s,
        });
    }
}
