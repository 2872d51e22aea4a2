//! The vCenter page (admins, docs/VCENTER.md#the-page): each connection with its state, when
//! it last matched vCenter, what it mirrors and its last error, refreshed every two seconds;
//! Test and Disconnect; a form to connect a vCenter, with the certificate choice (verified,
//! a CA file, this certificate, or any for a lab). A certificate vmshift does not trust is
//! shown with its fingerprint and an Accept button.

use crate::pages::inventory::InventoryTabs;
use crate::pages::plans::parts::now_ms;
use crate::rpc::{
    create_connection, delete_connection, list_connections, test_connection, ServerError,
};
use domain::source::{Connection, NewConnection};
use leptos::prelude::*;
use uuid::Uuid;

/// How long ago, in words.
fn ago(ms: i64, now: i64) -> String {
    let s = (now - ms).max(0) / 1000;
    match s {
        0..=4 => "just now".into(),
        5..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        _ => format!("{} h ago", s / 3600),
    }
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
    view! {
        <section class="page inventory-page connections-page">
            <InventoryTabs/>
            <div class="toolbar"><h2>"vCenter connections"</h2></div>
            <p class="muted">
                "vmshift mirrors each connected vCenter's clusters, hosts, datastores, networks and VMs, keeps them current as they change, and shows them on the map like any other. They are read-only here: change them in vCenter."
            </p>
            {move || notice.get().map(|n| match n {
                Ok(m) => view! { <p class="notice" role="status" data-testid="connection-notice">{m}</p> }.into_any(),
                Err(m) => view! { <p class="form-error" role="alert" data-testid="connection-notice">{m}</p> }.into_any(),
            })}
            <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || connections.get().map(|r| match r {
                    Ok(list) => view! { <Table list=list notice=notice refresh=refresh/> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
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
    if list.is_empty() {
        return view! { <p class="empty" data-testid="connections-empty">"No vCenter connected yet."</p> }.into_any();
    }
    let now = now_ms();
    let test = Action::new(move |id: &Uuid| {
        let id = *id;
        async move {
            notice.set(Some(match test_connection(id).await {
                Ok(server) => Ok(format!("vCenter answered: {server}")),
                Err(e) => Err(e.message),
            }));
        }
    });
    let remove = Action::new(move |id: &Uuid| {
        let id = *id;
        async move {
            let done = delete_connection(id).await;
            notice.set(Some(match done {
                Ok(()) => Ok("Disconnected: its objects left the inventory.".into()),
                Err(e) => Err(e.message),
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
            let n = |k: &str, one: &str, many: &str| {
                let c = count(k);
                format!("{c} {}", if c == 1 { one } else { many })
            };
            let mirrored = [
                n("clusters", "cluster", "clusters"),
                n("hosts", "host", "hosts"),
                n("datastores", "datastore", "datastores"),
                n("vms", "VM", "VMs"),
            ]
            .join(" · ");
            let state = c.state.clone();
            let synced = c
                .synced_at_ms
                .map_or_else(|| "never".to_string(), |ms| ago(ms, now));
            let tls = if c.url.starts_with("http://") {
                "plain HTTP, no TLS".to_string()
            } else if c.insecure_tls {
                "any certificate (lab)".to_string()
            } else if let Some(f) = &c.accept_sha256 {
                format!("this certificate ({}…)", &f[..f.len().min(11)])
            } else if c.has_ca {
                "verified (CA file)".to_string()
            } else {
                "verified".to_string()
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
                        <button class="secondary" data-testid="connection-test" on:click=move |_| { test.dispatch(id); }>"Test"</button>
                        {move || if confirming.get() == Some(id) {
                            view! {
                                <button class="danger" data-testid="connection-delete-confirm" on:click=move |_| { confirming.set(None); remove.dispatch(id); }>"Disconnect and remove its objects"</button>
                                <button class="link" on:click=move |_| confirming.set(None)>"Keep"</button>
                            }.into_any()
                        } else {
                            view! { <button class="secondary" data-testid="connection-delete" on:click=move |_| confirming.set(Some(id))>"Disconnect…"</button> }.into_any()
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
                    <th scope="col">"Name"</th>
                    <th scope="col">"Address"</th>
                    <th scope="col">"State"</th>
                    <th scope="col">"Last sync"</th>
                    <th scope="col">"Mirrored"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
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
            <h3>"Connect a vCenter"</h3>
            <label>"Address " <input type="text" required placeholder="https://vcenter.example.com" data-testid="connection-url"
                prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/></label>
            <label>"User " <input type="text" required autocomplete="username" placeholder="administrator@vsphere.local" data-testid="connection-username"
                prop:value=move || username.get() on:input=move |ev| username.set(event_target_value(&ev))/></label>
            <label>"Password " <input type="password" required autocomplete="current-password" data-testid="connection-password"
                prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/></label>
            <label>"Name " <input type="text" placeholder="the address's host" data-testid="connection-name"
                prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/></label>
            <label>"Certificate "
                <select data-testid="connection-trust" on:change=move |ev| trust.set(event_target_value(&ev))>
                    <option value="verify" selected>"Verify (the system's certificate authorities)"</option>
                    <option value="ca">"Verify with this CA (VMCA root, PEM)"</option>
                    <option value="insecure">"Accept any certificate (labs only)"</option>
                </select>
            </label>
            {move || (trust.get() == "ca").then(|| view! {
                <label>"CA certificates (PEM) "
                    <textarea rows="4" data-testid="connection-ca" prop:value=move || ca_pem.get()
                        on:input=move |ev| ca_pem.set(event_target_value(&ev))></textarea>
                </label>
            })}
            {move || accepted.get().map(|f| view! { <p class="muted" data-testid="connection-accepted">"Accepting the certificate "{f}</p> })}
            {move || error.get().map(|e| view! {
                <p class="form-error" role="alert" data-testid="connection-form-error" data-field=e.field.clone().unwrap_or_default()>{e.message}</p>
            })}
            {move || untrusted().map(|f| {
                let f2 = f.clone();
                view! {
                    <button type="button" class="secondary" data-testid="connection-accept"
                        on:click=move |_| { accepted.set(Some(f2.clone())); submit(); }>
                        "I checked it: accept this certificate ("{f}")"
                    </button>
                }
            })}
            <button type="submit" class="primary" data-testid="connection-create" disabled=move || busy.get()>
                {move || if busy.get() { "Connecting…" } else { "Connect" }}
            </button>
        </form>
    }
}
