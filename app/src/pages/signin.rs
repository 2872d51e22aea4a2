//! The sign-in page: a plain HTML form (it works before the wasm loads), posted to the
//! server, which sets the session cookie and sends the user where they were going.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    crate::mark_ready();
    let query = use_query_map();
    let next = query.with_untracked(|q| q.get("next").unwrap_or_else(|| "/".into()));
    let error = query
        .with_untracked(|q| q.get("error"))
        .map(|e| match e.as_str() {
            "throttled" => "Too many failed attempts: wait a few minutes and try again.",
            "credentials" => "Wrong username or password.",
            _ => "Signing in failed; try again.",
        });
    view! {
        <section class="page signin-page" data-testid="signin">
            <form class="signin" method="post" action="/auth/signin">
                <h2>"Sign in to vmshift"</h2>
                {error.map(|e| view! { <p class="form-error" data-testid="signin-error">{e}</p> })}
                <label>
                    "Username"
                    <input name="username" autocomplete="username" required data-testid="signin-username"/>
                </label>
                <label>
                    "Password"
                    <input
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        required
                        data-testid="signin-password"
                    />
                </label>
                <input type="hidden" name="next" value=next/>
                <button class="primary" type="submit" data-testid="signin-submit">"Sign in"</button>
            </form>
        </section>
    }
}
