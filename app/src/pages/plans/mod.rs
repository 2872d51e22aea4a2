//! Maintenance plans (docs/DESIGN.md#maintenance-plans): the list beside Tasks, the planning
//! page (`new`), a stored plan's page (`detail`), and what they share (`parts`, `timeline`).

pub mod detail;
pub mod new;
pub mod parts;
pub mod timeline;

use crate::i18n::{t_string, use_i18n};
use crate::lang::{fill, use_lang};
use crate::live::LiveState;
use crate::{names, phrase_text, tx};
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
                domain::Lang::En,
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
    let i18n = use_i18n();
    let lang = use_lang();
    view! {
        <section class="page plans-page" data-testid="plans">
            <h1>{tx!(i18n, plans.title)}</h1>
            {crate::allowed(Role::Operator).then(|| view! {
                <p class="muted">
                    {tx!(i18n, plans.explain)}" "
                    <Suspense>
                        {move || clusters().map(|list| list.into_iter().map(|(id, name)| {
                            let testid = format!("rolling-{name}");
                            view! {
                            <a class="link" href=format!("/plans/new?rolling={id}") data-testid=testid>
                                {move || fill(t_string!(i18n, plans.rolling_of), &[("cluster", name.clone())])}
                            </a>
                            " "
                        }}).collect_view())}
                    </Suspense>
                </p>
            })}
            <table class="objects" data-testid="plans-table">
                <thead>
                    <tr>
                        <th>{tx!(i18n, plans.plan)}</th><th>{tx!(i18n, plans.state)}</th><th>{tx!(i18n, plans.moves)}</th>
                        <th>{tx!(i18n, plans.predicted)}</th><th>{tx!(i18n, plans.by)}</th><th>{tx!(i18n, plans.message)}</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || ids.get() key=|id| *id let:id>
                        {move || live.plans.with(|m| m.get(&id).cloned()).map(|p| {
                            let (done, total) = p.progress();
                            view! {
                                <tr data-testid="plan-row" data-state=p.state.as_str()>
                                    <td><a href=format!("/plans/{}", p.id) data-testid="plan-link">{phrase_text::title(i18n.get_locale(), &p)}</a></td>
                                    <td><span class=format!("badge state-{}", p.state.as_str())>{names::plan_state(i18n, p.state)}</span></td>
                                    <td class="num">{format!("{done} / {total}")}</td>
                                    <td class="num">{format::duration(lang.get(), p.prediction.total_s)}</td>
                                    <td>{p.created_by.clone()}</td>
                                    <td class="muted small">{phrase_text::said_in(i18n.get_locale(), p.message_words.as_ref(), &p.message)}</td>
                                </tr>
                            }
                        })}
                    </For>
                </tbody>
            </table>
            {move || ids.with(Vec::is_empty).then(|| view! { <p class="empty" data-testid="plans-empty">{tx!(i18n, plans.none)}</p> })}
        </section>
    }
}
