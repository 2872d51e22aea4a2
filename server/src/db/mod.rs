//! Persistence through sqlx's `Any` driver: SQLite by default, PostgreSQL when the database
//! URL says `postgres://`. Each has its schema in `migrations/<backend>/`, embedded in the
//! binary. SQL here is the subset both understand (`$1` placeholders, `ON CONFLICT`,
//! `RETURNING`); values cross as `i64`, `f64` and text (flags as 0/1).
//! Only validated changes reach this module (see `inventory_service`).

mod batch;
mod connections;
mod faults;
mod inventory;
mod migrations;
mod notice;
mod plans;
mod statement;

pub use batch::store_changes;
pub use connections::{
    delete_connection, insert_connection, load_connection, load_connections, store_sync_state,
    ConnectionRow,
};
pub use faults::{delete_fault, delete_faults_of, insert_fault, load_faults};
pub use inventory::{load_inventory, store_change};
pub use migrations::{
    cancel_requests, claim, expired_leases, in_flight_for_vm, in_flight_ids, last_seq, load_events,
    load_events_after, load_migration, load_migrations, load_migrations_with_events,
    lock_admission, lost_of, renew_leases, request_cancel, running_elsewhere, store_encoded_events,
    store_events, store_migration, AdmissionLock, Lease,
};
pub use notice::{new_replica_id, notify, notify_now, Notice, CHANNEL, IDS_PER_NOTICE};
pub use plans::{load_plan, load_plans, store_plan, unfinished_plans};
pub use statement::Statement;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyConnection, Executor};
use std::str::FromStr;
use std::time::Duration;

pub type Db = sqlx::AnyPool;
pub type Tx<'a> = sqlx::Transaction<'a, Any>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("migration {0} belongs to another replica now")]
    Fenced(domain::MigrationId),
    #[error("unsupported database URL {0:?}: use sqlite://… or postgres://…")]
    Unsupported(String),
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }

    /// The backend a live connection talks to.
    pub fn of(conn: &AnyConnection) -> Backend {
        if conn.backend_name().eq_ignore_ascii_case("sqlite") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }
}

/// Opens (creating if needed) the database and brings its schema up to date.
pub async fn connect(url: &str) -> Result<Db, DbError> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of_url(url).ok_or_else(|| DbError::Unsupported(redact(url)))?;
    let pool = match backend {
        Backend::Sqlite => {
            let url = if url.contains(":memory:") || url.contains("mode=") {
                url.to_owned()
            } else if url.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            // An in-memory database lives in one connection only.
            let max = if url.contains(":memory:") { 1 } else { 4 };
            AnyPoolOptions::new()
                .max_connections(max)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute(
                            "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL;
                             PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
                        )
                        .await?;
                        Ok(())
                    })
                })
                .connect_with(AnyConnectOptions::from_str(&url)?)
                .await?
        }
        Backend::Postgres => {
            AnyPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(AnyConnectOptions::from_str(url)?)
                .await?
        }
    };
    match backend {
        Backend::Sqlite => sqlx::migrate!("../migrations/sqlite").run(&pool).await?,
        Backend::Postgres => sqlx::migrate!("../migrations/postgres").run(&pool).await?,
    }
    Ok(pool)
}

/// Which backend a pool talks to.
pub async fn backend(db: &Db) -> Result<Backend, DbError> {
    let conn = db.acquire().await?;
    Ok(Backend::of(&conn))
}

/// A URL fit for a log line: the password, if any, replaced.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Whether an error is a unique-constraint violation (on either backend).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Reads the one-row inventory revision inside a transaction, locking it until the
/// transaction ends, and moves it one step: the revision the caller's change gets.
pub async fn next_revision(tx: &mut Tx<'_>) -> Result<u64, DbError> {
    let next: i64 = sqlx::query_scalar(
        "UPDATE inventory_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision",
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(next as u64)
}

/// The inventory revision, read inside a transaction.
pub async fn revision_in(tx: &mut Tx<'_>) -> Result<u64, DbError> {
    let r: i64 = sqlx::query_scalar("SELECT revision FROM inventory_revision WHERE id = 1")
        .fetch_one(&mut **tx)
        .await?;
    Ok(r as u64)
}

/// Records an applied change (`None`: the whole inventory was replaced) under its revision.
pub async fn log_change(
    tx: &mut Tx<'_>,
    revision: u64,
    change_json: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO inventory_changes (revision, change) VALUES ($1, $2)")
        .bind(revision as i64)
        .bind(change_json)
        .execute(&mut **tx)
        .await?;
    // The log is for replicas catching up, not history (the audit log is): keep the tail.
    sqlx::query("DELETE FROM inventory_changes WHERE revision <= $1")
        .bind(revision as i64 - CHANGE_LOG_KEPT)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Changes kept in the log; a replica further behind reloads the whole inventory.
pub const CHANGE_LOG_KEPT: i64 = 10_000;

/// Logged changes after `revision`, in order: `(revision, change JSON or None)`.
pub async fn changes_after<'e, E>(
    db: E,
    revision: u64,
) -> Result<Vec<(u64, Option<String>)>, DbError>
where
    E: Executor<'e, Database = Any>,
{
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT revision, change FROM inventory_changes WHERE revision > $1 ORDER BY revision",
    )
    .bind(revision as i64)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            let r: i64 = row.try_get("revision")?;
            Ok((r as u64, row.try_get("change")?))
        })
        .collect()
}
