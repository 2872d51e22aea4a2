//! The browser side of the live websocket: applies snapshots and changes to the shared
//! inventory resource, and reconnects (getting a fresh snapshot) when the link drops.

use domain::migration::{Fault, Migration, MigrationEvent};
use domain::overview::{ClusterTile, TileChange};
use domain::plan::PlanRecord;
use domain::platform::Platform;
use domain::{ClusterId, Inventory, MigrationId, PlanId, VmId};
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
    /// At scale (docs/DESIGN.md#scoped-live-clients): every cluster's tile, by name…
    pub tiles: RwSignal<Vec<ClusterTile>>,
    /// …what the open clusters show (once the live link has sent it)…
    pub scoped: RwSignal<Option<Inventory>>,
    /// …the clusters the map has open…
    pub open: RwSignal<Vec<ClusterId>>,
    /// …pages that need the whole inventory (the link then asks for all of it), and the
    /// resource the last of them holds…
    pub want_full: RwSignal<u32>,
    pub page_inventory: RwSignal<Option<InventoryResource>>,
    /// …and pages that follow every migration's progress.
    pub want_events: RwSignal<u32>,
    /// What a screen reader is to be told, not yet told (`components::announcer`).
    pub news: RwSignal<Vec<News>>,
}

/// Something worth announcing (docs/ACCESSIBILITY.md#live-regions): a migration seen in flight
/// that ended, the live link lost or back. Progress is never news.
#[derive(Debug, Clone, PartialEq)]
pub enum News {
    Ended {
        vm: String,
        phase: domain::migration::Phase,
    },
    LinkLost,
    LinkBack,
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
            tiles: RwSignal::new(Vec::new()),
            scoped: RwSignal::new(None),
            open: RwSignal::new(Vec::new()),
            want_full: RwSignal::new(0),
            page_inventory: RwSignal::new(None),
            want_events: RwSignal::new(0),
            news: RwSignal::new(Vec::new()),
        }
    }

    /// What the live link asks the server for now.
    pub fn scope(&self) -> crate::protocol::LiveScope {
        crate::protocol::LiveScope {
            full: self.want_full.get() > 0,
            clusters: self.open.get(),
            events: self.want_events.get() > 0,
        }
    }

    /// Takes tiles that changed and clusters that are gone; `false` when a change of cells
    /// meets a tile not held (out of step: the caller resyncs).
    pub fn absorb_tiles(&self, changed: Vec<TileChange>, removed: &[ClusterId]) -> bool {
        let mut in_step = true;
        self.tiles.update(|tiles| {
            tiles.retain(|t| !removed.contains(&t.id));
            for change in changed {
                let at = tiles.iter().position(|t| t.id == change.tile.id);
                match (change.apply(at.map(|i| &tiles[i])), at) {
                    (Some(tile), Some(i)) => tiles[i] = tile,
                    (Some(tile), None) => tiles.push(tile),
                    (None, _) => in_step = false,
                }
            }
            tiles.sort_by(|a, b| a.name.cmp(&b.name));
        });
        in_step
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
        // A migration's page draws its charts and log from the stored events only, as it
        // does from the history after a reload (docs/DESIGN.md#stored-history).
        if !e.transient && self.watched.get_untracked() == Some(e.migration_id) {
            self.watched_events.update(|list| {
                if list.last().is_none_or(|l| e.seq > l.seq) {
                    list.push(e.clone());
                }
            });
        }
        let mut gap = false;
        let mut ended = None;
        self.migrations.update(|map| {
            if let Some(m) = map.get_mut(&e.migration_id) {
                // A transient event repeats the seq of the last stored one.
                let next = m.last_seq + u64::from(!e.transient);
                if e.seq == next {
                    let was_final = m.phase.is_final();
                    m.absorb(e);
                    ended = ending(Some(was_final), m);
                } else if e.seq > next {
                    gap = true;
                }
            }
        });
        self.tell(ended);
        !gap
    }

    fn tell(&self, news: Option<News>) {
        if let Some(n) = news {
            self.news.update(|list| list.push(n));
        }
    }

    /// Takes a migration's whole summary (newer than what is held).
    pub fn absorb_summary(&self, m: Migration) {
        let mut ended = None;
        self.migrations.update(|map| {
            let old = map.get(&m.id);
            let newer = old.is_none_or(|old| m.last_seq >= old.last_seq);
            if newer {
                ended = ending(old.map(|o| o.phase.is_final()), &m);
                map.insert(m.id, m);
            }
        });
        self.tell(ended);
    }
}

/// A migration's end is news once: when one seen in flight (`was_final` false) is now over.
fn ending(was_final: Option<bool>, now: &Migration) -> Option<News> {
    (was_final == Some(false) && now.phase.is_final()).then(|| News::Ended {
        vm: now.vm_name.clone(),
        phase: now.phase,
    })
}

impl Default for LiveState {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether the inventory is past what the map opens at once
/// (`domain::overview::EXPANDED_UP_TO_VMS`): the map then shows the overview, pages load only
/// what they show, and the live link is scoped (docs/DESIGN.md#the-map-at-scale). Decided
/// when the page is served, carried to the browser with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    pub large: bool,
}

/// The whole inventory, for a page that needs it. Below the map's scale threshold this is
/// the app's own resource, kept current by the live link; past it the page loads its own and
/// the live link sends the whole inventory while the page is shown
/// (docs/DESIGN.md#scoped-live-clients).
pub fn use_inventory() -> InventoryResource {
    let app = expect_context::<InventoryResource>();
    if !expect_context::<Scale>().large {
        return app;
    }
    let live = expect_context::<LiveState>();
    let page: InventoryResource = Resource::new(|| (), |_| crate::rpc::load_inventory());
    live.page_inventory.set(Some(page));
    live.want_full.update(|n| *n += 1);
    on_cleanup(move || {
        live.page_inventory.try_set(None);
        live.want_full.try_update(|n| *n = n.saturating_sub(1));
    });
    provide_context(page);
    page
}

/// Follows every migration's progress while the calling page is shown (at scale the live
/// link otherwise sends only the open clusters' ones).
pub fn follow_all_migrations() {
    let live = expect_context::<LiveState>();
    live.want_events.update(|n| *n += 1);
    on_cleanup(move || {
        live.want_events.try_update(|n| *n = n.saturating_sub(1));
    });
}

/// Whether the live link is up (shown in the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    Live,
    Reconnecting,
}

#[cfg(feature = "hydrate")]
thread_local! {
    /// The open live socket (the scope is sent on it when it changes).
    static SOCKET: std::cell::RefCell<Option<web_sys::WebSocket>> = const { std::cell::RefCell::new(None) };
}

/// Sends what the page shows to the server (at scale), now and whenever it changes.
#[cfg(feature = "hydrate")]
pub fn follow_scope(live: LiveState) {
    Effect::new(move |_| {
        let scope = live.scope();
        send_scope(&scope);
    });
}

#[cfg(feature = "hydrate")]
fn send_scope(scope: &crate::protocol::LiveScope) {
    let message = crate::protocol::ClientMessage::Scope(scope.clone());
    let Ok(text) = serde_json::to_string(&message) else {
        return;
    };
    SOCKET.with(|s| {
        if let Some(socket) = s.borrow().as_ref() {
            if socket.ready_state() == web_sys::WebSocket::OPEN {
                let _ = socket.send_with_str(&text);
            }
        }
    });
}

/// Opens the live link. `large`: the inventory is past the map's threshold, so the link is
/// scoped to what the pages show (docs/DESIGN.md#scoped-live-clients).
#[cfg(feature = "hydrate")]
pub fn connect(inventory: InventoryResource, live: LiveState, large: bool) {
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
    let path = if large { "/ws?scope=open" } else { "/ws" };
    let Ok(socket) = WebSocket::new(&format!("{scheme}://{host}{path}")) else {
        set_timeout(
            move || connect(inventory, live, large),
            Duration::from_secs(2),
        );
        return;
    };
    SOCKET.with(|s| *s.borrow_mut() = Some(socket.clone()));
    let revision = Rc::new(Cell::new(0u64));
    // The resource the whole inventory goes to: the page's own at scale.
    let full = move || live.page_inventory.get_untracked().unwrap_or(inventory);

    let on_open = Closure::<dyn FnMut()>::new(move || {
        let scope = untrack(|| live.scope());
        if large && scope != crate::protocol::LiveScope::default() {
            send_scope(&scope);
        }
    });
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    on_open.forget();

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
                    overview,
                }) => {
                    revision.set(r);
                    match overview {
                        Some(tiles) => {
                            live.tiles.set(tiles);
                            live.scoped.set(Some(inv));
                        }
                        None => {
                            full().try_set(Some(Ok(inv)));
                        }
                    }
                    if let Some(list) = migrations {
                        live.migrations
                            .set(list.into_iter().map(|m| (m.id, m)).collect());
                    }
                    if let Some(f) = faults {
                        live.faults.set(f);
                    }
                    live.resyncs.update(|n| *n += 1);
                    if link.get_untracked() == LinkState::Reconnecting {
                        live.tell(Some(News::LinkBack));
                    }
                    link.set(LinkState::Live);
                }
                Ok(LiveMessage::OverviewChanged { tiles, removed }) => {
                    if !live.absorb_tiles(tiles, &removed) {
                        let _ = socket.close();
                    }
                }
                Ok(LiveMessage::MigrationUpdated(m)) => live.absorb_summary(*m),
                Ok(LiveMessage::MigrationEvent(e)) => {
                    if !live.absorb_event(&e) && !large {
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
                    if r > revision.get() + 1 && !large {
                        // A gap: start again from a fresh snapshot. (At scale the server
                        // leaves out what the client does not show, and resyncs it itself.)
                        let _ = socket.close();
                        return;
                    }
                    revision.set(r);
                    full().try_update(|slot| {
                        if let Some(Ok(inv)) = slot {
                            inv.apply(&change);
                        }
                    });
                    if large {
                        live.scoped.update(|slot| {
                            if let Some(inv) = slot {
                                inv.apply(&change);
                            }
                        });
                    }
                }
                Err(e) => leptos::logging::warn!("unreadable live message: {e}"),
            }
        })
    };
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();

    let on_close = Closure::<dyn FnMut()>::new(move || {
        if link.get_untracked() == LinkState::Live {
            live.tell(Some(News::LinkLost));
        }
        link.set(LinkState::Reconnecting);
        set_timeout(
            move || connect(inventory, live, large),
            Duration::from_secs(1),
        );
    });
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    on_close.forget();
}
