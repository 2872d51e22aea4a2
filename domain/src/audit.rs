//! The audit log as the API and the pages see it.

use serde::{Deserialize, Serialize};

/// One recorded action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The user who did it (`system` for the server itself).
    pub actor: String,
    /// What was done: `inventory.create`, `migration.start`, `session.sign_in`…
    pub action: String,
    pub object_kind: Option<String>,
    pub object_id: Option<String>,
    /// In words (English, as the API has always said it).
    pub summary: String,
    /// The same as a code and values, for the pages (docs/DESIGN.md#languages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_words: Option<crate::Phrase>,
    /// The object before and after (JSON), where that applies.
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Every action the log records.
pub const ACTIONS: [&str; 21] = [
    "inventory.create",
    "inventory.update",
    "inventory.delete",
    "inventory.import",
    "migration.start",
    "migration.cancel",
    "fault.inject",
    "fault.clear",
    "plan.create",
    "plan.start",
    "plan.pause",
    "plan.resume",
    "plan.cancel",
    "session.sign_in",
    "session.sign_in_failed",
    "session.sign_out",
    "user.create",
    "user.role",
    "token.create",
    "token.revoke",
    "system.start",
];

/// Which entries to list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// An action, or a prefix ending with `.` (`migration.`).
    pub action: Option<String>,
    /// Entries at or after this time (ms since the epoch).
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// At most this many, newest first (default 200, at most 10,000).
    pub limit: Option<u32>,
}
