//! The audit log (admins): who did what and when, filtered by user and action, exported as
//! CSV with the same filters.

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

/// Milliseconds since the epoch as "2026-11-27 10:58:12 UTC" (the page is in English).
pub fn utc(ms: i64) -> String {
    domain::format::datetime(domain::Lang::En, ms)
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
            view! { <option value=p>{label}</option> }
        })
        .chain(
            ACTIONS
                .iter()
                .map(|a| view! { <option value=*a>{*a}</option> }),
        )
        .collect_view();
    let csv = move || format!("/api/v1/audit.csv?{}", query(&actor.get(), &action.get()));
    view! {
        <section class="page audit-page" data-testid="audit">
            <div class="toolbar">
                <h2>"Audit log"</h2>
                <input
                    placeholder="user"
                    data-testid="audit-actor"
                    on:change=move |ev| actor.set(event_target_value(&ev).trim().to_owned())
                />
                <select data-testid="audit-action" on:change=move |ev| action.set(event_target_value(&ev))>
                    <option value="">"every action"</option>
                    {options}
                </select>
                <a class="secondary button" href=csv download="vmshift-audit.csv" data-testid="audit-csv">
                    "Export CSV"
                </a>
            </div>
            <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || {
                    entries
                        .get()
                        .map(|r| match r {
                            Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                            Ok(list) if list.is_empty() => {
                                view! { <p class="empty" data-testid="audit-empty">"Nothing recorded matches."</p> }
                                    .into_any()
                            }
                            Ok(list) => {
                                view! {
                                    <table class="objects" data-testid="audit-table">
                                        <thead>
                                            <tr>
                                                <th>"When"</th>
                                                <th>"Who"</th>
                                                <th>"Action"</th>
                                                <th>"What"</th>
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
                                                            <td class="small">{utc(e.at_ms)}</td>
                                                            <td>{e.actor.clone()}</td>
                                                            <td><code>{e.action.clone()}</code></td>
                                                            <td class="small" title=detail>{e.summary.clone()}</td>
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

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::utc(1_795_777_092_304), "2026-11-27 10:58:12 UTC");
        assert_eq!(super::utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
    }
}
