//! The audit log (admins): who did what and when, filtered by user and action, exported as
//! CSV with the same filters.

use crate::i18n::use_i18n;
use crate::tx;
use domain::audit::{AuditFilter, ACTIONS};
use leptos::prelude::*;

fn query(actor: &str, action: &str) -> String {
    let mut q = vec!["limit=500".to_string()];
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    if !actor.is_empty() {
        q.push(format!("actor={}", enc(actor)));
    }
    if !action.is_empty() {
        q.push(format!("action={}", enc(action)));
    }
    q.join("&")
}

#[component]
pub fn AuditPage() -> impl IntoView {
    crate::mark_ready();
    let actor = RwSignal::new(String::new());
    let action = RwSignal::new(String::new());
    let entries = LocalResource::new(move || {
        crate::rpc::audit_entries(AuditFilter {
            actor: Some(actor.get()),
            action: Some(action.get()),
            limit: Some(500),
            ..AuditFilter::default()
        })
    });
    let mut prefixes: Vec<String> = ACTIONS
        .iter()
        .filter_map(|a| a.split_once('.').map(|(p, _)| format!("{p}.")))
        .collect();
    prefixes.dedup();
    let options = prefixes
        .into_iter()
        .map(|p| {
            let label = format!("{p}*");
            view! { <option value=p data-untranslated="code">{label}</option> }
        })
        .chain(
            ACTIONS
                .iter()
                // The actions' codes, as the API filters by them.
                .map(|a| view! { <option value=*a data-untranslated="code">{*a}</option> }),
        )
        .collect_view();
    let csv = move || format!("/api/v1/audit.csv?{}", query(&actor.get(), &action.get()));
    let i18n = use_i18n();
    let lang = crate::lang::use_lang();
    view! {
        <section class="page audit-page" data-testid="audit">
            <div class="toolbar">
                <h1>{tx!(i18n, audit.title)}</h1>
                <input
                    placeholder=tx!(i18n, audit.user)
                    aria-label=tx!(i18n, audit.user)
                    data-testid="audit-actor"
                    on:change=move |ev| actor.set(event_target_value(&ev).trim().to_owned())
                />
                <select aria-label=tx!(i18n, audit.action) data-testid="audit-action" on:change=move |ev| action.set(event_target_value(&ev))>
                    <option value="">{tx!(i18n, audit.every_action)}</option>
                    {options}
                </select>
                <a class="secondary button" href=csv download="vmshift-audit.csv" data-testid="audit-csv">
                    {tx!(i18n, audit.export)}
                </a>
            </div>
            <Transition fallback=move || view! { <p class="empty">{tx!(i18n, connections.loading)}</p> }>
                {move || {
                    entries
                        .get()
                        .map(|r| match r {
                            Err(e) => view! { <p class="form-error">{e.said(i18n.get_locale_untracked())}</p> }.into_any(),
                            Ok(list) if list.is_empty() => {
                                view! { <p class="empty" data-testid="audit-empty">{tx!(i18n, audit.nothing)}</p> }
                                    .into_any()
                            }
                            Ok(list) => {
                                view! {
                                    <table class="objects" data-testid="audit-table">
                                        <thead>
                                            <tr>
                                                <th>{tx!(i18n, audit.when)}</th>
                                                <th>{tx!(i18n, audit.who)}</th>
                                                <th>{tx!(i18n, audit.action)}</th>
                                                <th>{tx!(i18n, audit.what)}</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {list
                                                .into_iter()
                                                .map(|e| {
                                                    let detail = match (&e.before, &e.after) {
                                                        (None, None) => String::new(),
                                                        (b, a) => format!(
                                                            "before: {}\nafter: {}",
                                                            b.as_ref().map_or("—".into(), |v| v.to_string()),
                                                            a.as_ref().map_or("—".into(), |v| v.to_string())
                                                        ),
                                                    };
                                                    view! {
                                                        <tr data-testid="audit-row" data-action=e.action.clone() data-actor=e.actor.clone()>
                                                            <td class="small">{domain::format::datetime(lang.get(), e.at_ms)}</td>
                                                            <td>{e.actor.clone()}</td>
                                                            <td><code>{e.action.clone()}</code></td>
                                                            // The server's English summary, stored with the
                                                            // entry (docs/DESIGN.md#languages).
                                                            <td class="small" title=detail>{crate::phrase_text::said_in(i18n.get_locale(), e.summary_words.as_ref(), &e.summary)}</td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </section>
    }
}
