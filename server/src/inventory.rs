//! The one place where the inventory changes: validate against the whole inventory, store in
//! one transaction, apply in memory, then tell every live client.
//!
//! Several replicas may share one database: each change takes the next inventory revision
//! (a row locked until the transaction ends, so writers are serialized across replicas),
//! and is logged under it. A replica whose copy is behind (the revision it gets is not the
//! next of its own) catches up from the log first and validates again; replicas told of a
//! change (see `replication`) catch up the same way. Every replica thus applies the same
//! changes in the same order, under the same revision numbers.

mod mirror;
mod publish;

use crate::audit;
use crate::db::{self, Db, DbError, Lease, Notice, Tx};
use crate::failpoints::{Action, Failpoints};
use crate::live::LiveHub;
use crate::sync::{RwLock, RwLockReadGuard};
use domain::migration::{Migration, MigrationEvent};
use domain::{
    Change, DomainError, ImportSummary, Inventory, InventoryFile, Mutation, Object, ObjectKind, Vm,
    VmId,
};
use domain::{DatastoreId, HostId};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use tokio::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Refused(#[from] DomainError),
    #[error(transparent)]
    Storage(#[from] DbError),
    /// The migration is no longer this replica's: another one ended it (its lease expired).
    #[error("this replica no longer owns the migration")]
    Fenced,
}

struct Current {
    inventory: Inventory,
    revision: u64,
    /// Every cluster's overview tile, kept current with the inventory.
    tiles: BTreeMap<domain::ClusterId, domain::overview::ClusterTile>,
}

pub struct InventoryService {
    db: Db,
    /// This replica's name (in notices to the others).
    replica: String,
    current: RwLock<Current>,
    /// Serializes writers: validation, storage and application happen as one step.
    write_gate: Mutex<()>,
    live: Arc<LiveHub>,
    /// What migrations queued or running use: edits of these objects are refused.
    in_motion: RwLock<InMotion>,
    /// Bumped when a deletion took faults with it (the engine reloads them).
    faults_changed: tokio::sync::watch::Sender<u64>,
    /// Test hooks (docs/RELIABILITY.md).
    failpoints: Arc<Failpoints>,
}

/// The VMs in motion and the hosts and datastores their migrations involve.
#[derive(Default)]
struct InMotion {
    vms: BTreeSet<VmId>,
    hosts: BTreeMap<HostId, u32>,
    datastores: BTreeMap<DatastoreId, u32>,
}

impl InMotion {
    fn objects(m: &Migration) -> (Vec<HostId>, Vec<DatastoreId>) {
        let mut hosts = vec![m.source_host_id, m.target_host_id];
        hosts.dedup();
        let mut datastores = m.source_datastore_ids.clone();
        datastores.extend(m.target_datastore_id);
        datastores.sort();
        datastores.dedup();
        (hosts, datastores)
    }
}

impl InventoryService {
    pub async fn load(
        db: Db,
        replica: String,
        live: Arc<LiveHub>,
        failpoints: Arc<Failpoints>,
    ) -> Result<Arc<Self>, DbError> {
        let (revision, inventory) = load_consistent(&db).await?;
        Ok(Arc::new(Self {
            db,
            replica,
            current: RwLock::new(Current {
                tiles: publish::tiles_of(&inventory),
                inventory,
                revision,
            }),
            write_gate: Mutex::new(()),
            live,
            in_motion: RwLock::new(InMotion::default()),
            faults_changed: tokio::sync::watch::channel(0).0,
            failpoints,
        }))
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn replica(&self) -> &str {
        &self.replica
    }

    pub fn failpoints(&self) -> &Failpoints {
        &self.failpoints
    }

    fn revision(&self) -> u64 {
        self.current.read().revision
    }

    /// Begins a write: a transaction holding the next revision, once this replica's copy is
    /// the latest. Taking the revision locks its row until the transaction ends, so no other
    /// replica can log a change meanwhile: when another one got there first, this copy catches
    /// up inside the transaction and cannot be overtaken again (docs/DESIGN.md#several-replicas).
    /// The caller holds the write gate, validates against [`Self::read`] after this returns,
    /// and commits with [`Self::finish_write`].
    async fn begin_write(&self) -> Result<(Tx<'static>, u64), ServiceError> {
        let mut tx = self.db.begin().await.map_err(DbError::from)?;
        let next = db::next_revision(&mut tx).await?;
        if next != self.revision() + 1 {
            self.catch_up_in(&mut tx, next).await?;
        }
        if next != self.revision() + 1 {
            return Err(DbError::Corrupt(format!(
                "revision {next} taken while this copy is at {}",
                self.revision()
            ))
            .into());
        }
        Ok((tx, next))
    }

    /// Brings this copy to `next - 1` inside the write transaction that took `next`: from the
    /// log when it holds every change since this copy's revision, else by a whole reload.
    async fn catch_up_in(&self, tx: &mut Tx<'static>, next: u64) -> Result<(), DbError> {
        let mine = self.revision();
        let changes = db::changes_after(&mut **tx, mine).await?;
        if changes.len() as u64 + 1 != next - mine || !follows(mine, &changes) {
            let inventory = db::load_inventory(tx).await?;
            self.install(inventory, next - 1);
            tracing::info!(
                revision = next - 1,
                "inventory reloaded (changed by another replica)"
            );
            return Ok(());
        }
        self.apply_logged(changes)
    }

    /// Applies logged changes, in order, that follow this copy's revision.
    fn apply_logged(&self, changes: Vec<(u64, Option<String>)>) -> Result<(), DbError> {
        for (revision, json) in changes {
            let change: Change = serde_json::from_str(json.as_deref().unwrap_or_default())
                .map_err(|e| DbError::Corrupt(format!("logged change {revision}: {e}")))?;
            self.commit_in_memory(&change, revision);
        }
        Ok(())
    }

    /// Logs the change under its revision, tells the other replicas, commits.
    async fn finish_write(
        &self,
        mut tx: Tx<'static>,
        revision: u64,
        change: Option<&Change>,
    ) -> Result<(), ServiceError> {
        let json = change.map(|c| serde_json::to_string(c).expect("changes serialize"));
        db::log_change(&mut tx, revision, json.as_deref()).await?;
        let notice = Notice::Inventory {
            from: self.replica.clone(),
            revision,
        };
        db::notify(&mut tx, &notice).await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(())
    }

    /// Applies what other replicas changed since this copy's revision (from the log, or a
    /// whole reload when the log does not reach back that far) and tells live clients.
    pub async fn catch_up(&self) -> Result<(), DbError> {
        let _writer = self.write_gate.lock().await;
        self.catch_up_locked().await
    }

    async fn catch_up_locked(&self) -> Result<(), DbError> {
        let mine = self.revision();
        let changes = db::changes_after(&self.db, mine).await?;
        if changes.is_empty() {
            return Ok(());
        }
        if !follows(mine, &changes) {
            let (revision, inventory) = load_consistent(&self.db).await?;
            self.install(inventory, revision);
            tracing::info!(revision, "inventory reloaded (changed by another replica)");
            return Ok(());
        }
        self.apply_logged(changes)
    }

    /// Read access to the current inventory. Keep the guard short-lived.
    pub fn read(&self) -> InventoryRead<'_> {
        InventoryRead(self.current.read())
    }

    /// A copy of the inventory with its revision (for snapshots).
    pub fn snapshot(&self) -> (u64, Inventory) {
        let current = self.current.read();
        (current.revision, current.inventory.clone())
    }

    /// Changes whenever deleting an object removed the faults aimed at it.
    pub fn faults_changed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.faults_changed.subscribe()
    }

    /// VMs with a migration queued or running.
    pub fn busy_vms(&self) -> BTreeSet<VmId> {
        self.in_motion.read().vms.clone()
    }

    /// A migration is queued: its VM, hosts and datastores are the engine's until it ends.
    pub fn begin_motion(&self, m: &Migration) {
        let (hosts, datastores) = InMotion::objects(m);
        let mut set = self.in_motion.write();
        set.vms.insert(m.vm_id);
        for h in hosts {
            *set.hosts.entry(h).or_default() += 1;
        }
        for d in datastores {
            *set.datastores.entry(d).or_default() += 1;
        }
    }

    /// A migration ended (or was never stored): its objects are free again.
    pub fn end_motion(&self, m: &Migration) {
        let (hosts, datastores) = InMotion::objects(m);
        let mut set = self.in_motion.write();
        if !set.vms.remove(&m.vm_id) {
            return; // already ended
        }
        for h in hosts {
            if let Some(n) = set.hosts.get_mut(&h) {
                *n -= 1;
                if *n == 0 {
                    set.hosts.remove(&h);
                }
            }
        }
        for d in datastores {
            if let Some(n) = set.datastores.get_mut(&d) {
                *n -= 1;
                if *n == 0 {
                    set.datastores.remove(&d);
                }
            }
        }
    }

    /// Validates, stores and applies one mutation; returns the applied change.
    ///
    /// Runs to completion in its own task even if the caller goes away (a client that
    /// disconnects mid-request): a committed change is always applied in memory too.
    pub async fn apply(self: &Arc<Self>, mutation: Mutation) -> Result<Change, ServiceError> {
        let this = self.clone();
        let actor = audit::current_actor();
        tokio::spawn(async move { this.apply_now(mutation, actor).await })
            .await
            .map_err(|e| ServiceError::Storage(DbError::Corrupt(format!("mutation task: {e}"))))?
    }

    async fn apply_now(&self, mutation: Mutation, actor: String) -> Result<Change, ServiceError> {
        let _writer = self.write_gate.lock().await;
        let (tx, revision) = self.begin_write().await?;
        self.refuse_in_motion(&mutation)?;
        let action = match &mutation {
            Mutation::Create(_) => "inventory.create",
            Mutation::Update(_) => "inventory.update",
            Mutation::Delete(..) => "inventory.delete",
        };
        let (change, record) = {
            let inv = self.read();
            let (kind, id) = match &mutation {
                Mutation::Create(o) | Mutation::Update(o) => (o.kind(), o.id()),
                Mutation::Delete(kind, id) => (*kind, *id),
            };
            let before = inv.get(kind, id);
            let change = inv.validate(mutation)?;
            let after = match &change {
                Change::Upsert { object } => Some(object.clone()),
                Change::Delete { .. } | Change::Source { .. } | Change::Batch { .. } => None,
            };
            let name = after
                .as_ref()
                .or(before.as_ref())
                .map_or_else(String::new, |o| o.name().to_owned());
            let verb = action.trim_start_matches("inventory.");
            let record = audit::Record {
                action,
                object_kind: serde_json::to_value(kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned)),
                object_id: Some(id.to_string()),
                words: domain::Phrase::new(&format!("audit.{verb}d"), &[("name", name)]).with(
                    "kind",
                    domain::Phrase::name(
                        "object_kind",
                        kind.plural(),
                        &kind.label().to_lowercase(),
                    ),
                ),
                before: before.and_then(|o| serde_json::to_value(o).ok()),
                after: after.and_then(|o| serde_json::to_value(o).ok()),
            };
            (change, record)
        };
        let mut tx = tx;
        db::store_change(&mut tx, &change).await?;
        audit::insert(&mut tx, &actor, &record).await?;
        // A fault dies with the host or datastore it was aimed at.
        let faults_gone = match &change {
            Change::Delete { id, .. } => db::delete_faults_of(&mut tx, *id).await? > 0,
            Change::Upsert { .. } | Change::Source { .. } | Change::Batch { .. } => false,
        };
        if faults_gone {
            let notice = Notice::Faults {
                from: self.replica.clone(),
            };
            db::notify(&mut tx, &notice).await?;
        }
        self.finish_write(tx, revision, Some(&change)).await?;
        self.commit_in_memory(&change, revision);
        if faults_gone {
            self.faults_changed.send_modify(|n| *n += 1);
        }
        Ok(change)
    }

    /// A VM being migrated, and the hosts and datastores its migration involves, are the
    /// engine's until the migration ends: changing them under it is refused.
    fn refuse_in_motion(&self, mutation: &Mutation) -> Result<(), DomainError> {
        use domain::ObjectKind;
        let (kind, id) = match mutation {
            Mutation::Update(o) => (o.kind(), o.id()),
            Mutation::Delete(kind, id) => (*kind, *id),
            Mutation::Create(_) => return Ok(()),
        };
        let set = self.in_motion.read();
        let (what, count) = match kind {
            ObjectKind::Vm if set.vms.contains(&VmId(id)) => ("this VM is being migrated", 1),
            ObjectKind::Host => match set.hosts.get(&HostId(id)) {
                Some(n) => ("this host takes part in", *n),
                None => return Ok(()),
            },
            ObjectKind::Datastore => match set.datastores.get(&DatastoreId(id)) {
                Some(n) => ("this datastore takes part in", *n),
                None => return Ok(()),
            },
            _ => return Ok(()),
        };
        let message = if kind == ObjectKind::Vm {
            format!("{what}: wait for the migration to end or cancel it")
        } else {
            format!("{what} {count} migration(s) in flight: wait for them to end or cancel them")
        };
        Err(DomainError::in_use(Some("id"), message))
    }

    /// Records a migration's switchover: the VM on its target, the migration completed and
    /// its last event, in one transaction. Until it commits, the VM is on its source.
    pub async fn switchover(
        self: &Arc<Self>,
        moved: Vm,
        record: &Migration,
        event: &MigrationEvent,
        lease: &Lease,
    ) -> Result<Change, ServiceError> {
        let this = self.clone();
        let (record, event, lease) = (record.clone(), event.clone(), lease.clone());
        tokio::spawn(async move {
            let _writer = this.write_gate.lock().await;
            let (mut tx, revision) = this.begin_write().await?;
            let before = this
                .read()
                .vms
                .get(&moved.id)
                .and_then(|vm| serde_json::to_value(Object::Vm(vm.clone())).ok());
            let change = this.read().validate_moved(moved)?;
            // Fenced: a replica that lost the migration to another cannot move the VM.
            if !db::store_migration(&mut tx, &record, &lease).await? {
                return Err(ServiceError::Fenced);
            }
            db::store_change(&mut tx, &change).await?;
            let after = match &change {
                Change::Upsert { object } => serde_json::to_value(object).ok(),
                Change::Delete { .. } | Change::Source { .. } | Change::Batch { .. } => None,
            };
            let entry = audit::Record {
                action: "inventory.update",
                object_kind: Some("vm".into()),
                object_id: Some(record.vm_id.to_string()),
                words: domain::Phrase::new(
                    "audit.vm_moved",
                    &[
                        ("migration", record.id.to_string()),
                        ("vm", record.vm_name.clone()),
                    ],
                )
                .with(
                    "target",
                    record.target_words.clone().map_or_else(
                        || domain::Phrase::raw(record.target.clone()),
                        |w| domain::Phrase {
                            english: record.target.clone(),
                            ..w
                        },
                    ),
                ),
                before,
                after,
            };
            audit::insert(&mut tx, "system", &entry).await?;
            db::store_events(&mut tx, std::slice::from_ref(&event)).await?;
            let notice = Notice::Migrations {
                from: this.replica.clone(),
                ids: vec![record.id],
            };
            db::notify(&mut tx, &notice).await?;
            // The last statement: a test makes the commit fail here, or stops the server
            // inside the open transaction (docs/RELIABILITY.md).
            match this.failpoints.check("switchover.commit") {
                Some(Action::Hang) => Failpoints::hang("switchover.commit").await,
                Some(_) => {
                    return Err(ServiceError::Storage(DbError::Corrupt(
                        "failpoint switchover.commit: the commit is refused on purpose".into(),
                    )))
                }
                None => {}
            }
            this.finish_write(tx, revision, Some(&change)).await?;
            this.end_motion(&record);
            this.commit_in_memory(&change, revision);
            Ok(change)
        })
        .await
        .map_err(|e| ServiceError::Storage(DbError::Corrupt(format!("switchover task: {e}"))))?
    }

    /// Imports objects (creating new ids, replacing known ones), all or nothing, in one
    /// transaction; live clients get a fresh snapshot. Like [`Self::apply`], it cannot be
    /// cut short by the caller going away.
    pub async fn import(
        self: &Arc<Self>,
        file: InventoryFile,
    ) -> Result<ImportSummary, ServiceError> {
        self.import_replacing(file, false).await
    }

    /// [`Self::import`]; with `remove_absent`, the objects the file does not hold are deleted
    /// in the same transaction (docs/IMPORT.md#matching).
    pub async fn import_replacing(
        self: &Arc<Self>,
        file: InventoryFile,
        remove_absent: bool,
    ) -> Result<ImportSummary, ServiceError> {
        let this = self.clone();
        let actor = audit::current_actor();
        tokio::spawn(async move { this.import_now(file, remove_absent, actor).await })
            .await
            .map_err(|e| ServiceError::Storage(DbError::Corrupt(format!("import task: {e}"))))?
    }

    async fn import_now(
        &self,
        file: InventoryFile,
        remove_absent: bool,
        actor: String,
    ) -> Result<ImportSummary, ServiceError> {
        let _writer = self.write_gate.lock().await;
        let (mut tx, revision) = self.begin_write().await?;
        let (next, changes, summary) =
            self.read().validate_import_replacing(file, remove_absent)?;
        let busy = self.busy_vms();
        if let Some(vm) = changes.iter().find_map(|c| match c {
            Change::Upsert {
                object: Object::Vm(vm),
            } if busy.contains(&vm.id) => Some(vm.name.to_string()),
            Change::Delete {
                kind: ObjectKind::Vm,
                id,
            } if busy.contains(&VmId(*id)) => Some(self.read().vms[&VmId(*id)].name.to_string()),
            _ => None,
        }) {
            return Err(DomainError::in_use(
                Some("vms"),
                format!("vms: {vm} is being migrated; import again once the migration has ended"),
            )
            .into());
        }
        let stored: HashSet<VmId> = self.read().vms.keys().copied().collect();
        db::store_changes(&mut tx, &changes, &stored).await?;
        let record = audit::Record {
            action: "inventory.import",
            words: domain::Phrase::new(
                "audit.imported",
                &[
                    ("count", (summary.created + summary.updated).to_string()),
                    ("created", summary.created.to_string()),
                    ("updated", summary.updated.to_string()),
                    ("removed", summary.removed.to_string()),
                ],
            ),
            ..Default::default()
        };
        audit::insert(&mut tx, &actor, &record).await?;
        self.finish_write(tx, revision, None).await?;
        self.install(next, revision);
        Ok(summary)
    }

    /// Stores a whole validated inventory into an empty database (the demo). When another
    /// replica filled the database first, its inventory is kept (`Ok(false)`).
    pub async fn seed(&self, inventory: Inventory) -> Result<bool, ServiceError> {
        let _writer = self.write_gate.lock().await;
        let (mut tx, revision) = self.begin_write().await?;
        if self.read().objects().next().is_some() {
            return Ok(false);
        }
        let changes: Vec<Change> = inventory
            .objects()
            .map(|object| Change::Upsert { object })
            .collect();
        db::store_changes(&mut tx, &changes, &HashSet::new()).await?;
        self.finish_write(tx, revision, None).await?;
        self.install(inventory, revision);
        Ok(true)
    }
}

/// The inventory and its revision, read as of one instant (other replicas may be writing).
/// Whether logged `changes` are each revision after `mine` in turn, every one with its change
/// (the log keeps the last ones only; an import logs none).
fn follows(mine: u64, changes: &[(u64, Option<String>)]) -> bool {
    changes
        .iter()
        .enumerate()
        .all(|(i, (r, c))| *r == mine + 1 + i as u64 && c.is_some())
}

async fn load_consistent(db: &Db) -> Result<(u64, Inventory), DbError> {
    let mut tx = db.begin().await?;
    if db::Backend::of(&tx) == db::Backend::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await?;
    }
    let revision = db::revision_in(&mut tx).await?;
    let inventory = db::load_inventory(&mut tx).await?;
    tx.commit().await?;
    Ok((revision, inventory))
}

/// A read guard on the current inventory.
pub struct InventoryRead<'a>(RwLockReadGuard<'a, Current>);

impl std::ops::Deref for InventoryRead<'_> {
    type Target = Inventory;
    fn deref(&self) -> &Inventory {
        &self.0.inventory
    }
}
