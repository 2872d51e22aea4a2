//! vmshift's pages and components (Leptos), the live link, and the server functions the pages
//! call. The rules they apply come from the `domain` crate, which runs here in the browser and
//! on the server alike.

pub mod check_text;
pub mod components;
pub mod lang;
pub mod live;
pub mod names;
pub mod pages;
pub mod phrase_text;
pub mod protocol;
pub mod routes;
pub mod rpc;
pub mod tables;
pub mod upload;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::Lazy;
use leptos_router::{path, StaticSegment};
pub use live::Scale;
use live::{InventoryResource, LinkState, LiveState};
use routes::{AccountsRoute, InventoryRoute, OperationsRoute, PlansRoute};

// The `i18n` module: `Locale`, `use_i18n`, `t!`, `t_string!` over `app/locales/*.json`
// (docs/DESIGN.md#languages). The macro form rather than leptos_i18n's build-script form: the
// build crate compiles ICU's data exporter with its network stack, minutes on two cores for
// features (ICU formatting) vmshift does not use.
#[allow(deprecated)]
mod i18n_module {
    leptos_i18n::load_locales!();
}
use i18n::{t_string, use_i18n};
pub use i18n_module::i18n;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    let split_loader = split_loader(&options);
    #[cfg(feature = "ssr")]
    let lang = lang::request_lang();
    #[cfg(not(feature = "ssr"))]
    let lang = domain::Lang::En;
    view! {
        <!DOCTYPE html>
        <html lang=lang.code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <link rel="stylesheet" id="leptos" href="/pkg/vmshift.css"/>
                <title>"vmshift"</title>
                {split_loader.map(|href| view! { <link rel="modulepreload" href=href/> })}
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The loader of a split build's wasm chunks (`--split`), when there is one. The main module
/// imports it, so every page needs it before it can start; asked for here, first, it no longer
/// waits for the main script to be read, nor behind the chunks a lazy page preloads
/// (docs/PERFORMANCE.md#issue-16).
fn split_loader(options: &LeptosOptions) -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        static FOUND: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        const LOADER: &str = "__wasm_split.______________________.js";
        let pkg = options.site_pkg_dir.to_string();
        let found = *FOUND.get_or_init(|| {
            !options.hash_files
                && std::path::Path::new(&*options.site_root)
                    .join(&pkg)
                    .join(LOADER)
                    .exists()
        });
        found.then(|| format!("/{pkg}/{LOADER}"))
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = options;
        None
    }
}

/// The signed-in user of this page (`None` on the sign-in page). Read once from the request
/// on the server and carried to the browser with the page; signing in or out reloads.
#[derive(Debug, Clone, PartialEq)]
pub struct Session(pub Option<domain::accounts::CurrentUser>);

/// Marks the page as interactive once its own component has hydrated (lazy routes hydrate
/// after the shell): `body[data-ready]` holds the path. Tests wait for it before clicking.
pub fn mark_ready() {
    // The router's path: after a link is followed, the page may render before the browser's
    // location changes.
    let location = leptos_router::hooks::use_location();
    Effect::new(move |_| {
        let path = location.pathname.get();
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-ready", &path);
        }
    });
}

/// Whether the signed-in user has at least `role` (the server checks again, always).
pub fn allowed(role: domain::accounts::Role) -> bool {
    use_context::<Session>()
        .and_then(|s| s.0)
        .is_some_and(|u| u.role.allows(role))
}

/// The skip link moves the focus into the page's content itself: the router, not the browser,
/// handles a link's click once hydrated.
fn skip_to_main(ev: leptos::ev::MouseEvent) {
    ev.prevent_default();
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(main) = document()
            .get_element_by_id("main")
            .and_then(|m| m.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = main.focus();
        }
    }
}

#[component]
pub fn App() -> impl IntoView {
    let user: Option<domain::accounts::CurrentUser> = SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            use_context::<axum::http::request::Parts>()
                .and_then(|p| p.extensions.get::<domain::accounts::CurrentUser>().cloned())
        }
        #[cfg(not(feature = "ssr"))]
        {
            None
        }
    })
    .into_inner();
    let signed_in = user.is_some();
    provide_context(Session(user.clone()));
    lang::provide_language(signed_in);
    let large: bool = SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            use_context::<rpc::ssr::Services>()
                .is_some_and(|s| s.vm_count() > domain::overview::EXPANDED_UP_TO_VMS)
        }
        #[cfg(not(feature = "ssr"))]
        {
            false
        }
    })
    .into_inner();
    provide_context(Scale { large });
    // The whole inventory, below the scale threshold only: past it, pages load what they
    // show (`live::use_inventory`).
    let inventory: InventoryResource = Resource::new(
        || (),
        move |_| async move {
            if large {
                Ok(domain::Inventory::default())
            } else {
                rpc::load_inventory().await
            }
        },
    );
    let live = LiveState::new();
    let link = live.link;
    let i18n = use_i18n();
    provide_context(inventory);
    provide_context(live);

    // Runs in the browser only, once hydrated: tests wait for this mark before clicking.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
        #[cfg(feature = "hydrate")]
        if signed_in {
            live::connect(inventory, live, large);
            if large {
                live::follow_scope(live);
            }
        }
    });

    view! {
        <Router>
            <a class="skip-link" href="#main" data-testid="skip-link" on:click=skip_to_main>
                {crate::tx!(i18n, shell.skip)}
            </a>
            <header class="topbar">
                <A href="/" attr:class="brand" attr:data-testid="nav-home">
                    <span class="brand-mark">"⇄"</span>" vmshift"
                </A>
                {signed_in.then(|| view! {
                    <nav aria-label=crate::tx!(i18n, shell.main_nav)>
                        <A href="/" attr:data-testid="nav-map">{crate::tx!(i18n, shell.map)}</A>
                        <A href="/migrate" attr:data-testid="nav-migrate">{crate::tx!(i18n, shell.migrate)}</A>
                        <A href="/tasks" attr:data-testid="nav-tasks">
                            {crate::tx!(i18n, shell.tasks)}
                            {move || {
                                let n = live.migrations.with(|m| m.values().filter(|m| !m.phase.is_final()).count());
                                (n > 0).then(|| view! { <span class="badge" data-testid="nav-tasks-count">{n}</span> })
                            }}
                        </A>
                        <A href="/plans" attr:data-testid="nav-plans">
                            {crate::tx!(i18n, shell.plans)}
                            {move || {
                                let n = live.plans.with(|m| m.values().filter(|p| !p.state.is_final() && p.state != domain::plan::PlanState::Draft).count());
                                (n > 0).then(|| view! { <span class="badge" data-testid="nav-plans-count">{n}</span> })
                            }}
                        </A>
                        <A href="/inventory/hosts" attr:data-testid="nav-inventory">{crate::tx!(i18n, shell.inventory)}</A>
                        {allowed(domain::accounts::Role::Admin)
                            .then(|| view! { <A href="/audit" attr:data-testid="nav-audit">{crate::tx!(i18n, shell.audit)}</A> })}
                    </nav>
                    <components::search::SearchBox/>
                    <span
                        class="live"
                        data-testid="live-status"
                        data-state=move || match link.get() {
                            LinkState::Live => "live",
                            LinkState::Connecting => "connecting",
                            LinkState::Reconnecting => "reconnecting",
                        }
                    >
                        {move || match link.get() {
                            LinkState::Live => t_string!(i18n, shell.live),
                            LinkState::Connecting => t_string!(i18n, shell.connecting),
                            LinkState::Reconnecting => t_string!(i18n, shell.reconnecting),
                        }}
                    </span>
                })}
                <lang::LangSwitch/>
                {user.map(|u| view! {
                    <form class="who" method="post" action="/auth/signout">
                        <a href="/account" data-testid="current-user" data-role=u.role.as_str()>
                            {u.username.clone()}
                            <span class="badge">{move || names::role(i18n, u.role)}</span>
                        </a>
                        <button class="link" type="submit" data-testid="signout">{crate::tx!(i18n, shell.sign_out)}</button>
                    </form>
                })}
            </header>
            {signed_in.then(|| view! { <components::announcer::Announcer/> })}
            <main id="main" tabindex="-1">
                <Routes fallback=move || view! { <p class="empty">{crate::tx!(i18n, shell.not_found)}</p> }>
                    <Route path=StaticSegment("") view=pages::map::MapPage/>
                    <Route path=StaticSegment("signin") view=pages::signin::SignInPage/>
                    <Route path=path!("/inventory/import") view={Lazy::<InventoryRoute>::new()}/>
                    <Route path=path!("/inventory/connections") view={Lazy::<InventoryRoute>::new()}/>
                    <Route path=path!("/inventory/:kind") view={Lazy::<InventoryRoute>::new()}/>
                    <Route path=StaticSegment("migrate") view={Lazy::<OperationsRoute>::new()}/>
                    <Route path=StaticSegment("tasks") view={Lazy::<OperationsRoute>::new()}/>
                    <Route path=path!("/tasks/:id") view={Lazy::<OperationsRoute>::new()}/>
                    <Route path=StaticSegment("plans") view={Lazy::<PlansRoute>::new()}/>
                    <Route path=path!("/plans/new") view={Lazy::<PlansRoute>::new()}/>
                    <Route path=path!("/plans/:id") view={Lazy::<PlansRoute>::new()}/>
                    <Route path=StaticSegment("audit") view={Lazy::<AccountsRoute>::new()}/>
                    <Route path=StaticSegment("account") view={Lazy::<AccountsRoute>::new()}/>
                </Routes>
            </main>
        </Router>
    }
}
