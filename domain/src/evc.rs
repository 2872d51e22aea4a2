//! EVC modes and vmshift's CPU feature levels (docs/IMPORT.md#evc), for every source that
//! names them (RVTools exports, vCenter): each vendor's baselines
//! in order, the same number for the generations of the same age.

use crate::CpuVendor;

/// vCenter's EVC mode keys with vmshift's level.
const MODES: &[(&str, u32)] = &[
    ("intel-merom", 1),
    ("intel-penryn", 2),
    ("intel-nehalem", 3),
    ("intel-westmere", 4),
    ("intel-sandybridge", 5),
    ("intel-ivybridge", 6),
    ("intel-haswell", 7),
    ("intel-broadwell", 8),
    ("intel-skylake", 9),
    ("intel-cascadelake", 10),
    ("intel-icelake", 11),
    ("intel-sapphirerapids", 12),
    ("amd-rev-e", 1),
    ("amd-rev-f", 2),
    ("amd-greyhound", 3),
    ("amd-greyhound-no3dnow", 3),
    ("amd-bulldozer", 5),
    ("amd-piledriver", 6),
    ("amd-steamroller", 7),
    ("amd-zen", 8),
    ("amd-zen2", 9),
    ("amd-zen3", 10),
    ("amd-zen4", 11),
];

/// The level of an EVC mode key (`intel-broadwell`), in any case; `None` for an empty,
/// disabled or unknown mode.
pub fn level(key: &str) -> Option<u32> {
    let key = key.trim().to_lowercase();
    MODES.iter().find(|(k, _)| *k == key).map(|(_, l)| *l)
}

/// The EVC mode key of `level` for `vendor`: the newest mode at or below it.
pub fn key(level: u32, vendor: CpuVendor) -> &'static str {
    let prefix = match vendor {
        CpuVendor::Amd => "amd-",
        _ => "intel-",
    };
    MODES
        .iter()
        .filter(|(k, l)| k.starts_with(prefix) && *l <= level)
        .rev()
        .max_by_key(|(_, l)| *l)
        .map_or(
            if prefix == "amd-" {
                "amd-rev-e"
            } else {
                "intel-merom"
            },
            |(k, _)| k,
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_levels_go_both_ways() {
        assert_eq!(level("Intel-Broadwell"), Some(8));
        assert_eq!(level(""), None);
        assert_eq!(level("disabled"), None);
        assert_eq!(key(8, CpuVendor::Intel), "intel-broadwell");
        assert_eq!(key(4, CpuVendor::Amd), "amd-greyhound");
        for (k, l) in MODES {
            let vendor = if k.starts_with("amd") {
                CpuVendor::Amd
            } else {
                CpuVendor::Intel
            };
            assert_eq!(level(key(*l, vendor)), Some(*l), "{k}");
        }
    }
}
