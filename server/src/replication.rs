//! Several replicas on one PostgreSQL database. A replica that commits something live tells
//! the others with `NOTIFY` in the same transaction (delivered only if it commits), carrying
//! ids, never the data: receivers re-read what changed and push it to their own websocket
//! clients. A receiver that loses its listening connection reconnects and resynchronizes
//! everything, since notices sent meanwhile are lost.

use crate::accounts::AccountService;
use crate::db::{self, Backend, CHANNEL};
use crate::engine::service::MigrationService;
use crate::inventory_service::InventoryService;
use domain::MigrationId;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

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
            | Notice::Credentials { from } => from,
        }
    }
}

/// A fresh replica name: unique per process start.
pub fn new_replica_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("replica-{}", &id[..8])
}

/// Listens for the other replicas' notices (PostgreSQL only; one replica on SQLite) until
/// shutdown.
pub fn spawn_listener(
    url: &str,
    inventory: Arc<InventoryService>,
    migrations: Arc<MigrationService>,
    accounts: Arc<AccountService>,
    shutdown: watch::Receiver<bool>,
) {
    if Backend::of_url(url) != Some(Backend::Postgres) {
        return;
    }
    let services = Services {
        inventory,
        migrations,
        accounts,
    };
    tokio::spawn(listen(url.to_owned(), services, shutdown));
}

/// What notices act on.
struct Services {
    inventory: Arc<InventoryService>,
    migrations: Arc<MigrationService>,
    accounts: Arc<AccountService>,
}

async fn listen(url: String, services: Services, mut shutdown: watch::Receiver<bool>) {
    let Services {
        inventory,
        migrations,
        accounts,
    } = &services;
    let me = inventory.replica().to_owned();
    loop {
        let mut listener = match connect(&url).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen to the other replicas; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    _ = shutdown.changed() => return,
                }
            }
        };
        // Listening again: whatever was said meanwhile is lost, so read it all again.
        resync(inventory, migrations).await;
        accounts.withdrawn_elsewhere();
        loop {
            let notification = tokio::select! {
                n = listener.try_recv() => n,
                _ = shutdown.changed() => return,
            };
            match notification {
                Ok(Some(n)) => match serde_json::from_str::<Notice>(n.payload()) {
                    Ok(notice) if notice.from() != me => {
                        handle(notice, &services).await;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "unreadable notice ignored"),
                },
                Ok(None) | Err(_) => {
                    tracing::warn!("lost the connection to the other replicas; reconnecting");
                    break;
                }
            }
        }
    }
}

async fn connect(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

async fn handle(notice: Notice, services: &Services) {
    let result = match notice {
        Notice::Inventory { .. } => services.inventory.catch_up().await,
        Notice::Migrations { ids, .. } => services.migrations.absorb_foreign(&ids).await,
        Notice::Faults { .. } => services.migrations.reload_faults().await,
        Notice::Cancel { id, .. } => {
            services.migrations.cancel_requested(id).await;
            Ok(())
        }
        Notice::Credentials { .. } => {
            services.accounts.withdrawn_elsewhere();
            Ok(())
        }
    };
    if let Err(e) = result {
        tracing::error!(error = %e, "could not apply another replica's change");
    }
}

async fn resync(inventory: &InventoryService, migrations: &MigrationService) {
    let result: Result<(), db::DbError> = async {
        inventory.catch_up().await?;
        migrations.reload_faults().await?;
        migrations.resync_foreign().await
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "could not resynchronize with the other replicas");
    }
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
