//! Maintenance plans (docs/DESIGN.md#maintenance-plans): the list beside Tasks, the planning
//! page (`new`), a stored plan's page (`detail`), and what they share (`parts`, `timeline`).

pub mod detail;
pub mod new;
pub mod parts;
pub mod timeline;

use crate::live::LiveState;
use domain::accounts::Role;
use domain::format;
use domain::PlanId;
use leptos::prelude::*;

#[component]
pub fn PlansPage() -> impl IntoView {
    crate::mark_ready();
    let live = expect_context::<LiveState>();
    // The clusters' names only, whatever the inventory's size (docs/DESIGN.md#the-map-at-scale).
    let clusters = Resource::new(
        || (),
        |_| {
            crate::rpc::inventory_page(
                domain::ObjectKind::Cluster,
                domain::listing::ListQuery {
                    limit: Some(domain::listing::MAX_LIMIT),
                    ..Default::default()
                },
            )
        },
    );
    let loaded = Resource::new(|| (), |_| crate::rpc::list_plans(false));
    Effect::new(move |_| {
        if let Some(Ok(plans)) = loaded.get() {
            live.absorb_plans(plans);
        }
    });
    let ids = Memo::new(move |_| {
        live.plans.with(|m| {
            let mut list: Vec<(i64, PlanId)> =
                m.values().map(|p| (p.created_at_ms, p.id)).collect();
            list.sort_by(|a, b| b.cmp(a));
            list.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
        })
    });
    // Rolling maintenance starts from a cluster.
    let clusters = move || {
        clusters.get().and_then(Result::ok).map(|page| {
            page.rows
                .into_iter()
                .map(|row| (row.id.to_string(), row.name))
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="page plans-page" data-testid="plans">
            <h2>"Plans"</h2>
            {crate::allowed(Role::Operator).then(|| view! {
                <p class="muted">
                    "Enter maintenance mode on a host or drain a datastore from the map or the inventory; or roll a cluster: "
                    <Suspense>
                        {move || clusters().map(|list| list.into_iter().map(|(id, name)| view! {
                            <a class="link" href=format!("/plans/new?rolling={id}") data-testid=format!("rolling-{name}")>
                                {format!("Rolling maintenance of {name}…")}
                            </a>
                            " "
                        }).collect_view())}
                    </Suspense>
                </p>
            })}
            <table class="objects" data-testid="plans-table">
                <thead>
                    <tr><th>"Plan"</th><th>"State"</th><th>"Moves"</th><th>"Predicted"</th><th>"By"</th><th>"Message"</th></tr>
                </thead>
                <tbody>
                    <For each=move || ids.get() key=|id| *id let:id>
                        {move || live.plans.with(|m| m.get(&id).cloned()).map(|p| {
                            let (done, total) = p.progress();
                            view! {
                                <tr data-testid="plan-row" data-state=p.state.as_str()>
                                    <td><a href=format!("/plans/{}", p.id) data-testid="plan-link">{p.title().to_string()}</a></td>
                                    <td><span class=format!("badge state-{}", p.state.as_str())>{p.state.label()}</span></td>
                                    <td class="num">{format!("{done} / {total}")}</td>
                                    <td class="num">{format::duration(domain::Lang::En, p.prediction.total_s)}</td>
                                    <td>{p.created_by.clone()}</td>
                                    <td class="muted small">{p.message.clone()}</td>
                                </tr>
                            }
                        })}
                    </For>
                </tbody>
            </table>
            {move || ids.with(Vec::is_empty).then(|| view! { <p class="empty" data-testid="plans-empty">"No plans yet."</p> })}
        </section>
    }
}
