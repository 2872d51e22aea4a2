//! Messages of the live websocket (`/ws`), shared by the server and the browser.

use crate::domain::{Change, Inventory};
use serde::{Deserialize, Serialize};

/// A message from the server. `revision` counts inventory changes: a client that sees a gap
/// knows it missed something (the server then sends a fresh snapshot).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveMessage {
    Snapshot { revision: u64, inventory: Inventory },
    InventoryChanged { revision: u64, change: Change },
}
