use clap::Parser;
use domain::engine::driver::BoxedDriver;
use domain::engine::simulated::SimulatedDriver;
use leptos::prelude::{get_configuration, LeptosOptions};
use server::config::{Config, DriverKind};
use server::engine::qemu_driver::LabDriver;
use server::engine::service::EngineConfig;
use server::{open_accounts, open_inventory_with, router, start_engine_with, start_lab, AppState};
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info")))
        .init();

    // cargo-leptos passes the site settings in LEPTOS_* variables; the bare binary uses
    // the same defaults as Cargo.toml's [[workspace.metadata.leptos]].
    let leptos_options = if std::env::var_os("LEPTOS_OUTPUT_NAME").is_some() {
        get_configuration(None)?.leptos_options
    } else {
        LeptosOptions::builder()
            .output_name("vmshift")
            .site_root("target/site")
            .site_pkg_dir("pkg")
            .build()
    };
    let addr = config.bind.unwrap_or(leptos_options.site_addr);
    let database_url = config.database_url();
    let replica = config
        .replica_id
        .clone()
        .unwrap_or_else(server::replication::new_replica_id);
    tracing::info!(
        replica = %replica,
        database = %server::db::redact(&database_url),
        "opening the database"
    );
    let qemu = config.driver == DriverKind::Qemu;
    let demo = config.demo.then(|| {
        if qemu {
            server::demo::demo_with_lab()
        } else {
            server::demo::demo_inventory()
        }
    });
    let inventory = open_inventory_with(&database_url, replica, demo, config.live_buffer).await?;
    let (shutdown_tx, shutdown) = watch::channel(false);
    let mut engine = EngineConfig {
        speed: config.speed,
        tick: std::time::Duration::from_millis(config.tick_ms),
        lease: std::time::Duration::from_millis(config.lease_ms),
    };
    // Real guests run in real time.
    let lab = if qemu {
        if engine.speed != 1.0 {
            tracing::warn!(speed = engine.speed, "the QEMU driver runs at speed 1");
            engine.speed = 1.0;
        }
        Some(start_lab(&config.lab_dir, &config.lab_data, &inventory).await?)
    } else {
        None
    };
    let driver: BoxedDriver = match &lab {
        Some(runtime) => {
            server::lab::spawn_heartbeats(runtime.clone(), inventory.clone(), shutdown.clone());
            Box::new(LabDriver::new(runtime.clone()))
        }
        None => Box::new(SimulatedDriver::new()),
    };
    let migrations = start_engine_with(inventory.clone(), engine, shutdown.clone(), driver).await?;
    let accounts = open_accounts(&inventory, config.admin_password.clone()).await?;
    // Several replicas on PostgreSQL: hear what the others do.
    server::replication::spawn_listener(
        &database_url,
        inventory.clone(),
        migrations.clone(),
        accounts.clone(),
        shutdown.clone(),
    );
    tracing::info!(speed = config.speed, "migration engine running");
    let app = router(AppState {
        leptos_options,
        inventory,
        migrations: migrations.clone(),
        accounts,
        public_origin: config.public_url.clone(),
        shutdown,
    });

    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("vmshift listening on http://{addr}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = shutdown_tx.send(true);
    })
    .await?;
    // Let the engine end what is in flight and store it (bounded: a stop must not hang).
    if tokio::time::timeout(std::time::Duration::from_secs(5), migrations.stopped())
        .await
        .is_err()
    {
        tracing::warn!(
            "the engine did not stop in time; in-flight migrations are failed at the next start"
        );
    }
    if let Some(runtime) = lab {
        runtime.shutdown().await;
        tracing::info!("lab guests stopped");
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
