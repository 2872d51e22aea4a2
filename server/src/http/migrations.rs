//! Migrations and faults over the API: start, list, follow, cancel; inject and clear faults.

use super::error::ApiError;
use super::json::JsonBody;
use super::path::Id;
use super::routes::{delete, get, post, Routes, OPERATOR, VIEWER};
use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::checks::MigrationRequest;
use domain::migration::{Fault, FaultRequest, Migration, MigrationEvent};
use domain::{FaultId, MigrationId};

/// `POST /migrations`: the checks again (422 with the results if blocked; 409 if the VM
/// already has a migration), then 201 with the queued migration.
pub async fn start(
    State(state): State<AppState>,
    body: JsonBody,
) -> Result<(StatusCode, Json<Migration>), ApiError> {
    let request: MigrationRequest = body.parse()?;
    let migration = state.migrations.start_migration(request).await?;
    Ok((StatusCode::CREATED, Json(migration)))
}

pub async fn list(State(state): State<AppState>) -> Json<Vec<Migration>> {
    Json(state.migrations.list())
}

pub async fn get_one(
    State(state): State<AppState>,
    Id(id): Id<MigrationId>,
) -> Result<Json<Migration>, ApiError> {
    state
        .migrations
        .get(id)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no migration has id {id}")))
}

pub async fn events(
    State(state): State<AppState>,
    Id(id): Id<MigrationId>,
) -> Result<Json<Vec<MigrationEvent>>, ApiError> {
    state
        .migrations
        .events(id)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no migration has id {id}")))
}

/// `POST /migrations/{id}/cancel`: the VM stays where it is (409 once finished).
pub async fn cancel(
    State(state): State<AppState>,
    Id(id): Id<MigrationId>,
) -> Result<Json<Migration>, ApiError> {
    Ok(Json(state.migrations.cancel(id).await?))
}

pub async fn list_faults(State(state): State<AppState>) -> Json<Vec<Fault>> {
    Json(state.migrations.faults())
}

pub async fn add_fault(
    State(state): State<AppState>,
    body: JsonBody,
) -> Result<(StatusCode, Json<Fault>), ApiError> {
    let request: FaultRequest = body.parse()?;
    let fault = state.migrations.add_fault(request).await?;
    Ok((StatusCode::CREATED, Json(fault)))
}

pub async fn clear_fault(
    State(state): State<AppState>,
    Id(id): Id<FaultId>,
) -> Result<StatusCode, ApiError> {
    state.migrations.clear_fault(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> Routes {
    Routes::new()
        .route("/migrations", get(VIEWER, list).post(OPERATOR, start))
        .route("/migrations/{id}", get(VIEWER, get_one))
        .route("/migrations/{id}/events", get(VIEWER, events))
        .route("/migrations/{id}/cancel", post(OPERATOR, cancel))
        .route(
            "/faults",
            get(VIEWER, list_faults).post(OPERATOR, add_fault),
        )
        .route("/faults/{id}", delete(OPERATOR, clear_fault))
}
