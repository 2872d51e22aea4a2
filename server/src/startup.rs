//! The application, built one way for `main`, every integration test and every benchmark
//! (docs/DESIGN.md#building-the-app): the database opened (the demo loaded into an empty
//! one), the live hub, the inventory service, the lab (QEMU driver), the migration engine,
//! the accounts, the listener for other replicas, the HTTP router and its socket.

use crate::accounts::AccountService;
use crate::config::{Config, DriverKind};
use crate::connections::{ConnectionService, KeySource, SyncTiming};
use crate::engine::clock::SystemClock;
use crate::engine::{EngineConfig, MigrationService};
use crate::failpoints::Failpoints;
use crate::http::{router, AppState};
use crate::inventory::InventoryService;
use crate::lab::driver::LabDriver;
use crate::lab::runtime::LabRuntime;
use crate::live::LiveHub;
use crate::plans::PlanService;
use crate::vcenter::driver::VcenterDriver;
use crate::{db, demo, lab, replication};
use axum::Router;
use domain::engine::driver::BoxedDriver;
use domain::engine::simulated::SimulatedDriver;
use leptos::prelude::{get_configuration, LeptosOptions};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub type StartupError = Box<dyn std::error::Error + Send + Sync>;

/// The services behind the routes, for callers that drive them directly (tests seeding a
/// database, benchmarks).
#[derive(Clone)]
pub struct Services {
    pub inventory: Arc<InventoryService>,
    pub migrations: Arc<MigrationService>,
    pub accounts: Arc<AccountService>,
    pub plans: Arc<PlanService>,
    pub connections: Arc<ConnectionService>,
    pub live: Arc<LiveHub>,
    /// The QEMU lab (`--driver qemu`).
    pub lab: Option<Arc<LabRuntime>>,
    /// Test hooks (docs/RELIABILITY.md).
    pub failpoints: Arc<Failpoints>,
}

/// vmshift, built and listening, not yet serving.
pub struct App {
    listener: TcpListener,
    address: SocketAddr,
    router: Router,
    services: Services,
    shutdown: watch::Sender<bool>,
}

/// How long a stop waits for the engine to store its last events.
const STOP_WAIT: Duration = Duration::from_secs(5);

impl App {
    pub async fn build(config: Config) -> Result<App, StartupError> {
        let leptos_options = leptos_options()?;
        let address = config.bind.unwrap_or(leptos_options.site_addr);
        let database_url = config.database_url();
        let replica = config.replica_id.clone().unwrap_or_else(db::new_replica_id);
        tracing::info!(replica = %replica, database = %db::redact(&database_url), "opening the database");
        let qemu = config.driver == DriverKind::Qemu;
        let live = LiveHub::new(config.live_buffer);
        let failpoints = Arc::new(Failpoints::parse(&config.failpoints)?);
        let inventory = open_inventory(&database_url, replica, &live, &failpoints).await?;
        if config.demo && inventory.read().objects().next().is_none() {
            let seed = if qemu {
                lab::demo_with_lab()
            } else {
                demo::demo_inventory()
            };
            if inventory.seed(seed).await? {
                tracing::info!("empty database: loaded the demo inventory");
            }
        }
        let (shutdown, stopping) = watch::channel(false);
        let mut engine = EngineConfig {
            speed: config.speed,
            tick: Duration::from_millis(config.tick_ms),
            lease: Duration::from_millis(config.lease_ms),
        };
        // Real guests run in real time.
        let lab = if qemu {
            if engine.speed != 1.0 {
                tracing::warn!(speed = engine.speed, "the QEMU driver runs at speed 1");
                engine.speed = 1.0;
            }
            Some(lab::start(&config.lab_dir, &config.lab_data, &inventory).await?)
        } else {
            None
        };
        let driver: BoxedDriver = match &lab {
            Some(runtime) => {
                lab::spawn_heartbeats(runtime.clone(), live.clone(), stopping.clone());
                Box::new(LabDriver::new(runtime.clone()))
            }
            None => Box::new(SimulatedDriver::new()),
        };
        let key = match &config.secret_key {
            Some(secret) => KeySource::Passphrase(secret.clone()),
            None => KeySource::File(config.secret_key_file.clone()),
        };
        let timing = SyncTiming {
            full_read: Duration::from_secs(config.vcenter_full_read_s),
            wait_s: config.vcenter_wait_s,
        };
        let connections =
            ConnectionService::start(inventory.clone(), key, timing, stopping.clone()).await?;
        // VMs mirrored from a vCenter move through it; the others as before.
        let driver: BoxedDriver = Box::new(VcenterDriver::new(
            driver,
            inventory.clone(),
            connections.clone(),
            Duration::from_secs(config.vcenter_task_timeout_s),
        ));
        let clock = Arc::new(SystemClock::default());
        let (poll, lease) = (engine.tick, engine.lease);
        let migrations = MigrationService::start(
            inventory.clone(),
            live.clone(),
            clock.clone(),
            driver,
            engine,
            stopping.clone(),
        )
        .await?;
        let plans = PlanService::start(
            inventory.clone(),
            migrations.clone(),
            live.clone(),
            clock,
            poll,
            lease,
            stopping.clone(),
        )
        .await?;
        let accounts = Arc::new(
            AccountService::start(
                inventory.db().clone(),
                inventory.replica().to_owned(),
                config.admin_password.clone(),
            )
            .await?,
        );
        let services = Services {
            inventory,
            migrations,
            accounts,
            plans,
            connections,
            live,
            lab,
            failpoints,
        };
        // Several replicas on PostgreSQL: hear what the others do.
        let listeners = replication::Services {
            inventory: services.inventory.clone(),
            migrations: services.migrations.clone(),
            accounts: services.accounts.clone(),
            plans: services.plans.clone(),
        };
        replication::spawn_listener(&database_url, listeners, stopping.clone());
        tracing::info!(speed = config.speed, "migration engine running");
        let router = router(AppState {
            leptos_options,
            inventory: services.inventory.clone(),
            migrations: services.migrations.clone(),
            accounts: services.accounts.clone(),
            plans: services.plans.clone(),
            connections: services.connections.clone(),
            live: services.live.clone(),
            public_origin: config.public_url.clone(),
            trusted_proxies: config.trusted_proxy.clone().into(),
            shutdown: stopping,
        });
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        Ok(App {
            listener,
            address,
            router,
            services,
            shutdown,
        })
    }

    /// Where it listens (with the port chosen when the configuration said 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Serves until `signal`, then stops gracefully: websockets closed, the engine's
    /// migrations in flight ended and stored, the lab's guests stopped.
    pub async fn run_until(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!("vmshift listening on http://{}", self.address);
        let shutdown = self.shutdown;
        let result = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            signal.await;
            tracing::info!("shutting down");
            let _ = shutdown.send(true);
        })
        .await;
        stop_services(&self.services).await;
        result
    }

    /// Serves in the background (tests, benchmarks) until the handle stops it.
    pub fn spawn(self) -> Running {
        let (stop, stopped) = watch::channel(false);
        let address = self.address;
        let services = self.services.clone();
        let task = tokio::spawn(self.run_until(async move {
            let mut stopped = stopped;
            let _ = stopped.wait_for(|s| *s).await;
        }));
        Running {
            address,
            services,
            stop,
            task,
        }
    }
}

/// A server serving in the background.
pub struct Running {
    pub address: SocketAddr,
    pub services: Services,
    stop: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops it as SIGTERM would, and waits until it has.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Asks it to stop without waiting.
    pub fn request_stop(&self) {
        let _ = self.stop.send(true);
    }
}

async fn stop_services(services: &Services) {
    // Let the engine end what is in flight and store it (bounded: a stop must not hang).
    if tokio::time::timeout(STOP_WAIT, services.migrations.stopped())
        .await
        .is_err()
    {
        tracing::warn!(
            "the engine did not stop in time; in-flight migrations are failed at the next start"
        );
    }
    if let Some(runtime) = &services.lab {
        runtime.shutdown().await;
        tracing::info!("lab guests stopped");
    }
}

/// Opens (creating the directory of a SQLite file if needed) the database and loads the
/// inventory.
async fn open_inventory(
    database_url: &str,
    replica: String,
    live: &Arc<LiveHub>,
    failpoints: &Arc<Failpoints>,
) -> Result<Arc<InventoryService>, StartupError> {
    if let Some(path) = database_url
        .strip_prefix("sqlite://")
        .and_then(|p| std::path::Path::new(p.split('?').next().unwrap_or(p)).parent())
    {
        if !path.as_os_str().is_empty() {
            std::fs::create_dir_all(path)?;
        }
    }
    let db = db::connect(database_url).await?;
    Ok(InventoryService::load(db, replica, live.clone(), failpoints.clone()).await?)
}

/// The site's settings: cargo-leptos passes them in LEPTOS_* variables; the bare binary uses
/// the same defaults as Cargo.toml's `[[workspace.metadata.leptos]]`.
fn leptos_options() -> Result<LeptosOptions, StartupError> {
    if std::env::var_os("LEPTOS_OUTPUT_NAME").is_some() {
        Ok(get_configuration(None)?.leptos_options)
    } else {
        Ok(LeptosOptions::builder()
            .output_name("vmshift")
            .site_root("target/site")
            .site_pkg_dir("pkg")
            .build())
    }
}
