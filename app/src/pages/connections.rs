//! The vCenter page (admins, docs/VCENTER.md#the-page): each connection with its state, when
//! it last matched vCenter, what it mirrors and its last error, refreshed every two seconds;
//! Test and Disconnect; a form to connect a vCenter, with the certificate choice (verified,
//! a CA file, this certificate, or any for a lab). A certificate vmshift does not trust is
//! shown with its fingerprint and an Accept button.

use crate::i18n::{t_string, use_i18n, Locale};
use crate::lang::fill;
use crate::pages::inventory::InventoryTabs;
use crate::pages::plans::parts::now_ms;
use crate::rpc::{
    create_connection, delete_connection, list_connections, test_connection, ServerError,
};
use crate::tx;
use domain::source::{Connection, NewConnection};
use leptos::prelude::*;
use leptos_i18n::I18nContext;
use uuid::Uuid;

/// How long ago, in words.
fn ago(i18n: I18nContext<Locale>, ms: i64, now: i64) -> String {
    let s = (now - ms).max(0) / 1000;
    let (template, n) = match s {
        0..=4 => return t_string!(i18n, connections.just_now).into(),
        5..=59 => (t_string!(i18n, connections.seconds_ago), s),
        60..=3599 => (t_string!(i18n, connections.minutes_ago), s / 60),
        _ => (t_string!(i18n, connections.hours_ago), s / 3600),
    };
    fill(template, &[("n", n.to_string())])
}

#[component]
pub fn ConnectionsPage() -> impl IntoView {
    crate::mark_ready();
    let refresh = RwSignal::new(0u32);
    let connections = Resource::new(move || refresh.get(), |_| list_connections());
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || refresh.update(|n| *n += 1),
            std::time::Duration::from_secs(2),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    let notice = RwSignal::new(None::<Result<String, String>>);
    let i18n = use_i18n();
    view! {
        <section class="page inventory-page connections-page">
            <InventoryTabs/>
            <div class="toolbar"><h1>{tx!(i18n, connections.title)}</h1></div>
            <p class="muted">{tx!(i18n, connections.explain)}</p>
            {move || notice.get().map(|n| match n {
                Ok(m) => view! { <p class="notice" role="status" data-testid="connection-notice">{m}</p> }.into_any(),
                Err(m) => view! { <p class="form-error" role="alert" data-testid="connection-notice">{m}</p> }.into_any(),
            })}
            <Transition fallback=move || view! { <p class="empty">{tx!(i18n, connections.loading)}</p> }>
                {move || connections.get().map(|r| match r {
                    Ok(list) => view! { <Table list=list notice=notice refresh=refresh/> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.said(i18n.get_locale_untracked())}</p> }.into_any(),
                })}
            </Transition>
            <NewConnectionForm refresh=refresh/>
        </section>
    }
}

#[component]
fn Table(
    list: Vec<Connection>,
    notice: RwSignal<Option<Result<String, String>>>,
    refresh: RwSignal<u32>,
) -> impl IntoView {
    let i18n = use_i18n();
    if list.is_empty() {
        return view! { <p class="empty" data-testid="connections-empty">{tx!(i18n, connections.none)}</p> }.into_any();
    }
    let now = now_ms();
    let test = Action::new(move |id: &Uuid| {
        let id = *id;
        async move {
            notice.set(Some(match test_connection(id).await {
                Ok(server) => Ok(fill(
                    t_string!(i18n, connections.answered),
                    &[("server", server)],
                )),
                Err(e) => Err(e.said(i18n.get_locale_untracked())),
            }));
        }
    });
    let remove = Action::new(move |id: &Uuid| {
        let id = *id;
        async move {
            let done = delete_connection(id).await;
            notice.set(Some(match done {
                Ok(()) => Ok(t_string!(i18n, connections.disconnected).into()),
                Err(e) => Err(e.said(i18n.get_locale_untracked())),
            }));
            refresh.update(|n| *n += 1);
        }
    });
    let confirming = RwSignal::new(None::<Uuid>);
    let rows = list
        .into_iter()
        .map(|c| {
            let id = c.id;
            let count = |k: &str| c.objects.get(k).copied().unwrap_or(0);
            let mirrored = fill(
                t_string!(i18n, connections.mirrored_counts),
                &[
                    ("clusters", count("clusters").to_string()),
                    ("hosts", count("hosts").to_string()),
                    ("datastores", count("datastores").to_string()),
                    ("vms", count("vms").to_string()),
                ],
            );
            let state = c.state.clone();
            let synced = c
                .synced_at_ms
                .map_or_else(|| t_string!(i18n, connections.never).to_string(), |ms| ago(i18n, ms, now));
            let tls = if c.url.starts_with("http://") {
                t_string!(i18n, connections.plain_http).to_string()
            } else if c.insecure_tls {
                t_string!(i18n, connections.any_certificate).to_string()
            } else if let Some(f) = &c.accept_sha256 {
                fill(t_string!(i18n, connections.this_certificate), &[("fingerprint", f[..f.len().min(11)].to_string())])
            } else if c.has_ca {
                t_string!(i18n, connections.verified_ca).to_string()
            } else {
                t_string!(i18n, connections.verified).to_string()
            };
            view! {
                <tr data-testid="connection" data-name=c.name.clone() data-state=state.clone()>
                    <th scope="row">{c.name.clone()}</th>
                    <td>{c.url.clone()}<br/><span class="muted">{c.username.clone()}" · "{tls}</span></td>
                    <td><span class=format!("badge state-{state}") data-testid="connection-state">{state.clone()}</span>
                        {c.last_error.clone().map(|e| view! { <div class="form-error" data-testid="connection-error">{e}</div> })}
                    </td>
                    <td data-testid="connection-synced">{synced}</td>
                    <td data-testid="connection-objects">{mirrored}</td>
                    <td class="actions">
                        <button class="secondary" data-testid="connection-test" on:click=move |_| { test.dispatch(id); }>{tx!(i18n, connections.test)}</button>
                        {move || if confirming.get() == Some(id) {
                            view! {
                                <button class="danger" data-testid="connection-delete-confirm" on:click=move |_| { confirming.set(None); remove.dispatch(id); }>{tx!(i18n, connections.remove)}</button>
                                <button class="link" on:click=move |_| confirming.set(None)>{tx!(i18n, connections.keep)}</button>
                            }.into_any()
                        } else {
                            view! { <button class="secondary" data-testid="connection-delete" on:click=move |_| confirming.set(Some(id))>{tx!(i18n, connections.disconnect)}</button> }.into_any()
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="objects" data-testid="connections">
            <thead>
                <tr>
                    <th scope="col">{tx!(i18n, connections.name)}</th>
                    <th scope="col">{tx!(i18n, connections.address)}</th>
                    <th scope="col">{tx!(i18n, tasks.status)}</th>
                    <th scope="col">{tx!(i18n, connections.last_sync)}</th>
                    <th scope="col">{tx!(i18n, connections.mirrored)}</th>
                    <th scope="col"><span class="visually-hidden">{tx!(i18n, connections.actions)}</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// The fingerprint a refusal names (`… (SHA-256 AB:CD:…)…`).
fn fingerprint_in(message: &str) -> Option<String> {
    let rest = message.split("SHA-256 ").nth(1)?;
    Some(rest.split(')').next()?.to_string())
}

#[component]
fn NewConnectionForm(refresh: RwSignal<u32>) -> impl IntoView {
    let (name, url, username, password) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    // "verify", "ca", "insecure"; a fingerprint accepted after a refusal.
    let trust = RwSignal::new("verify".to_string());
    let ca_pem = RwSignal::new(String::new());
    let accepted = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<ServerError>);
    let busy = RwSignal::new(false);
    let i18n = use_i18n();
    let submit = move || {
        let text = |s: RwSignal<String>| s.get_untracked().trim().to_string();
        let request = NewConnection {
            kind: "vcenter".into(),
            name: Some(text(name)).filter(|n| !n.is_empty()),
            url: text(url),
            username: text(username),
            password: password.get_untracked(),
            insecure_tls: trust.get_untracked() == "insecure",
            ca_pem: (trust.get_untracked() == "ca").then(|| ca_pem.get_untracked()),
            accept_sha256: accepted.get_untracked(),
        };
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match create_connection(request).await {
                Ok(_) => {
                    password.set(String::new());
                    accepted.set(None);
                    refresh.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let untrusted = move || {
        error.get().and_then(|e| {
            (e.field.as_deref() == Some("accept_sha256"))
                .then(|| fingerprint_in(&e.message))
                .flatten()
        })
    };
    view! {
        <form class="object-form connection-form" data-testid="connection-form"
            on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <h3>{tx!(i18n, connections.connect_title)}</h3>
            <label>{tx!(i18n, connections.address)}" " <input type="text" required placeholder="https://vcenter.example.com" data-testid="connection-url"
                prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/></label>
            <label>{tx!(i18n, connections.user)}" " <input type="text" required autocomplete="username" placeholder="administrator@vsphere.local" data-testid="connection-username"
                prop:value=move || username.get() on:input=move |ev| username.set(event_target_value(&ev))/></label>
            <label>{tx!(i18n, signin.password)}" " <input type="password" required autocomplete="current-password" data-testid="connection-password"
                prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/></label>
            <label>{tx!(i18n, connections.name)}" " <input type="text" placeholder=tx!(i18n, connections.name_placeholder) data-testid="connection-name"
                prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/></label>
            <label>{tx!(i18n, connections.certificate)}" "
                <select data-testid="connection-trust" on:change=move |ev| trust.set(event_target_value(&ev))>
                    <option value="verify" selected>{tx!(i18n, connections.trust_verify)}</option>
                    <option value="ca">{tx!(i18n, connections.trust_ca)}</option>
                    <option value="insecure">{tx!(i18n, connections.trust_insecure)}</option>
                </select>
            </label>
            {move || (trust.get() == "ca").then(|| view! {
                <label>{tx!(i18n, connections.ca_pem)}" "
                    <textarea rows="4" data-testid="connection-ca" prop:value=move || ca_pem.get()
                        on:input=move |ev| ca_pem.set(event_target_value(&ev))></textarea>
                </label>
            })}
            {move || accepted.get().map(|f| view! { <p class="muted" data-testid="connection-accepted">{tx!(i18n, connections.accepting)}" "{f}</p> })}
            {move || error.get().map(|e| view! {
                <p class="form-error" role="alert" data-testid="connection-form-error" data-field=e.field.clone().unwrap_or_default()>{e.said(i18n.get_locale_untracked())}</p>
            })}
            {move || untrusted().map(|f| {
                let f2 = f.clone();
                view! {
                    <button type="button" class="secondary" data-testid="connection-accept"
                        on:click=move |_| { accepted.set(Some(f2.clone())); submit(); }>
                        {tx!(i18n, connections.accept_this)}" ("{f}")"
                    </button>
                }
            })}
            <button type="submit" class="primary" data-testid="connection-create" disabled=move || busy.get()>
                {move || if busy.get() { t_string!(i18n, connections.connecting) } else { t_string!(i18n, connections.connect) }}
            </button>
        </form>
    }
}
