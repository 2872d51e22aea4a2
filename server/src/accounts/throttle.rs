//! Failed sign-ins counted per account and per address within a window: past the limit,
//! further attempts are refused before any password is checked.

use super::FAILURE_WINDOW;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

/// Most accounts or addresses remembered with failures (older ones are forgotten first).
pub const MAX_TRACKED: usize = 10_000;

/// Failed sign-ins in the current window, by account and by address.
#[derive(Default)]
pub struct Failures {
    pub by_account: HashMap<String, (Instant, u32)>,
    pub by_address: HashMap<IpAddr, (Instant, u32)>,
}

pub fn count<K: std::hash::Hash + Eq + Clone>(
    map: &mut HashMap<K, (Instant, u32)>,
    key: K,
    now: Instant,
) {
    if map.len() >= MAX_TRACKED && !map.contains_key(&key) {
        // Bounded memory: forget finished windows, then the oldest tenth.
        map.retain(|_, (start, _)| now.duration_since(*start) <= FAILURE_WINDOW);
        if map.len() >= MAX_TRACKED {
            let mut by_age: Vec<(Instant, K)> = map
                .iter()
                .map(|(k, (start, _))| (*start, k.clone()))
                .collect();
            by_age.sort_by_key(|(start, _)| *start);
            for (_, k) in by_age.into_iter().take(MAX_TRACKED / 10) {
                map.remove(&k);
            }
        }
    }
    let entry = map.entry(key).or_insert((now, 0));
    if now.duration_since(entry.0) > FAILURE_WINDOW {
        *entry = (now, 0);
    }
    entry.1 += 1;
}

pub fn blocked<K: std::hash::Hash + Eq>(
    map: &HashMap<K, (Instant, u32)>,
    key: &K,
    max: u32,
    now: Instant,
) -> Option<u64> {
    let (start, n) = map.get(key)?;
    let elapsed = now.duration_since(*start);
    (elapsed <= FAILURE_WINDOW && *n >= max).then(|| (FAILURE_WINDOW - elapsed).as_secs().max(1))
}
