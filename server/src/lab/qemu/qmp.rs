//! A small QMP client (QEMU Machine Protocol: JSON lines over a unix socket). One reader task
//! routes each reply to the caller waiting on its `id` and broadcasts events; commands may be
//! sent from several tasks at once. Messages stay `serde_json::Value`s: the few fields we read
//! are spelled the same in QEMU 7.2 and 10.0, generated bindings would tie us to one.

use crate::sync::Mutex;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::UnixStream;
use tokio::sync::{broadcast, oneshot};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QmpError {
    #[error("QMP socket {path}: {reason}")]
    Connect { path: String, reason: String },
    #[error("QMP connection closed (QEMU exited?)")]
    Closed,
    #[error("QMP I/O error: {0}")]
    Io(String),
    #[error("QMP protocol error: {0}")]
    Protocol(String),
    /// QEMU refused the command.
    #[error("{command}: {class}: {desc}")]
    Command {
        command: String,
        class: String,
        desc: String,
    },
    #[error("{0}: no answer in time")]
    Timeout(String),
}

/// An asynchronous event (`MIGRATION`, `BLOCK_JOB_READY`, …).
#[derive(Debug, Clone, PartialEq)]
pub struct QmpEvent {
    pub name: String,
    pub data: Value,
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Value, QmpError>>>>>;

pub struct Qmp {
    writer: tokio::sync::Mutex<OwnedWriteHalf>,
    pending: Pending,
    events: broadcast::Sender<QmpEvent>,
    next_id: AtomicU64,
}

/// How long a command may take before the caller gives up on it.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

impl Qmp {
    /// Connects (retrying until the socket appears, up to `wait`), reads the greeting and
    /// leaves capability negotiation.
    pub async fn connect(path: &Path, wait: Duration) -> Result<Qmp, QmpError> {
        let deadline = tokio::time::Instant::now() + wait;
        let stream = loop {
            match UnixStream::connect(path).await {
                Ok(s) => break s,
                Err(e) if tokio::time::Instant::now() >= deadline => {
                    return Err(QmpError::Connect {
                        path: path.display().to_string(),
                        reason: e.to_string(),
                    })
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        let (read, write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        let greeting = tokio::time::timeout(wait, lines.next_line())
            .await
            .map_err(|_| QmpError::Timeout("greeting".into()))?
            .map_err(|e| QmpError::Io(e.to_string()))?
            .ok_or(QmpError::Closed)?;
        let greeting: Value =
            serde_json::from_str(&greeting).map_err(|e| QmpError::Protocol(e.to_string()))?;
        if greeting.get("QMP").is_none() {
            return Err(QmpError::Protocol(format!(
                "unexpected greeting {greeting}"
            )));
        }
        let pending: Pending = Arc::default();
        let (events, _) = broadcast::channel(256);
        tokio::spawn(read_loop(lines, pending.clone(), events.clone()));
        let qmp = Qmp {
            writer: tokio::sync::Mutex::new(write),
            pending,
            events,
            next_id: AtomicU64::new(1),
        };
        qmp.execute("qmp_capabilities", json!({})).await?;
        Ok(qmp)
    }

    /// Runs a command; its `return` value, or QEMU's error.
    pub async fn execute(&self, command: &str, arguments: Value) -> Result<Value, QmpError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().insert(id, tx);
        let mut message = json!({ "execute": command, "id": id });
        if arguments.as_object().is_some_and(|a| !a.is_empty()) {
            message["arguments"] = arguments;
        }
        let mut line = message.to_string();
        line.push('\n');
        let written = {
            let mut writer = self.writer.lock().await;
            writer.write_all(line.as_bytes()).await
        };
        if let Err(e) = written {
            self.forget(id);
            return Err(QmpError::Io(e.to_string()));
        }
        match tokio::time::timeout(COMMAND_TIMEOUT, rx).await {
            Ok(Ok(result)) => result.map_err(|e| match e {
                QmpError::Command { class, desc, .. } => QmpError::Command {
                    command: command.to_owned(),
                    class,
                    desc,
                },
                other => other,
            }),
            Ok(Err(_)) => Err(QmpError::Closed),
            Err(_) => {
                self.forget(id);
                Err(QmpError::Timeout(command.to_owned()))
            }
        }
    }

    fn forget(&self, id: u64) {
        self.pending.lock().remove(&id);
    }

    /// Events from now on.
    pub fn events(&self) -> broadcast::Receiver<QmpEvent> {
        self.events.subscribe()
    }
}

async fn read_loop(
    mut lines: tokio::io::Lines<BufReader<tokio::net::unix::OwnedReadHalf>>,
    pending: Pending,
    events: broadcast::Sender<QmpEvent>,
) {
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            tracing::warn!(line, "unreadable QMP message");
            continue;
        };
        if let Some(name) = message.get("event").and_then(Value::as_str) {
            let _ = events.send(QmpEvent {
                name: name.to_owned(),
                data: message.get("data").cloned().unwrap_or(Value::Null),
            });
            continue;
        }
        let Some(id) = message.get("id").and_then(Value::as_u64) else {
            continue;
        };
        let Some(reply) = pending.lock().remove(&id) else {
            continue;
        };
        let result = match (message.get("return"), message.get("error")) {
            (Some(r), _) => Ok(r.clone()),
            (None, Some(e)) => Err(QmpError::Command {
                command: String::new(),
                class: e["class"].as_str().unwrap_or("GenericError").to_owned(),
                desc: e["desc"].as_str().unwrap_or("").to_owned(),
            }),
            _ => Err(QmpError::Protocol(format!("unexpected reply {message}"))),
        };
        let _ = reply.send(result);
    }
    // Closed: every waiting caller learns it now.
    let waiting: Vec<_> = pending.lock().drain().collect();
    for (_, reply) in waiting {
        let _ = reply.send(Err(QmpError::Closed));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::UnixListener;

    /// A fake QEMU: greets, answers `qmp_capabilities`, then `query-status` with an event
    /// first, and an error for anything else; closes on `quit`.
    async fn fake_qemu(listener: UnixListener) {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        write
            .write_all(b"{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n")
            .await
            .unwrap();
        let mut lines = BufReader::new(read).lines();
        while let Some(line) = lines.next_line().await.unwrap() {
            let m: Value = serde_json::from_str(&line).unwrap();
            let id = m["id"].clone();
            let reply = match m["execute"].as_str().unwrap() {
                "qmp_capabilities" => json!({ "return": {}, "id": id }),
                "query-status" => {
                    let event =
                        json!({ "event": "STOP", "data": {"reason": "x"}, "timestamp": {} });
                    write
                        .write_all(format!("{event}\n").as_bytes())
                        .await
                        .unwrap();
                    json!({ "return": { "status": "running" }, "id": id })
                }
                "quit" => return,
                other => {
                    json!({ "error": { "class": "CommandNotFound", "desc": format!("The command {other} has not been found") }, "id": id })
                }
            };
            write
                .write_all(format!("{reply}\n").as_bytes())
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn replies_are_routed_by_id_events_broadcast_errors_named_and_a_close_fails_waiters() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qmp.sock");
        let listener = UnixListener::bind(&path).unwrap();
        tokio::spawn(fake_qemu(listener));
        let qmp = Qmp::connect(&path, Duration::from_secs(5)).await.unwrap();
        let mut events = qmp.events();
        let status = qmp.execute("query-status", json!({})).await.unwrap();
        assert_eq!(status["status"], "running");
        let event = events.recv().await.unwrap();
        assert_eq!(event.name, "STOP");
        assert_eq!(event.data["reason"], "x");
        match qmp.execute("no-such-command", json!({})).await {
            Err(QmpError::Command { command, class, .. }) => {
                assert_eq!(command, "no-such-command");
                assert_eq!(class, "CommandNotFound");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(qmp.execute("quit", json!({})).await, Err(QmpError::Closed));
    }

    #[tokio::test]
    async fn a_missing_socket_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.sock");
        match Qmp::connect(&path, Duration::from_millis(100)).await {
            Err(QmpError::Connect { path: p, .. }) => assert!(p.ends_with("absent.sock")),
            other => panic!("{:?}", other.err()),
        }
    }
}
