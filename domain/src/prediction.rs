//! Predicted duration, data and downtime of a migration, by fast-forwarding the transfer model
//! (docs/DESIGN.md#transfer-model): disks copied in one mirrored pass, memory by pre-copy, one switchover.

use super::checks::MigrationRequest;

pub use super::checks::MigrationOptions;
use super::phase::Phase;
use super::platform::Platform;
use super::transfer::{capacity, Resource, Transfer, TransferEnd, TransferPlan};
pub use super::transfer::{DISK_SWITCHOVER_S, PREPARE_S};
use super::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictedRound {
    pub round: u32,
    pub bytes: f64,
    pub duration_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub converges: bool,
    pub duration_s: f64,
    pub downtime_ms: f64,
    pub bytes_total: f64,
    /// Bytes of disk copied (Storage vMotion and combined).
    pub disk_bytes: f64,
    /// Memory pre-copy rounds (vMotion and combined, powered-on VMs).
    pub rounds: Vec<PredictedRound>,
    /// Highest SDPS throttle the guest would see (0 = none).
    pub max_throttle: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The same as a code and values, for the pages (docs/DESIGN.md#languages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_words: Option<crate::Phrase>,
    /// Where the time goes.
    #[serde(default)]
    pub breakdown: Breakdown,
}

/// Where a move's time goes, seconds (docs/DESIGN.md#transfer-model): each part can be checked
/// against the model — preparation is the platform's fixed cost, the disk copy its bytes over
/// the slowest datastore or link it crosses, the pre-copy its rounds, the switchover the
/// stun time (or the fixed hand-over of a disk-only move).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    /// Waiting in the queue for a slot (0 for a move predicted alone).
    pub queue_s: f64,
    pub prepare_s: f64,
    pub disk_copy_s: f64,
    pub memory_precopy_s: f64,
    pub switchover_s: f64,
}

impl Breakdown {
    /// From the times (since the move was asked) at which it entered each phase, when it
    /// ended, and its downtime. A pre-copy whose last round ran within one step has no
    /// switchover entry: its stun time is taken from the pre-copy.
    pub fn of_phases(entries: &[(Phase, f64)], end_s: f64, downtime_s: f64) -> Breakdown {
        let mut b = Breakdown::default();
        let started = entries
            .iter()
            .find(|(p, _)| *p >= Phase::Preparing && !p.is_final())
            .map_or(end_s, |(_, t)| *t);
        b.queue_s = started;
        let mut running: Vec<(Phase, f64)> = entries
            .iter()
            .filter(|(p, _)| *p >= Phase::Preparing && !p.is_final())
            .copied()
            .collect();
        running.dedup_by_key(|(p, _)| *p);
        for (i, (phase, at)) in running.iter().enumerate() {
            let until = running.get(i + 1).map_or(end_s, |(_, t)| *t);
            let span = (until - at).max(0.0);
            match phase {
                Phase::Preparing => b.prepare_s += span,
                Phase::DiskCopy => b.disk_copy_s += span,
                Phase::MemoryPrecopy => b.memory_precopy_s += span,
                _ => b.switchover_s += span,
            }
        }
        if !running.iter().any(|(p, _)| *p == Phase::Switchover) && b.memory_precopy_s > 0.0 {
            let stun = downtime_s.min(b.memory_precopy_s);
            b.memory_precopy_s -= stun;
            b.switchover_s += stun;
        }
        b
    }

    pub fn total_s(&self) -> f64 {
        self.queue_s + self.prepare_s + self.disk_copy_s + self.memory_precopy_s + self.switchover_s
    }
}

/// Predicts a migration by running its transfer alone, at the full bandwidth of what it
/// crosses. The request must be well formed (fields are named otherwise); the prediction does
/// not depend on the checks passing.
pub fn predict(inv: &Inventory, request: &MigrationRequest) -> Result<Prediction, DomainError> {
    predict_on(inv, request, Platform::VSPHERE)
}

/// Predicts a migration run by a hypervisor with these figures (the QEMU lab's, for example).
pub fn predict_on(
    inv: &Inventory,
    request: &MigrationRequest,
    platform: Platform,
) -> Result<Prediction, DomainError> {
    let plan = TransferPlan::of(inv, request)?.on(platform);
    Ok(run_alone(inv, plan))
}

/// Fast-forwards a transfer alone to its end.
pub fn run_alone(inv: &Inventory, plan: TransferPlan) -> Prediction {
    let disk_bytes = plan.disk_bytes();
    let mut transfer = Transfer::new(plan, 0.0);
    let mut failure = None;
    let mut phases: Vec<(Phase, f64)> = Vec::new();
    while transfer.end().is_none() {
        let phase = transfer.phase();
        if phases.last().is_none_or(|(p, _)| *p != phase) {
            phases.push((phase, transfer.elapsed()));
        }
        let resources = transfer.resources();
        let rate = resources
            .iter()
            .map(|r| capacity(inv, *r))
            .fold(f64::INFINITY, f64::min);
        if rate <= 0.0 {
            failure = Some(
                if resources
                    .iter()
                    .any(|r| matches!(r, Resource::Link(_)) && capacity(inv, *r) <= 0.0)
                {
                    crate::Phrase::new("engine.network_down", &[])
                } else {
                    crate::Phrase::new("engine.no_bandwidth", &[])
                },
            );
            break;
        }
        transfer.advance(f64::INFINITY, rate);
    }
    let progress = transfer.progress();
    let (converges, downtime_s) = match transfer.end() {
        Some(TransferEnd::Converged { downtime_s }) => (true, *downtime_s),
        Some(TransferEnd::Failed { reason }) => {
            failure = Some(reason.clone());
            let last = transfer.rounds().last().map_or(0.0, |r| r.duration_s);
            (false, last)
        }
        None => (false, 0.0),
    };
    Prediction {
        converges,
        duration_s: transfer.elapsed(),
        downtime_ms: downtime_s * 1000.0,
        bytes_total: progress.bytes_sent,
        disk_bytes,
        rounds: transfer
            .rounds()
            .iter()
            .map(|r| PredictedRound {
                round: r.round,
                bytes: r.bytes,
                duration_s: r.duration_s,
            })
            .collect(),
        max_throttle: transfer.max_throttle(),
        failure: failure.as_ref().map(|f| f.english.clone()),
        failure_words: failure,
        breakdown: Breakdown::of_phases(&phases, transfer.elapsed(), downtime_s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::MigrationKind;
    use crate::precopy::{self, PrecopyInput, CHECKPOINT_BYTES};
    use crate::testing::*;
    use crate::transfer::MIB;

    fn request(
        vm: VmId,
        kind: MigrationKind,
        host: Option<HostId>,
        ds: Option<DatastoreId>,
    ) -> MigrationRequest {
        MigrationRequest {
            vm_id: vm,
            kind,
            target_host_id: host,
            target_datastore_id: ds,
            options: Default::default(),
        }
    }

    /// A VM on host a with a 1,000 MiB thick disk on a's local datastore.
    fn on_local_a(f: &mut Fixture) -> VmId {
        let local = vm(
            "local",
            f.a,
            vec![disk(f.local_a, 1_000, 1_000, false)],
            vec![],
        );
        let id = local.id;
        let change = f.inv.validate(Mutation::Create(Object::Vm(local))).unwrap();
        f.inv.apply(&change);
        id
    }

    fn setup() -> (Fixture, VmId) {
        let mut f = fixture();
        let v = vm(
            "web",
            f.a,
            vec![disk(f.shared, 10_000, 2_000, true)],
            vec![nic(f.pg_vds)],
        );
        let id = v.id;
        let change = f.inv.validate(Mutation::Create(Object::Vm(v))).unwrap();
        f.inv.apply(&change);
        (f, id)
    }

    #[test]
    fn a_vmotion_prediction_is_the_precopy_over_the_slower_link() {
        let (mut f, id) = setup();
        let mut b = f.inv.hosts[&f.b].clone();
        b.vmotion_link_gbps = LinkGbps::parse(1.0).unwrap();
        let change = f.inv.validate(Mutation::Update(Object::Host(b))).unwrap();
        f.inv.apply(&change);
        let p = predict(
            &f.inv,
            &request(id, MigrationKind::VMotion, Some(f.b), None),
        )
        .unwrap();
        let vm = &f.inv.vms[&id];
        let expected = precopy::simulate(&PrecopyInput {
            rate: precopy::link_rate(1.0),
            memory: vm.memory_mib.get() as f64 * MIB,
            zero_fraction: vm.workload.zero_page_fraction.get(),
            dirty_rate: vm.workload.dirty_rate_mib_s.get() * MIB,
            working_set: None,
            downtime_target: 0.5,
            platform: Default::default(),
        });
        assert!(p.converges);
        assert_eq!(p.bytes_total, expected.bytes_total);
        assert_eq!(p.rounds.len(), expected.rounds.len());
        assert_eq!(p.disk_bytes, 0.0);
        // A bandwidth cap slows it down.
        let mut capped = request(id, MigrationKind::VMotion, Some(f.b), None);
        capped.options.bandwidth_cap_mbps = Some(200);
        assert!(predict(&f.inv, &capped).unwrap().duration_s > p.duration_s);
    }

    /// A platform whose last round is not held to the cap and whose stun has a fixed cost
    /// (QEMU's kind): the closed form of docs/DESIGN.md#memory-pre-copy with those two changes, to 1e-9.
    #[test]
    fn another_platform_prepares_and_stuns_with_its_own_figures() {
        let (mut f, id) = setup();
        f.update_vm(id, |v| {
            v.memory_mib = SizeMib::parse(4096).unwrap();
            v.workload.dirty_rate_mib_s = RateMibS::parse(30.0).unwrap();
            v.workload.working_set_mib = None;
            v.workload.zero_page_fraction = Fraction::parse(0.0).unwrap();
        });
        let platform = Platform {
            prepare_s: 0.2,
            checkpoint_bytes: 0.5 * MIB,
            switchover_rate: Some(2e9),
            stun_s: 0.01,
            disk_switchover_s: 0.02,
            disk_release_s: 0.005,
        };
        let mut req = request(id, MigrationKind::VMotion, Some(f.b), None);
        req.options.bandwidth_cap_mbps = Some(800); // 100 MB/s
        req.options.downtime_target_ms = Some(300);
        let p = predict_on(&f.inv, &req, platform).unwrap();

        let (m, d, r, s) = (4096.0 * MIB, 30.0 * MIB, 100e6, 0.5 * MIB);
        let lambda = d / r;
        // The switchover is decided at the capped rate...
        let n = (0..)
            .find(|&n| (m * lambda.powi(n) + s) / r <= 0.3)
            .unwrap();
        let precopy_bytes = m * (1.0 - lambda.powi(n)) / (1.0 - lambda);
        // ...and the last round crosses at the platform's rate, plus the stun.
        let downtime = (m * lambda.powi(n) + s) / 2e9 + 0.01;
        let close = |x: f64, y: f64| ((x - y) / y).abs() < 1e-9;
        assert!(p.converges);
        assert_eq!(p.rounds.len(), n as usize + 1);
        assert!(close(p.downtime_ms, downtime * 1000.0), "{}", p.downtime_ms);
        assert!(close(p.duration_s, 0.2 + precopy_bytes / r + downtime));
        assert!(close(p.bytes_total, precopy_bytes + m * lambda.powi(n) + s));

        // vSphere's figures for the same move: 1 s to prepare, the last round at the cap.
        let vsphere = predict(&f.inv, &req).unwrap();
        let downtime = (m * lambda.powi(n) + CHECKPOINT_BYTES) / r;
        assert!(close(vsphere.downtime_ms, downtime * 1000.0));
        assert!(close(
            vsphere.duration_s,
            PREPARE_S + precopy_bytes / r + downtime
        ));

        // A Storage vMotion switches its disks over in the platform's time.
        let svm = predict_on(
            &f.inv,
            &request(id, MigrationKind::StorageVMotion, None, Some(f.local_a)),
            platform,
        )
        .unwrap();
        assert!((svm.duration_s - (0.2 + 10.0 + 0.02)).abs() < 1e-9);
        assert_eq!(svm.downtime_ms, 20.0);

        // A combined move's stun also releases its disk mirror; a vMotion's does not.
        let lid = on_local_a(&mut f);
        let combined = request(lid, MigrationKind::Combined, Some(f.b), Some(f.shared));
        let released = Platform {
            disk_release_s: 0.0,
            ..platform
        };
        let with = predict_on(&f.inv, &combined, platform).unwrap();
        let without = predict_on(&f.inv, &combined, released).unwrap();
        assert!((with.downtime_ms - without.downtime_ms - 5.0).abs() < 1e-9);
        assert!((with.duration_s - without.duration_s - 0.005).abs() < 1e-9);
        assert_eq!(
            predict_on(&f.inv, &req, platform).unwrap(),
            predict_on(&f.inv, &req, released).unwrap()
        );
    }

    #[test]
    fn storage_vmotion_copies_allocated_bytes_at_the_slower_datastore() {
        let (f, id) = setup();
        let p = predict(
            &f.inv,
            &request(id, MigrationKind::StorageVMotion, None, Some(f.local_a)),
        )
        .unwrap();
        // Preparation, 2,000 MiB thin at min(500, 200) MiB/s = 10 s, the brief switchover.
        assert_eq!(p.disk_bytes, 2_000.0 * MIB);
        assert!((p.duration_s - (PREPARE_S + 10.0 + DISK_SWITCHOVER_S)).abs() < 1e-9);
        assert!(p.rounds.is_empty());
        assert_eq!(p.downtime_ms, DISK_SWITCHOVER_S * 1000.0);
    }

    #[test]
    fn combined_is_the_disk_copy_then_the_memory_precopy() {
        let (f, id) = setup();
        let vmotion = predict(
            &f.inv,
            &request(id, MigrationKind::VMotion, Some(f.b), None),
        )
        .unwrap();
        let svmotion = predict(
            &f.inv,
            &request(id, MigrationKind::StorageVMotion, None, Some(f.local_a)),
        )
        .unwrap();
        let both = predict(
            &f.inv,
            &request(id, MigrationKind::Combined, Some(f.a), Some(f.local_a)),
        );
        assert!(both.is_ok());
        let mut f = f;
        // Host b mounts the shared datastore only; move a VM from local-a to shared and to b.
        let lid = on_local_a(&mut f);
        let p = predict(
            &f.inv,
            &request(lid, MigrationKind::Combined, Some(f.b), Some(f.shared)),
        )
        .unwrap();
        assert_eq!(p.disk_bytes, 1_000.0 * MIB);
        assert!(!p.rounds.is_empty());
        assert!(p.duration_s > 1_000.0 * MIB / (200.0 * MIB));
        assert!(vmotion.duration_s > 0.0 && svmotion.duration_s > 0.0);
    }

    #[test]
    fn cold_moves_send_no_memory_and_bad_options_are_refused() {
        let (mut f, id) = setup();
        let mut v = f.inv.vms[&id].clone();
        v.power_state = PowerState::Off;
        let change = f.inv.validate(Mutation::Update(Object::Vm(v))).unwrap();
        f.inv.apply(&change);
        let p = predict(
            &f.inv,
            &request(id, MigrationKind::VMotion, Some(f.b), None),
        )
        .unwrap();
        assert_eq!(p.bytes_total, 0.0, "no memory moves");
        assert!(p.rounds.is_empty());
        assert_eq!(p.downtime_ms, 0.0, "nothing runs, nothing is stunned");
        assert!(p.converges);
        let mut bad = request(id, MigrationKind::VMotion, Some(f.b), None);
        bad.options.downtime_target_ms = Some(0);
        assert_eq!(
            predict(&f.inv, &bad).unwrap_err().field.as_deref(),
            Some("options.downtime_target_ms")
        );
        bad.options = MigrationOptions {
            bandwidth_cap_mbps: Some(0),
            ..Default::default()
        };
        assert_eq!(
            predict(&f.inv, &bad).unwrap_err().field.as_deref(),
            Some("options.bandwidth_cap_mbps")
        );
        let missing = request(id, MigrationKind::VMotion, None, None);
        assert_eq!(
            predict(&f.inv, &missing).unwrap_err().field.as_deref(),
            Some("target_host_id")
        );
    }
}
