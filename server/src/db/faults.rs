//! Injected faults, shared by every replica's engine.

use super::{Db, DbError, Tx};
use domain::migration::Fault;
use domain::FaultId;
use sqlx::Row;

/// Every fault, oldest first.
pub async fn load_faults(db: &Db) -> Result<Vec<Fault>, DbError> {
    let rows = sqlx::query("SELECT record FROM faults ORDER BY created_at_ms, id")
        .fetch_all(db)
        .await?;
    rows.iter()
        .map(|row| {
            let text: String = row.try_get("record")?;
            serde_json::from_str(&text).map_err(|e| DbError::Corrupt(format!("fault: {e}")))
        })
        .collect()
}

/// Stores a new fault; `false` when its target already has a fault of that kind.
pub async fn insert_fault(tx: &mut Tx<'_>, fault: &Fault) -> Result<bool, DbError> {
    let record = serde_json::to_string(fault).map_err(|e| DbError::Corrupt(e.to_string()))?;
    let done = sqlx::query(
        "INSERT INTO faults (id, kind, target_id, created_at_ms, record) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (kind, target_id) DO NOTHING",
    )
    .bind(fault.id.to_string())
    .bind(fault.kind.as_str())
    .bind(fault.target_id.to_string())
    .bind(fault.created_at_ms)
    .bind(record)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a fault; the removed one, or `None` when there is no such fault.
pub async fn delete_fault(tx: &mut Tx<'_>, id: FaultId) -> Result<Option<Fault>, DbError> {
    let row = sqlx::query("DELETE FROM faults WHERE id = $1 RETURNING record")
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|row| {
        let text: String = row.try_get("record")?;
        serde_json::from_str(&text).map_err(|e| DbError::Corrupt(format!("fault: {e}")))
    })
    .transpose()
}

/// Removes the faults aimed at an object being deleted (a host or a datastore): how many.
pub async fn delete_faults_of(tx: &mut Tx<'_>, target: uuid::Uuid) -> Result<u64, DbError> {
    let done = sqlx::query("DELETE FROM faults WHERE target_id = $1")
        .bind(target.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}
