//! Several replicas on one PostgreSQL database. A replica that commits something live tells
//! the others with `NOTIFY` in the same transaction (delivered only if it commits), carrying
//! ids, never the data: receivers re-read what changed and push it to their own websocket
//! clients. A receiver that loses its listening connection reconnects and resynchronizes
//! everything, since notices sent meanwhile are lost.

use crate::accounts::AccountService;
use crate::db::{self, Backend, Notice, CHANNEL};
use crate::engine::MigrationService;
use crate::inventory::InventoryService;
use sqlx::postgres::PgListener;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What the other replicas' notices act on.
#[derive(Clone)]
pub struct Services {
    pub inventory: Arc<InventoryService>,
    pub migrations: Arc<MigrationService>,
    pub accounts: Arc<AccountService>,
    pub plans: Arc<crate::plans::PlanService>,
}

/// Listens for the other replicas' notices (PostgreSQL only; one replica on SQLite) until
/// shutdown.
pub fn spawn_listener(url: &str, services: Services, shutdown: watch::Receiver<bool>) {
    if Backend::of_url(url) != Some(Backend::Postgres) {
        return;
    }
    tokio::spawn(listen(url.to_owned(), services, shutdown));
}

async fn listen(url: String, services: Services, mut shutdown: watch::Receiver<bool>) {
    let Services {
        inventory,
        migrations,
        accounts,
        ..
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
        Notice::Plan { id, .. } => services.plans.reload(id).await,
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
