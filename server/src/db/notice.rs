//! What a replica tells the others (PostgreSQL `NOTIFY`, in the same transaction as the
//! change, so it is delivered only if the change commits): ids, never the data — receivers
//! re-read what changed (see `crate::replication`). See docs/DESIGN.md#several-replicas.

use super::{Backend, Db, DbError, Tx};
use domain::{MigrationId, PlanId};
use serde::{Deserialize, Serialize};

/// The channel replicas listen on.
pub const CHANNEL: &str = "vmshift";

/// What a notice tells the other replicas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum Notice {
    /// The inventory is at `revision` (catch up from the change log).
    Inventory { from: String, revision: u64 },
    /// These migrations have new events or summaries.
    Migrations { from: String, ids: Vec<MigrationId> },
    /// The set of injected faults changed.
    Faults { from: String },
    /// Someone asked for this migration to be cancelled (its owner does it).
    Cancel { from: String, id: MigrationId },
    /// A session or token was withdrawn (sign-out, revocation, role change): open websockets
    /// check their credentials again.
    Credentials { from: String },
    /// A maintenance plan changed (re-read it).
    Plan { from: String, id: PlanId },
}

/// Ids per migrations notice: PostgreSQL caps a payload at 8,000 bytes.
pub const IDS_PER_NOTICE: usize = 150;

impl Notice {
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("notices serialize")
    }

    pub fn from(&self) -> &str {
        match self {
            Notice::Inventory { from, .. }
            | Notice::Migrations { from, .. }
            | Notice::Faults { from }
            | Notice::Cancel { from, .. }
            | Notice::Credentials { from }
            | Notice::Plan { from, .. } => from,
        }
    }
}

/// A fresh replica name: unique per process start.
pub fn new_replica_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("replica-{}", &id[..8])
}

/// Tells the other replicas when the transaction commits; nothing on SQLite, which has one
/// replica.
pub async fn notify(tx: &mut Tx<'_>, notice: &Notice) -> Result<(), DbError> {
    if Backend::of(tx) == Backend::Postgres {
        sqlx::query("SELECT pg_notify('vmshift', $1)")
            .bind(notice.encode())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Tells the other replicas at once, outside any transaction (nothing on SQLite).
pub async fn notify_now(db: &Db, notice: &Notice) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    notify(&mut tx, notice).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_migrations_notice_fits_in_a_postgres_payload() {
        let notice = Notice::Migrations {
            from: new_replica_id(),
            ids: (0..IDS_PER_NOTICE)
                .map(|_| MigrationId::new_random())
                .collect(),
        };
        let text = notice.encode();
        assert!(text.len() < 8000, "{} bytes", text.len());
        assert_eq!(serde_json::from_str::<Notice>(&text).unwrap(), notice);
    }
}
