//! Inventory pages: one tab per kind of object, a table of them, and the form to create or
//! edit one. Deletion asks for confirmation and explains a refusal (who uses the object).

mod forms;
mod table;

use crate::components::form::ObjectForm;
use crate::i18n::{t_string, use_i18n};
use crate::lang::fill;
use crate::rpc::ServerError;
use crate::{names, tx};
use domain::*;
use forms::form_spec;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use table::{ObjectTable, RowActions};

#[derive(Clone, PartialEq)]
enum Editing {
    New,
    Existing(uuid::Uuid),
}

/// The inventory's tabs: one per kind of object, and the RVTools import for admins.
#[component]
pub fn InventoryTabs() -> impl IntoView {
    let i18n = crate::i18n::use_i18n();
    let tabs = ObjectKind::ALL
        .into_iter()
        .map(|k| {
            let label = move || names::kind_title(i18n, k);
            view! {
                <A href=format!("/inventory/{}", k.plural()) attr:data-testid=format!("tab-{}", k.plural())>
                    {label}
                </A>
            }
        })
        .collect_view();
    let admin = crate::allowed(domain::accounts::Role::Admin);
    view! {
        <nav class="tabs" aria-label=crate::tx!(i18n, inventory.tabs_label)>
            {tabs}
            {admin.then(|| view! {
                <A href="/inventory/import" attr:data-testid="tab-import">{crate::tx!(i18n, inventory.import_rvtools)}</A>
                <A href="/inventory/connections" attr:data-testid="tab-connections">"vCenter"</A>
            })}
        </nav>
    }
}

#[component]
pub fn InventoryPage() -> impl IntoView {
    crate::mark_ready();
    // The table comes from the server, a page at a time; the whole inventory only for the
    // form (below the scale threshold the app holds it live; past it, loaded when a form
    // opens).
    let inventory = expect_context::<crate::live::InventoryResource>();
    let large = expect_context::<crate::Scale>().large;
    let version = RwSignal::new(0u64);
    if !large {
        Effect::new(move |_| {
            inventory.track();
            version.update(|v| *v += 1);
        });
    }
    let params = use_params_map();
    let kind = Memo::new(move |_| {
        params.with(|p| p.get("kind").and_then(|k| ObjectKind::from_plural(&k)))
    });
    let editing = RwSignal::new(None::<Editing>);
    provide_context(editing);
    // Past the scale threshold: the whole inventory, loaded when a form first opens.
    let whole = RwSignal::new(None::<Inventory>);
    if large {
        Effect::new(move |_| {
            if editing.get().is_some() && whole.get_untracked().is_none() {
                leptos::task::spawn_local(async move {
                    if let Ok(inv) = crate::rpc::load_inventory().await {
                        whole.set(Some(inv));
                    }
                });
            }
        });
    }
    let confirming = RwSignal::new(None::<uuid::Uuid>);
    let page_error = RwSignal::new(None::<String>);
    let import_outcome = RwSignal::new(None::<Result<String, String>>);
    let import: ImportAction =
        Action::new(move |file: &InventoryFile| crate::rpc::import_inventory(file.clone()));
    let i18n = use_i18n();
    Effect::new(move |_| {
        if let Some(result) = import.value().get() {
            version.update(|v| *v += 1);
            import_outcome.set(Some(match result {
                Ok(s) => Ok(fill(
                    t_string!(i18n, tables.imported),
                    &[
                        ("created", s.created.to_string()),
                        ("replaced", s.updated.to_string()),
                    ],
                )),
                Err(refusal) => Err(fill(
                    t_string!(i18n, tables.nothing_imported),
                    &[("why", refusal.message)],
                )),
            }));
        }
    });
    provide_context(ImportOutcome {
        outcome: import_outcome,
        import,
    });
    // Leaving a tab closes its form.
    Effect::new(move |_| {
        kind.track();
        editing.set(None);
        confirming.set(None);
        page_error.set(None);
    });

    let delete = Action::new(move |(kind, id): &(ObjectKind, uuid::Uuid)| {
        crate::rpc::delete_object(*kind, *id)
    });
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(())) => {
            confirming.set(None);
            page_error.set(None);
            version.update(|v| *v += 1);
        }
        Some(Err(refusal)) => {
            confirming.set(None);
            page_error.set(Some(refusal.said(i18n.get_locale_untracked())));
        }
        None => {}
    });

    view! {
        <section class="page inventory-page">
            <InventoryTabs/>
            {move || {
                import_outcome
                    .get()
                    .map(|r| match r {
                        Ok(m) => view! { <p class="notice" data-testid="import-result">{m}</p> }.into_any(),
                        Err(m) => view! { <p class="form-error" data-testid="import-error">{m}</p> }.into_any(),
                    })
            }}
            // The form reads the inventory once when it opens: a live change elsewhere does
            // not reset what the user is typing (the server re-validates on save anyway).
            {move || {
                let kind = kind.get()?;
                let current = editing.get()?;
                let inv = if large {
                    whole.get()?
                } else {
                    inventory.get_untracked()?.ok()?
                };
                let initial = match current {
                    Editing::New => None,
                    Editing::Existing(id) => {
                        let mut v = serde_json::to_value(inv.get(kind, id)?).ok()?;
                        Some((id, v["object"].take()))
                    }
                };
                let spec = form_spec(i18n.get_locale_untracked(), kind, &inv);
                Some(view! { <ObjectForm spec=spec initial=initial on_done=move |_| {
                    editing.set(None);
                    version.update(|v| *v += 1);
                }/> })
            }}
            {move || {
                let Some(kind) = kind.get() else {
                    return view! { <p class="empty">{tx!(i18n, tables.no_such_kind)}</p> }.into_any();
                };
                let actions = RowActions { editing, confirming, page_error, delete };
                view! {
                    {toolbar(kind)}
                    {move || page_error.get().map(|m| view! { <p class="form-error" data-testid="inventory-error">{m}</p> })}
                    <ObjectTable kind version actions/>
                }
                .into_any()
            }}
        </section>
    }
}

fn toolbar(kind: ObjectKind) -> impl IntoView {
    let admin = crate::allowed(domain::accounts::Role::Admin);
    let editing = expect_context::<RwSignal<Option<Editing>>>();
    let i18n = use_i18n();
    view! {
        <div class="toolbar">
            <h1>{move || names::kind_title(i18n, kind)}</h1>
            {admin.then(|| view! {
                <button class="primary" data-testid="new-object" on:click=move |_| editing.set(Some(Editing::New))>
                    {move || names::new_object(i18n, kind)}
                </button>
                <ImportButton/>
            })}
            <a class="secondary button" href="/api/v1/inventory" download="vmshift-inventory.json" data-testid="export">
                {tx!(i18n, tables.export)}
            </a>
        </div>
    }
}

/// Reads a JSON file in the export format and imports it (all or nothing); says what
/// happened, or which object and field were refused.
#[component]
fn ImportButton() -> impl IntoView {
    let context = expect_context::<ImportOutcome>();
    let i18n = use_i18n();
    let on_change = move |ev: leptos::ev::Event| {
        let _ = (&ev, context);
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let ImportOutcome { outcome, import } = context;
            let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            input.set_value("");
            leptos::task::spawn_local(async move {
                let text = wasm_bindgen_futures::JsFuture::from(file.text())
                    .await
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_default();
                // Read as the server would, naming the field that does not fit.
                let mut json = serde_json::Deserializer::from_str(&text);
                match serde_path_to_error::deserialize::<_, InventoryFile>(&mut json) {
                    Ok(file) => {
                        import.dispatch(file);
                    }
                    Err(e) => outcome.set(Some(Err(fill(
                        t_string!(i18n, tables.nothing_imported),
                        &[("why", format!("{}: {}", e.path(), e.inner()))],
                    )))),
                }
            });
        }
    };
    view! {
        <label class="secondary button" data-testid="import">
            {tx!(i18n, tables.import)}
            <input
                type="file"
                accept=".json,application/json"
                class="visually-hidden"
                data-testid="import-file"
                on:change=on_change
            />
        </label>
    }
}

/// The import action and its last outcome, owned by the page (the table re-renders when the
/// import changes the inventory), shown above the table until the next import.
#[derive(Clone, Copy)]
// Only the browser reads files, so only the hydrate build uses the fields.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct ImportOutcome {
    outcome: RwSignal<Option<Result<String, String>>>,
    import: ImportAction,
}

type ImportAction = Action<InventoryFile, Result<ImportSummary, ServerError>>;
