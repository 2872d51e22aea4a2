//! How migrations end early: cancels and faults at every phase, the VM always at home.

use super::*;

/// Runs a combined migration to `phase` and interrupts it there with `interrupt`; the VM
/// must stay where it was, the driver must let go.
fn interrupted_at(phase: Phase, interrupt: &dyn Fn(&mut Run, &mut Lab, MigrationId)) -> String {
    let mut lab = lab(2, 1);
    let (a, b) = (lab.hosts[0], lab.hosts[1]);
    let san_b = lab.san_b;
    let vm = lab.vms_on(a)[0];
    let before = lab.inv.vms[&vm].clone();
    let mut run = Run::new();
    let id = run.submit(&lab, combined(vm, b, san_b));
    if phase != Phase::Queued {
        run.until(&mut lab, 0.01, 3_600.0, |r| r.phase(id) == phase);
    }
    interrupt(&mut run, &mut lab, id);
    run.until(&mut lab, 0.25, 60.0, |r| r.engine.in_flight() == 0);
    assert_eq!(
        lab.inv.vms[&vm], before,
        "the VM stayed on its source ({phase:?})"
    );
    assert_eq!(run.engine.driver().in_flight(), 0);
    let rec = &run.records[&id];
    assert!(rec.phase == Phase::Failed || rec.phase == Phase::Cancelled);
    assert!(rec.message.contains("keeps running on"), "{}", rec.message);
    rec.message.clone()
}

#[test]
fn a_cancel_at_every_phase_leaves_the_vm_on_its_source() {
    for phase in [
        Phase::Queued,
        Phase::Preparing,
        Phase::DiskCopy,
        Phase::MemoryPrecopy,
        Phase::Switchover,
    ] {
        let message = interrupted_at(phase, &|run, _, id| run.cancel(id));
        assert!(message.starts_with("Cancelled by the user"), "{message}");
    }
}

#[test]
fn faults_at_every_phase_leave_the_vm_on_its_source() {
    let inject = |kind: FaultKind| {
        move |run: &mut Run, lab: &mut Lab, _id: MigrationId| {
            let target = match kind {
                FaultKind::DatastoreFull => lab.san_b.0,
                _ => lab.hosts[1].0,
            };
            run.engine.add_fault(Fault {
                id: FaultId::new_random(),
                kind,
                target_id: target,
                target_name: "target".into(),
                created_at_ms: 0,
            });
        }
    };
    for phase in [
        Phase::Queued,
        Phase::Preparing,
        Phase::DiskCopy,
        Phase::MemoryPrecopy,
        Phase::Switchover,
    ] {
        for kind in FaultKind::ALL {
            let message = interrupted_at(phase, &inject(kind));
            let expected = match kind {
                FaultKind::VmotionLinkDown => "vMotion network of target went down",
                FaultKind::HostDown => "Host target stopped responding",
                FaultKind::DatastoreFull => "Datastore target ran out of space",
            };
            assert!(message.contains(expected), "{phase:?} {kind:?}: {message}");
        }
    }
}

#[test]
fn held_at_checking_a_migration_is_cancelled_or_failed_by_a_fault_with_its_vm_at_home() {
    for kind in [
        MigrationKind::VMotion,
        MigrationKind::StorageVMotion,
        MigrationKind::Combined,
    ] {
        for interrupt in ["cancel", "fault"] {
            let mut lab = lab(2, 1);
            let vm = lab.vms_on(lab.hosts[0])[0];
            let before = lab.inv.vms[&vm].clone();
            let request = match kind {
                MigrationKind::VMotion => vmotion(vm, lab.hosts[1]),
                MigrationKind::StorageVMotion => svmotion(vm, lab.san_b),
                MigrationKind::Combined => combined(vm, lab.hosts[1], lab.san_b),
            };
            let mut run = Run::new();
            run.engine.hold_at_checking(true);
            let id = run.submit(&lab, request);
            for _ in 0..4 {
                run.tick(&mut lab, 0.25);
            }
            assert_eq!(run.phase(id), Phase::Checking, "{kind:?} held");
            match interrupt {
                "cancel" => run.cancel(id),
                _ => {
                    let target = if kind == MigrationKind::StorageVMotion {
                        (FaultKind::DatastoreFull, lab.san_b.0)
                    } else {
                        (FaultKind::HostDown, lab.hosts[1].0)
                    };
                    let fault = FaultId::new_random();
                    run.engine.add_fault(Fault {
                        id: fault,
                        kind: target.0,
                        target_id: target.1,
                        target_name: "target".into(),
                        created_at_ms: 0,
                    });
                    run.tick(&mut lab, 0.25);
                    run.engine.clear_fault(fault);
                }
            }
            let expected = if interrupt == "cancel" {
                Phase::Cancelled
            } else {
                Phase::Failed
            };
            assert_eq!(run.phase(id), expected, "{kind:?} {interrupt}");
            assert_eq!(run.engine.in_flight(), 0);
            assert_eq!(
                lab.inv.vms[&vm], before,
                "{kind:?} {interrupt}: the VM stays"
            );
            // Released, the engine goes on: a new move of the VM runs to the end.
            run.engine.hold_at_checking(false);
            let again = run.submit(&lab, vmotion(vm, lab.hosts[1]));
            run.until(&mut lab, 0.25, 3_600.0, |r| r.phase(again).is_final());
            assert_eq!(run.phase(again), Phase::Completed);
        }
    }
}
