//! Migrations and their events: summaries as JSON rows, events appended in order.

use super::{Db, DbError};
use super::{Statement, Tx};
use domain::migration::{Migration, MigrationEvent};
use domain::{MigrationId, VmId};
use sqlx::Row;

/// Rows per multi-row insert. Small on purpose: binding a statement's values costs SQLite's
/// driver time in the square of their number (each is looked up by name among all of them), so
/// 5,000 rows a statement spent more in binding than in writing (docs/PERFORMANCE.md,
/// "Stored history").
const EVENTS_PER_INSERT: usize = 200;

/// Who runs a migration in flight, and until when that claim holds unless renewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub owner: String,
    pub expires_at_ms: i64,
}

/// Phases after which a migration is history (SQL list, for the queries below).
const FINAL: &str = "('completed', 'failed', 'cancelled')";

/// Inserts or updates a migration's summary on behalf of its owner. Returns `false`, writing
/// nothing, when the row belongs to someone else or has ended already: the owner lost its
/// lease and another replica ended the migration (the writer is fenced off).
pub async fn store_migration(
    tx: &mut Tx<'_>,
    m: &Migration,
    lease: &Lease,
) -> Result<bool, DbError> {
    let record = serde_json::to_string(m).map_err(|e| DbError::Corrupt(e.to_string()))?;
    let done = sqlx::query(&format!(
        "INSERT INTO migrations (id, vm_id, phase, created_at_ms, record, owner, lease_expires_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET phase = excluded.phase, record = excluded.record,
            lease_expires_at_ms = excluded.lease_expires_at_ms
         WHERE migrations.owner = excluded.owner AND migrations.phase NOT IN {FINAL}"
    ))
    .bind(m.id.to_string())
    .bind(m.vm_id.to_string())
    .bind(m.phase.as_str())
    .bind(m.created_at_ms)
    .bind(record)
    .bind(lease.owner.as_str())
    .bind(lease.expires_at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Makes `owner` the owner of a migration still in flight whose lease has expired by
/// `now_ms` (or that `owner` holds already). `false` when it is not claimable: it ended, or
/// its owner renewed in time, or another replica claimed it first.
pub async fn claim(
    tx: &mut Tx<'_>,
    id: MigrationId,
    owner: &str,
    now_ms: i64,
) -> Result<bool, DbError> {
    let done = sqlx::query(&format!(
        "UPDATE migrations SET owner = $1, lease_expires_at_ms = $2
         WHERE id = $3 AND phase NOT IN {FINAL}
           AND (owner IS NULL OR owner = $1 OR lease_expires_at_ms IS NULL OR lease_expires_at_ms < $2)"
    ))
    .bind(owner)
    .bind(now_ms)
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Extends the leases of every migration `owner` runs; returns the ids it still holds.
pub async fn renew_leases(db: &Db, lease: &Lease) -> Result<Vec<MigrationId>, DbError> {
    let rows = sqlx::query(&format!(
        "UPDATE migrations SET lease_expires_at_ms = $1
         WHERE owner = $2 AND phase NOT IN {FINAL} RETURNING id"
    ))
    .bind(lease.expires_at_ms)
    .bind(lease.owner.as_str())
    .fetch_all(db)
    .await?;
    rows.iter().map(|r| id_of(r, "id")).collect()
}

/// Migrations in flight whose owner's lease expired before `now_ms` (not `owner`'s own).
pub async fn expired_leases(
    db: &Db,
    owner: &str,
    now_ms: i64,
) -> Result<Vec<(MigrationId, Option<String>)>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT id, owner FROM migrations
         WHERE phase NOT IN {FINAL} AND (owner IS NULL OR owner <> $1)
           AND (lease_expires_at_ms IS NULL OR lease_expires_at_ms < $2)"
    ))
    .bind(owner)
    .bind(now_ms)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| Ok((id_of(r, "id")?, r.try_get("owner")?)))
        .collect()
}

/// Asks the owner of a migration in flight to cancel it (read at its next lease renewal, or
/// at once when told). `false` when it has ended.
pub async fn request_cancel(
    tx: &mut Tx<'_>,
    id: MigrationId,
    actor: &str,
) -> Result<bool, DbError> {
    let done = sqlx::query(&format!(
        "UPDATE migrations SET cancel_requested_by = $1 WHERE id = $2 AND phase NOT IN {FINAL}"
    ))
    .bind(actor)
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Cancels asked of `owner`'s migrations: `(id, who asked)`.
pub async fn cancel_requests(db: &Db, owner: &str) -> Result<Vec<(MigrationId, String)>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT id, cancel_requested_by FROM migrations
         WHERE owner = $1 AND cancel_requested_by IS NOT NULL AND phase NOT IN {FINAL}"
    ))
    .bind(owner)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| Ok((id_of(r, "id")?, r.try_get("cancel_requested_by")?)))
        .collect()
}

/// Ids of migrations in flight (any owner).
pub async fn in_flight_ids(db: &Db) -> Result<Vec<MigrationId>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT id FROM migrations WHERE phase NOT IN {FINAL}"
    ))
    .fetch_all(db)
    .await?;
    rows.iter().map(|r| id_of(r, "id")).collect()
}

/// The migration in flight of a VM, if any.
pub async fn in_flight_for_vm(db: &Db, vm: VmId) -> Result<Option<MigrationId>, DbError> {
    let row = sqlx::query(&format!(
        "SELECT id FROM migrations WHERE vm_id = $1 AND phase NOT IN {FINAL}"
    ))
    .bind(vm.to_string())
    .fetch_optional(db)
    .await?;
    row.map(|r| id_of(&r, "id")).transpose()
}

/// Which of `ids` another replica owns now.
pub async fn lost_of(
    db: &Db,
    owner: &str,
    ids: &[MigrationId],
) -> Result<Vec<MigrationId>, DbError> {
    let mut lost = Vec::new();
    for chunk in ids.chunks(500) {
        let mut q = Statement::new("SELECT id FROM migrations WHERE owner <> ");
        q.bind(owner.to_owned()).push(" AND id IN (");
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(id.to_string());
        }
        q.push(")");
        for row in q.fetch_all(db).await? {
            lost.push(id_of(&row, "id")?);
        }
    }
    Ok(lost)
}

fn id_of(row: &sqlx::any::AnyRow, column: &str) -> Result<MigrationId, DbError> {
    let text: String = row.try_get(column)?;
    text.parse()
        .map_err(|_| DbError::Corrupt(format!("{column}: bad migration id {text:?}")))
}

/// One migration's summary and its owner.
pub async fn load_migration(
    db: &Db,
    id: MigrationId,
) -> Result<Option<(Migration, Option<String>)>, DbError> {
    let row = sqlx::query("SELECT record, owner FROM migrations WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(db)
        .await?;
    row.map(|row| {
        let text: String = row.try_get("record")?;
        let m = serde_json::from_str(&text)
            .map_err(|e| DbError::Corrupt(format!("migration record: {e}")))?;
        Ok((m, row.try_get("owner")?))
    })
    .transpose()
}

/// Summaries and owners of these migrations (those that exist), read in one query.
/// Migrations' records with their owners, and their events after the given `seq`s, read in
/// one snapshot: a record is never older than an event read with it (a switchover stores the
/// completed record and its last event together; read apart, a replica could show a
/// migration completed without its end).
pub async fn load_migrations_with_events(
    db: &Db,
    ids: &[MigrationId],
    after: &[(MigrationId, u64)],
) -> Result<MigrationsRead, DbError> {
    let mut tx = db.begin().await?;
    if super::Backend::of(&tx) == super::Backend::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await?;
    }
    let records = load_migrations_by_id(&mut tx, ids).await?;
    let events = load_events_after_many(&mut tx, after).await?;
    tx.commit().await?;
    Ok((records, events))
}

/// Records with their owners, and events with their JSON.
pub type MigrationsRead = (
    Vec<(Migration, Option<String>)>,
    Vec<(MigrationEvent, String)>,
);

async fn load_migrations_by_id(
    tx: &mut Tx<'_>,
    ids: &[MigrationId],
) -> Result<Vec<(Migration, Option<String>)>, DbError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let mut q = Statement::new("SELECT record, owner FROM migrations WHERE id IN (");
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(id.to_string());
        }
        q.push(")");
        for row in q.fetch_all(&mut **tx).await? {
            let text: String = row.try_get("record")?;
            let m = serde_json::from_str(&text)
                .map_err(|e| DbError::Corrupt(format!("migration record: {e}")))?;
            out.push((m, row.try_get("owner")?));
        }
    }
    Ok(out)
}

/// The events of several migrations, each after its own `seq`, in one query per 200
/// migrations: `(event, its JSON)` by migration then `seq`.
async fn load_events_after_many(
    tx: &mut Tx<'_>,
    after: &[(MigrationId, u64)],
) -> Result<Vec<(MigrationEvent, String)>, DbError> {
    let mut out = Vec::new();
    for chunk in after.chunks(200) {
        let mut q = Statement::new("SELECT event FROM migration_events WHERE ");
        for (i, (id, seq)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            q.push("(migration_id = ")
                .bind(id.to_string())
                .push(" AND seq > ")
                .bind(*seq as i64)
                .push(")");
        }
        q.push(" ORDER BY migration_id, seq");
        for row in q.fetch_all(&mut **tx).await? {
            let text: String = row.try_get("event")?;
            let e =
                serde_json::from_str(&text).map_err(|e| DbError::Corrupt(format!("event: {e}")))?;
            out.push((e, text));
        }
    }
    Ok(out)
}

/// A migration's events after `seq`, in order.
pub async fn load_events_after(
    db: &Db,
    id: MigrationId,
    seq: u64,
) -> Result<Vec<(MigrationEvent, String)>, DbError> {
    let rows = sqlx::query(
        "SELECT event FROM migration_events WHERE migration_id = $1 AND seq > $2 ORDER BY seq",
    )
    .bind(id.to_string())
    .bind(seq as i64)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            let text: String = row.try_get("event")?;
            let e =
                serde_json::from_str(&text).map_err(|e| DbError::Corrupt(format!("event: {e}")))?;
            Ok((e, text))
        })
        .collect()
}

/// Appends events (already in order, `seq` continuing each migration's history).
pub async fn store_events(tx: &mut Tx<'_>, events: &[MigrationEvent]) -> Result<(), DbError> {
    let json: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(e).map_err(|e| DbError::Corrupt(e.to_string())))
        .collect::<Result<_, _>>()?;
    store_encoded_events(tx, events, &json).await
}

/// Appends events already encoded as JSON (`json[i]` is `events[i]`), so that the live
/// stream and the history share one encoding.
pub async fn store_encoded_events(
    tx: &mut Tx<'_>,
    events: &[MigrationEvent],
    json: &[String],
) -> Result<(), DbError> {
    // Transient progress is sent live, never stored (docs/DESIGN.md#stored-history).
    let rows: Vec<(&MigrationEvent, &String)> = events
        .iter()
        .zip(json)
        .filter(|(e, _)| !e.transient)
        .collect();
    for chunk in rows.chunks(EVENTS_PER_INSERT) {
        let mut q = Statement::new("INSERT INTO migration_events (migration_id, seq, event)");
        q.values(chunk.iter(), |row, (e, text)| {
            row.bind(e.migration_id.to_string())
                .bind(e.seq as i64)
                .bind(String::clone(text));
        });
        q.execute(&mut **tx).await?;
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
        sqlx::query("SELECT event FROM migration_events WHERE migration_id = $1 ORDER BY seq")
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
        sqlx::query_scalar("SELECT MAX(seq) FROM migration_events WHERE migration_id = $1")
            .bind(id.to_string())
            .fetch_one(db)
            .await?;
    Ok(seq.unwrap_or(0) as u64)
}

/// The advisory lock that serializes admission across replicas (PostgreSQL).
const ADMISSION_LOCK: i64 = 0x766d_7368_6966_7431;

/// Held while a replica admits queued migrations: no other replica admits meanwhile, so each
/// sees the slots the others' running migrations take (docs/DESIGN.md#several-replicas).
pub struct AdmissionLock {
    conn: sqlx::pool::PoolConnection<sqlx::Any>,
}

/// Waits for the admission lock (PostgreSQL only; released by [`AdmissionLock::release`], or
/// by PostgreSQL if this process dies holding it).
pub async fn lock_admission(db: &Db) -> Result<AdmissionLock, DbError> {
    let mut conn = db.acquire().await?;
    sqlx::query("SELECT 1 FROM (SELECT pg_advisory_lock($1)) AS locked")
        .bind(ADMISSION_LOCK)
        .execute(&mut *conn)
        .await?;
    Ok(AdmissionLock { conn })
}

impl AdmissionLock {
    pub async fn release(mut self) {
        let unlocked = sqlx::query("SELECT 1 FROM (SELECT pg_advisory_unlock($1)) AS unlocked")
            .bind(ADMISSION_LOCK)
            .execute(&mut *self.conn)
            .await;
        if let Err(e) = unlocked {
            // Dropped with its connection instead: PostgreSQL releases it when it closes.
            tracing::error!(error = %e, "could not release the admission lock");
            self.conn.close_on_drop();
        }
    }
}

/// The migrations other replicas run now (out of the queue, not ended), with their owner.
pub async fn running_elsewhere(db: &Db, me: &str) -> Result<Vec<(Migration, String)>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT record, owner FROM migrations
         WHERE owner IS NOT NULL AND owner <> $1 AND phase <> 'queued' AND phase NOT IN {FINAL}"
    ))
    .bind(me)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            let text: String = row.try_get("record")?;
            let owner: String = row.try_get("owner")?;
            let m = serde_json::from_str(&text)
                .map_err(|e| DbError::Corrupt(format!("migration record: {e}")))?;
            Ok((m, owner))
        })
        .collect()
}
