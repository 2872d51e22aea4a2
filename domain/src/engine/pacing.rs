//! Pacing a plan's moves (docs/DESIGN.md#pacing): a live move shares its vMotion links with
//! the moves already on them; below twice the dirty rate of the busiest guest on a link, its
//! pre-copy (or theirs) re-sends most of what it sends, and the plan takes longer than if the
//! move had waited. A paced move waits for a link it can converge on.

use super::Active;
use crate::transfer::{capacity, Resource};
use crate::{Inventory, Phrase};
use std::collections::HashMap;

/// A link's share must be at least this many times the fastest dirty rate on it.
pub const HEADROOM: f64 = 2.0;

/// The moves on each link: how many, and the fastest dirty rate among them (bytes/s).
#[derive(Debug, Default)]
pub struct LinkLoad(HashMap<Resource, (usize, f64)>);

/// The rate at which a move's guest dirties memory while it is copied (0 when cold).
fn dirty_rate(a: &Active) -> f64 {
    if a.plan.cold {
        return 0.0;
    }
    a.plan.memory.map_or(0.0, |m| m.dirty_rate)
}

impl LinkLoad {
    /// The load of the moves running now.
    pub fn of<'a>(running: impl Iterator<Item = &'a Active>) -> Self {
        let mut load = LinkLoad::default();
        for a in running {
            load.add(a);
        }
        load
    }

    /// Counts a move just started.
    pub fn add(&mut self, a: &Active) {
        let dirty = dirty_rate(a);
        for link in a.plan.links() {
            let e = self.0.entry(link).or_default();
            e.0 += 1;
            e.1 = e.1.max(dirty);
        }
    }

    /// Why `a` waits, if starting it now would leave a guest on one of its links (its own or
    /// one already moving) with a share under [`HEADROOM`] times the fastest dirty rate.
    pub fn wait(
        &self,
        inv: &Inventory,
        a: &Active,
        host_name: &dyn Fn(&Resource) -> Phrase,
    ) -> Option<Phrase> {
        let dirty = dirty_rate(a);
        for link in a.plan.links() {
            let (n, fastest) = self.0.get(&link).copied().unwrap_or_default();
            if n == 0 {
                continue;
            }
            let fastest = fastest.max(dirty);
            let share = capacity(inv, link) / (n + 1) as f64;
            if fastest > 0.0 && share < HEADROOM * fastest {
                return Some(
                    Phrase::new("engine.wait.paced", &[("n", n.to_string())])
                        .with("link", host_name(&link)),
                );
            }
        }
        None
    }
}
