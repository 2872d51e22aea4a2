//! The task that runs one plan (docs/DESIGN.md#running-a-plan): it waits for the plan's start
//! time, then runs its steps in order — a step's moves queued together in the engine under
//! the plan's limits and followed until each has ended, a host put in maintenance mode only
//! once nothing is left on it, a hold, a host brought back — while it answers pause, resume
//! and cancel, and keeps the stored record (progress, re-predicted end) current.

use super::{Control, Order, PlanService, Reply};
use crate::audit;
use crate::engine::PlanStep;
use domain::migration::Phase;
use domain::plan::predict::{group_limit, request_of};
use domain::plan::{PlanRecord, PlanState, Step};
use domain::{HostId, HostState, Mutation, Object, Phrase};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// A plan being run.
struct Run {
    plan: PlanRecord,
    controls: mpsc::Receiver<Order>,
    /// Who started it: its moves and maintenance changes are theirs in the audit log.
    actor: String,
    paused: bool,
    /// Cancelled by this user.
    cancelled: Option<String>,
    /// A move failed and the plan stops on failure.
    stopping: bool,
    /// vmshift is stopping.
    shutting_down: bool,
    /// What kept the plan from its goal.
    problems: Vec<Phrase>,
    last_store_ms: i64,
}

/// Longest time a running plan goes unwritten (its record doubles as its heartbeat).
const STORE_EVERY_MS: i64 = 1_000;

impl PlanService {
    pub(super) async fn run(
        self: Arc<Self>,
        plan: PlanRecord,
        controls: mpsc::Receiver<Order>,
        actor: String,
    ) {
        let id = plan.id;
        let mut r = Run {
            plan,
            controls,
            actor,
            paused: false,
            cancelled: None,
            stopping: false,
            shutting_down: false,
            problems: Vec::new(),
            last_store_ms: 0,
        };
        self.wait_for_start(&mut r).await;
        while r.plan.step < r.plan.draft.steps.len()
            && r.cancelled.is_none()
            && !r.stopping
            && !r.shutting_down
        {
            let step = r.plan.step;
            match r.plan.draft.steps[step].clone() {
                Step::Moves { .. } => self.run_moves(&mut r, step).await,
                Step::EnterMaintenance { host_ids } => {
                    self.enter_maintenance(&mut r, &host_ids).await
                }
                Step::Hold { seconds } => {
                    let wall = f64::from(seconds) / self.migrations.speed();
                    r.plan.say(Phrase::new(
                        "plan.run.holding",
                        &[("hold_s", seconds.to_string())],
                    ));
                    self.save(&mut r, true).await;
                    self.wait(&mut r, Duration::from_secs_f64(wall)).await;
                    r.plan.elapsed_s += f64::from(seconds);
                    r.plan.clock_s = r.plan.elapsed_s;
                }
                Step::ExitMaintenance { host_ids } => {
                    self.exit_maintenance(&mut r, &host_ids).await
                }
            }
            if !r.shutting_down {
                r.plan.step = step + 1;
            }
            self.save(&mut r, true).await;
        }
        self.finish(&mut r).await;
        self.migrations.set_plan_limit(id, None).await;
        self.running.lock().remove(&id);
    }

    async fn finish(&self, r: &mut Run) {
        let now = self.clock.unix_ms();
        let (done, total) = r.plan.progress();
        let completed = r.plan.completed_moves();
        // A move failed, or cancelled outside the plan, is a move not done.
        let failed: Vec<Phrase> = r
            .plan
            .moves
            .iter()
            .filter(|m| matches!(m.phase, Some(Phase::Failed | Phase::Cancelled)))
            .map(|m| match (&m.error, &m.error_words) {
                (Some(e), Some(w)) => Phrase {
                    english: e.clone(),
                    ..w.clone()
                },
                (Some(e), None) => Phrase::raw(e.clone()),
                (None, _) => Phrase::new("plan.run.move_cancelled", &[]),
            })
            .collect();
        let (done, total, completed) = (
            ("done", done.to_string()),
            ("total", total.to_string()),
            ("completed", completed.to_string()),
        );
        let (state, message) = if r.shutting_down {
            (
                PlanState::Interrupted,
                Phrase::new("plan.run.interrupted", &[done, total]),
            )
        } else if let Some(who) = &r.cancelled {
            let who = ("who", who.clone());
            (
                PlanState::Cancelled,
                Phrase::new("plan.run.cancelled", &[who, completed, total]),
            )
        } else if !failed.is_empty() || !r.problems.is_empty() {
            let why = r
                .problems
                .iter()
                .cloned()
                .chain(failed.into_iter().take(3))
                .reduce(|first, rest| {
                    Phrase::new("plan.run.and", &[])
                        .with("first", first)
                        .with("rest", rest)
                })
                .expect("a problem or a failed move");
            (
                PlanState::Failed,
                Phrase::new("plan.run.failed", &[completed, total]).with("why", why),
            )
        } else {
            let elapsed = ("elapsed_s", r.plan.elapsed_s.to_string());
            let predicted = ("predicted_s", r.plan.prediction.total_s.to_string());
            (
                PlanState::Completed,
                Phrase::new("plan.run.done", &[total, elapsed, predicted]),
            )
        };
        if r.plan.finish(state, message, now) {
            tracing::info!(plan = %r.plan.id, state = state.as_str(), "plan over");
            self.save(r, true).await;
        }
    }

    /// Waits for the plan's `start_at` (answering pause, resume and cancel meanwhile).
    async fn wait_for_start(&self, r: &mut Run) {
        let Some(at) = r.plan.options.start_at_ms else {
            return self.begin(r).await;
        };
        loop {
            let now = self.clock.unix_ms();
            if now >= at || r.cancelled.is_some() || r.shutting_down {
                break;
            }
            let left = Duration::from_millis((at - now).min(1_000) as u64);
            self.wait(r, left).await;
        }
        self.begin(r).await;
    }

    async fn begin(&self, r: &mut Run) {
        if r.cancelled.is_none() && !r.shutting_down {
            r.plan.state = if r.paused {
                PlanState::Paused
            } else {
                PlanState::Running
            };
            r.plan.say(Phrase::new("plan.run.running", &[]));
            self.save(r, true).await;
        }
    }

    /// Sleeps (wall time), answering controls; returns early on cancel or stop.
    async fn wait(&self, r: &mut Run, span: Duration) {
        let until = tokio::time::Instant::now() + span;
        let mut shutdown = self.shutdown.clone();
        r.shutting_down |= *shutdown.borrow();
        while r.cancelled.is_none() && !r.shutting_down {
            tokio::select! {
                _ = tokio::time::sleep_until(until) => return,
                Some((control, who, reply)) = r.controls.recv() => {
                    self.on_control(r, control, who, reply, &[]).await;
                }
                Ok(()) = shutdown.changed() => r.shutting_down = *shutdown.borrow(),
            }
        }
    }

    /// One step's moves, queued together, followed until each has ended.
    async fn run_moves(&self, r: &mut Run, step: usize) {
        let start_s = r.plan.elapsed_s;
        let indexes: Vec<usize> = (0..r.plan.moves.len())
            .filter(|i| r.plan.moves[*i].step == step)
            .collect();
        let requests = indexes
            .iter()
            .filter_map(|i| r.plan.planned(*i))
            .map(|m| request_of(m, &r.plan.options))
            .collect();
        r.plan.say(Phrase::new(
            "plan.run.moving",
            &[("count", indexes.len().to_string())],
        ));
        let queued = self
            .migrations
            .start_plan_step(PlanStep {
                plan: r.plan.id,
                limit: group_limit(&r.plan.draft, &r.plan.options, r.paused),
                requests,
                actor: r.actor.clone(),
            })
            .await;
        match queued {
            Ok(results) => {
                for (i, result) in indexes.iter().zip(results) {
                    let run = &mut r.plan.moves[*i];
                    match result {
                        Ok(m) => {
                            run.migration_id = Some(m.id);
                            run.phase = Some(m.phase);
                        }
                        Err(e) => {
                            run.phase = Some(Phase::Failed);
                            let words = Phrase::new("plan.run.not_started", &[])
                                .with("reason", Phrase::raw(e.to_string()));
                            run.error = Some(words.english.clone());
                            run.error_words = Some(words);
                            run.end_s = Some(start_s);
                        }
                    }
                }
            }
            Err(_) => r.shutting_down = true,
        }
        self.save(r, true).await;
        let mut shutdown = self.shutdown.clone();
        r.shutting_down |= *shutdown.borrow();
        loop {
            let changed = self.follow(r, &indexes, start_s);
            if indexes.iter().all(|i| r.plan.moves[*i].is_done()) || r.shutting_down {
                break;
            }
            let failed = indexes
                .iter()
                .any(|i| r.plan.moves[*i].phase == Some(Phase::Failed));
            if failed && r.plan.options.stop_on_failure && !r.stopping {
                r.stopping = true;
                r.problems
                    .push(Phrase::new("plan.run.stops_on_failure", &[]));
                self.cancel_in_flight(r, &indexes).await;
            }
            self.save(r, changed).await;
            tokio::select! {
                _ = tokio::time::sleep(self.poll) => {}
                Some((control, who, reply)) = r.controls.recv() => {
                    self.on_control(r, control, who, reply, &indexes).await;
                }
                Ok(()) = shutdown.changed() => r.shutting_down = *shutdown.borrow(),
            }
        }
        let span = indexes
            .iter()
            .filter_map(|i| r.plan.moves[*i].end_s)
            .fold(start_s, f64::max);
        r.plan.elapsed_s = span;
        r.plan.clock_s = span;
    }

    /// Reads the step's migrations: phases, start and end on the plan's clock, errors, and
    /// the plan's end re-predicted from the moves still to go. Whether a move changed phase.
    fn follow(&self, r: &mut Run, indexes: &[usize], start_s: f64) -> bool {
        let speed = self.migrations.speed();
        let mut changed = false;
        let (mut in_step_s, mut floor_s) = (0.0f64, 0.0f64);
        for i in indexes {
            let run = &mut r.plan.moves[*i];
            let Some(m) = run.migration_id.and_then(|id| self.migrations.get(id)) else {
                continue;
            };
            in_step_s = in_step_s.max(m.sim_time_s);
            if !m.phase.is_final() {
                floor_s = floor_s.max(m.eta_s.unwrap_or(0.0));
            }
            if run.phase != Some(m.phase) {
                changed = true;
                run.phase = Some(m.phase);
            }
            if let (None, Some(started)) = (run.start_s, m.started_at_ms) {
                run.start_s = Some(start_s + (started - m.created_at_ms) as f64 / 1000.0 * speed);
            }
            if m.phase.is_final() && run.end_s.is_none() {
                run.end_s = Some(start_s + m.sim_time_s);
                run.error = m.error.clone();
                run.error_words = m.error.as_ref().and(m.words.clone());
            }
        }
        r.plan.clock_s = start_s + in_step_s;
        let remaining = r.plan.remaining_s(r.plan.step, in_step_s, floor_s);
        r.plan.predicted_end_ms = Some(self.clock.unix_ms() + (remaining / speed * 1000.0) as i64);
        changed
    }

    async fn cancel_in_flight(&self, r: &mut Run, indexes: &[usize]) {
        for i in indexes {
            let run = &r.plan.moves[*i];
            if let (Some(id), false) = (run.migration_id, run.is_done()) {
                // One that ends meanwhile is already where it goes.
                let _ = self.migrations.cancel(id).await;
            }
        }
    }

    async fn on_control(
        &self,
        r: &mut Run,
        control: Control,
        who: String,
        reply: Reply,
        indexes: &[usize],
    ) {
        let waiting = r.plan.state == PlanState::Scheduled
            || (r.plan.state == PlanState::Paused
                && r.plan
                    .options
                    .start_at_ms
                    .is_some_and(|at| at > self.clock.unix_ms()));
        match control {
            Control::Pause if !r.paused => {
                r.paused = true;
                r.plan.state = PlanState::Paused;
                r.plan
                    .say(Phrase::new("plan.run.paused", &[("who", who.clone())]));
            }
            Control::Resume if r.paused => {
                r.paused = false;
                r.plan.state = if waiting {
                    PlanState::Scheduled
                } else {
                    PlanState::Running
                };
                r.plan
                    .say(Phrase::new("plan.run.resumed", &[("who", who.clone())]));
            }
            Control::Cancel if r.cancelled.is_none() => {
                r.cancelled = Some(who.clone());
                r.plan
                    .say(Phrase::new("plan.run.cancelling", &[("who", who.clone())]));
                self.cancel_in_flight(r, indexes).await;
            }
            _ => {}
        }
        let limit = group_limit(&r.plan.draft, &r.plan.options, r.paused);
        self.migrations.set_plan_limit(r.plan.id, Some(limit)).await;
        self.save(r, true).await;
        let _ = reply.send(r.plan.clone());
    }

    /// Puts the hosts in maintenance mode, each only once nothing is left on it.
    async fn enter_maintenance(&self, r: &mut Run, hosts: &[HostId]) {
        for id in hosts {
            let (name, left) = {
                let inv = self.inventory.read();
                let Some(host) = inv.hosts.get(id) else {
                    continue;
                };
                let left: Vec<String> = inv
                    .vms
                    .values()
                    .filter(|v| v.host_id == *id)
                    .map(|v| v.name.to_string())
                    .collect();
                (host.name.to_string(), left)
            };
            if !left.is_empty() {
                let vms = domain::inventory::usage::summarize(&left);
                let problem = Phrase::new("plan.run.host_stays", &[("host", name), ("vms", vms)]);
                r.plan.note(problem.clone());
                r.problems.push(problem);
                continue;
            }
            let host = ("host", name);
            match self.set_state(r, *id, HostState::Maintenance).await {
                Ok(()) => r.plan.note(Phrase::new("plan.run.entered", &[host])),
                Err(e) => {
                    let problem = Phrase::new("plan.run.enter_failed", &[host])
                        .with("reason", Phrase::raw(e.to_string()));
                    r.plan.note(problem.clone());
                    r.problems.push(problem);
                }
            }
        }
    }

    async fn exit_maintenance(&self, r: &mut Run, hosts: &[HostId]) {
        for id in hosts {
            let in_maintenance = self
                .inventory
                .read()
                .hosts
                .get(id)
                .map(|h| (h.name.to_string(), h.state == HostState::Maintenance));
            let Some((name, true)) = in_maintenance else {
                continue;
            };
            let host = ("host", name);
            match self.set_state(r, *id, HostState::Connected).await {
                Ok(()) => r.plan.note(Phrase::new("plan.run.left", &[host])),
                Err(e) => {
                    let problem = Phrase::new("plan.run.leave_failed", &[host])
                        .with("reason", Phrase::raw(e.to_string()));
                    r.plan.note(problem.clone());
                    r.problems.push(problem);
                }
            }
        }
    }

    /// Changes a host's state through the inventory's gate, as the plan's starter.
    async fn set_state(&self, r: &Run, id: HostId, state: HostState) -> Result<(), String> {
        let Some(mut host) = self.inventory.read().hosts.get(&id).cloned() else {
            return Err("the host is gone".into());
        };
        host.state = state;
        let inventory = self.inventory.clone();
        audit::ACTOR
            .scope(r.actor.clone(), async move {
                inventory.apply(Mutation::Update(Object::Host(host))).await
            })
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Stores the record when it changed, else at most every second, and pushes it live.
    async fn save(&self, r: &mut Run, changed: bool) {
        let now = self.clock.unix_ms();
        if !changed && now - r.last_store_ms < STORE_EVERY_MS {
            return;
        }
        r.last_store_ms = now;
        if let Err(e) = self.store(&r.plan).await {
            tracing::error!(plan = %r.plan.id, error = %e, "storing a plan failed (retried at its next change)");
        }
    }
}
