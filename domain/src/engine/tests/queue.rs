//! Queueing: slots, links, memory promised to a target, priorities, other replicas.

use super::*;

#[test]
fn the_ninth_vmotion_on_a_host_waits_with_a_reason_and_starts_when_a_slot_frees() {
    let mut lab = lab(3, 9);
    let (a, b, c) = (lab.hosts[0], lab.hosts[1], lab.hosts[2]);
    let vms = lab.vms_on(a);
    let mut run = Run::new();
    let ids: Vec<MigrationId> = vms
        .iter()
        .enumerate()
        .map(|(i, vm)| run.submit(&lab, vmotion(*vm, if i % 2 == 0 { b } else { c })))
        .collect();
    run.tick(&mut lab, 0.25);
    let ninth = ids[8];
    assert_eq!(run.phase(ninth), Phase::Queued);
    let reason = run.records[&ninth].queue_reason.clone().unwrap();
    let host = lab.inv.hosts[&a].name.as_str().to_owned();
    assert_eq!(reason, format!("waiting: host {host} has 8/8 slots in use"));
    for id in &ids[..8] {
        assert_ne!(run.phase(*id), Phase::Queued);
    }
    // It starts as soon as one of the eight completes.
    run.starts_when_a_slot_frees(&mut lab, &ids[..8], ninth);
    run.finish(&mut lab);
    assert!(ids.iter().all(|id| run.phase(*id) == Phase::Completed));
}

#[test]
fn the_fifth_vmotion_on_a_1_gbps_link_and_the_third_storage_vmotion_on_a_host_wait() {
    let mut lab = lab(5, 5);
    let hosts = lab.hosts.clone();
    lab.update_host(hosts[0], |h| {
        h.vmotion_link_gbps = LinkGbps::parse(1.0).unwrap()
    });
    let vms = lab.vms_on(hosts[0]);
    let mut run = Run::new();
    let ids: Vec<MigrationId> = (0..5)
        .map(|i| run.submit(&lab, vmotion(vms[i], hosts[1 + i % 4])))
        .collect();
    run.tick(&mut lab, 0.25);
    let name = lab.inv.hosts[&hosts[0]].name.as_str().to_owned();
    assert_eq!(
        run.records[&ids[4]].queue_reason.as_deref(),
        Some(format!("waiting: the vMotion link of {name} carries 4/4 vMotions").as_str())
    );
    run.starts_when_a_slot_frees(&mut lab, &ids[..4], ids[4]);
    run.finish(&mut lab);
    assert!(ids.iter().all(|id| run.phase(*id) == Phase::Completed));

    // Storage vMotion costs 4 of a host's 8 slots: the third waits.
    let mut lab = self::lab(1, 3);
    let host = lab.hosts[0];
    let (san_b, vms) = (lab.san_b, lab.vms_on(host));
    let mut run = Run::new();
    let ids: Vec<MigrationId> = vms
        .iter()
        .map(|v| run.submit(&lab, svmotion(*v, san_b)))
        .collect();
    run.tick(&mut lab, 0.25);
    let name = lab.inv.hosts[&host].name.as_str().to_owned();
    assert_eq!(run.phase(ids[2]), Phase::Queued);
    assert_eq!(
        run.records[&ids[2]].queue_reason.as_deref(),
        Some(format!("waiting: host {name} has 8/8 slots in use").as_str())
    );
    run.starts_when_a_slot_frees(&mut lab, &ids[..2], ids[2]);
    run.finish(&mut lab);
    for (id, vm) in ids.iter().zip(&vms) {
        assert_eq!(run.phase(*id), Phase::Completed);
        assert!(lab.inv.vms[vm]
            .disks
            .iter()
            .all(|d| d.datastore_id == san_b));
    }
}

#[test]
fn a_second_migration_of_a_busy_vm_is_refused_and_finished_ones_are_gone() {
    let lab = lab(2, 1);
    let (a, b) = (lab.hosts[0], lab.hosts[1]);
    let vm = lab.vms_on(a)[0];
    let mut run = Run::new();
    let id = run.submit(&lab, vmotion(vm, b));
    let err = run
        .engine
        .submit(&lab.inv, vmotion(vm, b), MigrationId::new_random(), 0)
        .unwrap_err();
    assert_eq!(
        err,
        SubmitError::Busy {
            vm: lab.inv.vms[&vm].name.as_str().to_owned(),
            id
        }
    );
    assert!(run.engine.busy_vms().contains(&vm));
    run.cancel(id);
    assert!(run.engine.busy_vms().is_empty());
    assert_eq!(
        run.engine.cancel(id, 0).unwrap_err(),
        CancelError::NotInFlight(id)
    );
}

#[test]
fn a_freed_slot_goes_to_the_highest_priority_then_the_oldest() {
    let mut lab = lab(3, 11);
    let (a, b) = (lab.hosts[0], lab.hosts[1]);
    let vms = lab.vms_on(a);
    let mut run = Run::new();
    let running: Vec<MigrationId> = vms[..8]
        .iter()
        .map(|vm| run.submit(&lab, vmotion(*vm, b)))
        .collect();
    run.tick(&mut lab, 0.25);
    let old_low = run.submit(&lab, vmotion(vms[8], b));
    let mut urgent = vmotion(vms[9], b);
    urgent.options.priority = Some(9);
    let urgent = run.submit(&lab, urgent);
    let later_low = run.submit(&lab, vmotion(vms[10], b));
    run.tick(&mut lab, 0.25);
    for id in [old_low, urgent, later_low] {
        assert_eq!(run.phase(id), Phase::Queued);
    }
    // One slot frees: the urgent one takes it although it was queued after old_low.
    run.cancel(running[0]);
    run.tick(&mut lab, 0.25);
    assert!(run.phase(urgent) > Phase::Queued);
    assert_eq!(run.phase(old_low), Phase::Queued);
    // The next slot goes to the oldest of equal priority.
    run.cancel(running[1]);
    run.tick(&mut lab, 0.25);
    assert!(run.phase(old_low) > Phase::Queued);
    assert_eq!(run.phase(later_low), Phase::Queued);
    run.finish(&mut lab);
}

#[test]
fn a_target_host_is_not_promised_the_same_memory_twice() {
    // esx-1 has 1 TiB and its own 8 GiB VM; two 600 GiB guests may not both head there.
    let mut lab = lab(3, 1);
    let (a, b, c) = (lab.hosts[0], lab.hosts[1], lab.hosts[2]);
    let first = lab.vms_on(a)[0];
    let second = lab.vms_on(c)[0];
    for vm in [first, second] {
        lab.update_vm(vm, |v| {
            v.memory_mib = SizeMib::parse(600 * 1024).unwrap();
            v.workload.working_set_mib = Some(SizeMib::parse(1024).unwrap());
        });
    }
    let mut run = Run::new();
    let one = run.submit(&lab, vmotion(first, b));
    let two = run.submit(&lab, vmotion(second, b));
    run.tick(&mut lab, 0.25);
    assert!(run.phase(one) > Phase::Queued);
    assert_eq!(run.phase(two), Phase::Queued);
    let reason = run.records[&two].queue_reason.clone().unwrap();
    assert!(
        reason.contains("taken by migrations already heading there"),
        "{reason}"
    );
    // Once the first has landed, the checks decide: not enough memory left, it fails.
    run.finish(&mut lab);
    assert_eq!(run.phase(one), Phase::Completed);
    assert_eq!(run.phase(two), Phase::Failed);
    assert!(run.records[&two]
        .message
        .contains("Memory resource admission control failed"));
    assert_eq!(lab.inv.vms[&second].host_id, c);
}

#[test]
fn slots_held_by_another_replica_keep_a_migration_queued_and_are_named() {
    let mut lab = lab(3, 9);
    let (a, b) = (lab.hosts[0], lab.hosts[1]);
    let vms = lab.vms_on(a);
    let mut run = Run::new();
    // Another replica runs 8 vMotions off host a: its 8 slots are taken.
    let elsewhere: Vec<Elsewhere> = vms[..8]
        .iter()
        .map(|vm| Elsewhere {
            footprint: crate::scheduling::Footprint::of(
                &lab.inv.vms[vm],
                MigrationKind::VMotion,
                Some(b),
                None,
            ),
            replica: "replica-b".into(),
        })
        .collect();
    run.engine.set_elsewhere(elsewhere);
    let id = run.submit(&lab, vmotion(vms[8], b));
    run.tick(&mut lab, 0.25);
    assert_eq!(run.phase(id), Phase::Queued);
    let reason = run.records[&id].queue_reason.clone().unwrap_or_default();
    assert!(
        reason.contains("8/8 slots in use") && reason.contains("8 by migrations on replica-b"),
        "{reason}"
    );
    // They end there: the slot frees here.
    run.engine.set_elsewhere(Vec::new());
    run.until(&mut lab, 0.25, 3_600.0, |r| r.phase(id).is_final());
    assert_eq!(run.phase(id), Phase::Completed);
}
