//! A connection's sync writing what vCenter holds (docs/VCENTER.md#mirrored-objects): the
//! changes that make the connection's objects match, validated by the gate, stored in one
//! transaction under one revision, told to live clients as one batch (a large first sync as
//! a fresh snapshot). Nothing is written when nothing changed.

use super::{InventoryService, ServiceError};
use crate::audit;
use crate::db::{self, DbError};
use domain::source::SyncSummary;
use domain::{Change, InventoryFile, VmId};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;

/// Above this many changes, live clients get a fresh snapshot rather than the batch.
const BATCH_TO_CLIENTS: usize = 2_000;

impl InventoryService {
    /// Makes the objects mirrored from `connection` what `file` holds (ids and managed object
    /// ids in `morefs`); `label` names the connection in the audit log.
    pub async fn sync_mirror(
        self: &Arc<Self>,
        connection: Uuid,
        label: String,
        file: InventoryFile,
        morefs: HashMap<Uuid, String>,
    ) -> Result<SyncSummary, ServiceError> {
        let this = self.clone();
        tokio::spawn(async move { this.sync_now(connection, label, file, morefs).await })
            .await
            .map_err(|e| ServiceError::Storage(DbError::Corrupt(format!("sync task: {e}"))))?
    }

    async fn sync_now(
        &self,
        connection: Uuid,
        label: String,
        file: InventoryFile,
        morefs: HashMap<Uuid, String>,
    ) -> Result<SyncSummary, ServiceError> {
        let _writer = self.write_gate.lock().await;
        // Most passes change nothing: find that out before taking a revision.
        let seen = self.revision();
        let first = self
            .read()
            .validate_sync(connection, &label, file.clone(), &morefs)?;
        if first.1.is_empty() {
            return Ok(SyncSummary::default());
        }
        let (mut tx, revision) = self.begin_write().await?;
        // Validated again only when catching up brought other replicas' changes.
        let (next, changes, summary) = if self.revision() == seen {
            first
        } else {
            self.read()
                .validate_sync(connection, &label, file, &morefs)?
        };
        let stored: HashSet<VmId> = self.read().vms.keys().copied().collect();
        db::store_changes(&mut tx, &changes, &stored).await?;
        let mut faults_gone = false;
        for change in &changes {
            if let Change::Delete { id, .. } = change {
                faults_gone |= db::delete_faults_of(&mut tx, *id).await? > 0;
            }
        }
        if !summary.is_empty() {
            let record = audit::Record {
                action: "connection.sync",
                words: domain::Phrase::new(
                    "audit.synced",
                    &[
                        ("connection", label.clone()),
                        ("created", summary.created.to_string()),
                        ("updated", summary.updated.to_string()),
                        ("removed", summary.removed.to_string()),
                    ],
                ),
                ..Default::default()
            };
            audit::insert(&mut tx, "system", &record).await?;
        }
        if faults_gone {
            let notice = db::Notice::Faults {
                from: self.replica.clone(),
            };
            db::notify(&mut tx, &notice).await?;
        }
        let batch = Change::Batch { changes };
        let small =
            matches!(&batch, Change::Batch { changes } if changes.len() <= BATCH_TO_CLIENTS);
        self.finish_write(tx, revision, small.then_some(&batch))
            .await?;
        if small {
            self.install_changed(next, &batch, revision);
        } else {
            self.install(next, revision);
        }
        if faults_gone {
            self.faults_changed.send_modify(|n| *n += 1);
        }
        Ok(summary)
    }
}
