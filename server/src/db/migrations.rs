//! Migrations and their events: summaries as JSON rows, events appended in order.

use super::{Db, DbError};
use app::domain::migration::{Migration, MigrationEvent};
use app::domain::MigrationId;
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};

/// Rows per multi-row insert (SQLite allows 32,766 bound values).
const EVENTS_PER_INSERT: usize = 5_000;

/// Inserts or replaces a migration's summary.
pub async fn store_migration(
    tx: &mut Transaction<'_, Sqlite>,
    m: &Migration,
) -> Result<(), DbError> {
    let record = serde_json::to_string(m).map_err(|e| DbError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO migrations (id, vm_id, phase, created_at_ms, record) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET phase = excluded.phase, record = excluded.record",
    )
    .bind(m.id.to_string())
    .bind(m.vm_id.to_string())
    .bind(m.phase.as_str())
    .bind(m.created_at_ms)
    .bind(record)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Appends events (already in order, `seq` continuing each migration's history).
pub async fn store_events(
    tx: &mut Transaction<'_, Sqlite>,
    events: &[MigrationEvent],
) -> Result<(), DbError> {
    let json: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(e).map_err(|e| DbError::Corrupt(e.to_string())))
        .collect::<Result<_, _>>()?;
    store_encoded_events(tx, events, &json).await
}

/// Appends events already encoded as JSON (`json[i]` is `events[i]`), so that the live
/// stream and the history share one encoding.
pub async fn store_encoded_events(
    tx: &mut Transaction<'_, Sqlite>,
    events: &[MigrationEvent],
    json: &[String],
) -> Result<(), DbError> {
    for (chunk, texts) in events
        .chunks(EVENTS_PER_INSERT)
        .zip(json.chunks(EVENTS_PER_INSERT))
    {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO migration_events (migration_id, seq, event) ");
        q.push_values(chunk.iter().zip(texts), |mut b, (e, text)| {
            b.push_bind(e.migration_id.to_string())
                .push_bind(e.seq as i64)
                .push_bind(text.as_str());
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Every stored migration, oldest first.
pub async fn load_migrations(db: &Db) -> Result<Vec<Migration>, DbError> {
    let rows = sqlx::query("SELECT record FROM migrations ORDER BY created_at_ms, id")
        .fetch_all(db)
        .await?;
    rows.iter()
        .map(|row| {
            let text: String = row.try_get("record")?;
            serde_json::from_str(&text)
                .map_err(|e| DbError::Corrupt(format!("migration record: {e}")))
        })
        .collect()
}

/// A migration's events in order.
pub async fn load_events(db: &Db, id: MigrationId) -> Result<Vec<MigrationEvent>, DbError> {
    let rows =
        sqlx::query("SELECT event FROM migration_events WHERE migration_id = ? ORDER BY seq")
            .bind(id.to_string())
            .fetch_all(db)
            .await?;
    rows.iter()
        .map(|row| {
            let text: String = row.try_get("event")?;
            serde_json::from_str(&text).map_err(|e| DbError::Corrupt(format!("event: {e}")))
        })
        .collect()
}

/// The highest stored `seq` of a migration (0 when none).
pub async fn last_seq(db: &Db, id: MigrationId) -> Result<u64, DbError> {
    let seq: Option<i64> =
        sqlx::query_scalar("SELECT MAX(seq) FROM migration_events WHERE migration_id = ?")
            .bind(id.to_string())
            .fetch_one(db)
            .await?;
    Ok(seq.unwrap_or(0) as u64)
}
