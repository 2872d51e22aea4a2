//! The sign-in page: a plain HTML form (it works before the wasm loads), posted to the
//! server, which sets the session cookie and sends the user where they were going.

use crate::i18n::{t_string, use_i18n};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    crate::mark_ready();
    let query = use_query_map();
    let next = query.with_untracked(|q| q.get("next").unwrap_or_else(|| "/".into()));
    let i18n = use_i18n();
    let error = query.with_untracked(|q| q.get("error")).map(|e| {
        move || match e.as_str() {
            "throttled" => t_string!(i18n, signin.throttled),
            "credentials" => t_string!(i18n, signin.credentials),
            _ => t_string!(i18n, signin.failed),
        }
    });
    view! {
        <section class="page signin-page" data-testid="signin">
            <form class="signin" method="post" action="/auth/signin">
                <h1>{crate::tx!(i18n, signin.title)}</h1>
                {error.map(|e| view! { <p class="form-error" data-testid="signin-error">{e}</p> })}
                <label>
                    {crate::tx!(i18n, signin.username)}
                    <input name="username" autocomplete="username" required data-testid="signin-username"/>
                </label>
                <label>
                    {crate::tx!(i18n, signin.password)}
                    <input
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        required
                        data-testid="signin-password"
                    />
                </label>
                <input type="hidden" name="next" value=next/>
                <button class="primary" type="submit" data-testid="signin-submit">{crate::tx!(i18n, signin.submit)}</button>
            </form>
        </section>
    }
}
