//! Failed sign-ins counted per account and per client address within a window, in the
//! database, so that every replica counts the same attempts. Each attempt counts before its
//! password is checked (parallel guesses cannot slip past the limit) and is taken back when it
//! succeeds. Only ended windows are forgotten: a key still over its limit stays.

use super::FAILURE_WINDOW;
use crate::db::{Db, DbError};
use sqlx::Row;
use std::net::IpAddr;

/// What an attempt is counted against.
pub enum Key<'a> {
    Account(&'a str),
    Address(IpAddr),
}

impl Key<'_> {
    fn text(&self) -> String {
        match self {
            Key::Account(name) => format!("account:{name}"),
            Key::Address(ip) => format!("address:{ip}"),
        }
    }
}

fn window_ms() -> i64 {
    FAILURE_WINDOW.as_millis() as i64
}

/// Counts an attempt against `key` unless it already has `max` failures in the current window;
/// then `Some(seconds to wait)`, and the attempt is not counted. One statement: replicas and
/// parallel requests cannot slip past the limit.
pub async fn count(db: &Db, key: &Key<'_>, max: u32, now_ms: i64) -> Result<Option<u64>, DbError> {
    // Every SET expression reads the row as it was.
    let row = sqlx::query(
        "INSERT INTO sign_in_failures (key, window_start_ms, failures, last_refused)
         VALUES ($1, $2, 1, 0)
         ON CONFLICT (key) DO UPDATE SET
            failures = CASE WHEN sign_in_failures.window_start_ms <= $3 THEN 1
                            WHEN sign_in_failures.failures >= $4 THEN sign_in_failures.failures
                            ELSE sign_in_failures.failures + 1 END,
            last_refused = CASE WHEN sign_in_failures.window_start_ms <= $3 THEN 0
                                WHEN sign_in_failures.failures >= $4 THEN 1
                                ELSE 0 END,
            window_start_ms = CASE WHEN sign_in_failures.window_start_ms <= $3 THEN $2
                                   ELSE sign_in_failures.window_start_ms END
         RETURNING failures, window_start_ms, last_refused",
    )
    .bind(key.text())
    .bind(now_ms)
    .bind(now_ms - window_ms())
    .bind(i64::from(max))
    .fetch_one(db)
    .await?;
    let failures: i64 = row.try_get("failures")?;
    let start: i64 = row.try_get("window_start_ms")?;
    let refused: i64 = row.try_get("last_refused")?;
    if failures == 1 && refused == 0 {
        forget_ended(db, now_ms).await?;
    }
    let left_ms = (start + window_ms() - now_ms).max(1_000);
    Ok((refused != 0).then(|| (left_ms as u64).div_ceil(1000)))
}

/// Takes back an attempt counted against `key` (the attempt was refused for another reason).
pub async fn uncount(db: &Db, key: &Key<'_>) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE sign_in_failures SET failures = failures - 1 WHERE key = $1 AND failures > 0",
    )
    .bind(key.text())
    .execute(db)
    .await?;
    Ok(())
}

/// A successful sign-in: the account's failures are forgiven, and the address's attempt
/// taken back.
pub async fn succeeded(
    db: &Db,
    account: &str,
    address: IpAddr,
    now_ms: i64,
) -> Result<(), DbError> {
    sqlx::query("DELETE FROM sign_in_failures WHERE key = $1")
        .bind(Key::Account(account).text())
        .execute(db)
        .await?;
    uncount(db, &Key::Address(address)).await?;
    forget_ended(db, now_ms).await
}

/// Rows of windows that have ended are of no use any more.
async fn forget_ended(db: &Db, now_ms: i64) -> Result<(), DbError> {
    sqlx::query("DELETE FROM sign_in_failures WHERE window_start_ms <= $1")
        .bind(now_ms - window_ms())
        .execute(db)
        .await?;
    Ok(())
}
