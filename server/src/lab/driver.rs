//! The QEMU driver: real migrations of the lab's guests, behind the same [`Driver`] calls as
//! the simulated one. Each migration runs its QMP sequence (see `qemu::migrate`) in a
//! task of its own, which publishes what it observes; the engine's calls answer from that at
//! once (none blocks the engine). QEMU switches over by itself once the transfer converges;
//! the transfer ends (for the engine) only when QEMU has completed, so the engine's
//! one-transaction switchover records where the guest really runs, with the measured downtime.

use super::qemu::migrate::{self, Limits, MemoryProgress, MirrorProgress};
use super::qemu::Boot;
use super::runtime::LabRuntime;
use crate::sync::Mutex;
use domain::checks::MigrationKind;
use domain::engine::driver::{Driver, DriverError, Location, Platforms, Step};
use domain::migration::Phase;
use domain::precopy::Round;
use domain::transfer::{Resource, TransferEnd, TransferPlan, TransferProgress};
use domain::{MigrationId, VmId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How often a running migration asks QEMU where it stands (a cheap local call; the end is
/// seen at most this late).
const POLL: Duration = Duration::from_millis(50);

/// What a migration's task has observed.
#[derive(Debug, Clone)]
struct Observed {
    progress: TransferProgress,
    rounds: Vec<Round>,
    max_throttle: f64,
    end: Option<TransferEnd>,
    /// When the end was seen (the engine dates the end event then, not at its next tick).
    ended_at: Option<Instant>,
    /// When the current pre-copy round began, and the bytes sent then.
    round_start: (Instant, f64),
}

impl Observed {
    fn new() -> Self {
        Observed {
            progress: TransferProgress {
                phase: Phase::Preparing,
                bytes_sent: 0.0,
                bytes_total_estimate: 0.0,
                round: 0,
                dirty_rate: 0.0,
                remaining_dirty: 0.0,
                expected_downtime_s: 0.0,
                throttle: 0.0,
            },
            rounds: Vec::new(),
            max_throttle: 0.0,
            end: None,
            ended_at: None,
            round_start: (Instant::now(), 0.0),
        }
    }

    /// A `query-migrate` observation; `disk_bytes` already sent before the memory stage.
    fn memory(&mut self, p: &MemoryProgress, disk_bytes: f64) {
        let throttle = p.throttle_percent as f64 / 100.0;
        let round = u32::try_from(p.round).unwrap_or(u32::MAX);
        let sent = disk_bytes + p.transferred_bytes as f64;
        if round > self.progress.round && self.progress.phase == Phase::MemoryPrecopy {
            // The previous round is over: record it.
            let (started, at_bytes) = self.round_start;
            self.rounds.push(Round {
                round: self.progress.round,
                bytes: (sent - at_bytes).max(0.0),
                duration_s: started.elapsed().as_secs_f64(),
                dirty_rate: self.progress.dirty_rate,
                throttle: self.progress.throttle,
                switchover: false,
            });
            self.round_start = (Instant::now(), sent);
        }
        if self.progress.phase != Phase::MemoryPrecopy {
            self.round_start = (Instant::now(), sent);
        }
        self.max_throttle = self.max_throttle.max(throttle);
        self.progress = TransferProgress {
            phase: if p.status == "device" || p.status == "pre-switchover" {
                Phase::Switchover
            } else {
                Phase::MemoryPrecopy
            },
            bytes_sent: sent,
            bytes_total_estimate: sent + p.remaining_bytes as f64,
            round,
            dirty_rate: p.dirty_bytes_s,
            remaining_dirty: p.remaining_bytes as f64,
            expected_downtime_s: p.expected_downtime_ms as f64 / 1000.0,
            throttle,
        };
    }

    fn mirror(&mut self, p: &MirrorProgress) {
        self.progress.phase = Phase::DiskCopy;
        self.progress.bytes_sent = p.offset_bytes as f64;
        self.progress.bytes_total_estimate = (p.len_bytes as f64).max(p.offset_bytes as f64);
    }
}

struct Run {
    observed: Arc<Mutex<Observed>>,
    cancel: watch::Sender<bool>,
    resources: Vec<Resource>,
}

pub struct QemuDriver {
    lab: Arc<LabRuntime>,
    runs: HashMap<MigrationId, Run>,
}

impl QemuDriver {
    pub fn new(lab: Arc<LabRuntime>) -> Self {
        QemuDriver {
            lab,
            runs: HashMap::new(),
        }
    }

    /// Migrations being moved (for leak checks).
    pub fn in_flight(&self) -> usize {
        self.runs.len()
    }

    fn observed(&self, id: MigrationId) -> Option<Observed> {
        self.runs.get(&id).map(|r| r.observed.lock().clone())
    }
}

impl Driver for QemuDriver {
    fn prepare(
        &mut self,
        id: MigrationId,
        plan: &TransferPlan,
        _memory_estimate: f64,
    ) -> Result<(), DriverError> {
        if plan.cold {
            return Err(DriverError(
                "the lab moves running guests only (power the VM on first)".into(),
            ));
        }
        let vm = plan.vm;
        if self.lab.guest(vm).is_none() {
            return Err(DriverError(format!(
                "VM {vm} has no running lab guest (only the Lab cluster's VMs are real)"
            )));
        }
        let observed = Arc::new(Mutex::new(Observed::new()));
        let (cancel, cancel_rx) = watch::channel(false);
        let mut resources = vec![Resource::Link(plan.source_host)];
        if plan.target_host != plan.source_host {
            resources.push(Resource::Link(plan.target_host));
        }
        if let Some(d) = plan.target_datastore {
            resources.push(Resource::Datastore(d));
        }
        tokio::spawn(run(
            self.lab.clone(),
            plan.clone(),
            observed.clone(),
            cancel_rx,
        ));
        self.runs.insert(
            id,
            Run {
                observed,
                cancel,
                resources,
            },
        );
        Ok(())
    }

    fn resources(&self, id: MigrationId) -> Vec<Resource> {
        self.runs
            .get(&id)
            .map(|r| r.resources.clone())
            .unwrap_or_default()
    }

    /// The engine's bandwidth share (`_rate`) is not applied: QEMU runs at the plan's cap.
    fn step(&mut self, id: MigrationId, dt: f64, _rate: f64) -> Result<Step, DriverError> {
        let run = self
            .runs
            .get(&id)
            .ok_or_else(|| DriverError(format!("migration {id} is not prepared")))?;
        let observed = run.observed.lock().clone();
        // Real time: the whole step passes, but for an end seen during it, which the engine
        // dates when it happened.
        let used_s = match observed.ended_at {
            Some(at) if observed.end.is_some() => (dt - at.elapsed().as_secs_f64()).clamp(0.0, dt),
            _ => dt,
        };
        Ok(Step {
            used_s,
            progress: observed.progress,
            end: observed.end,
        })
    }

    fn progress(&self, id: MigrationId) -> Option<TransferProgress> {
        self.observed(id).map(|o| o.progress)
    }

    fn rounds(&self, id: MigrationId) -> Vec<Round> {
        self.observed(id).map(|o| o.rounds).unwrap_or_default()
    }

    fn max_throttle(&self, id: MigrationId) -> f64 {
        self.observed(id).map_or(0.0, |o| o.max_throttle)
    }

    fn switchover(&mut self, id: MigrationId) -> Result<f64, DriverError> {
        // QEMU has switched over already (the end is reported once it has completed).
        let run = self
            .runs
            .remove(&id)
            .ok_or_else(|| DriverError(format!("migration {id} is not prepared")))?;
        let observed = run.observed.lock().clone();
        match observed.end {
            Some(TransferEnd::Converged { downtime_s }) => Ok(downtime_s),
            Some(TransferEnd::Failed { reason }) => Err(DriverError(reason.english)),
            None => Err(DriverError("the migration has not completed".into())),
        }
    }

    fn real_time(&self, _id: MigrationId) -> bool {
        true
    }
    fn platforms(&self) -> Arc<dyn Platforms> {
        self.lab.clone()
    }

    fn locate(&self, vm: VmId) -> Option<Location> {
        self.lab.location(vm)
    }

    fn abort(&mut self, id: MigrationId) {
        if let Some(run) = self.runs.remove(&id) {
            // The task cancels in QEMU (the guest keeps running on its source) and cleans up.
            let _ = run.cancel.send(true);
        }
    }
}

/// QEMU's limits for a plan: its cap (at least 1 MiB/s) and downtime target, with SDPS.
fn limits(plan: &TransferPlan) -> Limits {
    Limits {
        bandwidth_bytes_s: plan.cap.map(|c| c.max(1.0 * 1024.0 * 1024.0) as u64),
        downtime_limit_ms: (plan.downtime_target_s * 1000.0).round().max(1.0) as u64,
        auto_converge: true,
    }
}

async fn run(
    lab: Arc<LabRuntime>,
    plan: TransferPlan,
    observed: Arc<Mutex<Observed>>,
    mut cancel: watch::Receiver<bool>,
) {
    let end = tokio::select! {
        result = sequence(&lab, &plan, &observed) => match result {
            Ok(downtime_s) => TransferEnd::Converged { downtime_s },
            Err(reason) => {
                // The guest stays where it was; what the sequence had started goes.
                lab.cancel(plan.vm).await;
                TransferEnd::Failed {
                    reason: domain::Phrase::raw(reason),
                }
            }
        },
        _ = async { let _ = cancel.wait_for(|c| *c).await; } => {
            lab.cancel(plan.vm).await;
            return;
        }
    };
    let mut observed = observed.lock();
    observed.end = Some(end);
    observed.ended_at = Some(Instant::now());
}

/// Runs the migration's QMP sequence; the measured downtime, seconds.
async fn sequence(
    lab: &LabRuntime,
    plan: &TransferPlan,
    observed: &Arc<Mutex<Observed>>,
) -> Result<f64, String> {
    let vm = plan.vm;
    let source = lab
        .guest(vm)
        .ok_or_else(|| format!("VM {vm} has no running lab guest"))?;
    let limits = limits(plan);
    let observe_memory = |disk: f64| {
        let observed = observed.clone();
        move |p: &MemoryProgress| observed.lock().memory(p, disk)
    };
    match plan.kind {
        MigrationKind::VMotion => {
            let image = lab
                .image_of(vm)
                .ok_or("the guest's disk image is unknown")?;
            let destination = lab
                .start_guest(
                    vm,
                    plan.target_host,
                    &image,
                    Boot::Incoming { paused: false },
                )
                .await
                .map_err(|e| e.to_string())?;
            lab.incoming(vm, destination.clone(), image);
            let outcome =
                migrate::vmotion(&source, &destination, limits, POLL, observe_memory(0.0))
                    .await
                    .map_err(|e| e.to_string())?;
            lab.commit(vm, plan.target_host).await;
            Ok(outcome.downtime_ms as f64 / 1000.0)
        }
        MigrationKind::StorageVMotion => {
            let target_ds = plan.target_datastore.ok_or("no target datastore")?;
            let from = lab
                .image_of(vm)
                .ok_or("the guest's disk image is unknown")?;
            let to = lab.target_image(vm, target_ds).map_err(|e| e.to_string())?;
            let started = Instant::now();
            let observed_mirror = observed.clone();
            migrate::storage_vmotion(&source, &from, &to, limits, POLL, move |p| {
                observed_mirror.lock().mirror(p)
            })
            .await
            .map_err(|e| e.to_string())?;
            lab.moved_disk(vm, to, from).await;
            tracing::info!(vm = %vm, seconds = started.elapsed().as_secs_f64(), "disk moved");
            Ok(0.0)
        }
        MigrationKind::Combined => {
            let target_ds = plan.target_datastore.ok_or("no target datastore")?;
            let from = lab
                .image_of(vm)
                .ok_or("the guest's disk image is unknown")?;
            let to = lab.target_image(vm, target_ds).map_err(|e| e.to_string())?;
            let size = super::qemu::guest::image_size(&from)
                .await
                .map_err(|e| e.to_string())?;
            super::qemu::guest::create_image(&to, size.div_ceil(1024 * 1024))
                .await
                .map_err(|e| e.to_string())?;
            let destination = lab
                .start_guest(vm, plan.target_host, &to, Boot::Incoming { paused: true })
                .await
                .map_err(|e| e.to_string())?;
            lab.incoming(vm, destination.clone(), to.clone());
            let observed_mirror = observed.clone();
            let disk_total = Arc::new(Mutex::new(0.0));
            let disk_seen = disk_total.clone();
            let outcome = migrate::combined(
                &source,
                &destination,
                limits,
                POLL,
                move |p| {
                    *disk_seen.lock() = p.offset_bytes as f64;
                    observed_mirror.lock().mirror(p)
                },
                {
                    let observed = observed.clone();
                    let disk_total = disk_total.clone();
                    move |p: &MemoryProgress| {
                        let disk = *disk_total.lock();
                        observed.lock().memory(p, disk)
                    }
                },
            )
            .await
            .map_err(|e| e.to_string())?;
            migrate::resume(&destination)
                .await
                .map_err(|e| e.to_string())?;
            lab.commit(vm, plan.target_host).await;
            lab.moved_disk(vm, to, from).await;
            Ok(outcome.memory.downtime_ms as f64 / 1000.0)
        }
    }
}

/// The driver of `--driver qemu`: the lab's VMs (real guests) move through QEMU, every other
/// VM through the simulated model, side by side in one engine.
pub struct LabDriver {
    lab: Arc<LabRuntime>,
    real: QemuDriver,
    simulated: domain::engine::simulated::SimulatedDriver,
    is_real: HashMap<MigrationId, bool>,
}

impl LabDriver {
    pub fn new(lab: Arc<LabRuntime>) -> Self {
        LabDriver {
            real: QemuDriver::new(lab.clone()),
            lab,
            simulated: domain::engine::simulated::SimulatedDriver::new(),
            is_real: HashMap::new(),
        }
    }

    fn pick(&self, id: MigrationId) -> &dyn Driver {
        if self.is_real.get(&id).copied().unwrap_or(false) {
            &self.real
        } else {
            &self.simulated
        }
    }

    fn pick_mut(&mut self, id: MigrationId) -> &mut dyn Driver {
        if self.is_real.get(&id).copied().unwrap_or(false) {
            &mut self.real
        } else {
            &mut self.simulated
        }
    }
}

impl Driver for LabDriver {
    fn prepare(
        &mut self,
        id: MigrationId,
        plan: &TransferPlan,
        memory_estimate: f64,
    ) -> Result<(), DriverError> {
        let real = self.lab.is_real(plan.vm);
        self.is_real.insert(id, real);
        let result = self.pick_mut(id).prepare(id, plan, memory_estimate);
        if result.is_err() {
            self.is_real.remove(&id);
        }
        result
    }
    fn resources(&self, id: MigrationId) -> Vec<Resource> {
        self.pick(id).resources(id)
    }
    fn step(&mut self, id: MigrationId, dt: f64, rate: f64) -> Result<Step, DriverError> {
        self.pick_mut(id).step(id, dt, rate)
    }
    fn progress(&self, id: MigrationId) -> Option<TransferProgress> {
        self.pick(id).progress(id)
    }
    fn rounds(&self, id: MigrationId) -> Vec<Round> {
        self.pick(id).rounds(id)
    }
    fn max_throttle(&self, id: MigrationId) -> f64 {
        self.pick(id).max_throttle(id)
    }
    fn switchover(&mut self, id: MigrationId) -> Result<f64, DriverError> {
        let result = self.pick_mut(id).switchover(id);
        self.is_real.remove(&id);
        result
    }
    fn abort(&mut self, id: MigrationId) {
        self.pick_mut(id).abort(id);
        self.is_real.remove(&id);
    }
    fn real_time(&self, id: MigrationId) -> bool {
        self.pick(id).real_time(id)
    }
    fn platforms(&self) -> Arc<dyn Platforms> {
        self.lab.clone()
    }

    fn locate(&self, vm: VmId) -> Option<Location> {
        self.lab.location(vm)
    }
}
