//! What a hypervisor spends besides moving bytes. The transfer model (docs/DESIGN.md#transfer-model) is the same for
//! every driver: rounds, dirty memory, the switchover rule, SDPS. These figures are what differ
//! between vSphere (docs/DESIGN.md#platforms) and QEMU on this machine (measured in the lab),
//! so that a prediction is made with the figures of the platform that will run the move.

use serde::{Deserialize, Serialize};

const MIB: f64 = 1024.0 * 1024.0;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Platform {
    /// Setting up the destination (VM shell or process, migration stream), seconds.
    pub prepare_s: f64,
    /// Device and checkpoint state sent with the last round, bytes (S in docs/DESIGN.md#memory-pre-copy).
    pub checkpoint_bytes: f64,
    /// Rate of the stop-and-copy, bytes/s, when the stunned guest's last bytes are not held
    /// to the transfer's rate (QEMU lifts its bandwidth limit once the guest is stopped);
    /// `None`: the transfer's rate, as the transfer model has it.
    pub switchover_rate: Option<f64>,
    /// Fixed cost of a stun (stopping the vCPUs, resuming on the target), seconds, added to
    /// the downtime of a live switchover.
    pub stun_s: f64,
    /// Stun of a Storage vMotion switchover (the disk references change), seconds.
    pub disk_switchover_s: f64,
    /// What a combined migration's switchover adds to the stun to let its disk mirror go,
    /// seconds.
    #[serde(default)]
    pub disk_release_s: f64,
}

impl Platform {
    /// vSphere, with the figures of docs/DESIGN.md#platforms (the simulated driver's).
    pub const VSPHERE: Platform = Platform {
        prepare_s: 1.0,
        checkpoint_bytes: 8.0 * MIB,
        switchover_rate: None,
        stun_s: 0.0,
        disk_switchover_s: 0.05,
        disk_release_s: 0.0,
    };

    /// QEMU 10 under TCG with both ends on this machine's loopback (the lab of the QEMU
    /// driver), as `bench/qmp_floor.py` measured it (docs/PERFORMANCE.md, issue 6): the
    /// destination starts in ~0.05–0.2 s (the lab replaces this with what it measures), the
    /// last round crosses at ~2.5 GB/s once the guest is stopped, whatever the cap, and a
    /// stun costs ~11 ms on top (~8 ms more for a combined move, which releases its disk
    /// mirror while the guest is held); a small guest's device state is a fraction of a MiB;
    /// a Storage vMotion's pivot to the mirrored image does not stop the guest.
    pub const QEMU_LOOPBACK: Platform = Platform {
        prepare_s: 0.1,
        checkpoint_bytes: 0.25 * MIB,
        switchover_rate: Some(2.5e9),
        stun_s: 0.011,
        // A mirror's pivot to the new image does not stop the guest.
        disk_switchover_s: 0.0,
        // The guest is held before the switchover while the NBD mirror is released.
        disk_release_s: 0.008,
    };

    /// The downtime of a stop-and-copy of `bytes` (checkpoint included) by a transfer running
    /// at `rate` bytes/s.
    pub fn stop_and_copy_s(&self, bytes: f64, rate: f64) -> f64 {
        bytes / self.switchover_rate.unwrap_or(rate) + self.stun_s
    }

    /// The rate at which the stop-and-copy's `bytes` progress, so that they take exactly
    /// [`Platform::stop_and_copy_s`] (the stun's fixed cost spread over them).
    pub fn stop_and_copy_rate(&self, bytes: f64, rate: f64) -> f64 {
        match self.switchover_rate {
            None if self.stun_s == 0.0 => rate,
            _ if bytes <= 0.0 => self.switchover_rate.unwrap_or(rate),
            _ => bytes / self.stop_and_copy_s(bytes, rate),
        }
    }

    /// Checks the figures a calibration produced: finite, not negative, rates positive.
    pub fn is_sane(&self) -> bool {
        let ok = |x: f64| x.is_finite() && x >= 0.0;
        ok(self.prepare_s)
            && ok(self.disk_release_s)
            && ok(self.checkpoint_bytes)
            && ok(self.stun_s)
            && ok(self.disk_switchover_s)
            && self
                .switchover_rate
                .is_none_or(|r| r.is_finite() && r > 0.0)
    }
}

impl Default for Platform {
    fn default() -> Self {
        Platform::VSPHERE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vsphere_stop_and_copy_is_the_bytes_over_the_transfer_rate() {
        let p = Platform::VSPHERE;
        assert_eq!(p.stop_and_copy_s(125e6, 125e6), 1.0);
        assert_eq!(p.stop_and_copy_rate(125e6, 125e6), 125e6);
    }

    #[test]
    fn an_uncapped_switchover_with_a_fixed_stun() {
        let p = Platform {
            switchover_rate: Some(1e9),
            stun_s: 0.01,
            ..Platform::VSPHERE
        };
        assert_eq!(p.disk_release_s, 0.0);
        // 10 MB at 1 GB/s = 10 ms, plus the 10 ms stun, whatever the capped rate was.
        assert!((p.stop_and_copy_s(10e6, 1e8) - 0.02).abs() < 1e-12);
        let rate = p.stop_and_copy_rate(10e6, 1e8);
        assert!((10e6 / rate - 0.02).abs() < 1e-12);
        // Nothing left to send: only the stun, at the switchover's rate.
        assert_eq!(p.stop_and_copy_rate(0.0, 1e8), 1e9);
        assert!(p.is_sane() && Platform::QEMU_LOOPBACK.is_sane());
        assert!(!Platform {
            switchover_rate: Some(0.0),
            ..p
        }
        .is_sane());
        assert!(!Platform {
            prepare_s: f64::NAN,
            ..p
        }
        .is_sane());
    }
}
