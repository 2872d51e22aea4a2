//! vmshift's server: configuration, database, REST API, websocket and the Leptos pages.

pub mod accounts;
pub mod api;
pub mod audit;
mod backend;
pub mod config;
pub mod db;
pub mod demo;
pub mod engine;
pub mod inventory_service;
pub mod lab;
mod origin;
pub mod qemu;
pub mod replication;
pub mod ws;

use accounts::AccountService;
use app::rpc::ssr::Backend;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::{header, HeaderName, HeaderValue};
use axum::routing::get;
use axum::Router;
use engine::clock::SystemClock;
use engine::service::{EngineConfig, MigrationService};
use inventory_service::InventoryService;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::sync::Arc;
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub inventory: Arc<InventoryService>,
    pub migrations: Arc<MigrationService>,
    pub accounts: Arc<AccountService>,
    /// The origin users reach vmshift at (`--public-url`), when configured.
    pub public_origin: Option<String>,
    /// Flips to `true` when the server shuts down (websockets close).
    pub shutdown: watch::Receiver<bool>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Opens the database, loads the demo inventory into an empty one, and loads the inventory.
pub async fn open_inventory(
    database_url: &str,
    replica: String,
    demo: bool,
    live_buffer: usize,
) -> Result<Arc<InventoryService>, Box<dyn std::error::Error + Send + Sync>> {
    let demo = demo.then(demo::demo_inventory);
    open_inventory_with(database_url, replica, demo, live_buffer).await
}

/// Like [`open_inventory`], with the inventory an empty database gets (if any).
pub async fn open_inventory_with(
    database_url: &str,
    replica: String,
    demo: Option<domain::Inventory>,
    live_buffer: usize,
) -> Result<Arc<InventoryService>, Box<dyn std::error::Error + Send + Sync>> {
    if let Some(path) = database_url
        .strip_prefix("sqlite://")
        .and_then(|p| std::path::Path::new(p.split('?').next().unwrap_or(p)).parent())
    {
        if !path.as_os_str().is_empty() {
            std::fs::create_dir_all(path)?;
        }
    }
    let db = db::connect(database_url).await?;
    let service = InventoryService::load(db, replica, live_buffer).await?;
    let empty = service.read().objects().next().is_none();
    if let Some(demo) = demo.filter(|_| empty) {
        if service.seed(demo).await? {
            tracing::info!("empty database: loaded the demo inventory");
        }
    }
    Ok(service)
}

/// Starts the migration engine on the machine's clock (migrations a crash left in flight are
/// marked failed first).
pub async fn start_engine(
    inventory: Arc<InventoryService>,
    config: EngineConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<Arc<MigrationService>, db::DbError> {
    MigrationService::start(
        inventory.db().clone(),
        inventory,
        Arc::new(SystemClock::default()),
        config,
        shutdown,
    )
    .await
}

/// Starts the lab of the QEMU driver: boots every running VM of the `Lab` cluster as a QEMU
/// guest on this machine.
pub async fn start_lab(
    lab_dir: &std::path::Path,
    lab_data: &std::path::Path,
    inventory: &InventoryService,
) -> Result<Arc<lab::LabRuntime>, String> {
    let lab = qemu::Lab::find(lab_dir)?;
    // Absolute, so that a later run recognizes this one's processes by their command line.
    let lab_data = std::fs::create_dir_all(lab_data)
        .and_then(|()| lab_data.canonicalize())
        .map_err(|e| format!("lab data directory {}: {e}", lab_data.display()))?;
    let runtime = Arc::new(lab::LabRuntime::new(lab, lab_data));
    let orphans = runtime.reap_orphans().await;
    if orphans > 0 {
        tracing::warn!(
            orphans,
            "stopped the lab guests a previous run left (it did not shut down cleanly)"
        );
    }
    let hosts: Vec<domain::HostId> = {
        let inv = inventory.read();
        let clusters: Vec<domain::ClusterId> = inv
            .clusters
            .values()
            .filter(|c| c.name.as_str() == demo::LAB_CLUSTER)
            .map(|c| c.id)
            .collect();
        inv.hosts
            .values()
            .filter(|h| clusters.contains(&h.cluster_id))
            .map(|h| h.id)
            .collect()
    };
    if hosts.is_empty() {
        tracing::warn!(
            "no `{}` cluster in the inventory: no VM is real (start on an empty database for the demo lab)",
            demo::LAB_CLUSTER
        );
    }
    let inv = inventory.read().clone();
    let booted = runtime
        .boot_all(&inv, &hosts)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(guests = booted, "lab guests running under QEMU");
    Ok(runtime)
}

/// Starts the migration engine with a chosen driver.
pub async fn start_engine_with(
    inventory: Arc<InventoryService>,
    config: EngineConfig,
    shutdown: watch::Receiver<bool>,
    driver: domain::engine::driver::BoxedDriver,
) -> Result<Arc<MigrationService>, db::DbError> {
    MigrationService::start_with(
        inventory.db().clone(),
        inventory,
        Arc::new(SystemClock::default()),
        config,
        shutdown,
        driver,
    )
    .await
}

/// Opens the accounts (creating the first admin when there is no user).
pub async fn open_accounts(
    inventory: &InventoryService,
    admin_password: Option<String>,
) -> Result<Arc<AccountService>, accounts::AuthError> {
    Ok(Arc::new(
        AccountService::start(
            inventory.db().clone(),
            inventory.replica().to_owned(),
            admin_password,
        )
        .await?,
    ))
}

/// Content Security Policy: everything from this origin; inline scripts for Leptos'
/// hydration data; wasm; no framing by other sites.
const CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let backend: Backend = Arc::new(backend::ServiceBackend(
        state.inventory.clone(),
        state.migrations.clone(),
    ));
    let context = move || provide_context(backend.clone());
    let options = state.leptos_options.clone();
    Router::new()
        .nest("/api/v1", api::router())
        .route("/ws", get(ws::upgrade))
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/auth/signin",
            axum::routing::post(accounts::routes::form_sign_in),
        )
        .route(
            "/auth/signout",
            axum::routing::post(accounts::routes::form_sign_out),
        )
        .leptos_routes_with_context(&state, routes, context, {
            let options = options.clone();
            move || app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(DefaultBodyLimit::max(config::BODY_LIMIT_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            accounts::policy::authorize,
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
