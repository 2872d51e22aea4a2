//! The simulated driver: the transfer model (docs/DESIGN.md#transfer-model), advanced by the engine's clock.

use super::driver::{Driver, DriverError, Platforms, Step, Vsphere};
use crate::precopy::Round;
use crate::transfer::{Resource, Transfer, TransferEnd, TransferPlan, TransferProgress};
use crate::MigrationId;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Default)]
pub struct SimulatedDriver {
    transfers: HashMap<MigrationId, Transfer>,
    /// Whose figures the VMs are predicted with (vSphere's unless given).
    platforms: Option<Arc<dyn Platforms>>,
}

impl std::fmt::Debug for SimulatedDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatedDriver")
            .field("transfers", &self.transfers.len())
            .finish()
    }
}

impl SimulatedDriver {
    pub fn new() -> Self {
        Self::default()
    }

    /// A driver that simulates another's VMs with its figures: a plan's prediction runs the
    /// moves a real hypervisor will make (docs/DESIGN.md#plan-prediction).
    pub fn with_platforms(platforms: Arc<dyn Platforms>) -> Self {
        SimulatedDriver {
            transfers: HashMap::new(),
            platforms: Some(platforms),
        }
    }

    /// Migrations the driver is moving (for leak checks in tests).
    pub fn in_flight(&self) -> usize {
        self.transfers.len()
    }

    fn transfer(&self, id: MigrationId) -> Result<&Transfer, DriverError> {
        self.transfers
            .get(&id)
            .ok_or_else(|| DriverError(format!("migration {id} is not prepared")))
    }
}

impl Driver for SimulatedDriver {
    fn prepare(
        &mut self,
        id: MigrationId,
        plan: &TransferPlan,
        memory_estimate: f64,
    ) -> Result<(), DriverError> {
        self.transfers
            .insert(id, Transfer::new(plan.clone(), memory_estimate));
        Ok(())
    }

    fn resources(&self, id: MigrationId) -> Vec<Resource> {
        self.transfers
            .get(&id)
            .map(Transfer::resources)
            .unwrap_or_default()
    }

    fn step(&mut self, id: MigrationId, dt: f64, rate: f64) -> Result<Step, DriverError> {
        let transfer = self
            .transfers
            .get_mut(&id)
            .ok_or_else(|| DriverError(format!("migration {id} is not prepared")))?;
        let used_s = transfer.advance(dt, rate);
        Ok(Step {
            used_s,
            progress: transfer.progress(),
            end: transfer.end().cloned(),
        })
    }

    fn progress(&self, id: MigrationId) -> Option<TransferProgress> {
        self.transfers.get(&id).map(Transfer::progress)
    }

    fn rounds(&self, id: MigrationId) -> Vec<Round> {
        self.transfer(id)
            .map(|t| t.rounds().to_vec())
            .unwrap_or_default()
    }

    fn max_throttle(&self, id: MigrationId) -> f64 {
        self.transfer(id).map_or(0.0, Transfer::max_throttle)
    }

    fn switchover(&mut self, id: MigrationId) -> Result<f64, DriverError> {
        let transfer = self
            .transfers
            .remove(&id)
            .ok_or_else(|| DriverError(format!("migration {id} is not prepared")))?;
        match transfer.end() {
            Some(TransferEnd::Converged { downtime_s }) => Ok(*downtime_s),
            _ => Err(DriverError("the transfer has not converged".into())),
        }
    }

    fn abort(&mut self, id: MigrationId) {
        self.transfers.remove(&id);
    }

    fn horizon(&self, id: MigrationId, rate: f64) -> Option<f64> {
        let mut ahead = self.transfers.get(&id)?.clone();
        let used = ahead.advance(f64::INFINITY, rate);
        (used > 0.0 && used.is_finite()).then_some(used)
    }

    fn platforms(&self) -> Arc<dyn Platforms> {
        match &self.platforms {
            Some(p) => p.clone(),
            None => Arc::new(Vsphere),
        }
    }
}
