//! Connections to vCenters (docs/VCENTER.md#connections): their settings (the password as
//! stored: encrypted) and what their sync last said.

use super::{Db, DbError};
use sqlx::Row;
use uuid::Uuid;

/// A connection's row.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub url: String,
    pub username: String,
    /// Encrypted (docs/VCENTER.md#credentials).
    pub sealed_password: String,
    pub insecure_tls: bool,
    pub ca_pem: Option<String>,
    pub accept_sha256: Option<String>,
    pub created_at_ms: i64,
    pub state: String,
    pub synced_at_ms: Option<i64>,
    pub last_error: Option<String>,
}

fn decode(row: &sqlx::any::AnyRow) -> Result<ConnectionRow, DbError> {
    let id: String = row.try_get("id")?;
    Ok(ConnectionRow {
        id: id
            .parse()
            .map_err(|_| DbError::Corrupt(format!("connection id {id:?}")))?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        url: row.try_get("url")?,
        username: row.try_get("username")?,
        sealed_password: row.try_get("password")?,
        insecure_tls: row.try_get::<i64, _>("insecure_tls")? != 0,
        ca_pem: row.try_get("ca_pem")?,
        accept_sha256: row.try_get("accept_sha256")?,
        created_at_ms: row.try_get("created_at_ms")?,
        state: row.try_get("state")?,
        synced_at_ms: row.try_get("synced_at_ms")?,
        last_error: row.try_get("last_error")?,
    })
}

pub async fn load_connections(db: &Db) -> Result<Vec<ConnectionRow>, DbError> {
    let rows = sqlx::query("SELECT * FROM connections ORDER BY name")
        .fetch_all(db)
        .await?;
    rows.iter().map(decode).collect()
}

pub async fn load_connection(db: &Db, id: Uuid) -> Result<Option<ConnectionRow>, DbError> {
    let row = sqlx::query("SELECT * FROM connections WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(db)
        .await?;
    row.as_ref().map(decode).transpose()
}

/// Stores a new connection; `Ok(false)` when its name is taken.
pub async fn insert_connection(db: &Db, c: &ConnectionRow) -> Result<bool, DbError> {
    let taken = sqlx::query("SELECT 1 FROM connections WHERE name = $1")
        .bind(&c.name)
        .fetch_optional(db)
        .await?
        .is_some();
    if taken {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO connections (id, name, kind, url, username, password, insecure_tls, ca_pem,
            accept_sha256, created_at_ms, state, synced_at_ms, last_error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(c.id.to_string())
    .bind(&c.name)
    .bind(&c.kind)
    .bind(&c.url)
    .bind(&c.username)
    .bind(&c.sealed_password)
    .bind(i64::from(c.insecure_tls))
    .bind(c.ca_pem.clone())
    .bind(c.accept_sha256.clone())
    .bind(c.created_at_ms)
    .bind(&c.state)
    .bind(c.synced_at_ms)
    .bind(c.last_error.clone())
    .execute(db)
    .await?;
    Ok(true)
}

/// What the sync says now: its state, when it last matched vCenter, its last error.
pub async fn store_sync_state(
    db: &Db,
    id: Uuid,
    state: &str,
    synced_at_ms: Option<i64>,
    last_error: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE connections SET state = $1, synced_at_ms = COALESCE($2, synced_at_ms),
            last_error = $3 WHERE id = $4",
    )
    .bind(state)
    .bind(synced_at_ms)
    .bind(last_error.map(str::to_string))
    .bind(id.to_string())
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes a connection whose objects are gone already.
pub async fn delete_connection(db: &Db, id: Uuid) -> Result<bool, DbError> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM object_sources WHERE connection_id = $1")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query("DELETE FROM connections WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected()
        > 0;
    tx.commit().await?;
    Ok(done)
}
