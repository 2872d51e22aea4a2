//! The one place where the inventory changes: validate against the whole inventory, store in
//! one transaction, apply in memory, then tell every live client.

use crate::db::{self, Db, DbError};
use app::domain::{Change, DomainError, ImportSummary, Inventory, InventoryFile, Mutation};
use app::protocol::LiveMessage;
use std::sync::{Arc, RwLock, RwLockReadGuard};
use tokio::sync::{broadcast, Mutex};

/// How many change messages a slow websocket client may fall behind before it is resynced
/// (by default; see `--live-buffer`).
pub const DEFAULT_LIVE_BUFFER: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Refused(#[from] DomainError),
    #[error(transparent)]
    Storage(#[from] DbError),
}

struct Current {
    inventory: Inventory,
    revision: u64,
}

pub struct InventoryService {
    db: Db,
    current: RwLock<Current>,
    /// Serializes writers: validation, storage and application happen as one step.
    write_gate: Mutex<()>,
    live: broadcast::Sender<Arc<str>>,
}

impl InventoryService {
    pub async fn load(db: Db, live_buffer: usize) -> Result<Arc<Self>, DbError> {
        let inventory = db::load_inventory(&db).await?;
        let (live, _) = broadcast::channel(live_buffer.max(1));
        Ok(Arc::new(Self {
            db,
            current: RwLock::new(Current {
                inventory,
                revision: 0,
            }),
            write_gate: Mutex::new(()),
            live,
        }))
    }

    /// Read access to the current inventory. Keep the guard short-lived.
    pub fn read(&self) -> InventoryRead<'_> {
        InventoryRead(self.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// A copy of the inventory with its revision (for snapshots).
    pub fn snapshot(&self) -> (u64, Inventory) {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        (current.revision, current.inventory.clone())
    }

    /// The snapshot message, serialized.
    pub fn snapshot_message(&self) -> String {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        #[derive(serde::Serialize)]
        #[serde(tag = "type", rename = "snapshot")]
        struct SnapshotRef<'a> {
            revision: u64,
            inventory: &'a Inventory,
        }
        serde_json::to_string(&SnapshotRef {
            revision: current.revision,
            inventory: &current.inventory,
        })
        .expect("the inventory serializes")
    }

    /// VMs with a migration queued or running (none until the migration engine lands).
    pub fn busy_vms(&self) -> std::collections::BTreeSet<app::domain::VmId> {
        std::collections::BTreeSet::new()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.live.subscribe()
    }

    /// Validates, stores and applies one mutation; returns the applied change.
    ///
    /// Runs to completion in its own task even if the caller goes away (a client that
    /// disconnects mid-request): a committed change is always applied in memory too.
    pub async fn apply(self: &Arc<Self>, mutation: Mutation) -> Result<Change, ServiceError> {
        let this = self.clone();
        tokio::spawn(async move { this.apply_now(mutation).await })
            .await
            .map_err(|e| ServiceError::Storage(DbError::Corrupt(format!("mutation task: {e}"))))?
    }

    async fn apply_now(&self, mutation: Mutation) -> Result<Change, ServiceError> {
        let _writer = self.write_gate.lock().await;
        let change = self.read().validate(mutation)?;
        let mut tx = self.db.begin().await.map_err(DbError::from)?;
        db::store_change(&mut tx, &change).await?;
        tx.commit().await.map_err(DbError::from)?;
        let revision = {
            let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
            current.inventory.apply(&change);
            current.revision += 1;
            current.revision
        };
        let message = LiveMessage::InventoryChanged {
            revision,
            change: change.clone(),
        };
        let text = serde_json::to_string(&message).expect("changes serialize");
        // No receiver is not an error: nobody is watching.
        let _ = self.live.send(Arc::from(text));
        Ok(change)
    }

    /// Imports objects (creating new ids, replacing known ones), all or nothing, in one
    /// transaction; live clients get a fresh snapshot. Like [`Self::apply`], it cannot be
    /// cut short by the caller going away.
    pub async fn import(
        self: &Arc<Self>,
        file: InventoryFile,
    ) -> Result<ImportSummary, ServiceError> {
        let this = self.clone();
        tokio::spawn(async move { this.import_now(file).await })
            .await
            .map_err(|e| ServiceError::Storage(DbError::Corrupt(format!("import task: {e}"))))?
    }

    async fn import_now(&self, file: InventoryFile) -> Result<ImportSummary, ServiceError> {
        let _writer = self.write_gate.lock().await;
        let (next, changes, summary) = self.read().validate_import(file)?;
        let mut tx = self.db.begin().await.map_err(DbError::from)?;
        for change in &changes {
            db::store_change(&mut tx, change).await?;
        }
        tx.commit().await.map_err(DbError::from)?;
        {
            let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
            current.inventory = next;
            current.revision += 1;
        }
        let _ = self.live.send(Arc::from(self.snapshot_message()));
        Ok(summary)
    }

    /// Stores a whole validated inventory into an empty database (the demo).
    pub async fn seed(&self, inventory: Inventory) -> Result<(), ServiceError> {
        let _writer = self.write_gate.lock().await;
        let mut tx = self.db.begin().await.map_err(DbError::from)?;
        for object in inventory.objects() {
            db::store_change(&mut tx, &Change::Upsert { object }).await?;
        }
        tx.commit().await.map_err(DbError::from)?;
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        current.inventory = inventory;
        current.revision += 1;
        drop(current);
        let _ = self.live.send(Arc::from(self.snapshot_message()));
        Ok(())
    }
}

/// A read guard on the current inventory.
pub struct InventoryRead<'a>(RwLockReadGuard<'a, Current>);

impl std::ops::Deref for InventoryRead<'_> {
    type Target = Inventory;
    fn deref(&self) -> &Inventory {
        &self.0.inventory
    }
}
