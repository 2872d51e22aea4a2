use super::*;
use crate::checks::{check_migration, Severity};
use crate::engine::driver::Vsphere;
use crate::testing::*;
use crate::*;
use std::collections::BTreeSet;
use std::sync::Arc;

mod prediction;

/// The fixture with a third host c, mounting the shared datastore and on the vDS.
pub(super) fn three_hosts() -> (Fixture, HostId) {
    let mut f = fixture();
    let c = host(f.cluster, "esx-c");
    let id = c.id;
    put(&mut f.inv, Object::Host(c), true);
    let mut ds = f.inv.datastores[&f.shared].clone();
    ds.host_ids.push(id);
    put(&mut f.inv, Object::Datastore(ds), false);
    let mut sw = f.inv.switches[&f.vds].clone();
    sw.host_ids.push(id);
    put(&mut f.inv, Object::Switch(sw), false);
    (f, id)
}

pub(super) fn put(inv: &mut Inventory, o: Object, create: bool) {
    let m = if create {
        Mutation::Create(o)
    } else {
        Mutation::Update(o)
    };
    let change = inv.validate(m).unwrap();
    inv.apply(&change);
}

pub(super) trait Build {
    fn add_vm(
        &mut self,
        n: &str,
        host: HostId,
        memory_mib: u64,
        change: impl FnOnce(&mut Vm),
    ) -> VmId;
    fn add_rule(
        &mut self,
        n: &str,
        kind: RuleKind,
        mandatory: bool,
        vms: Vec<VmId>,
        hosts: Vec<HostId>,
    );
}

impl Build for Fixture {
    fn add_vm(
        &mut self,
        n: &str,
        host: HostId,
        memory_mib: u64,
        change: impl FnOnce(&mut Vm),
    ) -> VmId {
        let mut v = vm(
            n,
            host,
            vec![disk(self.shared, 2_000, 1_000, true)],
            vec![nic(self.pg_vds)],
        );
        v.memory_mib = nz64(memory_mib);
        change(&mut v);
        let id = v.id;
        put(&mut self.inv, Object::Vm(v), true);
        id
    }

    fn add_rule(
        &mut self,
        n: &str,
        kind: RuleKind,
        mandatory: bool,
        vms: Vec<VmId>,
        hosts: Vec<HostId>,
    ) {
        let rule = Rule {
            id: RuleId::new_random(),
            name: name(n),
            cluster_id: self.cluster,
            kind,
            mandatory,
            vm_ids: vms,
            host_ids: hosts,
            enabled: true,
        };
        put(&mut self.inv, Object::Rule(rule), true);
    }
}

pub(super) fn evacuate(host: HostId) -> Goal {
    Goal::EvacuateHost {
        host_id: host,
        enter_maintenance: true,
    }
}

pub(super) fn plan(inv: &Inventory, goal: &Goal) -> Draft {
    draft(inv, goal, &PlanOptions::default(), &BTreeSet::new()).unwrap()
}

/// Replays a plan's steps on the inventory, checking every move against the inventory as the
/// earlier moves left it, memory never overcommitted, maintenance entered only when empty.
fn replay(inv: &Inventory, d: &Draft) -> Inventory {
    let mut inv = inv.clone();
    for step in &d.steps {
        match step {
            Step::Moves { moves } => {
                for m in moves {
                    let request = predict::request_of(m, &PlanOptions::default());
                    let report = check_migration(&inv, &request, &BTreeSet::new()).unwrap();
                    assert!(
                        report.allowed,
                        "{} → {}: {:?}",
                        m.vm_name,
                        m.target,
                        report.first_error()
                    );
                    let mut v = inv.vms[&m.vm_id].clone();
                    v.host_id = m.target_host_id;
                    if let Some(d) = m.target_datastore_id {
                        v.disks.iter_mut().for_each(|disk| disk.datastore_id = d);
                    }
                    put(&mut inv, Object::Vm(v), false);
                    for h in inv.hosts.values() {
                        let load = inv.host_load(h.id);
                        assert!(
                            load.running_memory_mib <= h.memory_mib.get(),
                            "{} overcommitted",
                            h.name
                        );
                    }
                }
            }
            Step::EnterMaintenance { host_ids } | Step::ExitMaintenance { host_ids } => {
                let state = if matches!(step, Step::EnterMaintenance { .. }) {
                    HostState::Maintenance
                } else {
                    HostState::Connected
                };
                for id in host_ids {
                    let mut h = inv.hosts[id].clone();
                    h.state = state;
                    // The gate refuses maintenance mode while a VM runs on the host.
                    put(&mut inv, Object::Host(h), false);
                }
            }
            Step::Hold { .. } => {}
        }
    }
    inv
}

#[test]
fn an_evacuation_moves_every_vm_each_move_passing_the_checks_as_the_plan_leaves_the_inventory() {
    let (mut f, c) = three_hosts();
    for i in 0..6 {
        f.add_vm(&format!("web-{i}"), f.a, 16_384, |_| {});
    }
    let off = f.add_vm("cold", f.a, 8_192, move |v| v.power_state = PowerState::Off);
    let local = f.add_vm("local", f.a, 4_096, move |v| {
        v.disks[0].datastore_id = f.local_a
    });
    let d = plan(&f.inv, &evacuate(f.a));
    assert!(d.blockers.is_empty(), "{:?}", d.blockers);
    assert_eq!(d.moves().count(), 8);
    let by_vm = |id: VmId| d.moves().find(|m| m.vm_id == id).unwrap();
    assert_eq!(by_vm(local).kind, MigrationKind::Combined);
    assert_eq!(by_vm(local).target_datastore_id, Some(f.shared));
    assert!(!by_vm(off).live);
    assert!(by_vm(off).kind.moves_host());
    // Load spread: both other hosts get VMs.
    let targets: BTreeSet<HostId> = d.moves().map(|m| m.target_host_id).collect();
    assert_eq!(targets, BTreeSet::from([f.b, c]));
    assert!(
        matches!(d.steps.last(), Some(Step::EnterMaintenance { host_ids }) if host_ids == &vec![f.a])
    );
    let after = replay(&f.inv, &d);
    assert!(after.vms.values().all(|v| v.host_id != f.a));
    assert_eq!(after.hosts[&f.a].state, HostState::Maintenance);
}

#[test]
fn no_target_goes_above_80_percent_of_its_memory_while_another_has_room() {
    let (mut f, c) = three_hosts();
    // b is at 75 %; c is empty: the 16 GiB VMs go to c although b is "first".
    f.add_vm("big-b", f.b, 196_608, |_| {});
    for i in 0..4 {
        f.add_vm(&format!("app-{i}"), f.a, 16_384, |_| {});
    }
    let d = plan(&f.inv, &evacuate(f.a));
    let after = replay(&f.inv, &d);
    let load_b =
        after.host_load(f.b).running_memory_mib as f64 / after.hosts[&f.b].memory_mib.get() as f64;
    assert!(load_b <= placement::MEMORY_SPREAD_LIMIT, "b at {load_b}");
    assert!(d.moves().all(|m| m.target_host_id == c));
}

#[test]
fn each_blocker_names_its_check_and_remedy_and_the_host_stays_out_of_maintenance() {
    let (mut f, c) = three_hosts();
    let iso = f.add_vm("iso", f.a, 4_096, move |v| {
        v.devices.push(Device {
            kind: DeviceKind::Cdrom,
            backing: DeviceBacking::File,
            datastore_id: Some(f.local_a),
            connected: true,
        })
    });
    let ft = f.add_vm("ft", f.a, 4_096, move |v| v.fault_tolerance = true);
    let usb = f.add_vm("usb", f.a, 4_096, move |v| {
        v.devices.push(Device {
            kind: DeviceKind::Usb,
            backing: DeviceBacking::HostDevice,
            datastore_id: None,
            connected: true,
        })
    });
    let pinned = f.add_vm("pinned", f.a, 4_096, |_| {});
    f.add_rule(
        "pin-to-a",
        RuleKind::RunOnHosts,
        true,
        vec![pinned],
        vec![f.a],
    );
    // A local disk bigger than the shared datastore's free space.
    let huge = f.add_vm("huge-local", f.a, 4_096, move |v| {
        v.disks[0] = disk(f.local_a, 9_000, 9_000, false);
    });
    let mut shared = f.inv.datastores[&f.shared].clone();
    shared.capacity_mib = nz64(12_000);
    put(&mut f.inv, Object::Datastore(shared), false);
    // A VM bigger than any other host's memory.
    let giant = f.add_vm("giant", f.a, 200_000, |_| {});
    let mut small = f.inv.hosts[&f.b].clone();
    small.memory_mib = nz64(131_072);
    put(&mut f.inv, Object::Host(small), false);
    let mut small = f.inv.hosts[&c].clone();
    small.memory_mib = nz64(131_072);
    put(&mut f.inv, Object::Host(small), false);
    let d = plan(&f.inv, &evacuate(f.a));
    let check_of = |vm: VmId| {
        let b = d
            .blockers
            .iter()
            .find(|b| b.vm_id == vm)
            .unwrap_or_else(|| panic!("no blocker for {vm}"));
        assert!(!b.message.is_empty() && !b.remedy.is_empty());
        b.check.clone()
    };
    assert_eq!(check_of(iso), "device.local_backing");
    assert_eq!(check_of(ft), "ft.enabled");
    assert_eq!(check_of(usb), "device.local_backing");
    assert_eq!(check_of(pinned), "affinity.rules");
    assert!(d
        .blockers
        .iter()
        .any(|b| b.vm_id == pinned && b.message.contains("pin-to-a")));
    assert_eq!(check_of(huge), "datastore.space");
    assert_eq!(check_of(giant), "resources.memory");
    assert_eq!(d.blockers.len(), 6);
    assert!(!d
        .steps
        .iter()
        .any(|s| matches!(s, Step::EnterMaintenance { .. })));
    assert!(d.notes.iter().any(|n| n.contains("esx-a")));
}

#[test]
fn vms_kept_apart_never_end_on_one_host_and_kept_together_ones_follow() {
    let (mut f, c) = three_hosts();
    let x = f.add_vm("db-1", f.a, 8_192, |_| {});
    let y = f.add_vm("db-2", f.b, 8_192, |_| {});
    // c is busier: b would be chosen for x were it not for the rule.
    f.add_vm("load-c", c, 65_536, |_| {});
    f.add_rule("db-apart", RuleKind::KeepApart, true, vec![x, y], vec![]);
    // Two that should stay together, on a with x.
    let p = f.add_vm("app-1", f.a, 4_096, |_| {});
    let q = f.add_vm("app-2", f.a, 4_096, |_| {});
    f.add_rule(
        "app-together",
        RuleKind::KeepTogether,
        false,
        vec![p, q],
        vec![],
    );
    let d = plan(&f.inv, &evacuate(f.a));
    let after = replay(&f.inv, &d);
    assert_ne!(after.vms[&x].host_id, after.vms[&y].host_id);
    assert_eq!(after.vms[&x].host_id, c);
    assert_eq!(after.vms[&p].host_id, after.vms[&q].host_id);
}

#[test]
fn a_should_rule_is_a_warning_in_the_checks_and_a_must_rule_an_error() {
    let (mut f, c) = three_hosts();
    let v = f.add_vm("app", f.a, 4_096, |_| {});
    f.add_rule("prefer-b", RuleKind::RunOnHosts, false, vec![v], vec![f.b]);
    let request = |host| checks::MigrationRequest {
        vm_id: v,
        kind: MigrationKind::VMotion,
        target_host_id: Some(host),
        target_datastore_id: None,
        options: Default::default(),
    };
    let report = check_migration(&f.inv, &request(c), &BTreeSet::new()).unwrap();
    let r = report
        .results
        .iter()
        .find(|r| r.id == "affinity.rules")
        .unwrap();
    assert_eq!(r.severity, Severity::Warning);
    assert!(report.allowed);
    let ok = check_migration(&f.inv, &request(f.b), &BTreeSet::new()).unwrap();
    assert!(!ok.results.iter().any(|r| r.id == "affinity.rules"));
    let mut rule = f.inv.rules.values().next().unwrap().clone();
    rule.mandatory = true;
    put(&mut f.inv, Object::Rule(rule), false);
    let report = check_migration(&f.inv, &request(c), &BTreeSet::new()).unwrap();
    assert!(!report.allowed);
    assert_eq!(report.first_error().unwrap().id, "affinity.rules");
    // The evacuation honours the preference.
    let d = plan(&f.inv, &evacuate(f.a));
    assert_eq!(d.moves().next().unwrap().target_host_id, f.b);
}

#[test]
fn rules_are_validated_by_the_gate_and_hold_their_vms_and_hosts() {
    let (mut f, _) = three_hosts();
    let v = f.add_vm("app", f.a, 4_096, |_| {});
    let rule = |kind, vms: Vec<VmId>, hosts: Vec<HostId>| Rule {
        id: RuleId::new_random(),
        name: name("r"),
        cluster_id: f.cluster,
        kind,
        mandatory: true,
        vm_ids: vms,
        host_ids: hosts,
        enabled: true,
    };
    let field = |r: Rule| {
        f.inv
            .validate(Mutation::Create(Object::Rule(r)))
            .unwrap_err()
            .field
            .unwrap()
    };
    assert_eq!(field(rule(RuleKind::KeepApart, vec![v], vec![])), "vm_ids");
    assert_eq!(
        field(rule(RuleKind::KeepApart, vec![v, v], vec![])),
        "vm_ids[1]"
    );
    assert_eq!(
        field(rule(RuleKind::RunOnHosts, vec![v], vec![])),
        "host_ids"
    );
    assert_eq!(
        field(rule(
            RuleKind::KeepTogether,
            vec![v, VmId::new_random()],
            vec![]
        )),
        "vm_ids[1]"
    );
    f.add_rule("pin", RuleKind::RunOnHosts, true, vec![v], vec![f.a]);
    let e = f
        .inv
        .validate(Mutation::Delete(ObjectKind::Vm, v.0))
        .unwrap_err();
    assert!(e.message.contains("affinity rule pin"), "{}", e.message);
    let e = f
        .inv
        .validate(Mutation::Delete(ObjectKind::Host, f.a.0))
        .unwrap_err();
    assert!(e.message.contains("affinity rule pin"), "{}", e.message);
}

#[test]
fn the_gate_keeps_running_vms_off_hosts_in_maintenance() {
    let (mut f, _) = three_hosts();
    let v = f.add_vm("app", f.a, 4_096, |_| {});
    let mut h = f.inv.hosts[&f.a].clone();
    h.state = HostState::Maintenance;
    let e = f
        .inv
        .validate(Mutation::Update(Object::Host(h.clone())))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("state"));
    f.update_vm(v, move |v| v.power_state = PowerState::Off);
    put(&mut f.inv, Object::Host(h), false);
    let mut on = f.inv.vms[&v].clone();
    on.power_state = PowerState::On;
    let e = f
        .inv
        .validate(Mutation::Update(Object::Vm(on)))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("host_id"));
}

/// A four-host cluster with 3 VMs per host, room for all on three.
fn four_hosts() -> (Fixture, Vec<HostId>) {
    let (mut f, c) = three_hosts();
    let d = host(f.cluster, "esx-d");
    let d_id = d.id;
    put(&mut f.inv, Object::Host(d), true);
    let mut ds = f.inv.datastores[&f.shared].clone();
    ds.host_ids.push(d_id);
    ds.capacity_mib = nz64(1_000_000);
    put(&mut f.inv, Object::Datastore(ds), false);
    let mut sw = f.inv.switches[&f.vds].clone();
    sw.host_ids.push(d_id);
    put(&mut f.inv, Object::Switch(sw), false);
    let hosts = vec![f.a, f.b, c, d_id];
    for (i, h) in hosts.iter().enumerate() {
        for j in 0..3 {
            f.add_vm(&format!("vm-{i}-{j}"), *h, 32_768, |_| {});
        }
    }
    (f, hosts)
}

#[test]
fn rolling_maintenance_visits_every_host_once_never_two_out_and_brings_every_vm_back() {
    let (f, hosts) = four_hosts();
    let goal = Goal::RollingMaintenance {
        cluster_id: f.cluster,
        at_a_time: 1,
        maintenance_s: 600,
    };
    let d = plan(&f.inv, &goal);
    assert!(d.blockers.is_empty(), "{:?}", d.blockers);
    let mut visited = Vec::new();
    let mut out: BTreeSet<HostId> = BTreeSet::new();
    for step in &d.steps {
        match step {
            Step::EnterMaintenance { host_ids } => {
                out.extend(host_ids);
                visited.extend(host_ids.iter().copied());
                assert!(out.len() <= 1, "two hosts out at once");
            }
            Step::ExitMaintenance { host_ids } => host_ids.iter().for_each(|h| {
                out.remove(h);
            }),
            _ => {}
        }
    }
    visited.sort();
    let mut all = hosts.clone();
    all.sort();
    assert_eq!(visited, all, "every host visited exactly once");
    let after = replay(&f.inv, &d);
    for v in after.vms.values() {
        assert_eq!(after.hosts[&v.host_id].state, HostState::Connected);
        assert_eq!(v.host_id, f.inv.vms[&v.id].host_id, "{} back home", v.name);
    }
    // The prediction walks every step: holds included.
    let p = predict(&f.inv, &d, &PlanOptions::default(), Arc::new(Vsphere), 0);
    assert_eq!(p.failures, 0);
    assert!(p.total_s >= 4.0 * 600.0);
}

#[test]
fn rolling_maintenance_is_refused_when_the_cluster_cannot_hold_its_vms_with_k_out() {
    let (f, _) = four_hosts();
    let goal = |k| Goal::RollingMaintenance {
        cluster_id: f.cluster,
        at_a_time: k,
        maintenance_s: 0,
    };
    // 12 × 32 GiB = 384 GiB; two 256 GiB hosts hold 512: k = 2 fits, k = 3 does not.
    assert!(draft(&f.inv, &goal(2), &PlanOptions::default(), &BTreeSet::new()).is_ok());
    let e = draft(&f.inv, &goal(3), &PlanOptions::default(), &BTreeSet::new()).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("at_a_time"));
    let mut heavy = f.inv.clone();
    for v in f.inv.vms.values().take(8) {
        let mut v = v.clone();
        v.memory_mib = nz64(64_000);
        put(&mut heavy, Object::Vm(v), false);
    }
    let e = draft(&heavy, &goal(2), &PlanOptions::default(), &BTreeSet::new()).unwrap_err();
    assert!(e.message.contains("with 2 host(s) out"), "{}", e.message);
}

#[test]
fn bad_options_and_goals_are_refused_naming_the_field() {
    let (f, _) = three_hosts();
    let field = |goal: Goal, options: PlanOptions| {
        draft(&f.inv, &goal, &options, &BTreeSet::new())
            .unwrap_err()
            .field
            .unwrap()
    };
    let ok = evacuate(f.a);
    assert_eq!(
        field(evacuate(HostId::new_random()), PlanOptions::default()),
        "host_id"
    );
    let zero = PlanOptions {
        max_concurrent: Some(0),
        ..Default::default()
    };
    assert_eq!(field(ok.clone(), zero), "options.max_concurrent");
    let window = PlanOptions {
        start_at_ms: Some(10),
        must_finish_by_ms: Some(5),
        ..Default::default()
    };
    assert_eq!(field(ok, window), "options.must_finish_by_ms");
    assert_eq!(
        field(Goal::Moves { moves: vec![] }, PlanOptions::default()),
        "moves"
    );
    let unknown = Goal::Moves {
        moves: vec![MoveRequest {
            vm_id: VmId::new_random(),
            target_host_id: None,
            target_datastore_id: None,
            priority: None,
        }],
    };
    assert_eq!(field(unknown, PlanOptions::default()), "moves[0].vm_id");
}

#[test]
fn a_drain_moves_every_disk_off_the_datastore() {
    let (mut f, _) = three_hosts();
    let mut second = f.inv.datastores[&f.shared].clone();
    second.id = DatastoreId::new_random();
    second.name = name("san-02");
    let second_id = second.id;
    put(&mut f.inv, Object::Datastore(second), true);
    for i in 0..3 {
        f.add_vm(&format!("app-{i}"), f.b, 4_096, |_| {});
    }
    let d = plan(
        &f.inv,
        &Goal::DrainDatastore {
            datastore_id: f.shared,
        },
    );
    assert_eq!(d.moves().count(), 3);
    assert!(d.moves().all(
        |m| m.kind == MigrationKind::StorageVMotion && m.target_datastore_id == Some(second_id)
    ));
    let after = replay(&f.inv, &d);
    assert!(after
        .vms
        .values()
        .all(|v| v.disks.iter().all(|d| d.datastore_id != f.shared)));
}
