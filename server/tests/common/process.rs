//! The real `vmshift` binary in a child process (for kills and several replicas).

use super::{client_with, token_for, ADMIN_PASSWORD};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Process {
    pub child: Child,
    pub base: String,
    pub addr: std::net::SocketAddr,
    pub token: String,
    pub client: reqwest::Client,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the binary on `url` with `extra` flags, waits until it answers, and signs in as
/// the admin.
pub async fn spawn(url: &str, extra: &[&str]) -> Process {
    spawn_with(url, extra, &[], None).await
}

/// Like [`spawn`], with environment variables (`VMSHIFT_FAILPOINTS`, …) and its standard
/// error and output (the log) written to `stderr` (what a test reads to know a failpoint was
/// reached).
pub async fn spawn_with(
    url: &str,
    extra: &[&str],
    env: &[(&str, &str)],
    stderr: Option<&std::path::Path>,
) -> Process {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_vmshift"));
    command
        .args([
            "--database-url",
            url,
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--log", "warn", "--admin-password", ADMIN_PASSWORD])
        .args(extra)
        .envs(env.iter().copied())
        .stdout(Stdio::null());
    if let Some(path) = stderr {
        // The log (on standard output) too.
        let file = std::fs::File::create(path).unwrap();
        command.stdout(file.try_clone().unwrap()).stderr(file);
    }
    let child = command.spawn().unwrap();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    // Owned from here: a failure below kills it (see Drop).
    let mut process = Process {
        child,
        base: format!("http://{addr}"),
        addr,
        token: String::new(),
        client: reqwest::Client::new(),
    };
    for _ in 0..1000 {
        if let Ok(r) = process
            .client
            .get(format!("{}/healthz", process.base))
            .send()
            .await
        {
            if r.status().is_success() {
                process.token = token_for(addr, "admin", ADMIN_PASSWORD).await;
                process.client = client_with(&process.token);
                return process;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the server did not start");
}

impl Process {
    pub async fn get(&self, path: &str) -> Value {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .request(method, format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    /// Ids of the hosts, datastores and VMs by name.
    pub async fn ids(&self) -> std::collections::HashMap<String, String> {
        let mut ids = std::collections::HashMap::new();
        for c in ["hosts", "datastores", "vms"] {
            for o in self.get(&format!("/api/v1/{c}")).await.as_array().unwrap() {
                ids.insert(
                    o["name"].as_str().unwrap().to_string(),
                    o["id"].as_str().unwrap().to_string(),
                );
            }
        }
        ids
    }

    /// A websocket signed in as the admin.
    pub async fn ws(&self) -> super::Ws {
        self.ws_with(&self.token.clone()).await
    }

    /// A websocket with this API token.
    pub async fn ws_with(&self, token: &str) -> super::Ws {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("ws://{}/ws", self.addr)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        tokio_tungstenite::connect_async(request).await.unwrap().0
    }
}

/// Waits until `path` (a process's standard error) holds `line`, for up to `wait`.
pub async fn wait_for_line(path: &std::path::Path, line: &str, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    while tokio::time::Instant::now() < deadline {
        if std::fs::read_to_string(path).is_ok_and(|text| text.contains(line)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}
