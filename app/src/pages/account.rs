//! Your account: API tokens for scripts (created — the secret shown once — and revoked here),
//! and for admins, the users and their roles.

use crate::i18n::use_i18n;
use crate::rpc;
use crate::Session;
use domain::accounts::Role;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn AccountPage() -> impl IntoView {
    crate::mark_ready();
    let me = use_context::<Session>().and_then(|s| s.0);
    let admin = crate::allowed(Role::Admin);
    let i18n = use_i18n();
    view! {
        <section class="page account-page" data-testid="account">
            <h1>{me.map(|u| move || format!("{} ({})", u.username, crate::names::role(i18n, u.role)))}</h1>
            <Tokens/>
            {admin.then(|| view! { <Users/> })}
        </section>
    }
}

#[component]
fn Tokens() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let tokens = LocalResource::new(move || {
        version.track();
        rpc::list_tokens()
    });
    let name = RwSignal::new(String::new());
    let secret = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let i18n = use_i18n();
    let lang = crate::lang::use_lang();
    let create = move |_| {
        let token_name = name.get_untracked();
        spawn_local(async move {
            match rpc::create_token(token_name).await {
                Ok(created) => {
                    secret.set(Some(created.token));
                    error.set(None);
                    name.set(String::new());
                    version.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e.said(i18n.get_locale_untracked()))),
            }
        });
    };
    view! {
        <h3>{crate::tx!(i18n, account.tokens)}</h3>
        <p class="muted small">
            {crate::tx!(i18n, account.for_scripts)}" " <code>"Authorization: Bearer <token>"</code>
            ". "{crate::tx!(i18n, account.tokens_explain)}
        </p>
        <div class="fault-form">
            <input
                placeholder=crate::tx!(i18n, account.token_purpose)
                data-testid="token-name"
                prop:value=move || name.get()
                on:input=move |ev| name.set(event_target_value(&ev))
            />
            <button class="primary" data-testid="token-create" on:click=create>{crate::tx!(i18n, account.create_token)}</button>
            {move || error.get().map(|e| view! { <span class="form-error" data-testid="token-error">{e}</span> })}
        </div>
        {move || secret.get().map(|s| view! {
            <p class="notice" data-testid="token-secret">
                {crate::tx!(i18n, account.copy_now)}" " <code>{s}</code>
            </p>
        })}
        <Transition fallback=|| ()>
            <ul class="fault-list" data-testid="token-list">
                {move || {
                    tokens
                        .get()
                        .and_then(Result::ok)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|t| {
                            let id = t.id;
                            let revoke = move |_| {
                                spawn_local(async move {
                                    match rpc::revoke_token(id).await {
                                        Ok(()) => version.update(|n| *n += 1),
                                        Err(e) => error.set(Some(e.said(i18n.get_locale_untracked()))),
                                    }
                                });
                            };
                            view! {
                                <li data-testid="token-item" data-revoked=t.revoked.to_string()>
                                    <strong>{t.name.clone()}</strong>
                                    <span class="muted small">{domain::format::datetime(lang.get(), t.created_at_ms)}</span>
                                    {if t.revoked {
                                        view! { <span class="badge">{crate::tx!(i18n, account.revoked)}</span> }.into_any()
                                    } else {
                                        view! {
                                            <button class="small" data-testid="token-revoke" on:click=revoke>
                                                {crate::tx!(i18n, account.revoke)}
                                            </button>
                                        }
                                            .into_any()
                                    }}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </Transition>
    }
}

#[component]
fn Users() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let users = LocalResource::new(move || {
        version.track();
        rpc::list_users()
    });
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer);
    let error = RwSignal::new(None::<String>);
    let i18n = use_i18n();
    let create = move |_| {
        let (new_name, new_password, new_role) = (
            username.get_untracked(),
            password.get_untracked(),
            role.get_untracked(),
        );
        spawn_local(async move {
            match rpc::create_user(new_name, new_password, new_role).await {
                Ok(_) => {
                    error.set(None);
                    username.set(String::new());
                    password.set(String::new());
                    version.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e.said(i18n.get_locale_untracked()))),
            }
        });
    };
    let role_options = move |selected: Role| {
        Role::ALL
            .into_iter()
            .map(
                move |r| view! { <option value=r.as_str() selected=r == selected>{move || crate::names::role(i18n, r)}</option> },
            )
            .collect_view()
    };
    view! {
        <h3>{crate::tx!(i18n, account.users)}</h3>
        <div class="fault-form">
            <input
                placeholder=crate::tx!(i18n, account.username)
                data-testid="user-name"
                prop:value=move || username.get()
                on:input=move |ev| username.set(event_target_value(&ev))
            />
            <input
                type="password"
                placeholder=crate::tx!(i18n, account.password)
                data-testid="user-password"
                prop:value=move || password.get()
                on:input=move |ev| password.set(event_target_value(&ev))
            />
            <select
                aria-label=crate::tx!(i18n, account.role)
                data-testid="user-role"
                on:change=move |ev| {
                    if let Some(r) = Role::parse(&event_target_value(&ev)) {
                        role.set(r);
                    }
                }
            >
                {role_options(Role::Viewer)}
            </select>
            <button class="primary" data-testid="user-create" on:click=create>{crate::tx!(i18n, account.create_user)}</button>
            {move || error.get().map(|e| view! { <span class="form-error" data-testid="user-error">{e}</span> })}
        </div>
        <Transition fallback=|| ()>
            <table class="objects" data-testid="user-table">
                <tbody>
                    {move || {
                        users
                            .get()
                            .and_then(Result::ok)
                            .unwrap_or_default()
                            .into_iter()
                            .map(|u| {
                                let id = u.id;
                                let change = move |ev| {
                                    let Some(r) = Role::parse(&event_target_value(&ev)) else {
                                        return;
                                    };
                                    spawn_local(async move {
                                        match rpc::set_role(id, r).await {
                                            Ok(_) => error.set(None),
                                            Err(e) => error.set(Some(e.said(i18n.get_locale_untracked()))),
                                        }
                                        version.update(|n| *n += 1);
                                    });
                                };
                                view! {
                                    <tr data-testid="user-row" data-username=u.username.clone()>
                                        <td class="name">{u.username.clone()}</td>
                                        <td>
                                            <select aria-label=crate::tx!(i18n, account.role) data-testid="user-role-select" on:change=change>
                                                {role_options(u.role)}
                                            </select>
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()
                    }}
                </tbody>
            </table>
        </Transition>
    }
}
