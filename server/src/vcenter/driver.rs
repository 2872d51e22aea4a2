//! The `vcenter` driver (docs/VCENTER.md#migrations): VMs mirrored from a vCenter move
//! through that vCenter ([`relocate`](super::relocate)), every other VM through the driver it
//! wraps (simulated, or the QEMU lab). Each vCenter move runs in a task of its own; the
//! engine's calls answer at once from what it has seen: vCenter's progress as the transfer's,
//! its end as the transfer's end, where vCenter says the VM landed as where it is recorded.

use super::relocate::{self, Landed, Move, Seen};
use super::soap::MoRef;
use crate::connections::ConnectionService;
use crate::inventory::InventoryService;
use crate::sync::Mutex;
use domain::engine::driver::{BoxedDriver, Driver, DriverError, Location, Platforms, Step};
use domain::migration::Phase;
use domain::precopy::Round;
use domain::transfer::{Resource, TransferEnd, TransferPlan, TransferProgress};
use domain::{DatastoreId, HostId, MigrationId, VmId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use uuid::Uuid;

/// One vCenter move.
struct Run {
    seen: Arc<Mutex<Seen>>,
    cancel: watch::Sender<bool>,
    connection: Uuid,
    plan: TransferPlan,
    /// Bytes the move carries (what the progress is a share of; at least 1 MiB, the VM's
    /// configuration, for a move that copies nothing else).
    total: f64,
    /// Of which disks.
    disk_bytes: f64,
    /// When its end was first seen.
    ended_at: Option<Instant>,
}

pub struct VcenterDriver {
    inner: BoxedDriver,
    inventory: Arc<InventoryService>,
    connections: Arc<ConnectionService>,
    timeout: Duration,
    runs: HashMap<MigrationId, Run>,
    /// Where each move switched over to, from its switchover until the engine has read it.
    landed: HashMap<MigrationId, Option<Location>>,
}

impl VcenterDriver {
    pub fn new(
        inner: BoxedDriver,
        inventory: Arc<InventoryService>,
        connections: Arc<ConnectionService>,
        timeout: Duration,
    ) -> Self {
        VcenterDriver {
            inner,
            inventory,
            connections,
            timeout,
            runs: HashMap::new(),
            landed: HashMap::new(),
        }
    }

    /// The move in vCenter's terms: the VM, its target host and datastore by managed object
    /// id, and the connection they all belong to.
    fn target(&self, plan: &TransferPlan) -> Result<(Uuid, Move), DriverError> {
        let inv = self.inventory.read();
        let source = inv
            .sources
            .get(&plan.vm.0)
            .ok_or_else(|| DriverError("the VM is not mirrored from vCenter".into()))?;
        let of = |id: Uuid, kind: &str| -> Result<MoRef, DriverError> {
            match inv.sources.get(&id) {
                Some(s) if s.connection == source.connection => Ok(MoRef::new(kind, &s.moref)),
                _ => Err(DriverError(format!(
                    "the target is not in vCenter {}: a VM moves within its vCenter",
                    source.vcenter
                ))),
            }
        };
        let host = (plan.target_host != plan.source_host)
            .then(|| of(plan.target_host.0, "HostSystem"))
            .transpose()?;
        let datastore = plan
            .target_datastore
            .map(|d| of(d.0, "Datastore"))
            .transpose()?;
        let vm = MoRef::new("VirtualMachine", &source.moref);
        Ok((
            source.connection,
            Move {
                vm,
                host,
                datastore,
            },
        ))
    }

    /// The ids of what vCenter names, in the connection's objects.
    fn location(&self, connection: Uuid, landed: &Landed) -> Option<Location> {
        let inv = self.inventory.read();
        let id = |moref: &MoRef| {
            inv.sources
                .iter()
                .find(|(_, s)| s.connection == connection && s.moref == moref.value)
                .map(|(id, _)| *id)
        };
        Some(Location {
            host: HostId(id(&landed.host)?),
            datastore: DatastoreId(id(landed.datastores.first()?)?),
        })
    }

    /// vCenter's progress as the transfer's: its share of the bytes the move carries, and
    /// the stage by that share (disks first, then memory, as vSphere moves them).
    fn progress_of(run: &Run) -> TransferProgress {
        let seen = run.seen.lock();
        let done = seen.percent / 100.0;
        let disk_share = run.disk_bytes / run.total;
        let phase = match (&seen.outcome, seen.task.is_some()) {
            (Some(Ok(_)), _) => Phase::Switchover,
            (_, false) => Phase::Preparing,
            _ if run.disk_bytes > 0.0 && (done < disk_share || run.plan.memory.is_none()) => {
                Phase::DiskCopy
            }
            _ if run.plan.memory.is_some() => Phase::MemoryPrecopy,
            // A powered-off VM on shared storage: vCenter moves its registration only.
            _ => Phase::Preparing,
        };
        TransferProgress {
            phase,
            bytes_sent: run.total * done,
            bytes_total_estimate: run.total,
            round: 0,
            dirty_rate: 0.0,
            remaining_dirty: 0.0,
            expected_downtime_s: 0.0,
            throttle: 0.0,
        }
    }
}

impl Driver for VcenterDriver {
    fn prepare(
        &mut self,
        id: MigrationId,
        plan: &TransferPlan,
        memory_estimate: f64,
    ) -> Result<(), DriverError> {
        if !self.inventory.read().sources.contains_key(&plan.vm.0) {
            return self.inner.prepare(id, plan, memory_estimate);
        }
        let (connection, target) = self.target(plan)?;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (cancel, cancelled) = watch::channel(false);
        // Moves switched over long ago have been read (the engine reads at once).
        self.landed.clear();
        let memory = if memory_estimate > 0.0 {
            memory_estimate
        } else {
            plan.memory.map_or(0.0, |m| m.memory)
        };
        let disk_bytes = plan.disks.iter().map(|d| d.bytes).sum::<f64>();
        let total = (disk_bytes + plan.memory.map_or(0.0, |_| memory)).max(1_048_576.0);
        let (connections, timeout, task_seen) =
            (self.connections.clone(), self.timeout, seen.clone());
        tokio::spawn(async move {
            match connections.endpoint_of(connection).await {
                Ok(endpoint) => {
                    relocate::run(endpoint, target, task_seen, cancelled, timeout).await
                }
                Err(why) => task_seen.lock().outcome = Some(Err(why)),
            }
        });
        self.runs.insert(
            id,
            Run {
                seen,
                cancel,
                connection,
                plan: plan.clone(),
                total,
                disk_bytes,
                ended_at: None,
            },
        );
        Ok(())
    }

    /// vCenter queues and paces its own moves: they share nothing in vmshift's model.
    fn resources(&self, id: MigrationId) -> Vec<Resource> {
        match self.runs.get(&id) {
            Some(_) => Vec::new(),
            None => self.inner.resources(id),
        }
    }

    fn step(&mut self, id: MigrationId, dt: f64, rate: f64) -> Result<Step, DriverError> {
        let Some(run) = self.runs.get_mut(&id) else {
            return self.inner.step(id, dt, rate);
        };
        let outcome = run.seen.lock().outcome.clone();
        let end = match outcome {
            None => None,
            Some(Ok(_)) => Some(TransferEnd::Converged { downtime_s: 0.0 }),
            Some(Err(reason)) => Some(TransferEnd::Failed {
                reason: domain::Phrase::raw(format!("vCenter: {reason}")),
            }),
        };
        // Real time: the whole step passes, but for an end seen during it.
        let used_s = match end {
            Some(_) => {
                let at = *run.ended_at.get_or_insert_with(Instant::now);
                (dt - at.elapsed().as_secs_f64()).clamp(0.0, dt)
            }
            None => dt,
        };
        Ok(Step {
            used_s,
            progress: Self::progress_of(run),
            end,
        })
    }

    fn progress(&self, id: MigrationId) -> Option<TransferProgress> {
        match self.runs.get(&id) {
            Some(run) => Some(Self::progress_of(run)),
            None => self.inner.progress(id),
        }
    }

    fn rounds(&self, id: MigrationId) -> Vec<Round> {
        match self.runs.get(&id) {
            Some(_) => Vec::new(),
            None => self.inner.rounds(id),
        }
    }

    fn max_throttle(&self, id: MigrationId) -> f64 {
        match self.runs.get(&id) {
            Some(_) => 0.0,
            None => self.inner.max_throttle(id),
        }
    }

    /// vCenter has switched over already; it does not report the downtime.
    fn switchover(&mut self, id: MigrationId) -> Result<f64, DriverError> {
        let Some(run) = self.runs.remove(&id) else {
            return self.inner.switchover(id);
        };
        let outcome = run.seen.lock().outcome.clone();
        match outcome {
            Some(Ok(landed)) => {
                let at = self.location(run.connection, &landed);
                self.landed.insert(id, at);
                Ok(0.0)
            }
            Some(Err(reason)) => Err(DriverError(reason)),
            None => Err(DriverError("vCenter's task has not ended".into())),
        }
    }

    fn abort(&mut self, id: MigrationId) {
        match self.runs.remove(&id) {
            // The task asks vCenter to cancel and follows the task to its end.
            Some(run) => drop(run.cancel.send(true)),
            None => self.inner.abort(id),
        }
    }

    fn horizon(&self, id: MigrationId, rate: f64) -> Option<f64> {
        match self.runs.get(&id) {
            Some(_) => None,
            None => self.inner.horizon(id, rate),
        }
    }

    fn real_time(&self, id: MigrationId) -> bool {
        self.runs.contains_key(&id) || self.inner.real_time(id)
    }

    fn platforms(&self) -> Arc<dyn Platforms> {
        self.inner.platforms()
    }

    fn locate(&self, vm: VmId) -> Option<Location> {
        self.inner.locate(vm)
    }

    fn landed(&self, id: MigrationId) -> Option<Location> {
        self.landed.get(&id).copied().flatten()
    }

    fn external_task(&self, id: MigrationId) -> Option<String> {
        self.runs.get(&id)?.seen.lock().task.clone()
    }
}
