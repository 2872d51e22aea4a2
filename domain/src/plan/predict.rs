//! A whole plan predicted before anything moves (docs/DESIGN.md#plan-prediction): the engine
//! core itself — its queue, vSphere's slot limits, max-min fair sharing, pre-copy and SDPS —
//! run in fast forward over the plan's steps on a copy of the inventory, with each VM's
//! platform figures. What comes out is what the plan's run will do: per move its queue wait,
//! start, end, downtime and where its time goes; the plan's total, peak concurrency and bytes;
//! whether it fits its window; and the same plan at other concurrency limits (what-if).

use super::{Draft, PlanOptions, PlannedMove, Step};
use crate::checks::{MigrationKind, MigrationOptions, MigrationRequest};
use crate::engine::driver::Platforms;
use crate::engine::simulated::SimulatedDriver;
use crate::engine::{Engine, GroupLimit};
use crate::migration::Phase;
use crate::prediction::Breakdown;
use crate::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

/// Simulated seconds per engine tick in fast forward (cut into the engine's own 0.25 s steps,
/// exactly as a run at high speed is).
const TICK_S: f64 = 60.0;
/// A plan predicted to run longer than this is cut short (its remaining moves unfinished).
const HORIZON_S: f64 = 30.0 * 86_400.0;

/// One predicted move, times in seconds from the plan's start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoveTimeline {
    pub vm_id: VmId,
    pub vm_name: String,
    pub kind: MigrationKind,
    /// The plan step it belongs to.
    pub step: usize,
    /// When it was queued (its step's start).
    pub queued_s: f64,
    /// When it left the queue.
    pub start_s: f64,
    pub end_s: f64,
    pub downtime_ms: f64,
    pub bytes: f64,
    pub breakdown: Breakdown,
    /// Why it would fail, if it would.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// A step's span in the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepSpan {
    pub step: usize,
    /// "moves", "enter_maintenance", "hold", "exit_maintenance".
    pub kind: String,
    pub start_s: f64,
    pub end_s: f64,
}

/// Whether a plan fits its window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub start_at_ms: i64,
    pub ends_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub must_finish_by_ms: Option<i64>,
    /// Ends by `must_finish_by_ms` (true when there is none).
    pub fits: bool,
    /// Seconds to spare (negative: by how much it misses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin_s: Option<f64>,
}

/// The prediction of a whole plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanPrediction {
    pub total_s: f64,
    pub moves: Vec<MoveTimeline>,
    pub steps: Vec<StepSpan>,
    pub peak_concurrency: u32,
    pub bytes_total: f64,
    pub worst_downtime_ms: f64,
    pub median_downtime_ms: f64,
    /// Moves that would fail.
    pub failures: u32,
    pub window: Window,
}

/// The plan at one concurrency limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIf {
    /// `None`: only vSphere's limits.
    pub max_concurrent: Option<u32>,
    pub total_s: f64,
    pub worst_downtime_ms: f64,
    pub median_downtime_ms: f64,
    pub peak_concurrency: u32,
}

/// The request a planned move is started with.
pub fn request_of(m: &PlannedMove, options: &PlanOptions) -> MigrationRequest {
    MigrationRequest {
        vm_id: m.vm_id,
        kind: m.kind,
        target_host_id: m.kind.moves_host().then_some(m.target_host_id),
        target_datastore_id: m.target_datastore_id,
        options: MigrationOptions {
            downtime_target_ms: options.downtime_target_ms,
            bandwidth_cap_mbps: options.bandwidth_cap_mbps,
            priority: (options.order == super::Order::ByPriority).then_some(m.priority),
        },
    }
}

/// The engine's limits for a plan's moves.
pub fn group_limit(draft: &Draft, options: &PlanOptions, paused: bool) -> GroupLimit {
    GroupLimit {
        max_running: options.max_concurrent.map(|n| n as usize),
        paced: options.pacing == super::Pacing::Converge,
        paused,
        title: draft.title_words(),
    }
}

/// Predicts `draft` run on `inv` under `options`, starting at `options.start_at_ms` (or
/// `now_ms`), each VM with the figures `platforms` gives it.
pub fn predict(
    inv: &Inventory,
    draft: &Draft,
    options: &PlanOptions,
    platforms: Arc<dyn Platforms>,
    now_ms: i64,
) -> PlanPrediction {
    let mut inv = inv.clone();
    let mut engine = Engine::for_prediction(SimulatedDriver::with_platforms(platforms));
    let group = PlanId(Uuid::nil());
    engine.set_group_limit(group, group_limit(draft, options, false));
    let mut t = 0.0;
    let mut moves = Vec::new();
    let mut steps = Vec::new();
    for (index, step) in draft.steps.iter().enumerate() {
        let start = t;
        let kind = match step {
            Step::Moves { moves: planned } => {
                let timeline = run_step(&mut engine, &mut inv, planned, options, group, index);
                let span = timeline.iter().map(|m| m.end_s).fold(0.0, f64::max);
                moves.extend(timeline.into_iter().map(|mut m| {
                    m.queued_s += start;
                    m.start_s += start;
                    m.end_s += start;
                    m
                }));
                t += span;
                "moves"
            }
            Step::EnterMaintenance { host_ids } => {
                set_states(&mut inv, host_ids, HostState::Maintenance);
                "enter_maintenance"
            }
            Step::Hold { seconds } => {
                t += f64::from(*seconds);
                "hold"
            }
            Step::ExitMaintenance { host_ids } => {
                set_states(&mut inv, host_ids, HostState::Connected);
                "exit_maintenance"
            }
        };
        steps.push(StepSpan {
            step: index,
            kind: kind.into(),
            start_s: start,
            end_s: t,
        });
    }
    summarize(moves, steps, t, options, now_ms)
}

/// The same plan predicted without a plan limit and at 1, 2, 4 and 8 moves at once (and at
/// the plan's own limit), side by side.
pub fn what_if(
    inv: &Inventory,
    draft: &Draft,
    options: &PlanOptions,
    platforms: Arc<dyn Platforms>,
    now_ms: i64,
) -> Vec<WhatIf> {
    let mut limits: Vec<Option<u32>> = vec![None, Some(1), Some(2), Some(4), Some(8)];
    if let Some(own) = options.max_concurrent {
        if !limits.contains(&Some(own)) {
            limits.push(Some(own));
        }
    }
    limits.sort_by_key(|l| l.map_or(u32::MAX, |n| n));
    limits
        .into_iter()
        .map(|max| {
            let options = PlanOptions {
                max_concurrent: max,
                ..options.clone()
            };
            let p = predict(inv, draft, &options, platforms.clone(), now_ms);
            WhatIf {
                max_concurrent: max,
                total_s: p.total_s,
                worst_downtime_ms: p.worst_downtime_ms,
                median_downtime_ms: p.median_downtime_ms,
                peak_concurrency: p.peak_concurrency,
            }
        })
        .collect()
}

fn set_states(inv: &mut Inventory, hosts: &[HostId], state: HostState) {
    for id in hosts {
        if let Some(mut h) = inv.hosts.get(id).cloned() {
            h.state = state;
            if let Ok(change) = inv.validate(Mutation::Update(Object::Host(h))) {
                inv.apply(&change);
            }
        }
    }
}

/// What the engine reported of one move so far.
#[derive(Default)]
struct Seen {
    phases: Vec<(Phase, f64)>,
    end: Option<(f64, f64, f64, Option<String>)>,
}

/// Runs one step's moves to their end on the engine (all queued at once, as a run does);
/// times from the step's start.
fn run_step(
    engine: &mut Engine<SimulatedDriver>,
    inv: &mut Inventory,
    planned: &[PlannedMove],
    options: &PlanOptions,
    group: PlanId,
    step: usize,
) -> Vec<MoveTimeline> {
    let mut ids = Vec::with_capacity(planned.len());
    let mut seen: BTreeMap<MigrationId, Seen> = BTreeMap::new();
    for (i, m) in planned.iter().enumerate() {
        let id = MigrationId(Uuid::from_u128(((step as u128) << 64) | (i as u128 + 1)));
        ids.push(id);
        let mut s = Seen::default();
        match engine.submit(inv, request_of(m, options), id, 0) {
            Ok(_) => {
                engine.join_group(id, group);
            }
            Err(e) => s.end = Some((0.0, 0.0, 0.0, Some(e.to_string()))),
        }
        seen.insert(id, s);
    }
    let began = engine.now();
    while engine.in_flight() > 0 && engine.now() - began < HORIZON_S {
        let out = engine.tick(inv, TICK_S, 0);
        for e in &out.events {
            if let Some(s) = seen.get_mut(&e.migration_id) {
                if s.phases.last().is_none_or(|(p, _)| *p != e.phase) {
                    s.phases.push((e.phase, e.sim_time_s));
                }
            }
        }
        for r in &out.updated {
            if r.phase.is_final() {
                if let Some(s) = seen.get_mut(&r.id) {
                    let failure = r.error.clone().or_else(|| Some(r.message.clone()));
                    s.end = Some((r.sim_time_s, 0.0, r.bytes_sent, failure));
                }
            }
        }
        for sw in out.switchovers {
            let downtime_ms = sw.record.downtime_ms.unwrap_or(0.0);
            if let Some(s) = seen.get_mut(&sw.record.id) {
                s.end = Some((
                    sw.record.sim_time_s,
                    downtime_ms,
                    sw.record.bytes_sent,
                    None,
                ));
            }
            if let Ok(change) = inv.validate(Mutation::Update(Object::Vm(sw.moved))) {
                inv.apply(&change);
            }
        }
    }
    // Whatever is left past the horizon is abandoned, unfinished.
    for id in engine.ids() {
        engine.abandon(id);
    }
    planned
        .iter()
        .zip(ids)
        .map(|(m, id)| {
            let s = seen.remove(&id).unwrap_or_default();
            let (end_s, downtime_ms, bytes, failure) = s.end.unwrap_or((
                HORIZON_S,
                0.0,
                0.0,
                Some("still running past the prediction's horizon".into()),
            ));
            let breakdown = Breakdown::of_phases(&s.phases, end_s, downtime_ms / 1000.0);
            MoveTimeline {
                vm_id: m.vm_id,
                vm_name: m.vm_name.clone(),
                kind: m.kind,
                step,
                queued_s: 0.0,
                start_s: breakdown.queue_s.min(end_s),
                end_s,
                downtime_ms,
                bytes,
                breakdown,
                failure,
            }
        })
        .collect()
}

fn summarize(
    moves: Vec<MoveTimeline>,
    steps: Vec<StepSpan>,
    total_s: f64,
    options: &PlanOptions,
    now_ms: i64,
) -> PlanPrediction {
    let mut downtimes: Vec<f64> = moves
        .iter()
        .filter(|m| m.failure.is_none())
        .map(|m| m.downtime_ms)
        .collect();
    downtimes.sort_by(f64::total_cmp);
    let median = match downtimes.len() {
        0 => 0.0,
        n if n % 2 == 1 => downtimes[n / 2],
        n => (downtimes[n / 2 - 1] + downtimes[n / 2]) / 2.0,
    };
    let start_at_ms = options.start_at_ms.unwrap_or(now_ms);
    let ends_at_ms = start_at_ms + (total_s * 1000.0).round() as i64;
    let margin_s = options
        .must_finish_by_ms
        .map(|by| (by - ends_at_ms) as f64 / 1000.0);
    PlanPrediction {
        total_s,
        peak_concurrency: peak(&moves),
        bytes_total: moves.iter().map(|m| m.bytes).sum(),
        worst_downtime_ms: downtimes.last().copied().unwrap_or(0.0),
        median_downtime_ms: median,
        failures: moves.iter().filter(|m| m.failure.is_some()).count() as u32,
        window: Window {
            start_at_ms,
            ends_at_ms,
            must_finish_by_ms: options.must_finish_by_ms,
            fits: margin_s.is_none_or(|m| m >= 0.0),
            margin_s,
        },
        moves,
        steps,
    }
}

/// Most moves running at one instant.
fn peak(moves: &[MoveTimeline]) -> u32 {
    let mut edges: Vec<(f64, i32)> = moves
        .iter()
        .filter(|m| m.end_s > m.start_s)
        .flat_map(|m| [(m.start_s, 1), (m.end_s, -1)])
        .collect();
    // Ends before starts at the same instant: a slot handed on is not two moves at once.
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut most) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    most as u32
}
