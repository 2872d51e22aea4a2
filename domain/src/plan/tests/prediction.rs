//! Plan predictions: the breakdown, the concurrency trade-off, pacing, and the fast forward
//! against a run stepped as the server steps it.

use super::*;

#[test]
fn the_prediction_accounts_for_every_second_and_the_concurrency_trade_off() {
    let (mut f, _) = three_hosts();
    for i in 0..8 {
        f.add_vm(&format!("web-{i}"), f.a, 16_384, |_| {});
    }
    let d = plan(&f.inv, &evacuate(f.a));
    let free = predict(
        &f.inv,
        &d,
        &PlanOptions::default(),
        Arc::new(Vsphere),
        1_000,
    );
    assert_eq!(free.moves.len(), 8);
    assert_eq!(free.failures, 0);
    for m in &free.moves {
        // Every second of a move is in one part of its breakdown.
        assert!((m.breakdown.total_s() - m.end_s).abs() < 1e-6, "{m:?}");
        assert!(m.breakdown.prepare_s > 0.0 && m.breakdown.memory_precopy_s > 0.0);
        assert!(m.downtime_ms > 0.0 && m.bytes > 0.0);
    }
    let last = free.moves.iter().map(|m| m.end_s).fold(0.0, f64::max);
    assert!((free.total_s - last).abs() < 1e-9);
    assert!(free.peak_concurrency > 1);
    let one = PlanOptions {
        max_concurrent: Some(1),
        ..Default::default()
    };
    let serial = predict(&f.inv, &d, &one, Arc::new(Vsphere), 1_000);
    assert_eq!(serial.peak_concurrency, 1);
    assert!(
        serial.total_s > free.total_s,
        "{} vs {}: {:?}",
        serial.total_s,
        free.total_s,
        serial
            .moves
            .iter()
            .map(|m| (m.start_s, m.end_s))
            .collect::<Vec<_>>()
    );
    // One at a time: each waits for the one before.
    let mut spans: Vec<(f64, f64)> = serial.moves.iter().map(|m| (m.start_s, m.end_s)).collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(spans.windows(2).all(|w| w[1].0 >= w[0].1 - 1e-6));
    let rows = what_if(
        &f.inv,
        &d,
        &PlanOptions::default(),
        Arc::new(Vsphere),
        1_000,
    );
    assert_eq!(rows.len(), 5);
    let one_row = rows.iter().find(|r| r.max_concurrent == Some(1)).unwrap();
    assert!((one_row.total_s - serial.total_s).abs() < 1e-9);
    // The window verdict.
    let tight = PlanOptions {
        start_at_ms: Some(0),
        must_finish_by_ms: Some(((free.total_s - 60.0) * 1000.0) as i64),
        ..Default::default()
    };
    let p = predict(&f.inv, &d, &tight, Arc::new(Vsphere), 0);
    assert!(!p.window.fits);
    assert!((p.window.margin_s.unwrap() + 60.0).abs() < 1.0);
}

#[test]
fn a_single_prediction_breaks_its_time_down_for_the_three_kinds() {
    let (mut f, c) = three_hosts();
    let v = f.add_vm("app", f.a, 8_192, move |v| {
        v.disks[0] = disk(f.local_a, 4_000, 4_000, false)
    });
    let kinds = [
        (MigrationKind::VMotion, Some(f.b), None),
        (MigrationKind::StorageVMotion, None, Some(f.shared)),
        (MigrationKind::Combined, Some(c), Some(f.shared)),
    ];
    let mut g = f.inv.clone();
    // vMotion needs the disk shared.
    let mut shared = g.vms[&v].clone();
    shared.disks[0].datastore_id = f.shared;
    put(&mut g, Object::Vm(shared), false);
    for (kind, host, ds) in kinds {
        let inv = if kind == MigrationKind::VMotion {
            &g
        } else {
            &f.inv
        };
        let request = checks::MigrationRequest {
            vm_id: v,
            kind,
            target_host_id: host,
            target_datastore_id: ds,
            options: Default::default(),
        };
        let p = crate::prediction::predict(inv, &request).unwrap();
        let b = p.breakdown;
        assert!(
            (b.total_s() - p.duration_s).abs() < 1e-6,
            "{kind:?}: {b:?} vs {}",
            p.duration_s
        );
        assert_eq!(b.queue_s, 0.0);
        assert!(b.prepare_s > 0.0 && b.switchover_s > 0.0, "{kind:?}: {b:?}");
        assert_eq!(b.disk_copy_s > 0.0, kind.moves_storage(), "{kind:?}: {b:?}");
        assert_eq!(
            b.memory_precopy_s > 0.0,
            kind.moves_host(),
            "{kind:?}: {b:?}"
        );
        // The disk copy is its bytes at the slower datastore's throughput.
        if kind == MigrationKind::StorageVMotion {
            let expected = 4_000.0 * 1024.0 * 1024.0 / (200.0 * 1024.0 * 1024.0);
            assert!((b.disk_copy_s - expected).abs() < 1e-6, "{b:?}");
        }
    }
}

/// The prediction's engine steps from event to event; a run's steps 0.25 s at a time (a move
/// that ends mid-step leaves the others on their old shares until the step ends). Both give
/// the same moves within 0.5 %, queue included (docs/DESIGN.md#plan-prediction).
#[test]
fn the_fast_forward_prediction_matches_a_run_stepped_a_quarter_second_at_a_time() {
    let (mut f, _) = three_hosts();
    for i in 0..8 {
        let dirty = [5.0, 40.0, 120.0][i % 3];
        f.add_vm(
            &format!("web-{i}"),
            f.a,
            4_096 * (1 + i as u64 % 4),
            move |v| v.workload.dirty_rate_mib_s = RateMibS::parse(dirty).unwrap(),
        );
    }
    let local = f.add_vm("local", f.a, 4_096, move |v| {
        v.disks[0] = disk(f.local_a, 6_000, 5_000, false)
    });
    let d = plan(&f.inv, &evacuate(f.a));
    for limit in [None, Some(2)] {
        let options = PlanOptions {
            max_concurrent: limit,
            ..Default::default()
        };
        let predicted = predict(&f.inv, &d, &options, Arc::new(Vsphere), 0);
        let mut engine =
            crate::engine::Engine::new(crate::engine::simulated::SimulatedDriver::new());
        let group = PlanId::new_random();
        engine.set_group_limit(group, predict::group_limit(&d, &options, false));
        let mut inv = f.inv.clone();
        let mut ids = Vec::new();
        for m in d.moves() {
            let id = MigrationId::new_random();
            engine
                .submit(&inv, predict::request_of(m, &options), id, 0)
                .unwrap();
            engine.join_group(id, group);
            ids.push((id, m.vm_id));
        }
        let mut ends = std::collections::BTreeMap::new();
        while engine.in_flight() > 0 {
            let out = engine.tick(&inv, 50.0, 0);
            for s in out.switchovers {
                ends.insert(s.record.vm_id, s.record.sim_time_s);
                let c = inv.validate(Mutation::Update(Object::Vm(s.moved))).unwrap();
                inv.apply(&c);
            }
            assert!(
                out.updated.iter().all(|m| !m.phase.is_final()),
                "a move failed"
            );
        }
        assert_eq!(ends.len(), 9);
        assert!(d
            .moves()
            .any(|m| m.vm_id == local && m.kind == MigrationKind::Combined));
        for m in &predicted.moves {
            let run = ends[&m.vm_id];
            assert!(
                (m.end_s - run).abs() <= 0.01 * run,
                "{limit:?} {}: predicted {} s, run {run} s",
                m.vm_name,
                m.end_s
            );
        }
    }
}

#[test]
fn pacing_keeps_a_fast_dirtying_guest_alone_on_its_link_and_the_plan_ends_sooner() {
    let (mut f, _) = three_hosts();
    let cache = f.add_vm("cache", f.a, 32_768, |v| {
        v.workload.dirty_rate_mib_s = RateMibS::parse(400.0).unwrap()
    });
    for i in 0..4 {
        f.add_vm(&format!("web-{i}"), f.a, 4_096, |v| {
            v.workload.dirty_rate_mib_s = RateMibS::parse(20.0).unwrap()
        });
    }
    let d = plan(&f.inv, &evacuate(f.a));
    let run = |pacing| {
        let options = PlanOptions {
            pacing,
            ..Default::default()
        };
        predict(&f.inv, &d, &options, Arc::new(Vsphere), 0)
    };
    let overlaps = |p: &PlanPrediction| {
        let c = p.moves.iter().find(|m| m.vm_id == cache).unwrap();
        p.moves
            .iter()
            .filter(|m| m.vm_id != cache)
            .filter(|m| m.start_s < c.end_s - 1e-6 && m.end_s > c.start_s + 1e-6)
            .count()
    };
    let paced = run(Pacing::Converge);
    let unpaced = run(Pacing::VsphereLimits);
    assert_eq!(paced.moves.len(), 5);
    assert_eq!(overlaps(&paced), 0, "{paced:#?}");
    assert!(overlaps(&unpaced) > 0);
    assert!(
        paced.total_s < 0.95 * unpaced.total_s,
        "paced {} s, unpaced {} s",
        paced.total_s,
        unpaced.total_s
    );
    assert!(paced.bytes_total < unpaced.bytes_total);
    // The small guests still share the link with each other once the cache has gone.
    assert!(paced.peak_concurrency > 1);
}
