//! Several replicas on one PostgreSQL database: each runs the migrations started through it,
//! under a lease it renews; the others show them, forward cancels to the owner, and when an
//! owner stops renewing, the first to notice ends its migrations failed, VMs on their sources.
//! Every write of the owner is fenced: once another replica has ended a migration, the old
//! owner's writes of it are refused, the switchover included. A crash (one replica, SQLite)
//! is recovered the same way at the next start. See docs/DESIGN.md#several-replicas.

use super::persist::summary_changed;
use super::{CommandError, MigrationService, REMOTE_CANCEL_WAIT};
use crate::audit;
use crate::db::{self, Backend, Db, DbError, Lease, Notice};
use crate::inventory::InventoryService;
use domain::engine::driver::BoxedDriver;
use domain::engine::Engine;
use domain::migration::{Ending, Migration, MigrationEvent};
use domain::MigrationId;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

impl MigrationService {
    /// Asks the replica running a migration to cancel it, and waits (a while) for it.
    pub(super) async fn cancel_remote(
        &self,
        id: MigrationId,
        actor: &str,
    ) -> Result<Migration, CommandError> {
        let mut tx = self.db.begin().await.map_err(DbError::from)?;
        if !db::request_cancel(&mut tx, id, actor).await? {
            drop(tx);
            self.absorb_foreign(&[id]).await?;
            return Err(match self.get(id) {
                Some(m) => CommandError::AlreadyFinished(m.phase.as_str()),
                None => CommandError::NotFound(id),
            });
        }
        let notice = Notice::Cancel {
            from: self.replica.clone(),
            id,
        };
        db::notify(&mut tx, &notice).await?;
        tx.commit().await.map_err(DbError::from)?;
        let deadline = tokio::time::Instant::now() + REMOTE_CANCEL_WAIT;
        let record = loop {
            match self.get(id) {
                Some(m) if m.phase.is_final() => break m,
                Some(m) if tokio::time::Instant::now() >= deadline => break m,
                None => return Err(CommandError::NotFound(id)),
                Some(_) => tokio::time::sleep(Duration::from_millis(25)).await,
            }
        };
        let entry = audit::Record {
            action: "migration.cancel",
            object_kind: Some("migration".into()),
            object_id: Some(id.to_string()),
            words: super::actor::cancelled(&record),
            before: None,
            after: serde_json::to_value(&record).ok(),
        };
        audit::record(&self.db, actor, entry).await;
        Ok(record)
    }

    /// Migrations another replica ended: the engine lets go, readers see its record.
    pub(super) async fn let_go(&self, engine: &mut Engine<BoxedDriver>, lost: &[MigrationId]) {
        for id in lost {
            if let Some(m) = engine.abandon(*id) {
                tracing::warn!(migration = %id, vm = %m.vm_name, "migration taken over by another replica; let go");
                self.inventory.end_motion(&m);
            }
            self.mark_foreign(*id);
        }
        if let Err(e) = self.absorb_foreign(lost).await {
            tracing::error!(error = %e, "could not read migrations taken over");
        }
    }

    pub(super) fn lease_until(&self, now_ms: i64) -> Lease {
        Lease {
            owner: self.replica.clone(),
            expires_at_ms: now_ms.saturating_add(self.lease.as_millis() as i64),
        }
    }

    /// Renews this replica's leases (letting go of what it no longer holds), runs the cancels
    /// other replicas forwarded, and ends the migrations of replicas that stopped renewing.
    pub(super) async fn lease_pass(&self, engine: &mut Engine<BoxedDriver>) {
        let now_ms = self.clock.unix_ms();
        if engine.in_flight() > 0 {
            match db::renew_leases(&self.db, &self.lease_until(now_ms)).await {
                Ok(held) => {
                    let held: BTreeSet<MigrationId> = held.into_iter().collect();
                    let lost: Vec<MigrationId> = engine
                        .ids()
                        .into_iter()
                        .filter(|id| !held.contains(id))
                        .collect();
                    if !lost.is_empty() {
                        self.let_go(engine, &lost).await;
                    }
                }
                Err(e) => tracing::error!(error = %e, "could not renew the migration leases"),
            }
            match db::cancel_requests(&self.db, &self.replica).await {
                Ok(requests) => {
                    for (id, actor) in requests {
                        if self.cancel_now(engine, id).await.is_ok() {
                            tracing::info!(migration = %id, by = %actor, "cancel forwarded by another replica");
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "could not read forwarded cancels"),
            }
        }
        if self.backend == Backend::Postgres {
            if let Err(e) = self.take_over_expired(now_ms).await {
                tracing::error!(error = %e, "could not end the migrations of a stopped replica");
            }
        }
    }

    /// Fails the migrations whose owner let its lease expire: the VM stays on its source.
    async fn take_over_expired(&self, now_ms: i64) -> Result<(), DbError> {
        for (id, owner) in db::expired_leases(&self.db, &self.replica, now_ms).await? {
            let Some((mut m, _)) = db::load_migration(&self.db, id).await? else {
                continue;
            };
            let message = stopped_message(&self.inventory, &m, owner.as_deref());
            let event =
                fail_orphan(&self.db, &self.replica, &mut m, now_ms, now_ms, message).await?;
            let Some(event) = event else { continue };
            self.mark_foreign(id);
            let was_in_motion = self
                .published
                .write()
                .foreign
                .insert(id, false)
                .unwrap_or(false);
            if was_in_motion {
                self.inventory.end_motion(&m);
            }
            self.publish(&[event], &[m]);
        }
        Ok(())
    }

    pub(super) fn is_foreign(&self, id: MigrationId) -> bool {
        self.published.read().foreign.contains_key(&id)
    }

    /// Records that a migration is (now) another replica's, no longer in motion here.
    pub(super) fn mark_foreign(&self, id: MigrationId) {
        self.published.write().foreign.entry(id).or_insert(false);
    }

    /// Reads what other replicas stored of these migrations and shows it here: summaries,
    /// events not seen yet (in order), and which objects are in motion.
    pub async fn absorb_foreign(&self, ids: &[MigrationId]) -> Result<(), DbError> {
        let _one_at_a_time = self.absorbing.lock().await;
        // What to read, from which `seq` on (ours, not taken over, are the engine's).
        let wanted: BTreeMap<MigrationId, (u64, Option<bool>)> = {
            let p = self.published.read();
            ids.iter()
                .filter_map(|id| {
                    let known = p.migrations.get(id).map(|m| m.last_seq);
                    let foreign = p.foreign.get(id).copied();
                    (known.is_none() || foreign.is_some())
                        .then_some((*id, (known.unwrap_or(0), foreign)))
                })
                .collect()
        };
        if wanted.is_empty() {
            return Ok(());
        }
        let ids: Vec<MigrationId> = wanted.keys().copied().collect();
        let after: Vec<(MigrationId, u64)> =
            wanted.iter().map(|(id, (seq, _))| (*id, *seq)).collect();
        let (records, stored) = db::load_migrations_with_events(&self.db, &ids, &after).await?;
        let mut fresh: BTreeMap<MigrationId, Vec<(MigrationEvent, String)>> = BTreeMap::new();
        for (event, json) in stored {
            fresh
                .entry(event.migration_id)
                .or_default()
                .push((event, json));
        }
        let (mut events, mut encoded, mut summaries) = (Vec::new(), Vec::new(), Vec::new());
        for (mut record, owner) in records {
            let (_, foreign) = wanted[&record.id];
            if owner.as_deref() == Some(self.replica.as_str()) && foreign.is_none() {
                continue;
            }
            // The owner stores a summary only when it changes (phase, round, queue): bring
            // it up to the events stored since, or readers would see it go back.
            let news = fresh.remove(&record.id).unwrap_or_default();
            for (e, _) in &news {
                if e.seq > record.last_seq {
                    record.absorb(e);
                }
            }
            let moving = !record.phase.is_final();
            let in_motion = foreign.unwrap_or(false);
            if moving && !in_motion {
                self.inventory.begin_motion(&record);
            } else if !moving && in_motion {
                self.inventory.end_motion(&record);
            }
            let changed = {
                let mut p = self.published.write();
                p.foreign.insert(record.id, moving);
                p.migrations
                    .get(&record.id)
                    .is_none_or(|old| summary_changed(old, &record))
            };
            for (e, json) in news {
                events.push(e);
                encoded.push(json);
            }
            if changed {
                summaries.push(record);
            }
        }
        // One batch for all: one frame list shared by every client.
        self.publish_encoded(&events, encoded, &summaries);
        Ok(())
    }

    /// After a lost connection to the other replicas: everything in flight, read again.
    pub async fn resync_foreign(&self) -> Result<(), DbError> {
        let mut ids: BTreeSet<MigrationId> =
            db::in_flight_ids(&self.db).await?.into_iter().collect();
        {
            let p = self.published.read();
            ids.extend(
                p.foreign
                    .iter()
                    .filter(|(_, moving)| **moving)
                    .map(|(id, _)| *id),
            );
        }
        let ids: Vec<MigrationId> = ids.into_iter().collect();
        self.absorb_foreign(&ids).await
    }
}

/// Why a migration in flight was abandoned, and where its VM is.
pub(super) fn stopped_message(
    inventory: &InventoryService,
    m: &Migration,
    replica: Option<&str>,
) -> domain::Phrase {
    let host = {
        let inv = inventory.read();
        inv.vms.get(&m.vm_id).map(|vm| {
            inv.hosts
                .get(&vm.host_id)
                .map_or("?", |h| h.name.as_str())
                .to_owned()
        })
    };
    let what = match replica {
        Some(r) => domain::Phrase::new("engine.orphaned", &[("replica", r.to_string())]),
        None => domain::Phrase::new("engine.stopped", &[]),
    };
    match host {
        Some(host) => domain::Phrase::new(
            "engine.stays_recorded",
            &[("vm", m.vm_name.clone()), ("host", host)],
        )
        .with("what", what),
        None => what,
    }
}

/// Fails a migration its owner abandoned (a crash, a replica that stopped renewing): claims
/// it for `replica` if its lease has expired by `now_ms`, then stores it failed with its last
/// event, in one transaction. `None` when it could not be claimed (it ended, or its owner
/// renewed, or another replica was first).
pub(super) async fn fail_orphan(
    db: &Db,
    replica: &str,
    m: &mut Migration,
    claim_at_ms: i64,
    finished_at_ms: i64,
    message: domain::Phrase,
) -> Result<Option<MigrationEvent>, DbError> {
    // The summary is stored only when it changes: bring it up to the last stored event.
    let mut ended = m.clone();
    if let Some(last) = db::load_events(db, m.id).await?.last() {
        if last.seq > ended.last_seq {
            ended.absorb(last);
        }
    }
    let sim_time_s = ended.sim_time_s;
    let event = ended.end(Ending::Orphaned(message), sim_time_s, None, finished_at_ms);
    let mut tx = db.begin().await?;
    if !db::claim(&mut tx, m.id, replica, claim_at_ms).await? {
        return Ok(None);
    }
    let lease = Lease {
        owner: replica.to_owned(),
        expires_at_ms: finished_at_ms,
    };
    if !db::store_migration(&mut tx, &ended, &lease).await? {
        return Ok(None);
    }
    db::store_events(&mut tx, std::slice::from_ref(&event)).await?;
    let notice = Notice::Migrations {
        from: replica.to_owned(),
        ids: vec![m.id],
    };
    db::notify(&mut tx, &notice).await?;
    tx.commit().await?;
    *m = ended;
    tracing::warn!(migration = %m.id, vm = %m.vm_name, "migration left in flight marked failed");
    Ok(Some(event))
}
