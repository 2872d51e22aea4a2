//! Test hooks: named points where a test makes something go wrong on purpose, to prove what
//! vmshift promises when it does (docs/RELIABILITY.md). A server process arms them from
//! `--failpoints` / `VMSHIFT_FAILPOINTS` (`switchover.commit=hang`); an in-process test arms
//! its own app's (`app.services().failpoints`). Unarmed, a point costs one atomic load.
//!
//! | point | actions | where |
//! |---|---|---|
//! | `switchover.commit` | `fail`: the switchover's transaction is refused at its last statement; `hang`: the server stops there, inside the open transaction (for a `kill -9`) | `InventoryService::switchover` |
//! | `engine.checking` | `hold`: migrations leaving the queue stay in their checking phase | the engine's admission |

use crate::sync::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

/// What an armed point does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Fail,
    Hang,
    Hold,
}

#[derive(Debug, Default)]
pub struct Failpoints {
    any: AtomicBool,
    armed: Mutex<BTreeMap<String, Action>>,
}

impl Failpoints {
    /// Parses `point=action,point=action` (empty: none armed).
    pub fn parse(spec: &str) -> Result<Failpoints, String> {
        let points = Failpoints::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (point, action) = item
                .split_once('=')
                .ok_or_else(|| format!("failpoint {item:?}: write point=action"))?;
            let action = match action {
                "fail" => Action::Fail,
                "hang" => Action::Hang,
                "hold" => Action::Hold,
                other => return Err(format!("failpoint {point}: unknown action {other:?}")),
            };
            points.arm(point, action);
        }
        Ok(points)
    }

    pub fn arm(&self, point: &str, action: Action) {
        self.armed.lock().insert(point.to_owned(), action);
        self.any.store(true, Ordering::Release);
    }

    pub fn disarm(&self, point: &str) {
        let mut armed = self.armed.lock();
        armed.remove(point);
        self.any.store(!armed.is_empty(), Ordering::Release);
    }

    /// What `point` does now, if it is armed (said in the log: it is being reached).
    pub fn check(&self, point: &str) -> Option<Action> {
        let action = self.armed(point);
        if action.is_some() {
            tracing::warn!(point, ?action, "failpoint reached");
        }
        action
    }

    /// Whether `point` is armed, quietly (for a state polled often).
    pub fn armed(&self, point: &str) -> Option<Action> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        self.armed.lock().get(point).copied()
    }

    /// Stops the calling task for good (a test kills the process meanwhile).
    pub async fn hang(point: &str) -> ! {
        // Written to stderr at once: the test waits for this line before its kill -9.
        eprintln!("vmshift failpoint {point}: hanging");
        std::future::pending::<()>().await;
        unreachable!("a pending future never resolves")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_armed_by_name_and_disarmed() {
        let points = Failpoints::parse("switchover.commit=fail, engine.checking=hold").unwrap();
        assert_eq!(points.check("switchover.commit"), Some(Action::Fail));
        assert_eq!(points.check("engine.checking"), Some(Action::Hold));
        assert_eq!(points.check("elsewhere"), None);
        points.disarm("switchover.commit");
        assert_eq!(points.check("switchover.commit"), None);
        assert!(Failpoints::parse("")
            .unwrap()
            .check("switchover.commit")
            .is_none());
        assert!(Failpoints::parse("switchover.commit").is_err());
        assert!(Failpoints::parse("switchover.commit=explode").is_err());
    }
}
