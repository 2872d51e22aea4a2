//! The browser side of the live websocket: applies snapshots and changes to the shared
//! inventory resource, and reconnects (getting a fresh snapshot) when the link drops.

use crate::domain::Inventory;
use leptos::prelude::*;

pub type InventoryResource = Resource<Result<Inventory, ServerFnError>>;

/// Whether the live link is up (shown in the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    Live,
    Reconnecting,
}

#[cfg(feature = "hydrate")]
pub fn connect(inventory: InventoryResource, link: RwSignal<LinkState>) {
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
        set_timeout(move || connect(inventory, link), Duration::from_secs(2));
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
                    ..
                }) => {
                    revision.set(r);
                    inventory.set(Some(Ok(inv)));
                    link.set(LinkState::Live);
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
        set_timeout(move || connect(inventory, link), Duration::from_secs(1));
    });
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    on_close.forget();
}
