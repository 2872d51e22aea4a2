//! Starts a real vmshift server on a random loopback port with a throw-away database.

#![allow(dead_code)]

use clap::Parser;
use server::config::Config;
use server::{App, Running, Services};
use std::net::SocketAddr;

pub mod process;
pub mod vcsim;

/// A websocket client.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The fields of every progress event (docs/DESIGN.md#the-progress-stream).
pub const EVENT_FIELDS: [&str; 14] = [
    "migration_id",
    "seq",
    "sim_time_s",
    "phase",
    "percent",
    "bytes_sent",
    "bytes_total_estimate",
    "rate_bytes_s",
    "eta_s",
    "round",
    "dirty_rate_bytes_s",
    "remaining_dirty_bytes",
    "expected_downtime_ms",
    "message",
];

/// What every stored history must be (docs/DESIGN.md#the-progress-stream): `seq` 1..n with no gap, `percent` never
/// going back, time never going back, every field present, and — once the migration has
/// ended — exactly one final event (completed, failed or cancelled), the last.
pub fn check_history(events: &serde_json::Value) -> Vec<serde_json::Value> {
    let events = events.as_array().expect("a history is a list").clone();
    let (mut percent, mut time) = (0.0, 0.0);
    let mut finals = 0;
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seq"].as_u64(), Some(i as u64 + 1), "gap at {e}");
        for field in EVENT_FIELDS {
            assert!(e.get(field).is_some(), "{field} missing in {e}");
        }
        let p = e["percent"].as_f64().unwrap();
        assert!(p >= percent, "percent went back at {e}");
        percent = p;
        let t = e["sim_time_s"].as_f64().unwrap();
        assert!(t >= time, "time went back at {e}");
        time = t;
        if ["completed", "failed", "cancelled"].contains(&e["phase"].as_str().unwrap()) {
            finals += 1;
            assert_eq!(i + 1, events.len(), "events after the end: {e}");
        }
    }
    assert!(finals <= 1);
    events
}

/// Where a JSON document holds -0.0 (its paths): a figure no reader should see.
pub fn negative_zeros(value: &serde_json::Value) -> Vec<String> {
    fn walk(v: &serde_json::Value, path: String, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Number(n)
                if n.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_negative()) =>
            {
                out.push(path);
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, format!("{path}[{i}]"), out);
                }
            }
            serde_json::Value::Object(map) => {
                for (k, item) in map {
                    walk(item, format!("{path}.{k}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, String::new(), &mut out);
    out
}

/// A live frame reads the same through the browser's tag-first reader as through serde's
/// derived one (docs/DESIGN.md#tag-first-reading).
pub fn read_as_the_browser_does(text: &str) {
    use app::protocol::LiveMessage;
    let derived: LiveMessage = serde_json::from_str(text).expect("a live message");
    let tagged: LiveMessage =
        domain::tag_first::deserialize(&mut serde_json::Deserializer::from_str(text))
            .expect("a live message read tag first");
    assert_eq!(tagged, derived, "{text}");
}

/// The next JSON message of a websocket for which `pick` returns something, within `wait`.
pub async fn next_matching<T>(
    ws: &mut Ws,
    wait: std::time::Duration,
    mut pick: impl FnMut(&serde_json::Value) -> Option<T>,
) -> Option<T> {
    use futures::StreamExt;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let message = tokio::time::timeout_at(deadline, ws.next())
            .await
            .ok()??
            .ok()?;
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            read_as_the_browser_does(&text);
            let value: serde_json::Value = serde_json::from_str(&text).ok()?;
            if let Some(found) = pick(&value) {
                return Some(found);
            }
        }
    }
}

/// A throw-away database: SQLite in a temporary directory, or, when `VMSHIFT_TEST_POSTGRES`
/// names a PostgreSQL server (an admin URL such as `postgres://vmshift@127.0.0.1:55432/postgres`),
/// a fresh database there, dropped afterwards. The same tests run on both.
pub struct TestDb {
    pub url: String,
    postgres: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match std::env::var("VMSHIFT_TEST_POSTGRES") {
            Ok(admin) if !admin.is_empty() => {
                use sqlx::Connection;
                let name = format!("vmshift_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .expect("the PostgreSQL test server answers (scripts/postgres.sh start)");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("a test database");
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                TestDb {
                    url: format!("{base}/{name}"),
                    postgres: Some((admin.clone(), name)),
                    _dir: dir,
                }
            }
            _ => TestDb {
                url: format!("sqlite://{}", dir.path().join("vmshift.db").display()),
                postgres: None,
                _dir: dir,
            },
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// The SQLite file (None on PostgreSQL).
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        self.url
            .strip_prefix("sqlite://")
            .map(std::path::PathBuf::from)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Best effort, off the test's runtime (which may be shutting down).
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
                }
            });
        })
        .join();
    }
}

/// Password of the first admin in every test server.
pub const ADMIN_PASSWORD: &str = "test-admin-password";

/// Signs in and creates an API token (what a script does once).
pub async fn token_for(addr: SocketAddr, username: &str, password: &str) -> String {
    let http = reqwest::Client::new();
    let res = http
        .post(format!("http://{addr}/api/v1/session"))
        .json(&serde_json::json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{username} signs in");
    let cookie = res
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_string();
    let res = http
        .post(format!("http://{addr}/api/v1/tokens"))
        .header(reqwest::header::COOKIE, cookie)
        .json(&serde_json::json!({ "name": "tests" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

/// A client that sends `Authorization: Bearer <token>` with every request.
pub fn client_with(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// The configuration of a test server on `database_url`, as its command line would give it:
/// a free loopback port, migrations at 1000× with short ticks (minutes of simulated time per
/// second), the first admin's password known; `extra` flags on top.
pub fn config(database_url: &str, extra: &[&str]) -> Config {
    let mut args = vec![
        "vmshift",
        "--database-url",
        database_url,
        "--bind",
        "127.0.0.1:0",
        "--speed",
        "1000",
        "--tick-ms",
        "50",
        "--admin-password",
        ADMIN_PASSWORD,
        "--replica-id",
        "test",
        "--driver",
        "simulated",
        "--log",
        "warn",
        "--secret-key",
        "the tests' secret key",
    ];
    args.extend_from_slice(extra);
    Config::try_parse_from(args).expect("a valid test configuration")
}

/// The app built on an existing database (a restart), not serving.
pub async fn reopen(database_url: &str) -> App {
    App::build(config(database_url, &["--demo", "true"]))
        .await
        .expect("the app starts again")
}

/// Fills the empty database at `database_url` with `inventory`, through the app (built, then
/// dropped), before the servers under test start on it.
pub async fn seed(database_url: &str, inventory: domain::Inventory) {
    let app = App::build(config(database_url, &["--demo", "false"]))
        .await
        .expect("the app starts");
    app.services()
        .inventory
        .seed(inventory)
        .await
        .expect("the inventory is stored");
}

pub struct TestServer {
    pub addr: SocketAddr,
    /// Signed in as the admin (through an API token).
    pub client: reqwest::Client,
    pub admin_token: String,
    pub db: TestDb,
    pub services: Services,
    pub migrations: std::sync::Arc<server::engine::MigrationService>,
    running: Running,
}

impl TestServer {
    /// A server over an empty inventory (`demo = false`) or the demo inventory.
    pub async fn start(demo: bool) -> Self {
        Self::start_with(demo, server::live::DEFAULT_LIVE_BUFFER).await
    }

    pub async fn start_with(demo: bool, live_buffer: usize) -> Self {
        Self::start_seeded(demo, live_buffer, None).await
    }

    /// A server whose empty database is first filled with `seed`.
    pub async fn start_seeded(
        demo: bool,
        live_buffer: usize,
        seed: Option<domain::Inventory>,
    ) -> Self {
        let buffer = live_buffer.to_string();
        let demo = demo.to_string();
        Self::start_full(&["--demo", &demo, "--live-buffer", &buffer], seed).await
    }

    /// A server configured with `--public-url` (its origin).
    pub async fn start_public(public_origin: &str) -> Self {
        Self::start_full(&["--demo", "false", "--public-url", public_origin], None).await
    }

    /// A server started as `main` starts it, with these flags.
    pub async fn start_full(flags: &[&str], seed: Option<domain::Inventory>) -> Self {
        let db = TestDb::new().await;
        let app = App::build(config(&db.url, flags))
            .await
            .expect("the app starts");
        if let Some(seed) = seed {
            app.services()
                .inventory
                .seed(seed)
                .await
                .expect("seed stored");
        }
        let running = app.spawn();
        let addr = running.address;
        let admin_token = token_for(addr, "admin", ADMIN_PASSWORD).await;
        TestServer {
            addr,
            client: client_with(&admin_token),
            admin_token,
            db,
            services: running.services.clone(),
            migrations: running.services.migrations.clone(),
            running,
        }
    }

    /// Stops the server as SIGTERM would, and waits for the engine to store its last word.
    pub async fn stop(&self) {
        self.running.request_stop();
        self.migrations.stopped().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let res = self.client.get(self.url(path)).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let res = self
            .client
            .request(method, self.url(path))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn post(&self, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    pub async fn put(&self, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        self.send(reqwest::Method::PUT, path, body).await
    }

    pub async fn delete(&self, path: &str) -> u16 {
        self.client
            .delete(self.url(path))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// A new user with this role, and a client signed in as them.
    pub async fn user(&self, username: &str, role: &str) -> reqwest::Client {
        let password = format!("{username}-password");
        let (status, body) = self
            .post(
                "/api/v1/users",
                &serde_json::json!({ "username": username, "password": password, "role": role }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        client_with(&token_for(self.addr, username, &password).await)
    }

    /// A websocket to `/ws`, signed in as the admin.
    pub async fn ws(
        &self,
    ) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>
    {
        self.ws_at("/ws").await
    }

    /// A websocket to `path` (`/ws?scope=open`), signed in as the admin.
    pub async fn ws_at(
        &self,
        path: &str,
    ) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>
    {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("ws://{}{path}", self.addr)
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", self.admin_token).parse().unwrap(),
        );
        tokio_tungstenite::connect_async(request).await.unwrap().0
    }

    /// Ids of the hosts, datastores and VMs by name.
    pub async fn ids(&self) -> std::collections::HashMap<String, String> {
        let mut ids = std::collections::HashMap::new();
        for collection in ["hosts", "datastores", "vms"] {
            let (_, list) = self.get(&format!("/api/v1/{collection}")).await;
            for o in list.as_array().expect("a list") {
                ids.insert(
                    o["name"].as_str().expect("a name").to_string(),
                    o["id"].as_str().expect("an id").to_string(),
                );
            }
        }
        ids
    }

    /// The whole inventory as exported, to prove that a refused request changed nothing.
    pub async fn export(&self) -> serde_json::Value {
        self.get("/api/v1/inventory").await.1
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.running.request_stop();
    }
}
