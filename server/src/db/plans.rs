//! Maintenance plans, stored whole as JSON beside their state (docs/DESIGN.md#running-a-plan).

use super::notice::{notify, Notice};
use super::{Db, DbError};
use domain::plan::PlanRecord;
use domain::PlanId;
use sqlx::Row;

fn decode(row: &sqlx::any::AnyRow) -> Result<PlanRecord, DbError> {
    let text: String = row.try_get("record")?;
    serde_json::from_str(&text).map_err(|e| DbError::Corrupt(format!("plan: {e}")))
}

/// Every plan, newest first.
pub async fn load_plans(db: &Db) -> Result<Vec<PlanRecord>, DbError> {
    let rows = sqlx::query("SELECT record FROM plans ORDER BY created_at_ms DESC, id")
        .fetch_all(db)
        .await?;
    rows.iter().map(decode).collect()
}

pub async fn load_plan(db: &Db, id: PlanId) -> Result<Option<PlanRecord>, DbError> {
    let row = sqlx::query("SELECT record FROM plans WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(db)
        .await?;
    row.as_ref().map(decode).transpose()
}

/// Plans not over, with when they were last written.
pub async fn unfinished_plans(db: &Db) -> Result<Vec<(PlanRecord, i64)>, DbError> {
    let rows = sqlx::query(
        "SELECT record, updated_at_ms FROM plans WHERE state NOT IN ('completed', 'failed', 'cancelled', 'interrupted', 'draft')",
    )
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| Ok((decode(row)?, row.try_get::<i64, _>("updated_at_ms")?)))
        .collect()
}

/// Stores a plan (new or changed) and tells the other replicas.
pub async fn store_plan(
    db: &Db,
    plan: &PlanRecord,
    replica: &str,
    now_ms: i64,
) -> Result<(), DbError> {
    let record = serde_json::to_string(plan).map_err(|e| DbError::Corrupt(e.to_string()))?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO plans (id, state, created_at_ms, updated_at_ms, record) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at_ms = excluded.updated_at_ms,
            record = excluded.record",
    )
    .bind(plan.id.to_string())
    .bind(plan.state.as_str())
    .bind(plan.created_at_ms)
    .bind(now_ms)
    .bind(record)
    .execute(&mut *tx)
    .await?;
    let notice = Notice::Plan {
        from: replica.to_owned(),
        id: plan.id,
    };
    notify(&mut tx, &notice).await?;
    tx.commit().await?;
    Ok(())
}
