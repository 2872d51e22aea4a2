//! The data movement of one migration (docs/DESIGN.md#transfer-model) as a resumable state machine: preparation,
//! disks copied in one mirrored pass, memory pre-copy, one switchover. The engine advances it
//! tick by tick at the rate its fair share gives; predictions run it alone to the end. Pure:
//! no clock, no I/O.

use super::checks::rules::Plan;
use super::checks::{MigrationKind, MigrationRequest};
use super::phase::Phase;
use super::platform::Platform;
use super::precopy::{self, Precopy, PrecopyInput, Round};
use super::*;
use serde::{Deserialize, Serialize};

pub const MIB: f64 = 1024.0 * 1024.0;
/// Setting up the destination on vSphere (VM shell, vMotion stream), simulated seconds.
pub const PREPARE_S: f64 = Platform::VSPHERE.prepare_s;
/// Stun of a Storage vMotion switchover on vSphere (the disk references change), seconds.
pub const DISK_SWITCHOVER_S: f64 = Platform::VSPHERE.disk_switchover_s;

/// Something a transfer's bytes cross, whose bandwidth concurrent transfers share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Resource {
    /// A host's vMotion link.
    Link(HostId),
    /// A datastore's throughput.
    Datastore(DatastoreId),
}

/// Bandwidth of a resource when nothing else uses it, bytes/s (0 for an unknown object).
pub fn capacity(inv: &Inventory, resource: Resource) -> f64 {
    match resource {
        Resource::Link(h) => inv
            .hosts
            .get(&h)
            .map_or(0.0, |h| precopy::link_rate(h.vmotion_link_gbps.get())),
        Resource::Datastore(d) => inv
            .datastores
            .get(&d)
            .map_or(0.0, |d| f64::from(d.throughput_mib_s.get()) * MIB),
    }
}

/// One disk to copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiskCopy {
    /// Index of the disk in the VM.
    pub disk: usize,
    pub source: DatastoreId,
    pub bytes: f64,
}

/// The guest memory to pre-copy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MemoryPlan {
    pub memory: f64,
    pub zero_fraction: f64,
    pub dirty_rate: f64,
    pub working_set: Option<f64>,
}

/// What a migration has to move, resolved from the inventory once, at start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferPlan {
    /// The VM moved (a real driver needs to know which).
    pub vm: VmId,
    pub kind: MigrationKind,
    pub source_host: HostId,
    pub target_host: HostId,
    pub target_datastore: Option<DatastoreId>,
    /// Disks not already on the target datastore.
    pub disks: Vec<DiskCopy>,
    /// Memory pre-copy (vMotion and combined of a running VM).
    pub memory: Option<MemoryPlan>,
    /// The VM is not running: nothing is stunned, the downtime is 0.
    pub cold: bool,
    pub downtime_target_s: f64,
    /// Bandwidth cap, bytes/s.
    pub cap: Option<f64>,
    /// The figures of the hypervisor that runs it (vSphere's unless a driver says otherwise).
    #[serde(default)]
    pub platform: Platform,
}

impl TransferPlan {
    /// Resolves a well-formed request (fields are named otherwise).
    pub fn of(inv: &Inventory, request: &MigrationRequest) -> Result<Self, DomainError> {
        request.options.validate()?;
        let plan = Plan::resolve(inv, request)?;
        let vm = plan.vm;
        let disks = match plan.datastore {
            Some(target) => vm
                .disks
                .iter()
                .enumerate()
                .filter(|(_, d)| d.datastore_id != target.id)
                .map(|(i, d)| DiskCopy {
                    disk: i,
                    source: d.datastore_id,
                    bytes: d.allocated_mib() as f64 * MIB,
                })
                .collect(),
            None => Vec::new(),
        };
        // A powered-off or suspended VM moves cold: no memory to pre-copy, only its
        // registration (and suspended state file, with the disks) changes host.
        let cold = !vm.is_running();
        let memory = (plan.kind.moves_host() && !cold).then(|| MemoryPlan {
            memory: vm.memory_mib.get() as f64 * MIB,
            zero_fraction: vm.workload.zero_page_fraction.get(),
            dirty_rate: vm.workload.dirty_rate_mib_s.get() * MIB,
            working_set: vm.workload.working_set_mib.map(|w| w.get() as f64 * MIB),
        });
        Ok(TransferPlan {
            vm: vm.id,
            kind: plan.kind,
            source_host: plan.source.id,
            target_host: plan.target.id,
            target_datastore: plan.datastore.map(|d| d.id),
            disks,
            memory,
            cold,
            downtime_target_s: f64::from(request.options.downtime_target_ms.unwrap_or(500))
                / 1000.0,
            cap: request
                .options
                .bandwidth_cap_mbps
                .map(|m| f64::from(m) * 125_000.0),
            platform: Platform::VSPHERE,
        })
    }

    /// The figures the memory pre-copy runs with: a combined move's stun also lets its disk
    /// mirror go.
    fn memory_platform(&self) -> Platform {
        let mut platform = self.platform;
        if !self.disks.is_empty() {
            platform.stun_s += platform.disk_release_s;
        }
        platform
    }

    /// The same plan, run by a hypervisor with these figures.
    pub fn on(mut self, platform: Platform) -> Self {
        self.platform = platform;
        self
    }

    pub fn disk_bytes(&self) -> f64 {
        self.disks.iter().fold(0.0, |total, d| total + d.bytes)
    }

    pub fn links(&self) -> Vec<Resource> {
        let mut links = vec![Resource::Link(self.source_host)];
        if self.target_host != self.source_host {
            links.push(Resource::Link(self.target_host));
        }
        links
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Stage {
    Preparing { elapsed: f64 },
    DiskCopy { index: usize, copied: f64 },
    Memory(Option<Box<Precopy>>),
    DiskSwitchover { elapsed: f64 },
}

/// How a transfer ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TransferEnd {
    /// Everything is on the target; the VM may resume there.
    Converged { downtime_s: f64 },
    /// The stop-and-copy would exceed the switchover limit: the VM stays on the source.
    Failed { reason: crate::Phrase },
}

/// Where a transfer stands, for progress events.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferProgress {
    pub phase: Phase,
    pub bytes_sent: f64,
    pub bytes_total_estimate: f64,
    pub round: u32,
    pub dirty_rate: f64,
    pub remaining_dirty: f64,
    pub expected_downtime_s: f64,
    pub throttle: f64,
}

/// One migration's transfer in motion.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    plan: TransferPlan,
    stage: Stage,
    disk_sent: f64,
    /// Memory bytes expected when nothing is known yet (from a run alone).
    memory_estimate: f64,
    /// Rate of the last step, bytes/s (for the downtime estimate).
    last_rate: f64,
    elapsed: f64,
    end: Option<TransferEnd>,
    max_throttle: f64,
    /// Memory bytes the pre-copy will have sent in all, projected at (round, rate).
    projection: Option<(u32, f64, f64)>,
}

impl Transfer {
    /// A transfer about to prepare. `memory_estimate` is the memory a run alone would send.
    pub fn new(plan: TransferPlan, memory_estimate: f64) -> Self {
        Transfer {
            plan,
            stage: Stage::Preparing { elapsed: 0.0 },
            disk_sent: 0.0,
            memory_estimate,
            last_rate: 0.0,
            elapsed: 0.0,
            end: None,
            max_throttle: 0.0,
            projection: None,
        }
    }

    pub fn plan(&self) -> &TransferPlan {
        &self.plan
    }

    pub fn end(&self) -> Option<&TransferEnd> {
        self.end.as_ref()
    }

    /// Simulated seconds spent so far.
    pub fn elapsed(&self) -> f64 {
        self.elapsed
    }

    pub fn max_throttle(&self) -> f64 {
        self.max_throttle
    }

    /// The resources the current stage's bytes cross (none while preparing or switching
    /// disks over: those take time, not bandwidth).
    pub fn resources(&self) -> Vec<Resource> {
        match &self.stage {
            Stage::DiskCopy { index, .. } => {
                let disk = &self.plan.disks[*index];
                let mut r = vec![Resource::Datastore(disk.source)];
                if let Some(t) = self.plan.target_datastore {
                    r.push(Resource::Datastore(t));
                }
                if self.plan.kind == MigrationKind::Combined {
                    r.extend(self.plan.links());
                }
                r
            }
            Stage::Memory(_) => self.plan.links(),
            _ => Vec::new(),
        }
    }

    pub fn phase(&self) -> Phase {
        match &self.end {
            Some(TransferEnd::Failed { .. }) => return Phase::Failed,
            Some(TransferEnd::Converged { .. }) => return Phase::Switchover,
            None => {}
        }
        match &self.stage {
            Stage::Preparing { .. } => Phase::Preparing,
            Stage::DiskCopy { .. } => Phase::DiskCopy,
            Stage::Memory(Some(p)) if p.in_switchover() => Phase::Switchover,
            Stage::Memory(_) => Phase::MemoryPrecopy,
            Stage::DiskSwitchover { .. } => Phase::Switchover,
        }
    }

    fn next_stage_after_preparing(&mut self) {
        self.stage = if !self.plan.disks.is_empty() {
            Stage::DiskCopy {
                index: 0,
                copied: 0.0,
            }
        } else {
            self.after_disks()
        };
    }

    fn after_disks(&self) -> Stage {
        if self.plan.memory.is_some() {
            Stage::Memory(None)
        } else {
            Stage::DiskSwitchover { elapsed: 0.0 }
        }
    }

    /// Moves data for up to `dt` seconds at `rate` bytes/s. Stops early at the end of a stage
    /// (its resources change) and returns the time used; 0 when the rate is 0 in a stage that
    /// needs bandwidth.
    pub fn advance(&mut self, dt: f64, rate: f64) -> f64 {
        if self.end.is_some() || dt <= 0.0 {
            return 0.0;
        }
        let rate = self.plan.cap.map_or(rate, |c| rate.min(c));
        self.last_rate = rate;
        let used = match &mut self.stage {
            Stage::Preparing { elapsed } => {
                let prepare_s = self.plan.platform.prepare_s;
                let used = (prepare_s - *elapsed).min(dt);
                *elapsed += used;
                if *elapsed >= prepare_s {
                    self.next_stage_after_preparing();
                }
                used
            }
            Stage::DiskCopy { index, copied } => {
                if rate <= 0.0 {
                    return 0.0;
                }
                let bytes = self.plan.disks[*index].bytes;
                let left = bytes - *copied;
                if left <= rate * dt {
                    let used = left / rate;
                    self.disk_sent += left;
                    let next = *index + 1;
                    self.stage = if next < self.plan.disks.len() {
                        Stage::DiskCopy {
                            index: next,
                            copied: 0.0,
                        }
                    } else {
                        self.after_disks()
                    };
                    used
                } else {
                    *copied += rate * dt;
                    self.disk_sent += rate * dt;
                    dt
                }
            }
            Stage::Memory(slot) => {
                if rate <= 0.0 {
                    return 0.0;
                }
                let memory = self.plan.memory.expect("memory stage has a memory plan");
                let precopy = slot.get_or_insert_with(|| {
                    Box::new(Precopy::new(
                        PrecopyInput {
                            rate,
                            memory: memory.memory,
                            zero_fraction: memory.zero_fraction,
                            dirty_rate: memory.dirty_rate,
                            working_set: memory.working_set,
                            downtime_target: self.plan.downtime_target_s,
                            platform: self.plan.memory_platform(),
                        },
                        rate,
                    ))
                });
                // Measured on the pre-copy's own clock: exact even for an unbounded `dt`.
                let before = precopy.elapsed();
                precopy.advance(dt, rate);
                let used = precopy.elapsed() - before;
                self.max_throttle = self.max_throttle.max(precopy.throttle());
                // Re-project the rounds to come when a round starts or the share changes:
                // the pre-copy run to its end from here, at this rate.
                let stale = self.projection.is_none_or(|(round, at, _)| {
                    round != precopy.round() || (at - rate).abs() > 0.01 * rate
                });
                if stale && precopy.outcome().is_none() {
                    let mut ahead = precopy.as_ref().clone();
                    while ahead.outcome().is_none() {
                        ahead.advance(f64::INFINITY, rate);
                    }
                    self.projection = Some((precopy.round(), rate, ahead.bytes_sent()));
                }
                if let Some(outcome) = precopy.outcome() {
                    self.end = Some(if outcome.converged {
                        TransferEnd::Converged {
                            downtime_s: outcome.downtime_s,
                        }
                    } else {
                        TransferEnd::Failed {
                            reason: outcome
                                .failure
                                .clone()
                                .unwrap_or_else(|| crate::Phrase::new("engine.not_converged", &[])),
                        }
                    });
                }
                used
            }
            Stage::DiskSwitchover { elapsed } => {
                let switchover_s = self.plan.platform.disk_switchover_s;
                let used = (switchover_s - *elapsed).min(dt);
                *elapsed += used;
                if *elapsed >= switchover_s {
                    self.end = Some(TransferEnd::Converged {
                        downtime_s: if self.plan.cold { 0.0 } else { switchover_s },
                    });
                }
                used
            }
        };
        self.elapsed += used;
        used
    }

    fn precopy(&self) -> Option<&Precopy> {
        match &self.stage {
            Stage::Memory(Some(p)) => Some(p),
            _ => None,
        }
    }

    /// The pre-copy rounds done so far.
    pub fn rounds(&self) -> &[Round] {
        self.precopy().map_or(&[], Precopy::rounds)
    }

    pub fn progress(&self) -> TransferProgress {
        let disk_total = self.plan.disk_bytes();
        let memory_sent = self.precopy().map_or(0.0, Precopy::bytes_sent);
        let (round, dirty_rate, remaining_dirty, memory_left) = match self.precopy() {
            Some(p) if self.end.is_some() => (p.round(), p.dirty_rate(), 0.0, 0.0),
            Some(p) => {
                let left = p.remaining();
                // What the rounds to come will send, as projected at this round and rate.
                let total = self.projection.map_or(p.bytes_sent() + left, |(_, _, t)| t);
                let future = (total - p.bytes_sent()).max(left);
                (p.round(), p.dirty_rate(), left, future)
            }
            None if self.end.is_some() => (0, 0.0, 0.0, 0.0),
            None => (
                0,
                self.plan.memory.map_or(0.0, |m| m.dirty_rate),
                self.plan
                    .memory
                    .map_or(0.0, |m| m.memory * (1.0 - m.zero_fraction)),
                self.memory_estimate,
            ),
        };
        let disk_left = (disk_total - self.disk_sent).max(0.0);
        let bytes_sent = self.disk_sent + memory_sent;
        let expected_downtime_s = match (&self.end, self.plan.memory.is_some()) {
            (Some(TransferEnd::Converged { downtime_s }), _) => *downtime_s,
            (_, true) if self.last_rate > 0.0 => self.plan.platform.stop_and_copy_s(
                remaining_dirty + self.plan.platform.checkpoint_bytes,
                self.last_rate,
            ),
            (_, true) => self.plan.downtime_target_s,
            (_, false) if self.plan.cold => 0.0,
            (_, false) => self.plan.platform.disk_switchover_s,
        };
        TransferProgress {
            phase: self.phase(),
            bytes_sent,
            bytes_total_estimate: bytes_sent + disk_left + memory_left,
            round,
            dirty_rate,
            remaining_dirty,
            expected_downtime_s,
            throttle: self.precopy().map_or(0.0, Precopy::throttle),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prediction::run_alone;
    use crate::testing::*;

    fn placed(f: &mut Fixture, v: Vm) -> VmId {
        let id = v.id;
        let change = f.inv.validate(Mutation::Create(Object::Vm(v))).unwrap();
        f.inv.apply(&change);
        id
    }

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

    /// Steps a transfer in ticks of `tick` seconds at the full rate of what it crosses;
    /// returns the phases seen, in order.
    fn run_in_ticks(inv: &Inventory, t: &mut Transfer, tick: f64) -> Vec<Phase> {
        let mut phases = vec![t.phase()];
        while t.end().is_none() {
            let mut left = tick;
            while left > 0.0 && t.end().is_none() {
                let rate = t
                    .resources()
                    .iter()
                    .map(|r| capacity(inv, *r))
                    .fold(f64::INFINITY, f64::min);
                let used = t.advance(left, rate);
                assert!(used > 0.0, "the transfer stalled in {:?}", t.phase());
                left -= used;
                if phases.last() != Some(&t.phase()) {
                    phases.push(t.phase());
                }
            }
            let p = t.progress();
            assert!(p.bytes_sent <= p.bytes_total_estimate + 1.0);
        }
        phases
    }

    #[test]
    fn a_combined_transfer_prepares_copies_disks_then_memory_then_switches_over() {
        let mut f = fixture();
        let v = vm(
            "app",
            f.a,
            vec![disk(f.local_a, 4_000, 1_000, true)],
            vec![],
        );
        let id = placed(&mut f, v);
        let req = request(id, MigrationKind::Combined, Some(f.b), Some(f.shared));
        let plan = TransferPlan::of(&f.inv, &req).unwrap();
        assert_eq!(plan.disk_bytes(), 1_000.0 * MIB);
        let alone = run_alone(&f.inv, plan.clone());
        let mut t = Transfer::new(plan, alone.bytes_total - alone.disk_bytes);
        assert!(
            t.resources().is_empty(),
            "preparing takes time, not bandwidth"
        );
        let phases = run_in_ticks(&f.inv, &mut t, 0.25);
        assert_eq!(
            phases,
            vec![
                Phase::Preparing,
                Phase::DiskCopy,
                Phase::MemoryPrecopy,
                Phase::Switchover
            ]
        );
        // Stepping in ticks lands where the run alone does.
        assert!((t.elapsed() - alone.duration_s).abs() < 1e-6 * alone.duration_s);
        assert!((t.progress().bytes_sent - alone.bytes_total).abs() < 1.0);
        assert!(matches!(t.end(), Some(TransferEnd::Converged { .. })));
    }

    #[test]
    fn disk_copy_crosses_both_datastores_and_for_combined_the_links() {
        let mut f = fixture();
        let v = vm("db", f.a, vec![disk(f.local_a, 4_000, 1_000, true)], vec![]);
        let id = placed(&mut f, v);
        for (kind, host, links) in [
            (MigrationKind::StorageVMotion, None, 0),
            (MigrationKind::Combined, Some(f.b), 2),
        ] {
            let plan = TransferPlan::of(&f.inv, &request(id, kind, host, Some(f.shared))).unwrap();
            let mut t = Transfer::new(plan, 0.0);
            t.advance(PREPARE_S, 0.0);
            assert_eq!(t.phase(), Phase::DiskCopy);
            let r = t.resources();
            assert!(r.contains(&Resource::Datastore(f.local_a)));
            assert!(r.contains(&Resource::Datastore(f.shared)));
            assert_eq!(
                r.iter().filter(|r| matches!(r, Resource::Link(_))).count(),
                links
            );
            // No bandwidth, no progress: the engine sees the stall.
            assert_eq!(t.advance(1.0, 0.0), 0.0);
        }
    }

    #[test]
    fn a_storage_vmotion_ends_with_the_brief_disk_switchover_and_a_cap_slows_it() {
        let mut f = fixture();
        let v = vm(
            "files",
            f.a,
            vec![disk(f.shared, 4_000, 2_000, true)],
            vec![],
        );
        let id = placed(&mut f, v);
        let mut req = request(id, MigrationKind::StorageVMotion, None, Some(f.local_a));
        let plan = TransferPlan::of(&f.inv, &req).unwrap();
        let mut t = Transfer::new(plan, 0.0);
        let phases = run_in_ticks(&f.inv, &mut t, 1.0);
        assert_eq!(
            phases,
            vec![Phase::Preparing, Phase::DiskCopy, Phase::Switchover]
        );
        assert_eq!(
            t.end(),
            Some(&TransferEnd::Converged {
                downtime_s: DISK_SWITCHOVER_S
            })
        );
        req.options.bandwidth_cap_mbps = Some(100); // 12.5 MB/s
        let capped = TransferPlan::of(&f.inv, &req).unwrap();
        let mut t = Transfer::new(capped, 0.0);
        run_in_ticks(&f.inv, &mut t, 1.0);
        let expected = PREPARE_S + 2_000.0 * MIB / 12_500_000.0 + DISK_SWITCHOVER_S;
        assert!((t.elapsed() - expected).abs() < 1e-6, "{}", t.elapsed());
    }
}

#[cfg(test)]
mod estimate_tests {
    use super::*;
    use crate::prediction::run_alone;
    use crate::testing::*;

    #[test]
    fn the_total_estimate_during_the_precopy_is_what_will_be_sent() {
        // A 4 GiB guest dirtying 100 MiB/s within a 1 GiB working set over 1 Gbit/s: many
        // rounds, each smaller; at a steady rate the projection is exact at every step, so
        // the percent shown is true and never jumps.
        let mut f = fixture();
        let mut v = vm("web", f.a, vec![], vec![]);
        v.workload.dirty_rate_mib_s = RateMibS::parse(100.0).unwrap();
        v.workload.working_set_mib = Some(nz64(1_024));
        let id = v.id;
        let change = f.inv.validate(Mutation::Create(Object::Vm(v))).unwrap();
        f.inv.apply(&change);
        for h in [f.a, f.b] {
            let mut host = f.inv.hosts[&h].clone();
            host.vmotion_link_gbps = LinkGbps::parse(1.0).unwrap();
            let change = f
                .inv
                .validate(Mutation::Update(Object::Host(host)))
                .unwrap();
            f.inv.apply(&change);
        }
        let req = MigrationRequest {
            vm_id: id,
            kind: MigrationKind::VMotion,
            target_host_id: Some(f.b),
            target_datastore_id: None,
            options: Default::default(),
        };
        let plan = TransferPlan::of(&f.inv, &req).unwrap();
        let alone = run_alone(&f.inv, plan.clone());
        assert!(alone.rounds.len() > 3);
        let mut t = Transfer::new(plan, alone.bytes_total);
        let rate = precopy::link_rate(1.0);
        let mut last_fraction = 0.0;
        while t.end().is_none() {
            t.advance(0.5, rate);
            let p = t.progress();
            if p.phase == Phase::Preparing {
                continue;
            }
            let error = (p.bytes_total_estimate - alone.bytes_total).abs() / alone.bytes_total;
            assert!(error < 1e-9, "estimate off by {error} in round {}", p.round);
            let fraction = p.bytes_sent / p.bytes_total_estimate;
            assert!(fraction >= last_fraction);
            last_fraction = fraction;
        }
    }
}
