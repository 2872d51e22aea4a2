//! Starts a real vmshift server on a random loopback port with a throw-away database.

#![allow(dead_code)]

use leptos::prelude::LeptosOptions;
use server::engine::service::EngineConfig;
use server::{open_inventory, router, start_engine, AppState};
use std::net::SocketAddr;
use tokio::sync::watch;

pub struct TestServer {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub db_path: std::path::PathBuf,
    pub migrations: std::sync::Arc<server::engine::service::MigrationService>,
    _dir: tempfile::TempDir,
    shutdown: watch::Sender<bool>,
}

impl TestServer {
    /// A server over an empty inventory (`demo = false`) or the demo inventory.
    pub async fn start(demo: bool) -> Self {
        Self::start_with(demo, server::inventory_service::DEFAULT_LIVE_BUFFER).await
    }

    pub async fn start_with(demo: bool, live_buffer: usize) -> Self {
        Self::start_seeded(demo, live_buffer, None).await
    }

    /// A server whose empty database is first filled with `seed`.
    pub async fn start_seeded(
        demo: bool,
        live_buffer: usize,
        seed: Option<app::domain::Inventory>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_path = dir.path().join("vmshift.db");
        let url = format!("sqlite://{}", db_path.display());
        let inventory = open_inventory(&url, demo, live_buffer)
            .await
            .expect("database opens");
        if let Some(seed) = seed {
            inventory.seed(seed).await.expect("seed stored");
        }
        let (shutdown_tx, shutdown) = watch::channel(false);
        let options = LeptosOptions::builder().output_name("vmshift").build();
        // Migrations run at 1000× with short ticks: minutes of simulated time per second.
        let engine = EngineConfig {
            speed: 1000.0,
            tick: std::time::Duration::from_millis(50),
        };
        let migrations = start_engine(inventory.clone(), engine, shutdown.clone())
            .await
            .expect("engine starts");
        let app = router(AppState {
            leptos_options: options,
            inventory,
            migrations: migrations.clone(),
            shutdown: shutdown.clone(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut stop = shutdown;
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await
                .unwrap();
        });
        TestServer {
            addr,
            client: reqwest::Client::new(),
            db_path,
            migrations,
            _dir: dir,
            shutdown: shutdown_tx,
        }
    }

    /// Stops the server as SIGTERM would, and waits for the engine to store its last word.
    pub async fn stop(&self) {
        let _ = self.shutdown.send(true);
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
        let _ = self.shutdown.send(true);
    }
}
