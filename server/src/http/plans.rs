//! Maintenance plans over the API: preview (no write), store a draft, list, read, start,
//! pause, resume, cancel. Viewers read; operators plan and run (entering maintenance mode
//! changes the inventory, and an operator does it only through a plan).

use super::error::ApiError;
use super::json::JsonBody;
use super::path::Id;
use super::routes::{get, post, Routes, OPERATOR, VIEWER};
use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::plan::{PlanRecord, PlanRequest, Preview};
use domain::PlanId;

/// `POST /plans/preview`: placement, blockers, prediction and what-if; nothing is written.
pub async fn preview(
    State(state): State<AppState>,
    body: JsonBody,
) -> Result<Json<Preview>, ApiError> {
    let request: PlanRequest = body.parse()?;
    let plans = state.plans.clone();
    // Planning a large cluster is CPU work: off the async threads.
    let preview = tokio::task::spawn_blocking(move || plans.preview(&request))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(Json(preview))
}

/// `POST /plans`: the preview stored as a draft (201).
pub async fn create(
    State(state): State<AppState>,
    body: JsonBody,
) -> Result<(StatusCode, Json<PlanRecord>), ApiError> {
    let request: PlanRequest = body.parse()?;
    let plan = state.plans.create(&request).await?;
    Ok((StatusCode::CREATED, Json(plan)))
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<PlanRecord>>, ApiError> {
    let plans = state
        .plans
        .list()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(plans))
}

pub async fn get_one(
    State(state): State<AppState>,
    Id(id): Id<PlanId>,
) -> Result<Json<PlanRecord>, ApiError> {
    Ok(Json(state.plans.get(id).await?))
}

pub async fn start(
    State(state): State<AppState>,
    Id(id): Id<PlanId>,
) -> Result<Json<PlanRecord>, ApiError> {
    Ok(Json(state.plans.start_plan(id).await?))
}

pub async fn pause(
    State(state): State<AppState>,
    Id(id): Id<PlanId>,
) -> Result<Json<PlanRecord>, ApiError> {
    Ok(Json(state.plans.pause(id).await?))
}

pub async fn resume(
    State(state): State<AppState>,
    Id(id): Id<PlanId>,
) -> Result<Json<PlanRecord>, ApiError> {
    Ok(Json(state.plans.resume(id).await?))
}

pub async fn cancel(
    State(state): State<AppState>,
    Id(id): Id<PlanId>,
) -> Result<Json<PlanRecord>, ApiError> {
    Ok(Json(state.plans.cancel(id).await?))
}

pub fn routes() -> Routes {
    Routes::new()
        .route("/plans", get(VIEWER, list).post(OPERATOR, create))
        .route("/plans/preview", post(OPERATOR, preview))
        .route("/plans/{id}", get(VIEWER, get_one))
        .route("/plans/{id}/start", post(OPERATOR, start))
        .route("/plans/{id}/pause", post(OPERATOR, pause))
        .route("/plans/{id}/resume", post(OPERATOR, resume))
        .route("/plans/{id}/cancel", post(OPERATOR, cancel))
}
