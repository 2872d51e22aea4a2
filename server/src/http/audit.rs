//! The audit log over the API (admins): `GET /audit` as JSON, `GET /audit.csv` as CSV.

use super::error::ApiError;
use super::path::Query;
use super::routes::{get, Routes, ADMIN};
use super::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use domain::audit::{AuditEntry, AuditFilter, ACTIONS};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    since_ms: Option<String>,
    until_ms: Option<String>,
    limit: Option<String>,
}

fn number<T: std::str::FromStr>(field: &str, raw: Option<String>) -> Result<Option<T>, ApiError> {
    raw.filter(|s| !s.is_empty())
        .map(|s| {
            s.parse().map_err(|_| ApiError::InvalidField {
                field: field.into(),
                message: format!("{field}: {s:?} is not a number"),
            })
        })
        .transpose()
}

impl AuditQuery {
    fn filter(self) -> Result<AuditFilter, ApiError> {
        checked(AuditFilter {
            actor: self.actor,
            action: self.action,
            since_ms: number("since_ms", self.since_ms)?,
            until_ms: number("until_ms", self.until_ms)?,
            limit: number("limit", self.limit)?,
        })
    }
}

/// A filter as given (query string or server function), checked: a known action (or a
/// prefix like `migration.`), a limit of 1 to 10,000; empty texts mean no filter.
pub fn checked(filter: AuditFilter) -> Result<AuditFilter, ApiError> {
    let action = filter.action.filter(|a| !a.is_empty());
    if let Some(a) = &action {
        let known = ACTIONS.contains(&a.as_str())
            || (a.ends_with('.') && ACTIONS.iter().any(|x| x.starts_with(a.as_str())));
        if !known {
            return Err(ApiError::InvalidField {
                field: "action".into(),
                message: format!("action: {a:?} is not an action (or a prefix like migration.)"),
            });
        }
    }
    if filter.limit.is_some_and(|l| l == 0 || l > 10_000) {
        return Err(ApiError::InvalidField {
            field: "limit".into(),
            message: "limit: 1 to 10,000".into(),
        });
    }
    Ok(AuditFilter {
        actor: filter.actor.filter(|a| !a.is_empty()),
        action,
        ..filter
    })
}

pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let filter = query.filter()?;
    let entries = crate::audit::query(state.inventory.db(), &filter).await?;
    Ok(Json(entries))
}

pub async fn csv(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let mut filter = query.filter()?;
    filter.limit = Some(filter.limit.unwrap_or(10_000));
    let entries = crate::audit::query(state.inventory.db(), &filter).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"vmshift-audit.csv\"",
            ),
        ],
        crate::audit::to_csv(&entries),
    ))
}

pub fn routes() -> Routes {
    Routes::new()
        .route("/audit", get(ADMIN, list))
        .route("/audit.csv", get(ADMIN, csv))
}
