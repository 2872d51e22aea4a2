//! Prerequisite checks and predictions over the API: `POST /checks`, `POST /predictions`
//! and `GET /vms/{id}/targets`.

use super::error::ApiError;
use super::json::JsonBody;
use super::path::Id;
use super::path::Query;
use super::routes::{get, post, Routes, VIEWER};
use super::AppState;
use axum::extract::State;
use axum::Json;
use domain::checks::{
    check_migration, rank_targets, CheckReport, MigrationKind, MigrationRequest, Targets,
};
use domain::{DatastoreId, HostId, VmId};
use serde::Deserialize;
use uuid::Uuid;

pub async fn check(
    State(state): State<AppState>,
    body: JsonBody,
) -> Result<Json<CheckReport>, ApiError> {
    let request: MigrationRequest = body.parse()?;
    let busy = state.inventory.busy_vms();
    let report = check_migration(&state.inventory.read(), &request, &busy)?;
    Ok(Json(report))
}

#[derive(Deserialize)]
pub struct TargetsQuery {
    kind: Option<String>,
    target_host_id: Option<String>,
    target_datastore_id: Option<String>,
}

fn query_id(field: &str, raw: Option<String>) -> Result<Option<Uuid>, ApiError> {
    raw.map(|s| {
        Uuid::parse_str(&s).map_err(|_| ApiError::InvalidField {
            field: field.to_string(),
            message: format!("{field}: {s:?} is not a UUID"),
        })
    })
    .transpose()
}

pub async fn targets(
    State(state): State<AppState>,
    Id(vm): Id<VmId>,
    Query(query): Query<TargetsQuery>,
) -> Result<Json<Targets>, ApiError> {
    let kind = match query.kind.as_deref() {
        None => {
            return Err(ApiError::InvalidField {
                field: "kind".into(),
                message: "kind: give vmotion, storage_vmotion or combined".into(),
            })
        }
        Some(k) => MigrationKind::ALL
            .into_iter()
            .find(|m| m.as_str() == k)
            .ok_or_else(|| ApiError::InvalidField {
                field: "kind".into(),
                message: format!("kind: {k:?} is not vmotion, storage_vmotion or combined"),
            })?,
    };
    let host = query_id("target_host_id", query.target_host_id)?.map(HostId);
    let datastore = query_id("target_datastore_id", query.target_datastore_id)?.map(DatastoreId);
    let busy = state.inventory.busy_vms();
    let targets = rank_targets(&state.inventory.read(), vm, kind, host, datastore, &busy)?;
    Ok(Json(targets))
}

/// `POST /predictions`: the engine's model fast-forwarded for a move.
pub async fn predict(
    State(state): State<AppState>,
    body: JsonBody,
) -> Result<Json<domain::prediction::Prediction>, ApiError> {
    let request: MigrationRequest = body.parse()?;
    let platform = state.migrations.platform(request.vm_id);
    let prediction = domain::prediction::predict_on(&state.inventory.read(), &request, platform)?;
    Ok(Json(prediction))
}

pub fn routes() -> Routes {
    Routes::new()
        .route("/checks", post(VIEWER, check))
        .route("/predictions", post(VIEWER, predict))
        .route("/vms/{id}/targets", get(VIEWER, targets))
}
