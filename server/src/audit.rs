//! The audit log: who did what, when, with the object before and after. Inventory changes are
//! recorded in the same transaction as the change; the rest right after the action.
//!
//! The acting user travels with the request: the authorization middleware runs each request
//! inside [`ACTOR`]'s scope, and the services read it where the action is taken.

use crate::db::{Db, DbError, Statement};
use domain::audit::{AuditEntry, AuditFilter};
use domain::Phrase;
use serde_json::Value;
use sqlx::{AnyConnection, Row};

tokio::task_local! {
    /// The user on whose behalf the current request runs.
    pub static ACTOR: String;
}

/// The acting user of the current request, or `system`.
pub fn current_actor() -> String {
    ACTOR
        .try_with(|a| a.clone())
        .unwrap_or_else(|_| "system".to_string())
}

/// What to record.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub action: &'static str,
    pub object_kind: Option<String>,
    pub object_id: Option<String>,
    /// The summary: its English is stored as `summary`, the phrase beside it for the pages
    /// (docs/DESIGN.md#languages).
    pub words: Phrase,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Record {
    /// An entry about one object, with neither state attached yet.
    pub fn about(action: &'static str, kind: &str, id: impl ToString, words: Phrase) -> Self {
        Record {
            action,
            object_kind: Some(kind.to_owned()),
            object_id: Some(id.to_string()),
            words,
            before: None,
            after: None,
        }
    }

    /// The object as it was before the action.
    pub fn before(mut self, value: &impl serde::Serialize) -> Self {
        self.before = serde_json::to_value(value).ok();
        self
    }

    /// The object as the action left it.
    pub fn after(mut self, value: &impl serde::Serialize) -> Self {
        self.after = serde_json::to_value(value).ok();
        self
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Appends an entry (inside the caller's transaction, when it has one).
pub async fn insert(conn: &mut AnyConnection, actor: &str, r: &Record) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO audit_log (at_ms, actor, action, object_kind, object_id, summary, before, after, summary_words)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(now_ms())
    .bind(actor)
    .bind(r.action)
    .bind(&r.object_kind)
    .bind(&r.object_id)
    .bind(&r.words.english)
    .bind(r.before.as_ref().map(Value::to_string))
    .bind(r.after.as_ref().map(Value::to_string))
    .bind(serde_json::to_string(&r.words.clone().without_english()).ok())
    .execute(conn)
    .await?;
    Ok(())
}

/// Records an entry on its own; a failure is logged (the action has happened already).
pub async fn record(db: &Db, actor: &str, r: Record) {
    let result = async {
        let mut conn = db.acquire().await?;
        insert(&mut conn, actor, &r).await
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, action = r.action, "could not write the audit log");
    }
}

/// Entries matching `filter`, newest first.
pub async fn query(db: &Db, filter: &AuditFilter) -> Result<Vec<AuditEntry>, DbError> {
    let mut q = Statement::new(
        "SELECT id, at_ms, actor, action, object_kind, object_id, summary, before, after, summary_words FROM audit_log WHERE 1 = 1",
    );
    if let Some(actor) = &filter.actor {
        q.push(" AND actor = ").bind(actor.clone());
    }
    if let Some(action) = &filter.action {
        if action.ends_with('.') {
            q.push(" AND action LIKE ")
                .bind(format!("{}%", action.replace('%', "")));
        } else {
            q.push(" AND action = ").bind(action.clone());
        }
    }
    if let Some(since) = filter.since_ms {
        q.push(" AND at_ms >= ").bind(since);
    }
    if let Some(until) = filter.until_ms {
        q.push(" AND at_ms <= ").bind(until);
    }
    let limit = filter.limit.unwrap_or(200).clamp(1, 10_000);
    q.push(" ORDER BY id DESC LIMIT ").bind(i64::from(limit));
    let rows = q.fetch_all(db).await?;
    rows.iter()
        .map(|r| {
            let json = |column: &str| -> Result<Option<Value>, DbError> {
                let text: Option<String> = r.try_get(column)?;
                text.map(|t| {
                    serde_json::from_str(&t)
                        .map_err(|e| DbError::Corrupt(format!("audit {column}: {e}")))
                })
                .transpose()
            };
            Ok(AuditEntry {
                id: r.try_get("id")?,
                at_ms: r.try_get("at_ms")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                object_kind: r.try_get("object_kind")?,
                object_id: r.try_get("object_id")?,
                summary: r.try_get("summary")?,
                // Words the pages cannot read (a newer server's) are left to the English.
                summary_words: json("summary_words")?.and_then(|v| serde_json::from_value(v).ok()),
                before: json("before")?,
                after: json("after")?,
            })
        })
        .collect()
}

/// One CSV field, quoted when it needs to be; a leading `=`, `+`, `-` or `@` is escaped so
/// that a spreadsheet does not take it for a formula.
fn field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// The entries as CSV (RFC 4180), with a header line.
pub fn to_csv(entries: &[AuditEntry]) -> String {
    let mut out =
        String::from("id,at_ms,actor,action,object_kind,object_id,summary,before,after\r\n");
    for e in entries {
        let cells = [
            e.id.to_string(),
            e.at_ms.to_string(),
            field(&e.actor),
            field(&e.action),
            field(e.object_kind.as_deref().unwrap_or("")),
            field(e.object_id.as_deref().unwrap_or("")),
            field(&e.summary),
            field(&e.before.as_ref().map(Value::to_string).unwrap_or_default()),
            field(&e.after.as_ref().map(Value::to_string).unwrap_or_default()),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let e = AuditEntry {
            id: 7,
            at_ms: 1,
            actor: "ann".into(),
            action: "inventory.update".into(),
            object_kind: Some("vm".into()),
            object_id: None,
            summary: "renamed \"a, b\"\nnext".into(),
            summary_words: None,
            before: None,
            after: Some(serde_json::json!({"name": "=cmd()"})),
        };
        let csv = to_csv(&[e]);
        let line = csv.lines().nth(1).unwrap();
        assert!(line.starts_with("7,1,ann,inventory.update,vm,,\"renamed \"\"a, b\"\""));
        assert_eq!(field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(field("\tcmd"), "'\tcmd");
        assert_eq!(field("plain"), "plain");
        assert!(csv.starts_with("id,at_ms,actor,action"));
    }
}
