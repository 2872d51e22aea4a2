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

/// Bytes as "740 KiB", "12.5 MiB", "3.2 GiB".
pub fn bytes(value: f64) -> String {
    let v = value.max(0.0);
    const K: f64 = 1024.0;
    if v >= K * K * K * K {
        format!("{:.1} TiB", v / (K * K * K * K))
    } else if v >= K * K * K {
        format!("{:.1} GiB", v / (K * K * K))
    } else if v >= K * K {
        format!("{:.1} MiB", v / (K * K))
    } else if v >= K {
        format!("{:.0} KiB", v / K)
    } else {
        format!("{v:.0} B")
    }
}

/// A transfer rate: "118 MiB/s".
pub fn rate(bytes_per_s: f64) -> String {
    format!("{}/s", bytes(bytes_per_s))
}

/// Seconds as "0.4 s", "42 s", "3 min 05 s", "2 h 10 min".
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0);
    if s < 10.0 {
        format!("{s:.1} s")
    } else if s < 60.0 {
        format!("{s:.0} s")
    } else if s < 3600.0 {
        format!("{} min {:02} s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!(
            "{} h {:02} min",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        )
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
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(3.0 * 1024.0 * 1024.0 * 1024.0), "3.0 GiB");
        assert_eq!(rate(118.0 * 1024.0 * 1024.0), "118.0 MiB/s");
        assert_eq!(duration(0.42), "0.4 s");
        assert_eq!(duration(185.0), "3 min 05 s");
        assert_eq!(duration(7_800.0), "2 h 10 min");
    }
}
