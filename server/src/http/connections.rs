//! `/api/v1/connections` (docs/VCENTER.md#connections): vCenter connections — create (after a
//! successful login), list, get, test, delete (with the objects mirrored from it). Admins
//! only; no answer ever holds a password.

use super::error::ApiError;
use super::json::JsonBody;
use super::path::Id;
use super::routes::{get, post, Routes, ADMIN};
use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::source::{Connection, NewConnection};
use serde::Serialize;

async fn create(
    State(state): State<AppState>,
    body: JsonBody,
) -> Result<(StatusCode, Json<Connection>), ApiError> {
    let request: NewConnection = body.parse()?;
    let connection = state.connections.create(request).await?;
    Ok((StatusCode::CREATED, Json(connection)))
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<Connection>>, ApiError> {
    Ok(Json(state.connections.list().await?))
}

async fn get_one(State(state): State<AppState>, Id(id): Id) -> Result<Json<Connection>, ApiError> {
    Ok(Json(state.connections.get(id).await?))
}

#[derive(Serialize)]
struct Tested {
    ok: bool,
    /// vCenter's name and version.
    server: String,
}

async fn test(State(state): State<AppState>, Id(id): Id) -> Result<Json<Tested>, ApiError> {
    let server = state.connections.test(id).await?;
    Ok(Json(Tested { ok: true, server }))
}

async fn remove(State(state): State<AppState>, Id(id): Id) -> Result<StatusCode, ApiError> {
    state.connections.delete(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> Routes {
    Routes::new()
        .route("/connections", get(ADMIN, list).post(ADMIN, create))
        .route(
            "/connections/{id}",
            get(ADMIN, get_one).delete(ADMIN, remove),
        )
        .route("/connections/{id}/test", post(ADMIN, test))
}
