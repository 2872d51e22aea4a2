//! The REST API under `/api/v1`.

pub mod audit;
pub mod checks;
pub mod error;
pub mod inventory;
pub mod json;
pub mod migrations;
pub mod openapi;

use crate::AppState;
use axum::routing::get;
use axum::Router;

/// The routes under `/api/v1` (nested there, with JSON answers for unknown paths and
/// methods).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi::document))
        .route("/audit", get(audit::list))
        .route("/audit.csv", get(audit::csv))
        .route(
            "/session",
            get(crate::accounts::routes::current)
                .post(crate::accounts::routes::sign_in)
                .delete(crate::accounts::routes::sign_out),
        )
        .route(
            "/tokens",
            get(crate::accounts::routes::list_tokens).post(crate::accounts::routes::create_token),
        )
        .route(
            "/tokens/{id}",
            axum::routing::delete(crate::accounts::routes::revoke_token),
        )
        .route(
            "/users",
            get(crate::accounts::routes::list_users).post(crate::accounts::routes::create_user),
        )
        .route(
            "/users/{id}/role",
            axum::routing::put(crate::accounts::routes::set_role),
        )
        .route("/checks", axum::routing::post(checks::check))
        .route("/predictions", axum::routing::post(checks::predict))
        .route("/vms/{id}/targets", get(checks::targets))
        .route("/migrations", get(migrations::list).post(migrations::start))
        .route("/migrations/{id}", get(migrations::get_one))
        .route("/migrations/{id}/events", get(migrations::events))
        .route(
            "/migrations/{id}/cancel",
            axum::routing::post(migrations::cancel),
        )
        .route(
            "/faults",
            get(migrations::list_faults).post(migrations::add_fault),
        )
        .route(
            "/faults/{id}",
            axum::routing::delete(migrations::clear_fault),
        )
        .route("/inventory", get(inventory::export).post(inventory::import))
        .route(
            "/{collection}",
            get(inventory::list).post(inventory::create),
        )
        .route(
            "/{collection}/{id}",
            get(inventory::get_one)
                .put(inventory::update)
                .delete(inventory::delete),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Answers are about live state and may name users: never cached.
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            ),
        )
}

async fn not_found() -> error::ApiError {
    error::ApiError::NotFound("no such API route".into())
}

async fn method_not_allowed(method: axum::http::Method) -> error::ApiError {
    error::ApiError::MethodNotAllowed(format!("{method} is not allowed on this route"))
}

/// Path parameters whose rejection is a JSON API error.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(error::ApiError))]
pub struct ApiPath<T>(pub T);
