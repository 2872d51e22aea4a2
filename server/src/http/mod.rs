//! Everything HTTP: the REST API under `/api/v1` (one router per resource, merged here), the
//! role each route needs (declared next to it, see `routes`; enforced by `auth`), the Origin
//! guard, the live websocket, the adapter behind the pages' server functions, and the
//! security headers around it all. Handlers are thin: they parse, call a service, and map its
//! answer or error (`error`, the one mapping of service errors to HTTP statuses).

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod checks;
pub mod connections;
pub mod error;
pub mod imports;
pub mod inventory;
pub mod json;
pub mod migrations;
pub mod openapi;
pub mod origin;
pub mod path;
pub mod plans;
pub mod routes;
pub mod server_fns;
pub mod upload;
pub mod ws;

use crate::accounts::AccountService;
use crate::engine::MigrationService;
use crate::inventory::InventoryService;
use crate::live::LiveHub;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::{header, HeaderName, HeaderValue};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use routes::{get, Public, RouteInfo, Routes, VIEWER};
use std::sync::Arc;
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Largest accepted request body (an inventory import can be large).
pub const BODY_LIMIT_BYTES: usize = 16 * 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub inventory: Arc<InventoryService>,
    pub migrations: Arc<MigrationService>,
    pub accounts: Arc<AccountService>,
    pub plans: Arc<crate::plans::PlanService>,
    pub connections: Arc<crate::connections::ConnectionService>,
    pub live: Arc<LiveHub>,
    /// The origin users reach vmshift at (`--public-url`), when configured.
    pub public_origin: Option<String>,
    /// The reverse proxies whose `X-Forwarded-For` is believed (`--trusted-proxy`).
    pub trusted_proxies: Arc<[crate::config::IpNet]>,
    /// Flips to `true` when the server shuts down (websockets close).
    pub shutdown: watch::Receiver<bool>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Content Security Policy: everything from this origin; inline scripts for Leptos'
/// hydration data; wasm; no framing by other sites.
const CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/// The REST API (nested under `/api/v1`), with JSON answers for unknown paths and methods.
fn api() -> Routes {
    Routes::new()
        .route("/openapi.json", get(Public, openapi::document))
        .merge(accounts::api_routes())
        .merge(audit::routes())
        .merge(checks::routes())
        .merge(migrations::routes())
        .merge(plans::routes())
        .merge(inventory::routes())
        .merge(imports::routes())
        .merge(connections::routes())
        .map_router(|router| {
            router
                .fallback(not_found)
                .method_not_allowed_fallback(method_not_allowed)
                // Answers are about live state and may name users: never cached.
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-store"),
                ))
        })
}

/// Every route but the Leptos app's pages and server functions, with its role.
pub fn routes() -> Routes {
    Routes::new()
        .nest("/api/v1", api())
        .route("/ws", get(VIEWER, ws::upgrade))
        .route("/healthz", get(Public, || async { "ok" }))
        .merge(accounts::form_routes())
}

/// Every route the server answers, with what it needs: [`routes`], then the Leptos app's
/// pages and server functions (see [`auth::page_access`]).
pub fn route_table() -> Vec<RouteInfo> {
    let mut table = routes().table().to_vec();
    for listing in generate_route_list(app::App) {
        table.push(RouteInfo {
            method: axum::http::Method::GET,
            path: listing.path().to_owned(),
            access: auth::page_access(listing.path()),
        });
    }
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        table.push(RouteInfo {
            access: auth::page_access(path),
            path: path.to_owned(),
            method,
        });
    }
    table
}

async fn not_found() -> error::ApiError {
    error::ApiError::NotFound("no such API route".into())
}

async fn method_not_allowed(method: axum::http::Method) -> error::ApiError {
    error::ApiError::MethodNotAllowed(format!("{method} is not allowed on this route"))
}

/// The Leptos app: its pages and server functions, each behind what it needs, and the
/// static files (public) with the not-found page (viewers).
fn leptos_app(state: &AppState) -> Router<AppState> {
    let backend = server_fns::backend(state);
    let context = move || provide_context(backend.clone());
    let options = state.leptos_options.clone();
    let shell = move || app::shell(options.clone());
    Router::new()
        .leptos_routes_with_context(state, generate_route_list(app::App), context, shell)
        .route_layer(axum::middleware::from_fn(limit_body))
        .route_layer(axum::middleware::from_fn(auth::require_page_access))
        .fallback(files_or_not_found)
}

/// A server function's body, read whole up to the limit: a larger one is refused with 413 and
/// the same error a REST route gives (server functions read their body themselves, past
/// axum's limit).
async fn limit_body(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, BODY_LIMIT_BYTES).await {
        Ok(bytes) => {
            let request = axum::extract::Request::from_parts(parts, bytes.into());
            next.run(request).await
        }
        Err(e) => {
            let error = if e.to_string().contains("length limit exceeded") {
                error::ApiError::PayloadTooLarge(BODY_LIMIT_BYTES)
            } else {
                error::ApiError::MalformedJson(format!("the request body could not be read: {e}"))
            };
            let status = error.status();
            (status, axum::Json(error.into_server_error())).into_response()
        }
    }
}

/// Static files (anyone: the sign-in page needs them), else the not-found page (viewers).
async fn files_or_not_found(
    uri: axum::http::Uri,
    state: axum::extract::State<AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let path = uri.path();
    let access = if auth::public_file(path) {
        Public
    } else {
        VIEWER
    };
    if let Err(refusal) = auth::check(access, &request) {
        return *refusal;
    }
    leptos_axum::file_and_error_handler::<AppState, _>(app::shell)(uri, state, request).await
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let (routes, _) = routes().into_parts();
    routes
        .merge(leptos_app(&state))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            origin::same_origin_only,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
