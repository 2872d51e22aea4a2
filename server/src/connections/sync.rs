//! One connection's sync (docs/VCENTER.md#keeping-current): log in, read the whole vCenter in
//! one property-collector pass, write it through the gate; then wait for changes with
//! `WaitForUpdatesEx` on a collector of vmshift's own and write what they change; read
//! everything again now and then (some servers do not report every change); after any error
//! (vCenter unreachable, the session lost) log in again and start over, waiting longer each
//! time up to half a minute. Its state is stored for the pages: `connecting`, `synced`,
//! `error` with the message.

use crate::db::{self, Db};
use crate::inventory::InventoryService;
use crate::vcenter::collect::{self, read_objects};
use crate::vcenter::map::{self, WANTED};
use crate::vcenter::parsed::Cache;
use crate::vcenter::soap::Session;
use crate::vcenter::watch::{Mirror, Watch};
use crate::vcenter::{Endpoint, SoapError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use uuid::Uuid;

use super::{now_ms, SyncTiming};

/// The longest pause between attempts to reconnect.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub struct Sync {
    pub id: Uuid,
    pub name: String,
    pub db: Db,
    pub inventory: Arc<InventoryService>,
    pub timing: SyncTiming,
}

/// Why a session of the sync ended.
enum End {
    Stopped,
    Failed(String),
}

impl Sync {
    /// Runs until `stop` (the connection deleted) or `shutdown` (the server stops).
    pub async fn run(
        self,
        endpoint: Result<Endpoint, String>,
        mut stop: watch::Receiver<bool>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let endpoint = match endpoint {
            Ok(e) => e,
            Err(why) => {
                self.state("error", None, Some(&why)).await;
                return;
            }
        };
        // Until the first read is written and watched (after a restart too).
        self.state("connecting", None, None).await;
        let mut backoff = Duration::from_secs(1);
        loop {
            let end = tokio::select! {
                _ = stop.wait_for(|s| *s) => End::Stopped,
                _ = shutdown.wait_for(|s| *s) => End::Stopped,
                end = self.session(&endpoint, &mut backoff) => end,
            };
            match end {
                End::Stopped => return,
                End::Failed(why) => {
                    tracing::warn!(connection = %self.name, error = %why, "vCenter sync interrupted; reconnecting");
                    self.state("error", None, Some(&why)).await;
                }
            }
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                _ = shutdown.wait_for(|s| *s) => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    async fn state(&self, state: &str, synced: Option<i64>, error: Option<&str>) {
        if let Err(e) = db::store_sync_state(&self.db, self.id, state, synced, error).await {
            tracing::error!(connection = %self.name, error = %e, "could not store the sync state");
        }
    }

    /// Writes what the mirror holds; a refusal of the gate is the sync's error until the
    /// next change.
    async fn write(
        &self,
        instance: &str,
        mirror: &Mirror,
        cache: &mut Cache,
    ) -> Result<(), String> {
        let started = Instant::now();
        let mapped = map::inventory_with(instance, &mirror.refs(), cache);
        let mapped_ms = started.elapsed().as_secs_f64() * 1000.0;
        let summary = self
            .inventory
            .sync_mirror(self.id, self.name.clone(), mapped.file, mapped.morefs)
            .await
            .map_err(|e| format!("vCenter's inventory cannot be mirrored: {e}"))?;
        // What a change costs vmshift, from vCenter's answer to the live delta (benchmarks).
        tracing::debug!(target: "vmshift::vcenter", mapped_ms, written_ms = started.elapsed().as_secs_f64() * 1000.0, "vCenter state written");
        if !summary.is_empty() {
            tracing::info!(connection = %self.name, created = summary.created, updated = summary.updated, removed = summary.removed, "vCenter inventory synced");
        }
        Ok(())
    }

    /// One logged-in session: the first read, then changes until an error.
    async fn session(&self, endpoint: &Endpoint, backoff: &mut Duration) -> End {
        let failed = |e: SoapError| End::Failed(e.to_string());
        let mut session = match Session::login(endpoint).await {
            Ok(s) => s,
            Err(e) => return failed(e),
        };
        let instance = session.content.instance_uuid.clone();
        let mut mirror = match collect::collect(&mut session, WANTED).await {
            Ok(objects) => Mirror::new(objects),
            Err(e) => return failed(e),
        };
        let mut cache = Cache::default();
        let mut written = self.write(&instance, &mirror, &mut cache).await;
        if let Err(why) = &written {
            self.state("error", None, Some(why)).await;
        }
        let mut watch = match Watch::start(&mut session, WANTED).await {
            Ok(w) => w,
            Err(e) => return failed(e),
        };
        *backoff = Duration::from_secs(1);
        let mut last_full = Instant::now();
        // `synced` once vCenter's changes are being watched (the first wait has answered).
        let mut watching = false;
        loop {
            let updates = match watch.wait(&mut session, self.timing.wait_s).await {
                Ok(u) => u,
                Err(e) => return failed(e),
            };
            let (stale, mut changed) = mirror.apply(WANTED, updates);
            if !stale.is_empty() {
                match read_objects(&mut session, WANTED, &stale).await {
                    Ok(read) => mirror.replace(&stale, read),
                    Err(e) => return failed(e),
                }
                changed = true;
            }
            if last_full.elapsed() >= self.timing.full_read {
                match collect::collect(&mut session, WANTED).await {
                    Ok(objects) => mirror = Mirror::new(objects),
                    Err(e) => return failed(e),
                }
                last_full = Instant::now();
                changed = true;
            }
            if changed || written.is_err() {
                written = self.write(&instance, &mirror, &mut cache).await;
            }
            match &written {
                Err(why) => self.state("error", None, Some(why)).await,
                Ok(()) if changed || !watching => self.state("synced", Some(now_ms()), None).await,
                Ok(()) => {}
            }
            watching = true;
        }
    }
}
