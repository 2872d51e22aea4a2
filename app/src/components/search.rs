//! Finding objects by name as you type (docs/DESIGN.md#search): the header's search box, which
//! jumps to an object on the map (highlighted) or, for a VM, to the migrate wizard; and the
//! wizard's VM picker. Both are ARIA comboboxes: arrows move through the hits, Enter picks
//! one, Escape closes the list; the server ranks the hits.

use crate::i18n::{t_string, use_i18n};
use crate::lang::fill;
use crate::rpc;
use domain::search::{Found, Hit};
use domain::ObjectKind;
use leptos::prelude::*;

/// Hits shown at once.
const SHOWN: usize = 10;

/// Where a hit leads: its place on the map (its cluster open, it highlighted).
pub fn map_link(hit: &Hit) -> String {
    match (hit.kind, hit.cluster) {
        (ObjectKind::Cluster, _) => format!("/?open={}", hit.id),
        (_, Some(cluster)) => format!("/?open={cluster}&highlight={}", hit.id),
        (kind, None) => format!("/inventory/{}", kind.plural()),
    }
}

/// The header's search box.
#[component]
pub fn SearchBox() -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    let go = Callback::new(move |hit: Hit| navigate(&map_link(&hit), Default::default()));
    // Following any link (a hit's "Migrate…" too) leaves the box empty again.
    let reset = RwSignal::new(0u32);
    let location = leptos_router::hooks::use_location();
    Effect::new(move |_| {
        location.pathname.track();
        location.search.track();
        reset.update(|n| *n += 1);
    });
    let i18n = use_i18n();
    view! {
        <div class="search" role="search">
            <Combobox
                label=Signal::derive(move || t_string!(i18n, search.label).to_string())
                placeholder=Signal::derive(move || t_string!(i18n, search.placeholder).to_string())
                testid="search"
                only=None
                on_pick=go
                migrate_links=true
                reset
            />
        </div>
    }
}

/// A text box whose list offers the objects (of one kind, or all) whose name holds the text.
#[component]
pub fn Combobox(
    #[prop(into)] label: Signal<String>,
    #[prop(into)] placeholder: Signal<String>,
    #[prop(into)] testid: String,
    only: Option<ObjectKind>,
    on_pick: Callback<Hit>,
    /// What the box shows before anything is typed (the chosen VM's name).
    #[prop(optional, into)]
    initial: String,
    /// VM hits also offer "Migrate…".
    #[prop(optional)]
    migrate_links: bool,
    /// Empties the box and closes the list whenever it changes.
    #[prop(optional)]
    reset: Option<RwSignal<u32>>,
    /// What the box shows while nothing is being typed (the chosen object's name).
    #[prop(optional, into)]
    shown: Option<Signal<String>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let text = RwSignal::new(initial);
    let typed = RwSignal::new(false);
    let open = RwSignal::new(false);
    let active = RwSignal::new(None::<usize>);
    if let Some(reset) = reset {
        Effect::new(move |_| {
            reset.track();
            open.set(false);
            active.set(None);
        });
    }
    let found = LocalResource::new(move || {
        let t = text.get();
        let wanted = typed.get();
        async move {
            if !wanted || t.trim().is_empty() {
                Ok(Found::default())
            } else {
                rpc::search(t, only, SHOWN).await
            }
        }
    });
    let hits = move || found.get().and_then(Result::ok).unwrap_or_default();
    let pick = Callback::new(move |hit: Hit| {
        open.set(false);
        active.set(None);
        typed.set(false);
        text.set(if reset.is_some() {
            String::new()
        } else {
            hit.name.clone()
        });
        on_pick.run(hit);
    });
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let count = hits().hits.len();
        match ev.key().as_str() {
            "ArrowDown" if count > 0 => {
                ev.prevent_default();
                open.set(true);
                active.update(|a| *a = Some(a.map_or(0, |i| (i + 1) % count)));
            }
            "ArrowUp" if count > 0 => {
                ev.prevent_default();
                active.update(|a| *a = Some(a.map_or(count - 1, |i| (i + count - 1) % count)));
            }
            "Enter" => {
                let list = hits().hits;
                let chosen = active.get_untracked().or((!list.is_empty()).then_some(0));
                if let Some(hit) = chosen.and_then(|i| list.get(i).cloned()) {
                    ev.prevent_default();
                    pick.run(hit);
                }
            }
            "Escape" => {
                open.set(false);
                active.set(None);
            }
            _ => {}
        }
    };
    let list_id = format!("{testid}-results");
    let listed = move || open.get() && typed.get() && !text.get().trim().is_empty();
    let prefix = testid.clone();
    view! {
        <input
            type="search"
            role="combobox"
            aria-label=label
            aria-autocomplete="list"
            aria-controls=list_id.clone()
            aria-expanded=move || listed().to_string()
            aria-activedescendant={
                let prefix = prefix.clone();
                move || active.get().map(|i| format!("{prefix}-option-{i}"))
            }
            placeholder=placeholder
            autocomplete="off"
            data-testid=testid.clone()
            prop:value=move || match shown {
                Some(name) if !typed.get() => name.get(),
                _ => text.get(),
            }
            on:input=move |ev| {
                text.set(event_target_value(&ev));
                typed.set(true);
                open.set(true);
                active.set(None);
            }
            on:keydown=on_key
            on:focus=move |_| open.set(true)
        />
        <Show when=listed>
            <ul id=list_id.clone() class="search-results" role="listbox" data-testid=format!("{testid}-results")>
                {
                    let prefix = prefix.clone();
                    move || {
                        let Found { hits, total } = hits();
                        let more = total.saturating_sub(hits.len());
                        let rows = hits
                            .into_iter()
                            .enumerate()
                            .map(|(i, hit)| option(&prefix, i, hit, active, pick, migrate_links))
                            .collect_view();
                        let footer = if total == 0 && found.get().is_some() {
                            Some(view! { <li class="muted small" role="presentation">{crate::tx!(i18n, search.nothing)}</li> }.into_any())
                        } else if more > 0 {
                            Some(view! {
                                <li class="muted small" role="presentation" data-testid=format!("{prefix}-more")>
                                    {fill(t_string!(i18n, search.more), &[("more", more.to_string())])}
                                </li>
                            }.into_any())
                        } else {
                            None
                        };
                        view! { {rows} {footer} }
                    }
                }
            </ul>
        </Show>
    }
}

fn option(
    prefix: &str,
    i: usize,
    hit: Hit,
    active: RwSignal<Option<usize>>,
    pick: Callback<Hit>,
    migrate_links: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let migrate = (migrate_links && hit.kind == ObjectKind::Vm).then(|| {
        let path = format!("/migrate?vm={}", hit.id);
        view! {
            <a class="link small" href=path data-testid=format!("{prefix}-migrate-{}", hit.name)>{crate::tx!(i18n, search.migrate)}</a>
        }
    });
    let kind = crate::names::object_kind(i18n, hit.kind);
    let (name, context) = (hit.name.clone(), hit.context.clone());
    let testid = format!("{prefix}-hit-{name}");
    view! {
        <li
            id=format!("{prefix}-option-{i}")
            role="option"
            aria-selected=move || (active.get() == Some(i)).to_string()
            class=move || if active.get() == Some(i) { "hit active" } else { "hit" }
            data-testid=testid
            on:mousedown=move |ev| ev.prevent_default()
            on:click=move |ev| {
                // "Migrate…" is a link of its own.
                if !clicked_link(&ev) {
                    pick.run(hit.clone());
                }
            }
        >
            <span class="hit-name">
                <span class="badge">{kind}</span>
                " "
                <strong>{name}</strong>
                " "
                <span class="muted small">{context}</span>
            </span>
            {migrate}
        </li>
    }
}

/// Whether a click landed on a link inside the option.
fn clicked_link(ev: &leptos::ev::MouseEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        ev.target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("a").ok().flatten())
            .is_some()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        false
    }
}
