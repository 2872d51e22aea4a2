//! Memory pre-copy of a live migration (SPEC §3), as pure math: the rounds a vMotion sends,
//! when it switches over, its downtime, SDPS throttling and the switchover limit. The engine
//! (a later milestone) steps through the same model in time; predictions fast-forward it.

use serde::{Deserialize, Serialize};

/// Device and checkpoint state sent at switchover, bytes (8 MiB).
pub const CHECKPOINT_BYTES: f64 = 8.0 * 1024.0 * 1024.0;
/// Default downtime target, seconds.
pub const DEFAULT_DOWNTIME_TARGET_S: f64 = 0.5;
/// Rounds after which the switchover is forced.
pub const MAX_ROUNDS: u32 = 30;
/// A stop-and-copy longer than this fails the migration, seconds.
pub const MAX_SWITCHOVER_S: f64 = 100.0;
/// A round that does not shrink the dirty set by this fraction engages SDPS.
pub const MIN_SHRINK: f64 = 0.10;
/// SDPS throttle: first step, increment per round, ceiling.
pub const THROTTLE_START: f64 = 0.20;
pub const THROTTLE_STEP: f64 = 0.10;
pub const THROTTLE_MAX: f64 = 0.99;

/// Bytes per second of a link of `gbps` Gbit/s carried alone.
pub fn link_rate(gbps: f64) -> f64 {
    gbps * 125_000_000.0
}

/// What the pre-copy needs to know, in bytes and seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrecopyInput {
    /// Transfer rate R, bytes/s.
    pub rate: f64,
    /// Guest memory M, bytes.
    pub memory: f64,
    /// Fraction z of zero pages (skipped in round 0).
    pub zero_fraction: f64,
    /// Dirty rate D, bytes/s.
    pub dirty_rate: f64,
    /// Writable working set W, bytes; `None` is unbounded.
    pub working_set: Option<f64>,
    /// Downtime target, seconds.
    pub downtime_target: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Round {
    pub round: u32,
    /// Bytes sent in this round (the last one includes the checkpoint state).
    pub bytes: f64,
    pub duration_s: f64,
    /// Dirty rate in effect while this round was sent (after throttling), bytes/s.
    pub dirty_rate: f64,
    /// SDPS throttle in effect during this round (0 when off).
    pub throttle: f64,
    /// Whether this round was the stop-and-copy.
    pub switchover: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrecopyOutcome {
    /// The VM resumed on the target.
    pub converged: bool,
    pub rounds: Vec<Round>,
    pub bytes_total: f64,
    pub duration_s: f64,
    /// Stun time at switchover, seconds (of the attempted switchover when failed).
    pub downtime_s: f64,
    /// Highest SDPS throttle reached.
    pub max_throttle: f64,
    /// Why the migration failed, in vCenter's words.
    pub failure: Option<String>,
}

/// Runs the pre-copy rounds to their end.
pub fn simulate(input: &PrecopyInput) -> PrecopyOutcome {
    let r = input.rate;
    let s = CHECKPOINT_BYTES;
    let mut rounds = Vec::new();
    let mut throttle = 0.0_f64;
    let mut to_send = input.memory * (1.0 - input.zero_fraction);
    let mut previous: Option<f64> = None;
    let mut total = 0.0;
    let mut elapsed = 0.0;
    let mut max_throttle = 0.0_f64;
    let mut round = 0u32;
    loop {
        // SDPS: a round that did not shrink the dirty set enough raises the throttle.
        if let Some(prev) = previous {
            if to_send > (1.0 - MIN_SHRINK) * prev {
                throttle = if throttle == 0.0 {
                    THROTTLE_START
                } else {
                    (throttle + THROTTLE_STEP).min(THROTTLE_MAX)
                };
                max_throttle = max_throttle.max(throttle);
            }
        }
        let dirty = input.dirty_rate * (1.0 - throttle);
        let stop_and_copy = (to_send + s) / r;
        if stop_and_copy <= input.downtime_target || round >= MAX_ROUNDS {
            let bytes = to_send + s;
            let failed = stop_and_copy > MAX_SWITCHOVER_S;
            rounds.push(Round {
                round,
                bytes,
                duration_s: stop_and_copy,
                dirty_rate: dirty,
                throttle,
                switchover: true,
            });
            if failed {
                return PrecopyOutcome {
                    converged: false,
                    rounds,
                    bytes_total: total,
                    duration_s: elapsed,
                    downtime_s: stop_and_copy,
                    max_throttle,
                    failure: Some(format!(
                        "The migration exceeded the maximum switchover time of {} second(s)",
                        MAX_SWITCHOVER_S as u32
                    )),
                };
            }
            total += bytes;
            elapsed += stop_and_copy;
            return PrecopyOutcome {
                converged: true,
                rounds,
                bytes_total: total,
                duration_s: elapsed,
                downtime_s: stop_and_copy,
                max_throttle,
                failure: None,
            };
        }
        // A pre-copy round: send, while the guest dirties memory.
        let duration = to_send / r;
        rounds.push(Round {
            round,
            bytes: to_send,
            duration_s: duration,
            dirty_rate: dirty,
            throttle,
            switchover: false,
        });
        total += to_send;
        elapsed += duration;
        previous = Some(to_send);
        to_send = match input.working_set {
            Some(w) if w > 0.0 => w * (1.0 - (-dirty * duration / w).exp()),
            _ => dirty * duration,
        };
        round += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: f64 = 1024.0 * 1024.0;
    const GIB: f64 = 1024.0 * MIB;

    fn input(memory: f64, dirty: f64, gbps: f64, target_ms: f64) -> PrecopyInput {
        PrecopyInput {
            rate: link_rate(gbps),
            memory,
            zero_fraction: 0.0,
            dirty_rate: dirty,
            working_set: None,
            downtime_target: target_ms / 1000.0,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        ((a - b) / b).abs() <= 1e-9
    }

    #[test]
    fn unbounded_working_set_matches_the_closed_form() {
        let cases = [
            (4.0 * GIB, 100.0 * MIB, 10.0, 500.0),
            (16.0 * GIB, 400.0 * MIB, 10.0, 500.0),
            (64.0 * GIB, 1000.0 * MIB, 25.0, 300.0),
            (2.0 * GIB, 10.0 * MIB, 1.0, 500.0),
            (128.0 * GIB, 2000.0 * MIB, 40.0, 100.0),
            (1.0 * GIB, 50.0 * MIB, 10.0, 2000.0),
        ];
        for (m, d, gbps, target_ms) in cases {
            let inp = input(m, d, gbps, target_ms);
            let r = inp.rate;
            let lambda = d / r;
            assert!(lambda < 0.9, "a case for the closed form keeps SDPS off");
            // n: the first round with (M·λⁿ + S)/R ≤ target.
            let n = (0..)
                .find(|&n| (m * lambda.powi(n) + CHECKPOINT_BYTES) / r <= inp.downtime_target)
                .unwrap();
            let bytes = m * (1.0 - lambda.powi(n + 1)) / (1.0 - lambda) + CHECKPOINT_BYTES;
            let out = simulate(&inp);
            assert!(out.converged);
            assert_eq!(
                out.rounds.len() as i32,
                n + 1,
                "round count for {m} {d} {gbps}"
            );
            assert!(
                close(out.bytes_total, bytes),
                "{} vs {}",
                out.bytes_total,
                bytes
            );
            assert!(close(out.duration_s, bytes / r));
            assert!(close(
                out.downtime_s,
                (m * lambda.powi(n) + CHECKPOINT_BYTES) / r
            ));
            assert_eq!(out.max_throttle, 0.0);
            assert!(out.rounds.last().unwrap().switchover);
        }
    }

    #[test]
    fn zero_pages_are_skipped_in_round_zero() {
        let mut inp = input(8.0 * GIB, 0.0, 10.0, 500.0);
        inp.zero_fraction = 0.5;
        let out = simulate(&inp);
        assert!(close(out.rounds[0].bytes, 4.0 * GIB));
    }

    #[test]
    fn a_small_working_set_converges_in_few_rounds() {
        // The guest rewrites the same 64 MiB very fast: each round resends at most that.
        let mut inp = input(16.0 * GIB, 2000.0 * MIB, 10.0, 500.0);
        inp.working_set = Some(64.0 * MIB);
        let out = simulate(&inp);
        assert!(out.converged);
        assert!(out.rounds.len() <= 3, "{:?}", out.rounds);
        assert_eq!(out.max_throttle, 0.0);
        assert!(out.downtime_s <= 0.5);
    }

    #[test]
    fn a_dirty_rate_above_the_bandwidth_engages_sdps_and_completes() {
        // 1.5 GB/s of dirtying over a 10 Gbit/s link: rounds grow until SDPS throttles.
        let inp = input(8.0 * GIB, 1500.0 * MIB, 10.0, 500.0);
        let out = simulate(&inp);
        assert!(out.converged, "{out:?}");
        assert!(out.max_throttle >= THROTTLE_START);
        assert!(out.rounds.iter().any(|r| r.throttle > 0.0));
        // The throttle rises 10 points a round once engaged, never above 99 %.
        let throttles: Vec<f64> = out
            .rounds
            .iter()
            .map(|r| r.throttle)
            .filter(|t| *t > 0.0)
            .collect();
        for w in throttles.windows(2) {
            assert!(w[1] >= w[0] && w[1] <= THROTTLE_MAX);
        }
        assert!(out.downtime_s <= 0.5);
    }

    #[test]
    fn a_hopeless_migration_fails_at_the_switchover_limit() {
        // 2 TiB of memory over a 1 Gbit/s link: the round-30 stop-and-copy would take longer
        // than 100 s even with the guest throttled to 99 %.
        let inp = input(2048.0 * GIB, 20_000.0 * MIB, 1.0, 500.0);
        let out = simulate(&inp);
        assert!(!out.converged);
        assert_eq!(out.rounds.len() as u32, MAX_ROUNDS + 1);
        assert!(out.downtime_s > MAX_SWITCHOVER_S);
        assert_eq!(
            out.failure.as_deref(),
            Some("The migration exceeded the maximum switchover time of 100 second(s)")
        );
        assert_eq!(out.max_throttle, THROTTLE_MAX);
    }

    #[test]
    fn a_forced_switchover_within_the_limit_completes_over_the_target() {
        // Converges too slowly for the target, but the forced stop-and-copy fits in 100 s.
        let mut inp = input(4.0 * GIB, 1000.0 * MIB, 1.0, 10.0);
        inp.working_set = Some(2.0 * GIB);
        let out = simulate(&inp);
        assert!(out.converged, "{out:?}");
        assert_eq!(out.rounds.len() as u32, MAX_ROUNDS + 1);
        assert!(out.downtime_s > 0.010 && out.downtime_s <= MAX_SWITCHOVER_S);
    }
}
