//! The live hub: everything pushed to open browsers goes through here. The inventory service,
//! the migration engine and the lab publish batches of messages; each websocket subscribes
//! (see `http::ws`). A batch is encoded once and shared by every client (a clone is a
//! reference count); a client that falls behind by more than the buffer is resynced with a
//! snapshot. See docs/DESIGN.md#the-live-stream.

use app::protocol::LiveMessage;
use axum::extract::ws::Utf8Bytes;
use domain::migration::{Fault, Migration};
use domain::overview::ClusterTile;
use domain::{ClusterId, HostId, Inventory};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Messages pushed to live clients together: one websocket frame each.
pub type LiveBatch = Arc<[Frame]>;

/// One encoded message and which clients it is for (docs/DESIGN.md#scoped-live-clients).
#[derive(Debug, Clone)]
pub struct Frame {
    pub text: Utf8Bytes,
    pub reach: Reach,
}

/// Which clients a frame is for. A client with the whole inventory gets everything but the
/// overview's tiles; a client with some clusters open gets the tiles, the changes touching
/// those clusters and the progress of migrations from or to their hosts.
#[derive(Debug, Clone)]
pub enum Reach {
    All,
    /// The whole inventory: a scoped client is sent its own snapshot instead.
    Snapshot,
    /// An inventory change touching these clusters.
    Clusters(Arc<[ClusterId]>),
    /// A migration's progress between these hosts.
    Hosts([HostId; 2]),
    /// A migration's summary (between these hosts): to clients following it, and to every
    /// client when it starts or ends its flight (`flight`), which the overview marks.
    Summary {
        hosts: [HostId; 2],
        flight: bool,
    },
    /// Overview tiles that changed.
    Overview,
}

impl Frame {
    pub fn new(text: impl Into<Utf8Bytes>, reach: Reach) -> Frame {
        Frame {
            text: text.into(),
            reach,
        }
    }

    pub fn to_all(text: impl Into<Utf8Bytes>) -> Frame {
        Frame::new(text, Reach::All)
    }
}

/// How many batches a slow websocket client may fall behind before it is resynced (by
/// default; see `--live-buffer`).
pub const DEFAULT_LIVE_BUFFER: usize = 1024;

pub struct LiveHub {
    sender: broadcast::Sender<LiveBatch>,
}

impl LiveHub {
    pub fn new(buffer: usize) -> Arc<Self> {
        let (sender, _) = broadcast::channel(buffer.max(1));
        Arc::new(LiveHub { sender })
    }

    /// Pushes a batch to every live client (nobody watching is not an error).
    pub fn publish(&self, batch: LiveBatch) {
        let _ = self.sender.send(batch);
    }

    /// Pushes one message.
    pub fn publish_message(&self, message: &LiveMessage) {
        let text = serde_json::to_string(message).expect("live messages serialize");
        self.publish(one_message(text));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveBatch> {
        self.sender.subscribe()
    }
}

/// A batch of one message for every client.
pub fn one_message(text: String) -> LiveBatch {
    Arc::from(vec![Frame::to_all(text)])
}

/// A batch of one whole-inventory snapshot.
pub fn one_snapshot(text: String) -> LiveBatch {
    Arc::from(vec![Frame::new(text, Reach::Snapshot)])
}

/// The snapshot message: the inventory at `revision`, with the migrations and faults a fresh
/// client needs (absent: the client keeps what it has).
pub fn snapshot_message(
    revision: u64,
    inventory: &Inventory,
    live: Option<(&[Migration], &[Fault])>,
    overview: Option<&[&ClusterTile]>,
) -> String {
    #[derive(serde::Serialize)]
    #[serde(tag = "type", rename = "snapshot")]
    struct SnapshotRef<'a> {
        revision: u64,
        inventory: &'a Inventory,
        #[serde(skip_serializing_if = "Option::is_none")]
        migrations: Option<&'a [Migration]>,
        #[serde(skip_serializing_if = "Option::is_none")]
        faults: Option<&'a [Fault]>,
        #[serde(skip_serializing_if = "Option::is_none")]
        overview: Option<&'a [&'a ClusterTile]>,
    }
    serde_json::to_string(&SnapshotRef {
        revision,
        inventory,
        migrations: live.map(|l| l.0),
        faults: live.map(|l| l.1),
        overview,
    })
    .expect("the inventory serializes")
}
