//! Memory pre-copy of a live migration (docs/DESIGN.md#transfer-model), as pure math: the rounds a vMotion sends,
//! when it switches over, its downtime, SDPS throttling and the switchover limit. The engine
//! steps through the same model in time; predictions fast-forward it.

use super::platform::Platform;
use serde::{Deserialize, Serialize};

/// Device and checkpoint state sent at switchover on vSphere, bytes (8 MiB).
pub const CHECKPOINT_BYTES: f64 = Platform::VSPHERE.checkpoint_bytes;
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
    /// The hypervisor's checkpoint size and stop-and-copy costs.
    #[serde(default)]
    pub platform: Platform,
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
    pub failure: Option<crate::Phrase>,
}

/// The pre-copy as a resumable state machine: the engine advances it tick by tick with the
/// rate its fair share gives at that moment; predictions run it to the end at one rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Precopy {
    input: PrecopyInput,
    round: u32,
    /// Bytes of the current round (the switchover round includes the checkpoint state).
    to_send: f64,
    sent_in_round: f64,
    round_elapsed: f64,
    switchover: bool,
    previous: Option<f64>,
    throttle: f64,
    max_throttle: f64,
    total: f64,
    elapsed: f64,
    rounds: Vec<Round>,
    outcome: Option<PrecopyOutcome>,
}

impl Precopy {
    /// Starts round 0 at `rate` bytes/s (used to decide whether it is already the switchover).
    pub fn new(input: PrecopyInput, rate: f64) -> Self {
        let mut p = Precopy {
            input,
            round: 0,
            to_send: input.memory * (1.0 - input.zero_fraction),
            sent_in_round: 0.0,
            round_elapsed: 0.0,
            switchover: false,
            previous: None,
            throttle: 0.0,
            max_throttle: 0.0,
            total: 0.0,
            elapsed: 0.0,
            rounds: Vec::new(),
            outcome: None,
        };
        p.begin_round(rate);
        p
    }

    /// Decides how the round that starts now runs: SDPS, then switchover or pre-copy.
    fn begin_round(&mut self, rate: f64) {
        if let Some(prev) = self.previous {
            if self.to_send > (1.0 - MIN_SHRINK) * prev {
                self.throttle = if self.throttle == 0.0 {
                    THROTTLE_START
                } else {
                    (self.throttle + THROTTLE_STEP).min(THROTTLE_MAX)
                };
                self.max_throttle = self.max_throttle.max(self.throttle);
            }
        }
        let checkpoint = self.input.platform.checkpoint_bytes;
        // Decided at the transfer's rate (as vSphere and QEMU both estimate it); the stun
        // itself lasts what the platform's stop-and-copy takes.
        let at_rate = (self.to_send + checkpoint) / rate;
        if at_rate <= self.input.downtime_target || self.round >= MAX_ROUNDS {
            let stop_and_copy = self
                .input
                .platform
                .stop_and_copy_s(self.to_send + checkpoint, rate);
            if stop_and_copy > MAX_SWITCHOVER_S {
                self.rounds.push(Round {
                    round: self.round,
                    bytes: self.to_send + checkpoint,
                    duration_s: stop_and_copy,
                    dirty_rate: self.dirty_rate(),
                    throttle: self.throttle,
                    switchover: true,
                });
                self.finish(
                    false,
                    stop_and_copy,
                    Some(crate::Phrase::new(
                        "engine.switchover_too_long",
                        &[("seconds", (MAX_SWITCHOVER_S as u32).to_string())],
                    )),
                );
                return;
            }
            self.switchover = true;
            self.to_send += checkpoint;
        }
    }

    fn finish(&mut self, converged: bool, downtime_s: f64, failure: Option<crate::Phrase>) {
        self.outcome = Some(PrecopyOutcome {
            converged,
            rounds: self.rounds.clone(),
            bytes_total: self.total,
            duration_s: self.elapsed,
            downtime_s,
            max_throttle: self.max_throttle,
            failure,
        });
    }

    /// Sends for `dt` seconds at `rate` bytes/s, until the end or the start of the
    /// stop-and-copy round, whichever comes first; returns the time used.
    pub fn advance(&mut self, mut dt: f64, rate: f64) -> f64 {
        let start = dt;
        while self.outcome.is_none() && dt > 0.0 && rate > 0.0 {
            let rate = if self.switchover {
                self.input.platform.stop_and_copy_rate(self.to_send, rate)
            } else {
                rate
            };
            let remaining = self.to_send - self.sent_in_round;
            let to_finish = remaining / rate;
            // A round that ends within rounding of the step's end ends in it (a step cut to
            // where the round ends must not leave a residue for the next).
            if to_finish > dt * (1.0 + 1e-12) {
                self.sent_in_round += rate * dt;
                self.round_elapsed += dt;
                self.total += rate * dt;
                self.elapsed += dt;
                dt = 0.0;
                break;
            }
            // The round completes within this step.
            dt -= to_finish;
            self.total += remaining;
            self.elapsed += to_finish;
            let duration = self.round_elapsed + to_finish;
            self.rounds.push(Round {
                round: self.round,
                bytes: self.to_send,
                duration_s: duration,
                dirty_rate: self.dirty_rate(),
                throttle: self.throttle,
                switchover: self.switchover,
            });
            if self.switchover {
                self.finish(true, duration, None);
                break;
            }
            // What the guest dirtied while this round was sent is the next round.
            let dirty = self.dirty_rate();
            self.previous = Some(self.to_send);
            self.to_send = match self.input.working_set {
                Some(w) if w > 0.0 => w * (1.0 - (-dirty * duration / w).exp()),
                _ => dirty * duration,
            };
            self.sent_in_round = 0.0;
            self.round_elapsed = 0.0;
            self.round += 1;
            self.begin_round(rate);
            if self.switchover {
                // The VM is stunned from here: the caller sees the switchover begin.
                break;
            }
        }
        start - dt
    }

    /// Dirty rate now, after the SDPS throttle, bytes/s.
    pub fn dirty_rate(&self) -> f64 {
        self.input.dirty_rate * (1.0 - self.throttle)
    }

    pub fn round(&self) -> u32 {
        self.round
    }

    pub fn throttle(&self) -> f64 {
        self.throttle
    }

    /// Bytes left in the current round (the dirty memory still to send).
    pub fn remaining(&self) -> f64 {
        (self.to_send - self.sent_in_round).max(0.0)
    }

    pub fn bytes_sent(&self) -> f64 {
        self.total
    }

    /// Seconds spent sending so far.
    pub fn elapsed(&self) -> f64 {
        self.elapsed
    }

    /// The rounds completed so far.
    pub fn rounds(&self) -> &[Round] {
        &self.rounds
    }

    pub fn in_switchover(&self) -> bool {
        self.switchover
    }

    pub fn outcome(&self) -> Option<&PrecopyOutcome> {
        self.outcome.as_ref()
    }
}

/// Runs the pre-copy rounds to their end at the input's rate.
pub fn simulate(input: &PrecopyInput) -> PrecopyOutcome {
    let mut p = Precopy::new(*input, input.rate);
    while p.outcome.is_none() {
        p.advance(f64::INFINITY, input.rate);
    }
    p.outcome
        .take()
        .expect("at a positive rate the pre-copy always ends")
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
            platform: Platform::VSPHERE,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        ((a - b) / b).abs() <= 1e-9
    }

    #[test]
    fn stepping_in_ticks_gives_the_same_result_as_one_run() {
        for (ws, dirty, platform) in [
            (None, 300.0 * MIB, Platform::VSPHERE),
            (Some(512.0 * MIB), 900.0 * MIB, Platform::VSPHERE),
            (None, 1500.0 * MIB, Platform::VSPHERE),
            (None, 300.0 * MIB, Platform::QEMU_LOOPBACK),
            (Some(512.0 * MIB), 900.0 * MIB, Platform::QEMU_LOOPBACK),
        ] {
            let mut inp = input(8.0 * GIB, dirty, 10.0, 500.0);
            inp.working_set = ws;
            inp.zero_fraction = 0.2;
            inp.platform = platform;
            let whole = simulate(&inp);
            let mut p = Precopy::new(inp, inp.rate);
            let mut ticks = 0;
            let mut last_sent = 0.0;
            while p.outcome().is_none() {
                p.advance(0.25, inp.rate);
                assert!(p.bytes_sent() >= last_sent, "bytes sent never go backwards");
                last_sent = p.bytes_sent();
                ticks += 1;
                assert!(ticks < 1_000_000);
            }
            let stepped = p.outcome().unwrap();
            assert_eq!(stepped.rounds.len(), whole.rounds.len());
            assert!(close(stepped.bytes_total, whole.bytes_total));
            assert!(close(stepped.duration_s, whole.duration_s));
            assert!(close(stepped.downtime_s, whole.downtime_s));
            assert_eq!(stepped.max_throttle, whole.max_throttle);
        }
    }

    #[test]
    fn a_slower_share_mid_round_lengthens_the_round_and_the_next_one() {
        let inp = input(4.0 * GIB, 100.0 * MIB, 10.0, 500.0);
        let full = simulate(&inp);
        let mut p = Precopy::new(inp, inp.rate);
        // Half the link for the first two seconds (another transfer shares it).
        p.advance(2.0, inp.rate / 2.0);
        p.advance(f64::INFINITY, inp.rate);
        assert!(
            p.in_switchover() && p.outcome().is_none(),
            "stops as the VM is stunned"
        );
        p.advance(f64::INFINITY, inp.rate);
        let shared = p.outcome().unwrap();
        assert!(shared.rounds[0].duration_s > full.rounds[0].duration_s);
        assert!(
            shared.rounds[1].bytes > full.rounds[1].bytes,
            "more dirtied while round 0 was slower"
        );
        assert!(shared.converged);
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
            out.failure.as_ref().map(|f| f.english.as_str()),
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

    #[test]
    fn sdps_starts_at_20_percent_and_rises_10_points_each_round_that_does_not_shrink() {
        // Dirtying twice the link rate: each round grows until the throttle bites; from the
        // round that shrinks by 10 % or more, the throttle holds.
        let rate = link_rate(10.0);
        let out = simulate(&input(1024.0 * MIB, 2.0 * rate, 10.0, 500.0));
        let throttles: Vec<f64> = out.rounds.iter().take(7).map(|r| r.throttle).collect();
        let expected = [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.6];
        for (got, want) in throttles.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{throttles:?}");
        }
        // The dirty rate in effect follows the throttle.
        assert!((out.rounds[3].dirty_rate - 2.0 * rate * 0.6).abs() < 1.0);
        assert!(out.converged);
        assert!((out.max_throttle - 0.6).abs() < 1e-12);
    }
}
