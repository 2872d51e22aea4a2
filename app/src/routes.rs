//! The pages loaded on demand, in four groups (docs/PERFORMANCE.md#issue-16): a `--split`
//! build cuts the browser's code into a chunk per set of groups that use it, so each group is
//! one split point. With a split point per page (eleven), opening the wizard cold meant 60
//! chunk requests, queued six at a time over HTTP/1.1; with four, a page needs a handful.
//! Pages that go together share a group; each group's view picks the page by path.

use crate::pages;
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// The router's path without a trailing slash.
fn path() -> String {
    let path = leptos_router::hooks::use_location()
        .pathname
        .get_untracked();
    match path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p.to_string(),
        _ => path,
    }
}

/// The inventory tables, the RVTools import and the vCenter connections.
pub struct InventoryRoute;

#[lazy_route]
impl LazyRoute for InventoryRoute {
    fn data() -> Self {
        InventoryRoute
    }

    fn view(this: Self) -> AnyView {
        let InventoryRoute = this;
        match path().as_str() {
            "/inventory/import" => view! { <pages::import::ImportPage/> }.into_any(),
            "/inventory/connections" => view! { <pages::connections::ConnectionsPage/> }.into_any(),
            _ => view! { <pages::inventory::InventoryPage/> }.into_any(),
        }
    }
}

/// The migrate wizard, the Tasks page (every migration, live, and the faults panel) and a
/// migration's own page.
pub struct OperationsRoute;

#[lazy_route]
impl LazyRoute for OperationsRoute {
    fn data() -> Self {
        OperationsRoute
    }

    fn view(this: Self) -> AnyView {
        let OperationsRoute = this;
        match path().as_str() {
            "/migrate" => view! { <pages::migrate::MigratePage/> }.into_any(),
            "/tasks" => view! { <pages::tasks::TasksPage/> }.into_any(),
            _ => view! { <pages::migration::MigrationPage/> }.into_any(),
        }
    }
}

/// The maintenance plans: the list, a new plan, a plan.
pub struct PlansRoute;

#[lazy_route]
impl LazyRoute for PlansRoute {
    fn data() -> Self {
        PlansRoute
    }

    fn view(this: Self) -> AnyView {
        let PlansRoute = this;
        match path().as_str() {
            "/plans" => view! { <pages::plans::PlansPage/> }.into_any(),
            "/plans/new" => view! { <pages::plans::new::NewPlanPage/> }.into_any(),
            _ => view! { <pages::plans::detail::PlanPage/> }.into_any(),
        }
    }
}

/// The audit log and the account page.
pub struct AccountsRoute;

#[lazy_route]
impl LazyRoute for AccountsRoute {
    fn data() -> Self {
        AccountsRoute
    }

    fn view(this: Self) -> AnyView {
        let AccountsRoute = this;
        match path().as_str() {
            "/audit" => view! { <pages::audit::AuditPage/> }.into_any(),
            _ => view! { <pages::account::AccountPage/> }.into_any(),
        }
    }
}
