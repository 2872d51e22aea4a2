//! The live websocket: a snapshot on connect, then every change. Each client has its own
//! task reading a bounded broadcast channel, so a slow client never blocks the others; one
//! that falls behind by more than the buffer is sent a fresh snapshot. A client may say what
//! it shows (`/ws?scope=open`, then `scope` messages): it then gets the overview's tiles and
//! only what its open clusters hold (docs/DESIGN.md#scoped-live-clients).

use super::AppState;
use crate::accounts::Principal;
use crate::live::{Frame, Reach};
use app::protocol::{ClientMessage, LiveScope};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Extension;
use domain::{ClusterId, HostId};
use std::collections::{BTreeSet, HashMap, HashSet};
use tokio::sync::broadcast::error::RecvError;

pub async fn upgrade(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let scope = match params.get("scope").map(String::as_str) {
        Some("open") => Scope::open(LiveScope::default()),
        _ => Scope::Full,
    };
    // Clients mostly listen: small read buffers; writes are flushed once per batch.
    ws.read_buffer_size(4 * 1024)
        .max_message_size(64 * 1024)
        .write_buffer_size(16 * 1024)
        .on_upgrade(move |socket| serve(socket, state, principal, scope))
}

/// What one client is sent.
enum Scope {
    /// The whole inventory and every change.
    Full,
    /// The overview's tiles, and what these clusters show.
    Open {
        clusters: BTreeSet<ClusterId>,
        /// Their hosts: migrations from or to them are followed.
        hosts: HashSet<HostId>,
        /// Every migration's progress, not only the open clusters' ones.
        events: bool,
    },
}

impl Scope {
    fn open(asked: LiveScope) -> Scope {
        if asked.full {
            return Scope::Full;
        }
        Scope::Open {
            clusters: asked.clusters.into_iter().collect(),
            hosts: HashSet::new(),
            events: asked.events,
        }
    }

    /// Whether this client gets a frame; `None` for a whole-inventory snapshot, which a
    /// scoped client gets as its own snapshot instead.
    fn wants(&self, reach: &Reach) -> Option<bool> {
        Some(match (self, reach) {
            (_, Reach::All) => true,
            (Scope::Full, Reach::Overview) => false,
            (Scope::Full, _) => true,
            (Scope::Open { .. }, Reach::Snapshot) => return None,
            (Scope::Open { .. }, Reach::Overview) => true,
            (Scope::Open { clusters, .. }, Reach::Clusters(touched)) => {
                touched.iter().any(|c| clusters.contains(c))
            }
            (Scope::Open { hosts, events, .. }, Reach::Hosts(ends)) => {
                *events || ends.iter().any(|h| hosts.contains(h))
            }
            (
                Scope::Open { hosts, events, .. },
                Reach::Summary {
                    hosts: ends,
                    flight,
                },
            ) => *flight || *events || ends.iter().any(|h| hosts.contains(h)),
        })
    }
}

/// How often a connection's session is checked for expiry (withdrawals are immediate).
const RECHECK: std::time::Duration = std::time::Duration::from_secs(60);

async fn serve(mut socket: WebSocket, state: AppState, principal: Principal, mut scope: Scope) {
    let mut revocations = state.accounts.revocations();
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.tick().await;
    // Subscribe before taking the snapshot so that no change falls between the two.
    let mut changes = state.live.subscribe();
    let mut shutdown = state.shutdown.clone();
    if send(&mut socket, snapshot(&state, &mut scope))
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            change = changes.recv() => match change {
                Ok(batch) => {
                    if send_batch(&mut socket, &batch, &state, &mut scope).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "websocket client fell behind; resyncing");
                    changes = changes.resubscribe();
                    if send(&mut socket, snapshot(&state, &mut scope)).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                // What the client shows now: a snapshot of that.
                Some(Ok(Message::Text(text))) => match serde_json::from_str::<ClientMessage>(&text) {
                    Ok(ClientMessage::Scope(asked)) => {
                        scope = Scope::open(asked);
                        if send(&mut socket, snapshot(&state, &mut scope)).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "unreadable message from a live client"),
                },
                // Pings are answered by axum.
                Some(Ok(_)) => {}
            },
            // Credentials withdrawn somewhere, or time to check for expiry: still valid?
            _ = async {
                tokio::select! {
                    _ = revocations.changed() => {},
                    _ = recheck.tick() => {},
                }
            } => {
                match state.accounts.recheck(&principal).await {
                    Ok(Some(_)) => {}
                    Ok(None) => {
                        tracing::debug!(user = %principal.user.username, "credentials withdrawn: closing the live link");
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                    Err(e) => tracing::warn!(error = %e, "could not check a live link's credentials"),
                }
            }
            _ = shutdown.changed() => {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
        }
    }
}

/// A fresh snapshot of what the client shows (a scoped client's hosts are taken with it).
fn snapshot(state: &AppState, scope: &mut Scope) -> String {
    let (migrations, faults) = state.migrations.snapshot();
    let live = Some((&migrations[..], &faults[..]));
    match scope {
        Scope::Full => state.inventory.snapshot_message_with(live),
        Scope::Open {
            clusters, hosts, ..
        } => {
            let (text, now) = state.inventory.scoped_snapshot_message(clusters, live);
            *hosts = now;
            text
        }
    }
}

async fn send(socket: &mut WebSocket, text: String) -> Result<(), axum::Error> {
    socket.send(Message::Text(text.into())).await
}

/// Sends what the client wants of a batch with a single flush (the frames are shared, not
/// copied).
async fn send_batch(
    socket: &mut WebSocket,
    batch: &[Frame],
    state: &AppState,
    scope: &mut Scope,
) -> Result<(), axum::Error> {
    use futures::SinkExt;
    let mut sent = false;
    let mut hosts_changed = false;
    for frame in batch {
        match scope.wants(&frame.reach) {
            Some(true) => {
                hosts_changed |= matches!(frame.reach, Reach::Clusters(_));
                socket.feed(Message::Text(frame.text.clone())).await?;
                sent = true;
            }
            Some(false) => {}
            None => {
                let text = snapshot(state, scope);
                socket.feed(Message::Text(text.into())).await?;
                sent = true;
            }
        }
    }
    // A change in an open cluster may have added or removed one of its hosts.
    if let (
        true,
        Scope::Open {
            clusters, hosts, ..
        },
    ) = (hosts_changed, scope)
    {
        *hosts = state.inventory.hosts_of(clusters);
    }
    if sent {
        socket.flush().await?;
    }
    Ok(())
}
