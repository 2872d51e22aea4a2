//! The engine's clock, injected: wall time drives simulated time through a speed factor.

use std::time::Duration;

pub trait Clock: Send + Sync + 'static {
    /// Monotonic time since an arbitrary origin.
    fn elapsed(&self) -> Duration;
    /// Wall-clock time, milliseconds since the Unix epoch (for timestamps).
    fn unix_ms(&self) -> i64;
}

/// The machine's clocks (tokio's, so a test may pause and advance it).
#[derive(Debug, Clone)]
pub struct SystemClock {
    origin: tokio::time::Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }

    fn unix_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }
}
