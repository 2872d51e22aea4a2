//! The Import page (admins, docs/IMPORT.md#the-page): an RVTools export dropped or chosen —
//! the workbook, a zip of its CSV files, or the CSV files — is sent and read with its
//! progress shown, the report drawn as tables (what each kind would gain, keep and lose; the
//! warnings, filtered by tab and text; the guesses), then applied on request, all or nothing.
//! The map of every open browser follows the applied import live.

use crate::i18n::{t_string, use_i18n};
use crate::lang::{fill, use_lang};
use crate::pages::inventory::InventoryTabs;
use crate::upload::Stage;
use crate::{names, tx};
use domain::{format, ImportCounts, ImportReport, ObjectKind};
use leptos::prelude::*;

/// Kinds as the report counts them, in the order the inventory lists them.
const KINDS: [(&str, ObjectKind); 6] = [
    ("clusters", ObjectKind::Cluster),
    ("hosts", ObjectKind::Host),
    ("datastores", ObjectKind::Datastore),
    ("switches", ObjectKind::Switch),
    ("portgroups", ObjectKind::Portgroup),
    ("vms", ObjectKind::Vm),
];

/// Warnings drawn at most (the rest counted): a 45,000-VM export can have thousands.
const SHOWN_WARNINGS: usize = 200;

/// A file chosen: its name and size, shown before and while it is sent.
#[derive(Debug, Clone, PartialEq)]
struct Chosen {
    name: String,
    bytes: f64,
}

fn size(lang: domain::Lang, bytes: f64) -> String {
    format::bytes(lang, bytes.max(1024.0))
}

/// The page's state: the files, the stage of the upload under way, the last preview, the
/// last import applied, and what went wrong.
#[derive(Clone, Copy)]
struct Import {
    chosen: RwSignal<Vec<Chosen>>,
    stage: RwSignal<Option<Stage>>,
    preview: RwSignal<Option<ImportReport>>,
    applied: RwSignal<Option<ImportReport>>,
    error: RwSignal<Option<String>>,
    remove_absent: RwSignal<bool>,
    #[cfg(feature = "hydrate")]
    files: StoredValue<Vec<web_sys::File>, LocalStorage>,
}

impl Import {
    /// Sends the files: a preview, or (`apply`) the import itself.
    fn send(self, apply: bool) {
        self.error.set(None);
        #[cfg(feature = "hydrate")]
        {
            let files = self.files.get_value();
            let remove_absent = self.remove_absent.get_untracked();
            let stage = self.stage;
            leptos::task::spawn_local(async move {
                let answer = crate::upload::rvtools(files, apply, remove_absent, move |s| {
                    stage.set(Some(s))
                })
                .await;
                stage.set(None);
                match answer {
                    Ok(report) if apply => {
                        self.preview.set(None);
                        self.applied.set(Some(report));
                    }
                    Ok(report) => self.preview.set(Some(report)),
                    Err(e) => self.error.set(Some(e.message)),
                }
            });
        }
        let _ = apply;
    }

    /// Files chosen or dropped: held, listed, and previewed at once.
    #[cfg(feature = "hydrate")]
    fn take(self, list: Option<web_sys::FileList>) {
        let Some(list) = list else { return };
        let files: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
        if files.is_empty() {
            return;
        }
        self.chosen.set(
            files
                .iter()
                .map(|f| Chosen {
                    name: f.name(),
                    bytes: f.size(),
                })
                .collect(),
        );
        self.files.set_value(files);
        self.preview.set(None);
        self.applied.set(None);
        self.send(false);
    }
}

#[component]
pub fn ImportPage() -> impl IntoView {
    crate::mark_ready();
    let import = Import {
        chosen: RwSignal::new(Vec::new()),
        stage: RwSignal::new(None),
        preview: RwSignal::new(None),
        applied: RwSignal::new(None),
        error: RwSignal::new(None),
        remove_absent: RwSignal::new(false),
        #[cfg(feature = "hydrate")]
        files: StoredValue::new_local(Vec::new()),
    };
    let dragging = RwSignal::new(false);
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        #[cfg(feature = "hydrate")]
        import.take(ev.data_transfer().and_then(|d| d.files()));
    };
    let on_change = move |ev: leptos::ev::Event| {
        let _ = &ev;
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let input = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
            if let Some(input) = input {
                import.take(input.files());
                input.set_value("");
            }
        }
    };
    let i18n = use_i18n();
    view! {
        <section class="page inventory-page import-page">
            <InventoryTabs/>
            <div class="toolbar">
                <h1>{tx!(i18n, import.title)}</h1>
                <a class="secondary button" href="/api/v1/inventory.xlsx" download="vmshift-rvtools.xlsx" data-testid="export-xlsx">
                    {tx!(i18n, import.export_xlsx)}
                </a>
            </div>
            <p class="muted">
                {tx!(i18n, import.explain_workbook)}" "<code>"Export all to Excel"</code>{tx!(i18n, import.explain_rest)}
            </p>
            <label
                class="dropzone"
                class:dragging=move || dragging.get()
                data-testid="import-dropzone"
                on:dragover=move |ev: leptos::ev::DragEvent| {
                    ev.prevent_default();
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
                <span>{tx!(i18n, import.drop)}" "<u>{tx!(i18n, import.choose)}</u></span>
                <input
                    type="file"
                    multiple
                    accept=".xlsx,.zip,.csv,application/zip,text/csv"
                    class="visually-hidden"
                    data-testid="import-files"
                    on:change=on_change
                />
            </label>
            <Files import=import/>
            {move || import.error.get().map(|m| view! {
                <p class="form-error" role="alert" data-testid="import-error">{tx!(i18n, import.nothing)}" "{m}</p>
            })}
            {move || import.applied.get().map(|r| view! { <Applied report=r/> })}
            {move || import.preview.get().map(|r| view! { <Preview report=r import=import/> })}
        </section>
    }
}

/// The files chosen and, while they are sent and read, how far it got.
#[component]
fn Files(import: Import) -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    move || {
        let chosen = import.chosen.get();
        (!chosen.is_empty()).then(|| {
            let names = chosen
                .iter()
                .map(|c| format!("{} ({})", c.name, size(lang.get(), c.bytes)))
                .collect::<Vec<_>>()
                .join(", ");
            let stage = move || {
                import.stage.get().map(|s| {
                    let (label, percent) = match s {
                        Stage::Sending(f) => (
                            fill(t_string!(i18n, import.uploading), &[("percent", format::pct(lang.get(), f * 100.0, 0))]),
                            f * 100.0,
                        ),
                        Stage::Reading => (t_string!(i18n, import.reading).to_string(), 100.0),
                    };
                    view! {
                        <div class="progress" role="progressbar" aria-label=tx!(i18n, import.progress) aria-valuemin="0" aria-valuemax="100"
                            aria-valuenow=format!("{percent:.0}") data-testid="import-stage">
                            <div class="progress-fill" style=format!("width: {percent:.1}%")></div>
                            <span class="progress-label">{label}</span>
                        </div>
                    }
                })
            };
            view! {
                <p data-testid="import-chosen">{names}</p>
                {stage}
            }
        })
    }
}

/// An import done: what it created, updated and removed.
#[component]
fn Applied(report: ImportReport) -> impl IntoView {
    let sum = |f: fn(&ImportCounts) -> usize| report.counts.values().map(f).sum::<usize>();
    let (created, updated, removed) = (sum(|c| c.create), sum(|c| c.update), sum(|c| c.remove));
    let i18n = use_i18n();
    let line = move || {
        fill(
            t_string!(i18n, import.applied),
            &[
                ("created", created.to_string()),
                ("updated", updated.to_string()),
                ("removed", removed.to_string()),
            ],
        )
    };
    view! {
        <p class="notice" role="status" data-testid="import-applied">
            {line}" "
            <a href="/" data-testid="import-to-map">{tx!(i18n, import.see_on_map)}</a>
        </p>
    }
}

/// The report of a preview and the Apply button.
#[component]
fn Preview(report: ImportReport, import: Import) -> impl IntoView {
    let i18n = use_i18n();
    let tab_list = report.tabs.clone();
    let tabs = move || {
        tab_list
            .iter()
            .map(|(t, n)| {
                fill(
                    t_string!(i18n, import.tab_rows),
                    &[("tab", t.clone()), ("rows", n.to_string())],
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let skipped = report.templates_skipped;
    let counts = report.counts.clone();
    let count_rows = move || {
        let remove_absent = import.remove_absent.get();
        KINDS
            .iter()
            .map(|(key, kind)| {
                let c = counts.get(*key).cloned().unwrap_or_default();
                // The preview counted one way; the checkbox moves what is absent between
                // kept and removed without sending the file again.
                let absent = c.keep + c.remove;
                let (keep, remove) = if remove_absent {
                    (0, absent)
                } else {
                    (absent, 0)
                };
                view! {
                    <tr data-kind=*key>
                        <th scope="row">{names::kind_title(i18n, *kind)}</th>
                        <td>{c.create}</td>
                        <td>{c.update}</td>
                        <td>{keep}</td>
                        <td class:danger=move || remove != 0>{remove}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    let guesses = report.guesses.clone();
    let no_guess = guesses.is_empty();
    view! {
        <div class="import-report" data-testid="import-report">
            <p class="muted" data-testid="import-tabs">
                {move || fill(t_string!(i18n, import.read), &[("tabs", tabs()), ("skipped", skipped.to_string())])}
            </p>
            <table class="objects" data-testid="import-counts">
                <caption class="visually-hidden">{tx!(i18n, import.caption)}</caption>
                <thead>
                    <tr>
                        <th scope="col">{tx!(i18n, import.kind)}</th>
                        <th scope="col">{tx!(i18n, import.create)}</th>
                        <th scope="col">{tx!(i18n, import.update)}</th>
                        <th scope="col">{tx!(i18n, import.keep)}</th>
                        <th scope="col">{tx!(i18n, import.remove)}</th>
                    </tr>
                </thead>
                <tbody>{count_rows}</tbody>
            </table>
            <div class="toolbar import-actions">
                <label>
                    <input type="checkbox" data-testid="import-remove-absent"
                        prop:checked=move || import.remove_absent.get()
                        on:change=move |_| import.remove_absent.update(|r| *r = !*r)/>
                    " "{tx!(i18n, import.remove_absent)}
                </label>
                <button class="primary" data-testid="import-apply"
                    disabled=move || import.stage.get().is_some()
                    on:click=move |_| import.send(true)>
                    {tx!(i18n, import.apply)}
                </button>
            </div>
            <h3>{tx!(i18n, import.guessed)}</h3>
            {if no_guess {
                view! { <p class="muted" data-testid="import-guesses">{tx!(i18n, import.no_guess)}</p> }.into_any()
            } else {
                view! {
                    <table class="objects" data-testid="import-guesses">
                        <thead><tr><th scope="col">{tx!(i18n, import.what)}</th><th scope="col">{tx!(i18n, import.objects)}</th></tr></thead>
                        <tbody>
                            {guesses.into_iter().map(|g| view! {
                                <tr><td>{move || crate::phrase_text::said_in(i18n.get_locale(), g.words.as_ref(), &g.what)}</td><td>{g.objects}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            <Warnings warnings=report.warnings/>
        </div>
    }
}

/// The warnings, filtered by tab and by text.
#[component]
fn Warnings(warnings: Vec<domain::ImportWarning>) -> impl IntoView {
    let i18n = use_i18n();
    let total = warnings.len();
    let mut tabs: Vec<String> = warnings.iter().map(|w| w.tab.clone()).collect();
    tabs.sort();
    tabs.dedup();
    let tab = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let warnings = StoredValue::new(warnings);
    let rows = move || {
        let (tab, text) = (tab.get(), text.get().to_lowercase());
        warnings.with_value(|all| {
            let matching: Vec<&domain::ImportWarning> = all
                .iter()
                .filter(|w| tab.is_empty() || w.tab == tab)
                .filter(|w| {
                    text.is_empty()
                        || w.message.to_lowercase().contains(&text)
                        || w.column.to_lowercase().contains(&text)
                })
                .collect();
            let more = matching.len().saturating_sub(SHOWN_WARNINGS);
            let drawn = matching
                .into_iter()
                .take(SHOWN_WARNINGS)
                .map(|w| {
                    view! {
                        <tr data-testid="warning">
                            <td>{w.tab.clone()}</td>
                            <td>{w.row}</td>
                            <td>{w.column.clone()}</td>
                            <td>{crate::phrase_text::said_in(i18n.get_locale(), w.words.as_ref(), &w.message)}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                {drawn}
                {(more > 0).then(|| view! { <tr data-testid="warnings-more"><td colspan="4" class="muted">{move || fill(t_string!(i18n, import.more), &[("count", more.to_string())])}</td></tr> })}
            }
        })
    };
    view! {
        <h3>{move || fill(t_string!(i18n, import.warnings), &[("count", total.to_string())])}</h3>
        {(total > 0).then(|| view! {
            <div class="toolbar filters">
                <label>{tx!(i18n, import.tab)}" "
                    <select data-testid="warning-filter-tab" on:change=move |ev| tab.set(event_target_value(&ev))>
                        <option value="">{tx!(i18n, import.all)}</option>
                        {tabs.into_iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label>{tx!(i18n, import.containing)}" "
                    <input type="search" data-testid="warning-filter-text" on:input=move |ev| text.set(event_target_value(&ev))/>
                </label>
            </div>
            <table class="objects" data-testid="import-warnings">
                <thead>
                    <tr>
                        <th scope="col">{tx!(i18n, import.tab)}</th><th scope="col">{tx!(i18n, import.row)}</th>
                        <th scope="col">{tx!(i18n, import.column)}</th><th scope="col">{tx!(i18n, import.message)}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        })}
    }
}
