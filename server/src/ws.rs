//! The live websocket: a snapshot on connect, then every change. Each client has its own
//! task reading a bounded broadcast channel, so a slow client never blocks the others; one
//! that falls behind by more than the buffer is sent a fresh snapshot.

use crate::AppState;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use tokio::sync::broadcast::error::RecvError;

pub async fn upgrade(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    // Clients only listen: small read buffers; writes are flushed once per batch.
    ws.read_buffer_size(4 * 1024)
        .max_message_size(64 * 1024)
        .write_buffer_size(16 * 1024)
        .on_upgrade(move |socket| serve(socket, state))
}

async fn serve(mut socket: WebSocket, state: AppState) {
    // Subscribe before taking the snapshot so that no change falls between the two.
    let mut changes = state.inventory.subscribe();
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
    batch: &crate::inventory_service::LiveBatch,
) -> Result<(), axum::Error> {
    use futures::SinkExt;
    for frame in batch.iter() {
        socket.feed(Message::Text(frame.clone())).await?;
    }
    socket.flush().await
}
