//! Human-readable figures for the pages.

/// "512 MiB", "4.0 GiB", "1.5 TiB".
pub fn mib(value: u64) -> String {
    let v = value as f64;
    if v >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} PiB", v / (1024.0 * 1024.0 * 1024.0))
    } else if v >= 1024.0 * 1024.0 {
        format!("{:.1} TiB", v / (1024.0 * 1024.0))
    } else if v >= 1024.0 {
        format!("{:.1} GiB", v / 1024.0)
    } else {
        format!("{value} MiB")
    }
}

/// A percentage of `used` over `total`, clamped to 0..=100 for gauges.
pub fn percent(used: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (used as f64 * 100.0 / total as f64).clamp(0.0, 100.0)
    }
}

/// "10 Gbit/s", "500 Mbit/s", "down".
pub fn link(gbps: f64) -> String {
    if gbps <= 0.0 {
        "down".into()
    } else if gbps < 1.0 {
        format!("{:.0} Mbit/s", gbps * 1000.0)
    } else {
        format!("{gbps} Gbit/s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_pick_a_readable_unit() {
        assert_eq!(mib(512), "512 MiB");
        assert_eq!(mib(4096), "4.0 GiB");
        assert_eq!(mib(1536 * 1024), "1.5 TiB");
        assert_eq!(mib(2 << 30), "2.0 PiB");
        assert_eq!(percent(50, 200), 25.0);
        assert_eq!(percent(5, 0), 0.0);
        assert_eq!(percent(300, 200), 100.0);
        assert_eq!(link(0.0), "down");
        assert_eq!(link(0.5), "500 Mbit/s");
        assert_eq!(link(25.0), "25 Gbit/s");
    }
}
