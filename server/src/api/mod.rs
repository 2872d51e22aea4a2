//! The REST API under `/api/v1`.

pub mod error;
pub mod inventory;
pub mod json;
pub mod openapi;

use crate::AppState;
use axum::routing::get;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi::document))
        .route(
            "/api/v1/inventory",
            get(inventory::export).post(inventory::import),
        )
        .route(
            "/api/v1/{collection}",
            get(inventory::list).post(inventory::create),
        )
        .route(
            "/api/v1/{collection}/{id}",
            get(inventory::get_one)
                .put(inventory::update)
                .delete(inventory::delete),
        )
        .fallback(not_found)
}

async fn not_found() -> error::ApiError {
    error::ApiError::NotFound("no such API route".into())
}
