//! Admission: which queued migrations start on a tick — the cost model's slots, the plans'
//! limits and pacing, the memory and space already heading to a target — and, for those that
//! wait, why, in words (docs/DESIGN.md#the-engine).

use super::driver::{Driver, DriverError};
use super::messages::{emit, reservation_reason};
use super::pacing::LinkLoad;
use super::{Active, Engine, TickOutput};
use crate::checks::check_migration;
use crate::migration::{Ending, Phase};
use crate::scheduling::{Footprint, SlotUsage, Wait};
use crate::transfer::Resource;
use crate::{DatastoreId, HostId, Inventory, MigrationId, Phrase, PlanId};
use std::collections::{BTreeMap, HashMap};

impl<D: Driver> Engine<D> {
    /// Starts queued migrations that fit, highest priority first, then oldest first.
    pub(super) fn admit(&mut self, inv: &Inventory, now_ms: i64, out: &mut TickOutput) {
        self.admission_stale = false;
        // Migrations held in their checking phase keep the slots they left the queue with;
        // other replicas' running migrations take theirs.
        let running: Vec<Footprint> = self
            .active
            .values()
            .filter(|a| a.running || a.checking)
            .filter(|a| !inv.sources.contains_key(&a.record.vm_id.0))
            .map(|a| a.footprint.clone())
            .chain(self.elsewhere.iter().map(|e| e.footprint.clone()))
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
        let mut links = LinkLoad::of(self.active.values().filter(|a| a.running));
        // Moves of a plan run within its limits too.
        let mut group_running: HashMap<PlanId, usize> = HashMap::new();
        for a in self.active.values().filter(|a| a.running || a.checking) {
            if let Some(g) = a.group {
                *group_running.entry(g).or_default() += 1;
            }
        }
        for (_, _, id) in queued {
            let a = &self.active[&id];
            if a.checking && self.hold_checking {
                continue;
            }
            // A mirrored VM is moved by its vCenter, which queues its moves itself
            // (docs/VCENTER.md#migrations): only a plan's own limits hold it here.
            let external = inv.sources.contains_key(&a.record.vm_id.0);
            let reason = if a.checking {
                None
            } else if external {
                self.group_reason(a, &group_running)
            } else {
                self.group_reason(a, &group_running)
                    .or_else(|| self.pace_reason(inv, a, &links))
                    .or_else(|| {
                        usage
                            .wait(inv, &a.footprint)
                            .map(|w| self.naming_elsewhere(w))
                    })
                    .or_else(|| reservation_reason(inv, a, &memory_heading, &space_heading))
            };
            if let Some(reason) = reason {
                let a = self.active.get_mut(&id).expect("queued");
                if a.record.queue_reason.as_deref() != Some(&reason.english) {
                    a.record.queue_reason = Some(reason.english.clone());
                    a.record.queue_words = Some(reason.clone().without_english());
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
            if !a.checking {
                let e = emit(
                    a,
                    self.now,
                    Phase::Checking,
                    None,
                    0.0,
                    Phrase::new("engine.checking", &[]),
                );
                out.events.push(e);
                if self.hold_checking {
                    // A test holds it here (docs/RELIABILITY.md); its slots are taken.
                    a.checking = true;
                    usage.add(&a.footprint);
                    busy.insert(vm);
                    continue;
                }
            } else {
                // Released: it already counts in `usage`.
                a.checking = false;
                usage.remove(&a.footprint);
            }
            let blocked = match check_migration(inv, &a.request, &busy) {
                Ok(report) => report
                    .first_error()
                    .map(|r| Phrase::check(&r.code, &r.args, &r.message)),
                Err(e) => Some(Phrase::raw(e.message)),
            };
            busy.insert(vm);
            if let Some(message) = fault {
                let (record, event) = self.end(id, Ending::Failed(message), now_ms);
                out.events.push(event);
                out.updated.push(record);
                continue;
            }
            if let Some(reason) = blocked {
                let message = Phrase::new("engine.failed.check", &[])
                    .with("reason", reason)
                    .with("stays", a.stays.clone());
                let (record, event) = self.end(id, Ending::Failed(message), now_ms);
                out.events.push(event);
                out.updated.push(record);
                continue;
            }
            if let Err(DriverError(reason)) = self.driver.prepare(id, &a.plan, a.memory_estimate) {
                let message = Phrase::new("engine.failed.prepare", &[])
                    .with("reason", Phrase::raw(reason))
                    .with("stays", a.stays.clone());
                let (record, event) = self.end(id, Ending::Failed(message), now_ms);
                out.events.push(event);
                out.updated.push(record);
                continue;
            }
            if !external {
                usage.add(&a.footprint);
                links.add(a);
            }
            if let Some(g) = a.group {
                *group_running.entry(g).or_default() += 1;
            }
            *memory_heading.entry(a.plan.target_host).or_default() += a.memory_mib;
            if let Some(d) = a.plan.target_datastore {
                *space_heading.entry(d).or_default() += a.disk_mib;
            }
            a.running = true;
            a.record.started_at_ms = Some(now_ms);
            a.resources = self.driver.resources(id);
            let message =
                Phrase::new("engine.preparing", &[]).with("target", a.target_name.clone());
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

    /// Why a plan's move waits for its plan (paused, or at its concurrency limit).
    fn group_reason(&self, a: &Active, running: &HashMap<PlanId, usize>) -> Option<Phrase> {
        let group = a.group?;
        let limit = self.groups.get(&group)?;
        let title = limit.title.clone();
        if limit.paused {
            return Some(Phrase::new("engine.wait.plan_paused", &[]).with("plan", title));
        }
        let max = limit.max_running?;
        let now = running.get(&group).copied().unwrap_or(0);
        (now >= max).then(|| {
            Phrase::new("engine.wait.plan_limit", &[("max", max.to_string())]).with("plan", title)
        })
    }

    /// Why a paced plan's move waits for room on its links (docs/DESIGN.md#pacing).
    fn pace_reason(&self, inv: &Inventory, a: &Active, links: &LinkLoad) -> Option<Phrase> {
        if !self.groups.get(&a.group?)?.paced {
            return None;
        }
        let name = |r: &Resource| match r {
            Resource::Link(h) => inv.hosts.get(h).map_or_else(
                || Phrase::new("engine.a_link", &[]),
                |h| Phrase::new("engine.link_of", &[("host", h.name.to_string())]),
            ),
            Resource::Datastore(_) => Phrase::new("engine.a_datastore", &[]),
        };
        links.wait(inv, a, &name)
    }

    /// A queue reason that says how much of the full resource other replicas hold.
    fn naming_elsewhere(&self, wait: Wait) -> Phrase {
        let mut by: BTreeMap<&str, u32> = BTreeMap::new();
        for e in &self.elsewhere {
            let cost = e.footprint.cost_on(wait.slot);
            if cost > 0 {
                *by.entry(e.replica.as_str()).or_default() += cost;
            }
        }
        if by.is_empty() {
            return wait.reason;
        }
        let taken = by
            .into_iter()
            .map(|(replica, n)| {
                let args = [("n", n.to_string()), ("replica", replica.to_string())];
                Phrase::new("engine.wait.taken", &args)
            })
            .reduce(|first, rest| {
                Phrase::new("engine.wait.taken_more", &[])
                    .with("first", first)
                    .with("rest", rest)
            })
            .expect("one replica at least");
        Phrase::new("engine.wait.elsewhere", &[])
            .with("reason", wait.reason)
            .with("taken", taken)
    }
}
