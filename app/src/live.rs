//! The browser side of the live websocket: applies snapshots and changes to the shared
//! inventory resource, and reconnects (getting a fresh snapshot) when the link drops.

use domain::migration::{Fault, Migration, MigrationEvent};
use domain::plan::PlanRecord;
use domain::platform::Platform;
use domain::{Inventory, MigrationId, PlanId, VmId};
use leptos::prelude::*;
use std::collections::BTreeMap;

pub type InventoryResource = Resource<Result<Inventory, crate::rpc::ServerError>>;

/// Migrations and faults as the live link reports them (empty until the first snapshot).
#[derive(Debug, Clone, Copy)]
pub struct LiveState {
    pub migrations: RwSignal<BTreeMap<MigrationId, Migration>>,
    pub faults: RwSignal<Vec<Fault>>,
    /// The migration whose events a detail page follows, and those events.
    pub watched: RwSignal<Option<MigrationId>>,
    pub watched_events: RwSignal<Vec<MigrationEvent>>,
    pub link: RwSignal<LinkState>,
    /// Counts snapshots received: pages that load history reload it after a resync.
    pub resyncs: RwSignal<u64>,
    /// The lab's real guests (QEMU driver), by VM.
    pub lab: RwSignal<BTreeMap<VmId, crate::protocol::LabGuest>>,
    /// The figures the lab's migrations are predicted with (QEMU on the server's machine).
    pub lab_platform: RwSignal<Option<Platform>>,
    /// Maintenance plans as last loaded or pushed (pages load those they show; the live
    /// link keeps them current).
    pub plans: RwSignal<BTreeMap<PlanId, PlanRecord>>,
}

impl LiveState {
    pub fn new() -> Self {
        LiveState {
            migrations: RwSignal::new(BTreeMap::new()),
            faults: RwSignal::new(Vec::new()),
            watched: RwSignal::new(None),
            watched_events: RwSignal::new(Vec::new()),
            link: RwSignal::new(LinkState::Connecting),
            resyncs: RwSignal::new(0),
            lab: RwSignal::new(BTreeMap::new()),
            lab_platform: RwSignal::new(None),
            plans: RwSignal::new(BTreeMap::new()),
        }
    }

    /// Takes plans loaded from the server (a pushed update newer than the load wins).
    pub fn absorb_plans(&self, plans: Vec<PlanRecord>) {
        self.plans.update(|map| {
            for p in plans {
                let stale = map
                    .get(&p.id)
                    .is_some_and(|held| held.clock_s > p.clock_s || held.state.is_final());
                if !stale {
                    map.insert(p.id, p);
                }
            }
        });
    }

    /// Folds in a live migration event. Returns `false` on a gap (the caller resyncs).
    pub fn absorb_event(&self, e: &MigrationEvent) -> bool {
        if self.watched.get_untracked() == Some(e.migration_id) {
            self.watched_events.update(|list| {
                if list.last().is_none_or(|l| e.seq > l.seq) {
                    list.push(e.clone());
                }
            });
        }
        let mut gap = false;
        self.migrations.update(|map| {
            if let Some(m) = map.get_mut(&e.migration_id) {
                if e.seq == m.last_seq + 1 {
                    m.absorb(e);
                } else if e.seq > m.last_seq + 1 {
                    gap = true;
                }
            }
        });
        !gap
    }

    /// Takes a migration's whole summary (newer than what is held).
    pub fn absorb_summary(&self, m: Migration) {
        self.migrations.update(|map| {
            let newer = map.get(&m.id).is_none_or(|old| m.last_seq >= old.last_seq);
            if newer {
                map.insert(m.id, m);
            }
        });
    }
}

impl Default for LiveState {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether the live link is up (shown in the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    Live,
    Reconnecting,
}

#[cfg(feature = "hydrate")]
pub fn connect(inventory: InventoryResource, live: LiveState) {
    let link = live.link;
    use crate::protocol::LiveMessage;
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Duration;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{MessageEvent, WebSocket};

    let location = window().location();
    let scheme = if location.protocol().ok().as_deref() == Some("https:") {
        "wss"
    } else {
        "ws"
    };
    let host = location.host().unwrap_or_default();
    let Ok(socket) = WebSocket::new(&format!("{scheme}://{host}/ws")) else {
        set_timeout(move || connect(inventory, live), Duration::from_secs(2));
        return;
    };
    let revision = Rc::new(Cell::new(0u64));

    let on_message = {
        let socket = socket.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else {
                return;
            };
            match serde_json::from_str::<LiveMessage>(&text) {
                Ok(LiveMessage::Snapshot {
                    revision: r,
                    inventory: inv,
                    migrations,
                    faults,
                }) => {
                    revision.set(r);
                    inventory.set(Some(Ok(inv)));
                    if let Some(list) = migrations {
                        live.migrations
                            .set(list.into_iter().map(|m| (m.id, m)).collect());
                    }
                    if let Some(f) = faults {
                        live.faults.set(f);
                    }
                    live.resyncs.update(|n| *n += 1);
                    link.set(LinkState::Live);
                }
                Ok(LiveMessage::MigrationUpdated(m)) => live.absorb_summary(*m),
                Ok(LiveMessage::MigrationEvent(e)) => {
                    if !live.absorb_event(&e) {
                        let _ = socket.close();
                    }
                }
                Ok(LiveMessage::FaultsChanged { faults }) => live.faults.set(faults),
                Ok(LiveMessage::PlanUpdated(plan)) => {
                    live.plans.update(|map| {
                        map.insert(plan.id, *plan);
                    });
                }
                Ok(LiveMessage::LabHeartbeats { guests, platform }) => {
                    live.lab_platform.set(platform);
                    live.lab
                        .set(guests.into_iter().map(|g| (g.vm_id, g)).collect());
                }
                Ok(LiveMessage::InventoryChanged {
                    revision: r,
                    change,
                }) => {
                    if r <= revision.get() {
                        // Already in the snapshot this client holds.
                        return;
                    }
                    if r > revision.get() + 1 {
                        // A gap: start again from a fresh snapshot.
                        let _ = socket.close();
                        return;
                    }
                    revision.set(r);
                    inventory.update(|slot| {
                        if let Some(Ok(inv)) = slot {
                            inv.apply(&change);
                        }
                    });
                }
                Err(e) => leptos::logging::warn!("unreadable live message: {e}"),
            }
        })
    };
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();

    let on_close = Closure::<dyn FnMut()>::new(move || {
        link.set(LinkState::Reconnecting);
        set_timeout(move || connect(inventory, live), Duration::from_secs(1));
    });
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    on_close.forget();
}
