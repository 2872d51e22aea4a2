//! The live websocket: a snapshot on connect, then every change. Each client has its own
//! task reading a bounded broadcast channel, so a slow client never blocks the others; one
//! that falls behind by more than the buffer is sent a fresh snapshot.

use super::AppState;
use crate::accounts::Principal;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::Extension;
use tokio::sync::broadcast::error::RecvError;

pub async fn upgrade(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Response {
    // Clients only listen: small read buffers; writes are flushed once per batch.
    ws.read_buffer_size(4 * 1024)
        .max_message_size(64 * 1024)
        .write_buffer_size(16 * 1024)
        .on_upgrade(move |socket| serve(socket, state, principal))
}

/// How often a connection's session is checked for expiry (withdrawals are immediate).
const RECHECK: std::time::Duration = std::time::Duration::from_secs(60);

async fn serve(mut socket: WebSocket, state: AppState, principal: Principal) {
    let mut revocations = state.accounts.revocations();
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.tick().await;
    // Subscribe before taking the snapshot so that no change falls between the two.
    let mut changes = state.live.subscribe();
    let mut shutdown = state.shutdown.clone();
    if send(&mut socket, snapshot(&state)).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            change = changes.recv() => match change {
                Ok(batch) => {
                    if send_batch(&mut socket, &batch).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "websocket client fell behind; resyncing");
                    changes = changes.resubscribe();
                    if send(&mut socket, snapshot(&state)).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                // Clients only listen; pings are answered by axum.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
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

fn snapshot(state: &AppState) -> String {
    let (migrations, faults) = state.migrations.snapshot();
    state
        .inventory
        .snapshot_message_with(Some((&migrations, &faults)))
}

async fn send(socket: &mut WebSocket, text: String) -> Result<(), axum::Error> {
    socket.send(Message::Text(text.into())).await
}

/// Sends a batch of messages with a single flush (the frames are shared, not copied).
async fn send_batch(
    socket: &mut WebSocket,
    batch: &crate::live::LiveBatch,
) -> Result<(), axum::Error> {
    use futures::SinkExt;
    for frame in batch.iter() {
        socket.feed(Message::Text(frame.clone())).await?;
    }
    socket.flush().await
}
