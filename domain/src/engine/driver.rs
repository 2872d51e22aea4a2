//! What the engine asks of a hypervisor. The engine decides when a migration runs and how
//! much bandwidth it gets; the driver moves the bytes and reports what happened. The simulated
//! driver follows the transfer model (docs/DESIGN.md#transfer-model); a real driver (QEMU over QMP) implements the same calls,
//! each answering at once from the state it last observed (no call may block the engine).

use crate::platform::Platform;
use crate::precopy::Round;
use crate::transfer::{Resource, TransferEnd, TransferPlan, TransferProgress};
use crate::{DatastoreId, HostId, MigrationId, VmId};
use std::sync::Arc;

/// Which hypervisor's figures predict a VM's migrations: the platform of the driver that
/// would run them. Shared with the API and the pages (predictions before a migration exists).
pub trait Platforms: Send + Sync {
    fn platform(&self, vm: VmId) -> Platform;
}

/// Every VM on vSphere's figures (the simulated driver).
pub struct Vsphere;

impl Platforms for Vsphere {
    fn platform(&self, _vm: VmId) -> Platform {
        Platform::VSPHERE
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct DriverError(pub String);

/// The result of one transfer step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Seconds of the step actually used (less than asked at the end of a stage, 0 when
    /// stalled for lack of bandwidth).
    pub used_s: f64,
    pub progress: TransferProgress,
    /// Set once the data is all across (or the transfer gave up).
    pub end: Option<TransferEnd>,
}

/// A driver chosen at start-up (`--driver`).
pub type BoxedDriver = Box<dyn Driver>;

pub trait Driver: Send + 'static {
    /// Sets up the destination for a migration about to run.
    fn prepare(
        &mut self,
        id: MigrationId,
        plan: &TransferPlan,
        memory_estimate: f64,
    ) -> Result<(), DriverError>;

    /// The resources (links, datastores) the migration's bytes cross right now.
    fn resources(&self, id: MigrationId) -> Vec<Resource>;

    /// Transfers for up to `dt` seconds at up to `rate` bytes/s.
    fn step(&mut self, id: MigrationId, dt: f64, rate: f64) -> Result<Step, DriverError>;

    /// Where the transfer stands (as of the last step).
    fn progress(&self, id: MigrationId) -> Option<TransferProgress>;

    /// Pre-copy rounds done so far.
    fn rounds(&self, id: MigrationId) -> Vec<Round>;

    /// Highest SDPS throttle applied so far.
    fn max_throttle(&self, id: MigrationId) -> f64;

    /// Completes a converged transfer: the VM runs on the target from now on. Returns the
    /// downtime, seconds.
    fn switchover(&mut self, id: MigrationId) -> Result<f64, DriverError>;

    /// Stops a migration at any phase; the VM keeps running on its source.
    fn abort(&mut self, id: MigrationId);

    /// Seconds until the migration's transfer changes stage or ends at `rate` (what it
    /// crosses, and so every share of bandwidth, holds until then); `None` when unknown.
    fn horizon(&self, _id: MigrationId, _rate: f64) -> Option<f64> {
        None
    }

    /// Whether this migration moves in real time (a hypervisor): it starts when prepared, at
    /// the end of the tick's interval, not at its start as a simulated one is credited.
    fn real_time(&self, _id: MigrationId) -> bool {
        false
    }

    /// The platform figures of the VMs this driver moves (vSphere's unless it says otherwise).
    fn platforms(&self) -> Arc<dyn Platforms> {
        Arc::new(Vsphere)
    }

    /// Where the hypervisor runs a VM now — its host and the datastore of its disks — when it
    /// knows better than the record (a real hypervisor switches over before the record is
    /// written); `None` when the record is the truth (a simulated VM).
    fn locate(&self, _vm: VmId) -> Option<Location> {
        None
    }

    /// Where the hypervisor says a migration's VM ended up, once it has converged, when it
    /// reports it (vCenter: `runtime.host` and the disks' datastores); `None`: where the
    /// plan sent it.
    fn landed(&self, _id: MigrationId) -> Option<Location> {
        None
    }

    /// The hypervisor's own name for the migration (vCenter's task id), once it has one.
    fn external_task(&self, _id: MigrationId) -> Option<String> {
        None
    }
}

/// Where a hypervisor runs a VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub host: HostId,
    pub datastore: DatastoreId,
}

impl<D: Driver + ?Sized> Driver for Box<D> {
    fn prepare(
        &mut self,
        id: MigrationId,
        plan: &TransferPlan,
        memory_estimate: f64,
    ) -> Result<(), DriverError> {
        (**self).prepare(id, plan, memory_estimate)
    }
    fn resources(&self, id: MigrationId) -> Vec<Resource> {
        (**self).resources(id)
    }
    fn step(&mut self, id: MigrationId, dt: f64, rate: f64) -> Result<Step, DriverError> {
        (**self).step(id, dt, rate)
    }
    fn progress(&self, id: MigrationId) -> Option<TransferProgress> {
        (**self).progress(id)
    }
    fn rounds(&self, id: MigrationId) -> Vec<Round> {
        (**self).rounds(id)
    }
    fn max_throttle(&self, id: MigrationId) -> f64 {
        (**self).max_throttle(id)
    }
    fn switchover(&mut self, id: MigrationId) -> Result<f64, DriverError> {
        (**self).switchover(id)
    }
    fn abort(&mut self, id: MigrationId) {
        (**self).abort(id)
    }
    fn real_time(&self, id: MigrationId) -> bool {
        (**self).real_time(id)
    }
    fn horizon(&self, id: MigrationId, rate: f64) -> Option<f64> {
        (**self).horizon(id, rate)
    }
    fn platforms(&self) -> Arc<dyn Platforms> {
        (**self).platforms()
    }
    fn locate(&self, vm: VmId) -> Option<Location> {
        (**self).locate(vm)
    }
    fn landed(&self, id: MigrationId) -> Option<Location> {
        (**self).landed(id)
    }
    fn external_task(&self, id: MigrationId) -> Option<String> {
        (**self).external_task(id)
    }
}
