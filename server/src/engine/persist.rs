//! What the engine produces, stored then published: events and summaries go to the database
//! in one transaction (fenced: a replica cannot write a migration another one has ended),
//! and only once stored to live clients. A failed write keeps everything pending, retried
//! first, in order, at the next write. See docs/DESIGN.md#the-progress-stream.

use super::MigrationService;
use crate::db::{self, Backend, DbError, Notice, IDS_PER_NOTICE};
use crate::live::{Frame, Reach};
use app::protocol::LiveMessage;
use domain::engine::driver::BoxedDriver;
use domain::engine::Engine;
use domain::migration::{Migration, MigrationEvent};
use domain::{HostId, MigrationId};
use std::collections::BTreeSet;
use std::sync::Arc;

impl MigrationService {
    /// Stores events and summaries in one transaction.
    pub(super) async fn store(
        &self,
        events: &[MigrationEvent],
        encoded: &[String],
        records: &[Migration],
    ) -> Result<(), DbError> {
        let lease = self.lease_until(self.clock.unix_ms());
        let mut tx = self.db.begin().await?;
        for m in records {
            if !db::store_migration(&mut tx, m, &lease).await? {
                return Err(DbError::Fenced(m.id));
            }
        }
        db::store_encoded_events(&mut tx, events, encoded).await?;
        if self.backend == Backend::Postgres {
            let ids: BTreeSet<MigrationId> = events
                .iter()
                .map(|e| e.migration_id)
                .chain(records.iter().map(|m| m.id))
                .collect();
            let ids: Vec<MigrationId> = ids.into_iter().collect();
            for chunk in ids.chunks(IDS_PER_NOTICE) {
                let notice = Notice::Migrations {
                    from: self.replica.clone(),
                    ids: chunk.to_vec(),
                };
                db::notify(&mut tx, &notice).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stores events and summaries (after whatever an earlier failure left pending), then
    /// publishes them. On a storage failure nothing is published and all stays pending.
    pub(super) async fn persist(
        &self,
        engine: &mut Engine<BoxedDriver>,
        events: Vec<MigrationEvent>,
        records: Vec<Migration>,
    ) {
        let (mut all_events, mut all_records) = std::mem::take(&mut *self.pending.lock());
        all_events.extend(events);
        all_records.extend(records);
        // A second attempt when the first failed because another replica took some of these
        // migrations over: without them, the rest goes through.
        for attempt in 0..2 {
            if all_events.is_empty() && all_records.is_empty() {
                return;
            }
            // Each event is encoded once: the same JSON is stored and, prefixed with its
            // type, sent live.
            let encoded: Vec<String> = all_events
                .iter()
                .map(|e| serde_json::to_string(e).expect("events serialize"))
                .collect();
            let error = match self.store(&all_events, &encoded, &all_records).await {
                Ok(()) => {
                    self.publish_encoded(&all_events, encoded, &all_records);
                    return;
                }
                Err(e) => e,
            };
            let lost = if attempt == 0 {
                self.lost_among(&error, &all_events, &all_records).await
            } else {
                Vec::new()
            };
            if lost.is_empty() {
                tracing::error!(error = %error, pending = all_events.len(), "could not store migration events; retrying at the next tick");
                *self.pending.lock() = (all_events, all_records);
                return;
            }
            all_events.retain(|e| !lost.contains(&e.migration_id));
            all_records.retain(|m| !lost.contains(&m.id));
            self.let_go(engine, &lost).await;
        }
    }

    /// Which migrations of a failed write another replica owns now.
    async fn lost_among(
        &self,
        error: &DbError,
        events: &[MigrationEvent],
        records: &[Migration],
    ) -> Vec<MigrationId> {
        if let DbError::Fenced(id) = error {
            return vec![*id];
        }
        let ids: BTreeSet<MigrationId> = events
            .iter()
            .map(|e| e.migration_id)
            .chain(records.iter().map(|m| m.id))
            .collect();
        let ids: Vec<MigrationId> = ids.into_iter().collect();
        db::lost_of(&self.db, &self.replica, &ids)
            .await
            .unwrap_or_default()
    }

    /// Updates what readers see, then pushes the summaries and events to live clients.
    pub(super) fn publish(&self, events: &[MigrationEvent], records: &[Migration]) {
        let encoded = events
            .iter()
            .map(|e| serde_json::to_string(e).expect("events serialize"))
            .collect();
        self.publish_encoded(events, encoded, records);
    }

    pub(super) fn publish_encoded(
        &self,
        events: &[MigrationEvent],
        encoded: Vec<String>,
        records: &[Migration],
    ) {
        if events.is_empty() && records.is_empty() {
            return;
        }
        let mut frames: Vec<Frame> = Vec::with_capacity(records.len() + events.len());
        {
            let mut p = self.published.write();
            // A summary reaches every client when the migration starts or ends its flight;
            // its phases in between, the clients following it (docs/DESIGN.md#scoped-live-clients).
            for m in records {
                let flight = p
                    .migrations
                    .get(&m.id)
                    .is_none_or(|old| old.phase.is_final() != m.phase.is_final());
                let text =
                    serde_json::to_string(&LiveMessage::MigrationUpdated(Box::new(m.clone())))
                        .expect("live messages serialize");
                let hosts = [m.source_host_id, m.target_host_id];
                frames.push(Frame::new(text, Reach::Summary { hosts, flight }));
            }
            for e in events {
                if let Some(m) = p.migrations.get_mut(&e.migration_id) {
                    m.absorb(e);
                }
            }
            for m in records {
                p.migrations.insert(m.id, m.clone());
            }
        }
        // Progress reaches the clients that show the migration's hosts.
        let p = self.published.read();
        for (e, json) in events.iter().zip(encoded) {
            let hosts = p
                .migrations
                .get(&e.migration_id)
                .map_or([HostId(uuid::Uuid::nil()); 2], |m| {
                    [m.source_host_id, m.target_host_id]
                });
            frames.push(Frame::new(event_message(&json), Reach::Hosts(hosts)));
        }
        drop(p);
        self.live.publish(Arc::from(frames));
    }
}

/// `{"type":"migration_event", ...the event's fields}` from the event's own JSON object.
fn event_message(event_json: &str) -> String {
    let fields = event_json.strip_prefix('{').unwrap_or(event_json);
    let mut text = String::with_capacity(event_json.len() + 28);
    text.push_str("{\"type\":\"migration_event\",");
    text.push_str(fields);
    text
}

/// Whether a summary changed in what events do not carry (clients get events anyway): the
/// owner pushes a summary on the same occasions.
pub(super) fn summary_changed(old: &Migration, new: &Migration) -> bool {
    old.phase != new.phase
        || old.round != new.round
        || old.queue_reason != new.queue_reason
        || old.rounds.len() != new.rounds.len()
        || old.result != new.result
        || old.error != new.error
        || old.downtime_ms != new.downtime_ms
        || old.max_throttle != new.max_throttle
        || old.started_at_ms != new.started_at_ms
        || old.finished_at_ms != new.finished_at_ms
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::migration::Phase;

    #[test]
    fn a_live_event_message_is_the_event_with_its_type() {
        let e = MigrationEvent {
            migration_id: MigrationId::new_random(),
            seq: 3,
            sim_time_s: 1.5,
            phase: Phase::MemoryPrecopy,
            percent: 12.0,
            bytes_sent: 1.0,
            bytes_total_estimate: 2.0,
            rate_bytes_s: 3.0,
            eta_s: None,
            round: 1,
            dirty_rate_bytes_s: 4.0,
            remaining_dirty_bytes: 5.0,
            expected_downtime_ms: 6.0,
            message: "a \"quoted\"\nline".into(),
            words: None,
            transient: false,
        };
        let text = event_message(&serde_json::to_string(&e).unwrap());
        assert!(!text.contains('\n'), "one message, one line");
        let parsed: LiveMessage = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed, LiveMessage::MigrationEvent(e));
    }
}
