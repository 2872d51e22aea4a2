//! The engine core run on simulated time: hours of migrations in milliseconds.

use super::simulated::SimulatedDriver;
use super::*;
use crate::checks::{MigrationKind, MigrationRequest};
use crate::generate::scale_inventory;
use crate::migration::{Fault, FaultKind, MigrationEvent, Phase, HISTORY_SAMPLE_S};
use crate::precopy::{link_rate, CHECKPOINT_BYTES};
use crate::*;
use std::collections::{BTreeMap, BTreeSet};

mod endings;
mod history;
mod queue;

const MIB: f64 = 1024.0 * 1024.0;

struct Lab {
    inv: Inventory,
    hosts: Vec<HostId>,
    /// A second shared datastore on every host.
    san_b: DatastoreId,
}

fn lab(hosts: usize, vms_per_host: usize) -> Lab {
    let mut inv = scale_inventory(1, hosts, vms_per_host);
    let mut host_ids: Vec<HostId> = inv.hosts.keys().copied().collect();
    host_ids.sort_by_key(|h| inv.hosts[h].name.as_str().to_owned());
    let san_b = Datastore {
        id: DatastoreId::new_random(),
        name: Name::parse("san-b").unwrap(),
        kind: DatastoreKind::VmfsShared,
        capacity_mib: SizeMib::parse(64 << 20).unwrap(),
        throughput_mib_s: std::num::NonZeroU32::new(1_000).unwrap(),
        host_ids: host_ids.clone(),
    };
    let id = san_b.id;
    let change = inv
        .validate(Mutation::Create(Object::Datastore(san_b)))
        .unwrap();
    inv.apply(&change);
    Lab {
        inv,
        hosts: host_ids,
        san_b: id,
    }
}

impl Lab {
    fn vms_on(&self, host: HostId) -> Vec<VmId> {
        let mut vms: Vec<&Vm> = self
            .inv
            .vms
            .values()
            .filter(|v| v.host_id == host)
            .collect();
        vms.sort_by_key(|v| v.name.as_str().to_owned());
        vms.iter().map(|v| v.id).collect()
    }

    fn update_host(&mut self, host: HostId, f: impl FnOnce(&mut Host)) {
        let mut h = self.inv.hosts[&host].clone();
        f(&mut h);
        let change = self
            .inv
            .validate(Mutation::Update(Object::Host(h)))
            .unwrap();
        self.inv.apply(&change);
    }

    fn update_vm(&mut self, vm: VmId, f: impl FnOnce(&mut Vm)) {
        let mut v = self.inv.vms[&vm].clone();
        f(&mut v);
        let change = self.inv.validate(Mutation::Update(Object::Vm(v))).unwrap();
        self.inv.apply(&change);
    }
}

fn vmotion(vm: VmId, to: HostId) -> MigrationRequest {
    MigrationRequest {
        vm_id: vm,
        kind: MigrationKind::VMotion,
        target_host_id: Some(to),
        target_datastore_id: None,
        options: Default::default(),
    }
}

fn svmotion(vm: VmId, to: DatastoreId) -> MigrationRequest {
    MigrationRequest {
        vm_id: vm,
        kind: MigrationKind::StorageVMotion,
        target_host_id: None,
        target_datastore_id: Some(to),
        options: Default::default(),
    }
}

fn combined(vm: VmId, host: HostId, ds: DatastoreId) -> MigrationRequest {
    MigrationRequest {
        vm_id: vm,
        kind: MigrationKind::Combined,
        target_host_id: Some(host),
        target_datastore_id: Some(ds),
        options: Default::default(),
    }
}

/// An engine with every event recorded and checked as it comes: `seq` from 1 with no gaps,
/// `percent` never going backwards. Switchovers are applied to the inventory like the
/// service does.
struct Run {
    engine: Engine<SimulatedDriver>,
    /// The stored events of each migration.
    events: BTreeMap<MigrationId, Vec<MigrationEvent>>,
    /// The last event sent live (stored or transient).
    sent: BTreeMap<MigrationId, MigrationEvent>,
    /// How many events were sent live only.
    transient: usize,
    records: BTreeMap<MigrationId, crate::migration::Migration>,
}

impl Run {
    fn new() -> Self {
        Run {
            engine: Engine::new(SimulatedDriver::new()),
            events: BTreeMap::new(),
            sent: BTreeMap::new(),
            transient: 0,
            records: BTreeMap::new(),
        }
    }

    /// Checks an event against the last one sent, and keeps it if it is stored (a transient
    /// one repeats the last stored seq: docs/DESIGN.md#stored-history).
    fn record(&mut self, e: MigrationEvent) {
        let list = self.events.entry(e.migration_id).or_default();
        let stored_seq = list.last().map_or(0, |l| l.seq);
        let expected = if e.transient {
            stored_seq
        } else {
            stored_seq + 1
        };
        assert_eq!(e.seq, expected, "seq has a gap: {e:?}");
        let last = self.sent.insert(e.migration_id, e.clone());
        if let Some(l) = &last {
            assert!(
                e.percent >= l.percent,
                "percent went back: {l:?} then {e:?}"
            );
            assert!(!l.phase.is_final(), "an event after the end: {e:?}");
        }
        assert!((0.0..=100.0).contains(&e.percent));
        if e.transient {
            self.transient += 1;
        } else {
            self.events.entry(e.migration_id).or_default().push(e);
        }
    }

    fn submit(&mut self, lab: &Lab, req: MigrationRequest) -> MigrationId {
        let id = MigrationId::new_random();
        let (m, e) = self.engine.submit(&lab.inv, req, id, 0).unwrap();
        self.records.insert(id, m);
        self.record(e);
        id
    }

    fn cancel(&mut self, id: MigrationId) {
        let (m, e) = self.engine.cancel(id, 0).unwrap();
        self.records.insert(id, m);
        self.record(e);
    }

    fn tick(&mut self, lab: &mut Lab, dt: f64) {
        let out = self.engine.tick(&lab.inv, dt, 0);
        for e in out.events {
            self.record(e);
        }
        for m in out.updated {
            self.records.insert(m.id, m);
        }
        for s in out.switchovers {
            let change = lab
                .inv
                .validate(Mutation::Update(Object::Vm(s.moved)))
                .unwrap();
            lab.inv.apply(&change);
            self.record(s.event);
            self.records.insert(s.record.id, s.record);
        }
    }

    fn phase(&self, id: MigrationId) -> Phase {
        self.events[&id].last().unwrap().phase
    }

    /// Ticks until `done` holds (at most `limit` simulated seconds).
    fn until(&mut self, lab: &mut Lab, dt: f64, limit: f64, done: impl Fn(&Run) -> bool) {
        let mut t = 0.0;
        while !done(self) {
            assert!(t < limit, "not done after {limit} simulated seconds");
            self.tick(lab, dt);
            t += dt;
        }
    }

    /// Ticks until one of `running` completes, `waiting` staying queued until then; then
    /// checks that `waiting` starts at once (by the next tick).
    fn starts_when_a_slot_frees(
        &mut self,
        lab: &mut Lab,
        running: &[MigrationId],
        waiting: MigrationId,
    ) {
        let mut t = 0.0;
        while !running.iter().any(|id| self.phase(*id) == Phase::Completed) {
            assert_eq!(
                self.phase(waiting),
                Phase::Queued,
                "it started before a slot freed"
            );
            assert!(t < 3_600.0, "nothing completed in an hour");
            self.tick(lab, 0.25);
            t += 0.25;
        }
        self.tick(lab, 0.25);
        assert!(
            self.phase(waiting) > Phase::Queued,
            "{:?}",
            self.phase(waiting)
        );
        assert!(self.records[&waiting].queue_reason.is_none());
    }

    fn finish(&mut self, lab: &mut Lab) {
        self.until(lab, 0.25, 100_000.0, |r| r.engine.in_flight() == 0);
        assert_eq!(self.engine.driver().in_flight(), 0, "the driver leaked");
    }
}

#[test]
fn one_vmotion_through_the_engine_matches_the_closed_form() {
    // (memory MiB, dirty MiB/s, link Gbps, downtime target ms)
    for (memory, dirty, gbps, target_ms) in [
        (8_192u64, 200.0, 10.0, 500u32),
        (4_096, 50.0, 25.0, 100),
        (16_384, 600.0, 10.0, 1_000),
    ] {
        let mut lab = lab(2, 1);
        let (a, b) = (lab.hosts[0], lab.hosts[1]);
        for h in [a, b] {
            lab.update_host(h, |h| h.vmotion_link_gbps = LinkGbps::parse(gbps).unwrap());
        }
        let vm = lab.vms_on(a)[0];
        lab.update_vm(vm, |v| {
            v.memory_mib = SizeMib::parse(memory).unwrap();
            v.workload.dirty_rate_mib_s = RateMibS::parse(dirty).unwrap();
            v.workload.working_set_mib = None;
            v.workload.zero_page_fraction = Fraction::parse(0.0).unwrap();
        });
        let mut run = Run::new();
        let mut req = vmotion(vm, b);
        req.options.downtime_target_ms = Some(target_ms);
        let id = run.submit(&lab, req);
        run.finish(&mut lab);

        let (m, d, r, s) = (
            memory as f64 * MIB,
            dirty * MIB,
            link_rate(gbps),
            CHECKPOINT_BYTES,
        );
        let target = f64::from(target_ms) / 1000.0;
        let lambda = d / r;
        assert!(lambda < 0.9);
        let n = (0..)
            .find(|&n| (m * lambda.powi(n) + s) / r <= target)
            .unwrap();
        let bytes = m * (1.0 - lambda.powi(n + 1)) / (1.0 - lambda) + s;
        let downtime = (m * lambda.powi(n) + s) / r;
        let rec = &run.records[&id];
        let close = |x: f64, y: f64| ((x - y) / y).abs() < 1e-9;
        assert_eq!(rec.phase, Phase::Completed);
        assert_eq!(rec.rounds.len(), n as usize + 1, "round count");
        assert!(
            close(rec.bytes_sent, bytes),
            "{} vs {bytes}",
            rec.bytes_sent
        );
        let memory_time: f64 = rec.rounds.iter().map(|r| r.duration_s).sum();
        assert!(close(memory_time, bytes / r));
        // From creation to switchover: preparation, then exactly the pre-copy.
        let total = crate::transfer::PREPARE_S + bytes / r;
        assert!(
            close(rec.sim_time_s, total),
            "{} vs {total}",
            rec.sim_time_s
        );
        assert!(close(rec.result.unwrap().duration_s, total));
        assert!(close(rec.downtime_ms.unwrap() / 1000.0, downtime));
        assert_eq!(rec.percent, 100.0);
        assert_eq!(lab.inv.vms[&vm].host_id, b, "the VM moved");
        // The prediction made at start is what happened.
        assert!(close(rec.prediction.bytes_total, bytes));
    }
}

#[test]
fn a_small_working_set_converges_in_few_rounds() {
    let mut lab = lab(2, 1);
    let (a, b) = (lab.hosts[0], lab.hosts[1]);
    let vm = lab.vms_on(a)[0];
    // 8 GiB, dirtying 2 GiB/s, but only within 64 MiB.
    lab.update_vm(vm, |v| {
        v.workload.dirty_rate_mib_s = RateMibS::parse(2_048.0).unwrap();
        v.workload.working_set_mib = Some(SizeMib::parse(64).unwrap());
    });
    let mut run = Run::new();
    let id = run.submit(&lab, vmotion(vm, b));
    run.finish(&mut lab);
    let rec = &run.records[&id];
    assert_eq!(rec.phase, Phase::Completed);
    assert!(rec.rounds.len() <= 3, "{} rounds", rec.rounds.len());
    assert_eq!(rec.max_throttle, 0.0);
}

#[test]
fn a_dirty_rate_above_the_bandwidth_completes_with_sdps_or_fails_at_the_limit() {
    // Completes: 1 Gbps link, dirtying 150 MiB/s (above 119 MiB/s): SDPS brings it down.
    let mut lab = lab(2, 1);
    let (a, b) = (lab.hosts[0], lab.hosts[1]);
    for h in [a, b] {
        lab.update_host(h, |h| h.vmotion_link_gbps = LinkGbps::parse(1.0).unwrap());
    }
    let vm = lab.vms_on(a)[0];
    lab.update_vm(vm, |v| {
        v.memory_mib = SizeMib::parse(4_096).unwrap();
        v.workload.dirty_rate_mib_s = RateMibS::parse(150.0).unwrap();
        v.workload.working_set_mib = None;
    });
    let mut run = Run::new();
    let id = run.submit(&lab, vmotion(vm, b));
    run.finish(&mut lab);
    let rec = &run.records[&id];
    assert_eq!(rec.phase, Phase::Completed, "{}", rec.message);
    assert!(rec.max_throttle >= 0.2, "the throttle is recorded");
    assert!(rec.rounds.iter().any(|r| r.throttle > 0.0));
    // The events say so while it happens, the throttle rising.
    let sdps: Vec<&str> = run.events[&id]
        .iter()
        .filter(|e| e.message.contains("SDPS slows the guest by"))
        .map(|e| e.message.as_str())
        .collect();
    assert!(
        sdps.first().is_some_and(|m| m.contains("by 20 %")),
        "{sdps:?}"
    );
    assert!(sdps.iter().any(|m| m.contains("by 30 %")), "{sdps:?}");
    assert_eq!(lab.inv.vms[&vm].host_id, b);

    // Fails: a guest rewriting a 4 GiB working set at 20 GiB/s over 0.1 Gbps: every round
    // is the whole set (343 s), even throttled; after 30 rounds the stop-and-copy would
    // exceed 100 s, so it fails and the VM stays.
    let mut lab2 = self::lab(2, 1);
    let (a, b) = (lab2.hosts[0], lab2.hosts[1]);
    for h in [a, b] {
        lab2.update_host(h, |h| h.vmotion_link_gbps = LinkGbps::parse(0.1).unwrap());
    }
    let vm = lab2.vms_on(a)[0];
    lab2.update_vm(vm, |v| {
        v.memory_mib = SizeMib::parse(16_384).unwrap();
        v.workload.dirty_rate_mib_s = RateMibS::parse(20_000.0).unwrap();
        v.workload.working_set_mib = Some(SizeMib::parse(4_096).unwrap());
    });
    let mut run = Run::new();
    let id = run.submit(&lab2, vmotion(vm, b));
    run.until(&mut lab2, 60.0, 1e5, |r| r.engine.in_flight() == 0);
    let rec = &run.records[&id];
    assert_eq!(rec.phase, Phase::Failed);
    assert!(
        rec.message
            .contains("exceeded the maximum switchover time of 100 second(s)"),
        "{}",
        rec.message
    );
    assert!(rec.message.contains("keeps running on"));
    assert_eq!(lab2.inv.vms[&vm].host_id, a, "the VM stayed on its source");
    assert_eq!(run.engine.driver().in_flight(), 0);
}

#[test]
fn concurrent_transfers_share_the_link_fairly() {
    let mut lab = lab(3, 2);
    let (a, b, c) = (lab.hosts[0], lab.hosts[1], lab.hosts[2]);
    for h in [a, b, c] {
        lab.update_host(h, |h| h.vmotion_link_gbps = LinkGbps::parse(10.0).unwrap());
    }
    let vms = lab.vms_on(a);
    let mut run = Run::new();
    let first = run.submit(&lab, vmotion(vms[0], b));
    let mut capped = vmotion(vms[1], c);
    capped.options.bandwidth_cap_mbps = Some(2_000); // 250 MB/s
    let second = run.submit(&lab, capped);
    run.until(&mut lab, 0.25, 60.0, |r| {
        r.phase(first) == Phase::MemoryPrecopy && r.phase(second) == Phase::MemoryPrecopy
    });
    run.tick(&mut lab, 0.25);
    let rate = |id| run.events[&id].last().unwrap().rate_bytes_s;
    // Source link 1.25 GB/s: the capped one takes its 250 MB/s, the other the rest.
    assert!((rate(second) - 250e6).abs() < 1.0, "{}", rate(second));
    assert!((rate(first) - 1_000e6).abs() < 1.0, "{}", rate(first));
    run.finish(&mut lab);
}

#[test]
fn storage_vmotion_and_a_thousand_times_speed_step_the_same_way() {
    // One 250-second tick (1000× at 4 ticks/s) lands where a thousand small ones do.
    let mut results = Vec::new();
    for dt in [0.25, 250.0] {
        let mut lab = lab(1, 1);
        let (host, san_b) = (lab.hosts[0], lab.san_b);
        let vm = lab.vms_on(host)[0];
        let mut run = Run::new();
        let id = run.submit(&lab, svmotion(vm, san_b));
        run.until(&mut lab, dt, 1_000.0, |r| r.engine.in_flight() == 0);
        let rec = run.records[&id].clone();
        assert_eq!(rec.phase, Phase::Completed);
        assert_eq!(rec.downtime_ms, Some(50.0));
        assert!(lab.inv.vms[&vm]
            .disks
            .iter()
            .all(|d| d.datastore_id == san_b));
        let phases: Vec<Phase> = run.events[&id].iter().map(|e| e.phase).collect();
        for p in [
            Phase::Queued,
            Phase::Checking,
            Phase::Preparing,
            Phase::DiskCopy,
            Phase::Completed,
        ] {
            assert!(phases.contains(&p), "{p:?} missing in {phases:?}");
        }
        assert!(
            ((rec.sim_time_s - rec.prediction.duration_s) / rec.prediction.duration_s).abs() < 1e-9,
            "alone, it takes what was predicted: {} vs {}",
            rec.sim_time_s,
            rec.prediction.duration_s
        );
        results.push((rec.bytes_sent, rec.sim_time_s));
    }
    assert_eq!(results[0].0, 20.0 * 1024.0 * MIB);
    assert_eq!(results[0].0, results[1].0);
    assert!((results[0].1 - results[1].1).abs() < 1e-9, "{results:?}");
}
