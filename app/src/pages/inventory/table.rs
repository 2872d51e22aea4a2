//! A kind's table, paged by the server and virtualised (docs/DESIGN.md#paged-lists): the server
//! filters, sorts and builds the rows of the block in view; the page holds that block and
//! draws the rows around the scroll position between two spacers, so 45,000 VMs scroll like
//! 45.

use super::Editing;
use crate::i18n::{t_string, use_i18n};
use crate::lang::{fill, use_lang};
use crate::rpc::{ServerError, TablePage, TableRow};
use crate::tables::{header_sorts, headers};
use crate::{names, tx};
use domain::listing::ListQuery;
use domain::ObjectKind;
use leptos::prelude::*;

/// A row's height in pixels (style/main.css keeps rows on one line at this height).
const ROW_PX: usize = 33;
/// Rows fetched at once, and the step at which a new block starts.
const BLOCK: usize = 200;
const STEP: usize = 100;
/// Rows drawn before and after the first one in view.
const BEFORE: usize = 20;
const AFTER: usize = 80;

pub type DeleteAction = Action<(ObjectKind, uuid::Uuid), Result<(), ServerError>>;

/// What a row's buttons change.
#[derive(Clone, Copy)]
pub struct RowActions {
    pub editing: RwSignal<Option<Editing>>,
    pub confirming: RwSignal<Option<uuid::Uuid>>,
    pub page_error: RwSignal<Option<String>>,
    pub delete: DeleteAction,
}

#[component]
pub fn ObjectTable(
    kind: ObjectKind,
    /// Bumped whenever the inventory may have changed: the block in view is fetched again.
    version: RwSignal<u64>,
    actions: RowActions,
) -> impl IntoView {
    let q = RwSignal::new(String::new());
    let sort = RwSignal::new(None::<String>);
    let top = RwSignal::new(0usize);
    // The first row in view, by steps of ten: scrolling within a step redraws nothing.
    let first = Memo::new(move |_| top.get() / ROW_PX / 10 * 10);
    let start = Memo::new(move |_| first.get().saturating_sub(BEFORE) / STEP * STEP);
    let lang = use_lang();
    let i18n = use_i18n();
    let page = Resource::new(
        move || (q.get(), sort.get(), start.get(), version.get(), lang.get()),
        move |(q, sort, offset, _, lang)| {
            let query = ListQuery {
                q: (!q.trim().is_empty()).then_some(q),
                sort,
                offset,
                limit: Some(BLOCK),
            };
            crate::rpc::inventory_page(kind, query, lang)
        },
    );
    let on_scroll = move |ev: leptos::ev::Event| {
        let _ = &ev;
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Some(el) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            {
                top.set(el.scroll_top().max(0) as usize);
            }
        }
    };
    let header_cells = header_sorts(kind)
        .into_iter()
        .enumerate()
        .map(|(i, field)| {
            let label = move || headers(i18n.get_locale(), kind)[i];
            header(label, field, sort)
        })
        .collect_view();
    let plural = move || names::object_kinds(i18n, kind);
    view! {
        <div class="table-filter">
            <input
                type="search"
                aria-label=move || fill(t_string!(i18n, tables.filter_label), &[("kind", plural().to_string())])
                placeholder=tx!(i18n, tables.filter)
                data-testid="table-filter"
                prop:value=move || q.get()
                on:input=move |ev| {
                    q.set(event_target_value(&ev));
                    top.set(0);
                }
            />
            <Transition fallback=|| ()>
                <span class="muted small" data-testid="table-count">
                    {move || page.get().and_then(Result::ok).map(|p| format!("{} {}", domain::format::count(lang.get(), p.total as u64), plural()))}
                </span>
            </Transition>
        </div>
        <div class="table-scroll" on:scroll=on_scroll data-testid="table-scroll">
            <table class="objects" data-testid="object-table">
                <thead>
                    <tr>
                        {header(tx!(i18n, tables.name), Some("name"), sort)}
                        {header_cells}
                        <th><span class="visually-hidden">{tx!(i18n, tables.actions)}</span></th>
                    </tr>
                </thead>
                <Transition fallback=|| view! { <tbody></tbody> }>
                    {move || {
                        page.get().map(|r| match r {
                            Ok(p) => body(kind, p, first, actions).into_any(),
                            Err(e) => view! { <tbody><tr><td class="error">{e.to_string()}</td></tr></tbody> }.into_any(),
                        })
                    }}
                </Transition>
            </table>
        </div>
    }
}

/// A header: a button that sorts by its field (ascending, then descending).
fn header(
    label: impl Fn() -> &'static str + Send + Sync + 'static,
    field: Option<&'static str>,
    sort: RwSignal<Option<String>>,
) -> AnyView {
    let Some(field) = field else {
        return view! { <th scope="col">{label}</th> }.into_any();
    };
    let state = move || match sort.get().as_deref() {
        None if field == "name" => "ascending",
        Some(s) if s == field => "ascending",
        Some(s) if s.strip_prefix('-') == Some(field) => "descending",
        _ => "none",
    };
    let next = move |_| {
        sort.set(match state() {
            "ascending" => Some(format!("-{field}")),
            _ => Some(field.to_string()),
        })
    };
    view! {
        <th scope="col" aria-sort=state>
            <button class="sort" data-testid=format!("sort-{field}") on:click=next>
                {label}
                {move || match state() {
                    "ascending" => " ▲",
                    "descending" => " ▼",
                    _ => "",
                }}
            </button>
        </th>
    }
    .into_any()
}

/// The rows around `first` between two spacers standing for the others; the rows are keyed,
/// so scrolling adds and drops rows at the edges and keeps the others.
fn body(
    kind: ObjectKind,
    page: TablePage,
    first: Memo<usize>,
    actions: RowActions,
) -> impl IntoView {
    let page = std::sync::Arc::new(page);
    let range = {
        let page = page.clone();
        move || {
            // The block held may not be the one in view yet (it is being fetched).
            let first = first.get();
            let end = page.offset + page.rows.len();
            let from = first.saturating_sub(BEFORE).clamp(page.offset, end);
            let to = (first + AFTER).clamp(from, end);
            (from, to)
        }
    };
    let total = page.total;
    let before = {
        let range = range.clone();
        move || format!("height: {}px", range().0 * ROW_PX)
    };
    let after = {
        let range = range.clone();
        move || format!("height: {}px", total.saturating_sub(range().1) * ROW_PX)
    };
    let rows = move || {
        let (from, to) = range();
        page.rows[from - page.offset..to - page.offset].to_vec()
    };
    view! {
        <tbody>
            <tr class="spacer" aria-hidden="true" style=before></tr>
            <For each=rows key=|r| r.id let:row>
                {row_view(kind, row, actions)}
            </For>
            <tr class="spacer" aria-hidden="true" style=after></tr>
        </tbody>
    }
}

fn row_view(kind: ObjectKind, row: TableRow, a: RowActions) -> impl IntoView {
    // Only admins change the inventory (the server refuses the others anyway).
    let admin = crate::allowed(domain::accounts::Role::Admin);
    let operator = crate::allowed(domain::accounts::Role::Operator);
    let TableRow {
        id,
        name,
        cells,
        vcenter,
    } = row;
    let editable = admin && vcenter.is_none();
    let i18n = use_i18n();
    let link =
        |href: String,
         testid: String,
         label: fn(leptos_i18n::I18nContext<crate::i18n::Locale>) -> &'static str| {
            let label = crate::lang::text(i18n, label);
            view! { <a class="link" href=href data-testid=testid>{label}</a> }
        };
    let maintenance = (operator && kind == ObjectKind::Host).then(|| {
        link(
            format!("/plans/new?evacuate={id}"),
            format!("maintenance-{name}"),
            |i| t_string!(i, map.enter_maintenance),
        )
    });
    let drain = (operator && kind == ObjectKind::Datastore).then(|| {
        link(
            format!("/plans/new?drain={id}"),
            format!("drain-{name}"),
            |i| t_string!(i, map.drain),
        )
    });
    let migrate = (kind == ObjectKind::Vm).then(|| {
        link(
            format!("/migrate?vm={id}"),
            format!("migrate-{name}"),
            |i| t_string!(i, tables.migrate),
        )
    });
    let badge = vcenter.map(|v| {
        view! {
            <span class="badge vcenter" data-testid=format!("vcenter-{name}") title=tx!(i18n, tables.mirrored)>
                "vCenter · "{v}
            </span>
        }
    });
    let edit = editable.then(|| {
        view! {
            <button class="link" data-testid=format!("edit-{name}") on:click=move |_| a.editing.set(Some(Editing::Existing(id)))>
                {tx!(i18n, tables.edit)}
            </button>
        }
    });
    let row_name = name.clone();
    let delete = editable.then_some(move || {
        if a.confirming.get() == Some(id) {
            view! {
                <button class="danger" data-testid=format!("confirm-delete-{row_name}") on:click=move |_| {
                    a.delete.dispatch((kind, id));
                }>{tx!(i18n, tables.confirm_delete)}</button>
                <button class="link" on:click=move |_| a.confirming.set(None)>{tx!(i18n, tables.keep)}</button>
            }
            .into_any()
        } else {
            view! {
                <button class="link danger-text" data-testid=format!("delete-{row_name}") on:click=move |_| {
                    a.page_error.set(None);
                    a.confirming.set(Some(id));
                }>{tx!(i18n, tables.delete)}</button>
            }
            .into_any()
        }
    });
    view! {
        <tr class="row" data-testid=format!("row-{name}")>
            <td class="name" title=name.clone()>{name.clone()}</td>
            {cells.into_iter().map(|c| { let title = c.clone(); view! { <td title=title>{c}</td> } }).collect_view()}
            <td class="row-actions">{maintenance}{drain}{migrate}{badge}{edit}{delete}</td>
        </tr>
    }
}
