//! The stored history (docs/DESIGN.md#stored-history).

use super::*;

/// The stored history of a long migration ticking four times a second keeps every phase change
/// and round boundary, and samples its progress at most once a simulated second; every other
/// tick is sent live only (docs/DESIGN.md#stored-history).
#[test]
fn stored_history_keeps_phases_and_rounds_and_samples_progress_once_a_second() {
    let mut lab = lab(2, 1);
    let (a, b) = (lab.hosts[0], lab.hosts[1]);
    for h in [a, b] {
        lab.update_host(h, |h| h.vmotion_link_gbps = LinkGbps::parse(1.0).unwrap());
    }
    let vm = lab.vms_on(a)[0];
    lab.update_vm(vm, |v| {
        v.memory_mib = SizeMib::parse(32_768).unwrap();
        v.workload.dirty_rate_mib_s = RateMibS::parse(20.0).unwrap();
        v.workload.working_set_mib = None;
    });
    let mut run = Run::new();
    let id = run.submit(&lab, vmotion(vm, b));
    let mut t = 0.0;
    while !run.phase(id).is_final() {
        assert!(t < 3_600.0, "not done in an hour");
        run.tick(&mut lab, 0.25);
        t += 0.25;
    }
    let transient = run.transient;
    let stored = &run.events[&id];
    assert!(t > 200.0, "a long migration: {t} s");
    assert!(
        transient > stored.len(),
        "most ticks are live only: {transient} vs {}",
        stored.len()
    );
    // Every phase and round the migration went through is in the history.
    let phases: BTreeSet<Phase> = stored.iter().map(|e| e.phase).collect();
    for p in [
        Phase::Queued,
        Phase::Preparing,
        Phase::MemoryPrecopy,
        Phase::Switchover,
        Phase::Completed,
    ] {
        assert!(phases.contains(&p), "{p:?} missing");
    }
    let last_round = stored.last().unwrap().round;
    assert!(last_round >= 2);
    for r in 0..=last_round {
        assert!(stored.iter().any(|e| e.round == r), "round {r} missing");
    }
    // Besides the events it always keeps (a phase, a round or a message that changes), at most
    // one sample a second.
    let samples: Vec<f64> = stored
        .windows(2)
        .filter(|w| {
            w[1].phase == w[0].phase && w[1].round == w[0].round && w[1].message == w[0].message
        })
        .map(|w| w[1].sim_time_s)
        .collect();
    assert!(
        samples.len() as f64 > t * 0.8,
        "{} samples in {t} s",
        samples.len()
    );
    for w in samples.windows(2) {
        assert!(
            w[1] - w[0] >= HISTORY_SAMPLE_S - 1e-9,
            "two samples within a second: {w:?}"
        );
    }
}
