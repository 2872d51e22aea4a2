//! The throw-away database of a benchmark: SQLite in a temporary directory by default, or,
//! when `VMSHIFT_BENCH_POSTGRES` names a PostgreSQL server (an admin URL such as
//! `postgres://vmshift@127.0.0.1:55432/postgres`, see `scripts/postgres.sh start`), a fresh
//! database `vmshift_bench_<uuid>` there, dropped afterwards. The same benchmarks run on both.

#![allow(dead_code)]

/// The environment variable naming the PostgreSQL admin URL.
pub const POSTGRES_ENV: &str = "VMSHIFT_BENCH_POSTGRES";

/// The PostgreSQL admin URL of this run, if any.
pub fn postgres_admin() -> Option<String> {
    std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty())
}

/// "SQLite" or "PostgreSQL": what `BenchDb::new` creates in this run.
pub fn configured_label() -> &'static str {
    if postgres_admin().is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

pub struct BenchDb {
    /// What the server is given as `--database-url`.
    pub url: String,
    /// The admin URL and the database's name, to drop it (PostgreSQL only).
    postgres: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl BenchDb {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match postgres_admin() {
            Some(admin) => {
                use sqlx::Connection;
                let name = format!("vmshift_bench_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .expect("the PostgreSQL server answers (scripts/postgres.sh start)");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("a benchmark database");
                let _ = conn.close().await;
                // The admin URL with its last path segment (the database) replaced.
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                BenchDb {
                    url: format!("{base}/{name}"),
                    postgres: Some((admin, name)),
                    _dir: dir,
                }
            }
            None => BenchDb {
                url: format!("sqlite://{}", dir.path().join("bench.db").display()),
                postgres: None,
                _dir: dir,
            },
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// "SQLite" or "PostgreSQL", for headings and table rows.
    pub fn label(&self) -> &'static str {
        if self.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Best effort, on a runtime of its own: the benchmark's may be busy or shutting down.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// Fills the empty database at `url` with `inventory` through the app itself (built as `main`
/// builds it, then dropped before the server under test starts); returns how long storing
/// took.
pub async fn seed(url: &str, inventory: domain::Inventory) -> std::time::Duration {
    use clap::Parser;
    let config = server::config::Config::try_parse_from([
        "vmshift",
        "--database-url",
        url,
        "--bind",
        "127.0.0.1:0",
        "--demo",
        "false",
        "--admin-password",
        "bench-admin-password",
        "--log",
        "warn",
    ])
    .expect("a valid configuration");
    let app = server::App::build(config).await.expect("the app starts");
    let started = std::time::Instant::now();
    app.services()
        .inventory
        .seed(inventory)
        .await
        .expect("the inventory is stored");
    started.elapsed()
}
