//! Planning a maintenance: the goal from the page that opened it (`?evacuate=<host>`,
//! `?drain=<datastore>`, `?rolling=<cluster>`, `?exit=<host>`), its options, and the preview
//! the server drafts and predicts — blockers first, then the placement, the timeline, the
//! window verdict and the what-if rows — re-drawn as the options change; then *Start*.

use super::parts::{notes_of, summary, Blockers, Placement, WhatIfTable, WindowVerdict};
use super::timeline::Timeline;
use crate::i18n::{t_string, use_i18n};
use crate::lang::fill;
use crate::rpc::{self, PlanAction};
use crate::tx;
use domain::plan::{Goal, Order, Pacing, PlanOptions, PlanRequest, Preview};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;

/// The goal a query names (the page's link), or `None`.
fn goal_of(get: impl Fn(&str) -> Option<String>) -> Option<Goal> {
    if let Some(h) = get("evacuate").and_then(|v| v.parse().ok()) {
        return Some(Goal::EvacuateHost {
            host_id: h,
            enter_maintenance: true,
        });
    }
    if let Some(h) = get("exit").and_then(|v| v.parse().ok()) {
        return Some(Goal::ExitMaintenance {
            host_id: h,
            return_vm_ids: Vec::new(),
        });
    }
    if let Some(d) = get("drain").and_then(|v| v.parse().ok()) {
        return Some(Goal::DrainDatastore { datastore_id: d });
    }
    get("rolling")
        .and_then(|v| v.parse().ok())
        .map(|c| Goal::RollingMaintenance {
            cluster_id: c,
            at_a_time: 1,
            maintenance_s: 3_600,
        })
}

/// The host, datastore or cluster a goal is about.
fn goal_object(goal: &Goal) -> Option<uuid::Uuid> {
    match goal {
        Goal::EvacuateHost { host_id, .. } | Goal::ExitMaintenance { host_id, .. } => {
            Some(host_id.0)
        }
        Goal::DrainDatastore { datastore_id } => Some(datastore_id.0),
        Goal::RollingMaintenance { cluster_id, .. } => Some(cluster_id.0),
        Goal::Moves { .. } => None,
    }
}

/// Milliseconds since the epoch of a `datetime-local` value, in the browser's time zone.
fn local_ms(value: &str) -> Option<i64> {
    if value.is_empty() {
        return None;
    }
    #[cfg(feature = "hydrate")]
    {
        let ms = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(value)).get_time();
        (!ms.is_nan()).then_some(ms as i64)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
    }
}

#[component]
pub fn NewPlanPage() -> impl IntoView {
    crate::mark_ready();
    let query = use_query_map();
    let goal = RwSignal::new(query.with_untracked(|q| goal_of(|k| q.get(k))));
    // The goal's host, datastore or cluster by name, without loading the inventory
    // (docs/DESIGN.md#the-map-at-scale).
    let named = Resource::new(
        move || goal.with(|g| g.as_ref().and_then(goal_object)),
        |id| async move {
            match id {
                Some(id) => rpc::object_names(vec![id])
                    .await
                    .map(|names| names.into_iter().next().map(|(_, n)| n)),
                None => Ok(None),
            }
        },
    );
    let options = RwSignal::new(PlanOptions::default());
    let request = Memo::new(move |_| {
        goal.get().map(|goal| PlanRequest {
            goal,
            options: options.get(),
        })
    });
    let preview = Resource::new(
        move || request.get(),
        |request| async move {
            match request {
                Some(r) => rpc::preview_plan(r).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let i18n = use_i18n();
    let title = move || {
        let name = named
            .get()
            .and_then(Result::ok)
            .flatten()
            .unwrap_or_default();
        let template = match goal.get() {
            Some(Goal::EvacuateHost { .. }) => t_string!(i18n, plans.new_evacuate),
            Some(Goal::ExitMaintenance { .. }) => t_string!(i18n, plans.new_exit),
            Some(Goal::DrainDatastore { .. }) => t_string!(i18n, plans.new_drain),
            Some(Goal::RollingMaintenance { .. }) => t_string!(i18n, plans.new_rolling),
            Some(Goal::Moves { .. }) => t_string!(i18n, plans.new_moves),
            None => t_string!(i18n, plans.new_plan),
        };
        fill(template, &[("name", name)])
    };
    // Owned by the page: a click on Start outlives the preview it was made from.
    let start = StartState {
        error: RwSignal::new(None),
        busy: RwSignal::new(false),
        go: {
            let navigate = leptos_router::hooks::use_navigate();
            Callback::new(move |path: String| navigate(&path, Default::default()))
        },
    };
    let planning = RwSignal::new(false);
    view! {
        <section class="page plan-page" data-testid="new-plan" data-planning=move || planning.get().to_string()>
            <h1 data-testid="plan-title">
                <Transition fallback=move || tx!(i18n, plans.plan)>{title}</Transition>
            </h1>
            {move || goal.get().is_none().then(|| view! {
                <p class="empty">{tx!(i18n, plans.open_from)}</p>
            })}
            <OptionsForm goal=goal options=options/>
            <Transition fallback=move || view! { <p class="empty">{tx!(i18n, plans.planning)}</p> } set_pending=planning>
                {move || preview.get().map(|result| match result {
                    Ok(Some(p)) => view! { <PreviewView preview=p options=options request=request start=start/> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(e) => view! {
                        <p class="form-error" data-testid="plan-error" data-field=e.field.clone()>{e.said(i18n.get_locale_untracked())}</p>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// The plan's options; each change re-plans.
#[component]
fn OptionsForm(goal: RwSignal<Option<Goal>>, options: RwSignal<PlanOptions>) -> impl IntoView {
    let number = |v: String| v.trim().parse::<u32>().ok();
    let limit = move |ev| {
        let v = event_target_value(&ev);
        options.update(|o| o.max_concurrent = number(v));
    };
    let order = move |ev| {
        let o = match event_target_value(&ev).as_str() {
            "smallest_first" => Order::SmallestFirst,
            "by_priority" => Order::ByPriority,
            _ => Order::LargestFirst,
        };
        options.update(|opts| opts.order = o);
    };
    let cap = move |ev| options.update(|o| o.bandwidth_cap_mbps = number(event_target_value(&ev)));
    let downtime =
        move |ev| options.update(|o| o.downtime_target_ms = number(event_target_value(&ev)));
    let start_at = move |ev| options.update(|o| o.start_at_ms = local_ms(&event_target_value(&ev)));
    let finish_by =
        move |ev| options.update(|o| o.must_finish_by_ms = local_ms(&event_target_value(&ev)));
    let stop = move |ev| options.update(|o| o.stop_on_failure = event_target_checked(&ev));
    let pace = move |ev| {
        options.update(|o| {
            o.pacing = if event_target_checked(&ev) {
                Pacing::Converge
            } else {
                Pacing::VsphereLimits
            }
        })
    };
    let evacuate = move || matches!(goal.get(), Some(Goal::EvacuateHost { .. }));
    let rolling = move || matches!(goal.get(), Some(Goal::RollingMaintenance { .. }));
    let enter = move |ev| {
        let on = event_target_checked(&ev);
        goal.update(|g| {
            if let Some(Goal::EvacuateHost {
                enter_maintenance, ..
            }) = g
            {
                *enter_maintenance = on;
            }
        });
    };
    let rolling_field = move |which: &'static str| {
        move |ev| {
            let v = number(event_target_value(&ev));
            goal.update(|g| {
                if let (
                    Some(Goal::RollingMaintenance {
                        at_a_time,
                        maintenance_s,
                        ..
                    }),
                    Some(v),
                ) = (g, v)
                {
                    match which {
                        "k" => *at_a_time = v,
                        _ => *maintenance_s = v.saturating_mul(60),
                    }
                }
            });
        }
    };
    let i18n = use_i18n();
    view! {
        <form class="plan-options" on:submit=|ev| ev.prevent_default()>
            <label>{tx!(i18n, plans.at_once)}
                <select data-testid="opt-concurrency" on:change=limit>
                    <option value="" selected=true>{tx!(i18n, plans.vsphere_limits)}</option>
                    {[1u32, 2, 4, 8, 16].into_iter().map(|n| view! { <option value=n.to_string()>{n}</option> }).collect_view()}
                </select>
            </label>
            <label>{tx!(i18n, plans.order)}
                <select data-testid="opt-order" on:change=order>
                    <option value="largest_first">{tx!(i18n, plans.largest_first)}</option>
                    <option value="smallest_first">{tx!(i18n, plans.smallest_first)}</option>
                    <option value="by_priority">{tx!(i18n, plans.by_priority)}</option>
                </select>
            </label>
            <label>{tx!(i18n, plans.cap)}<input type="number" min="1" data-testid="opt-cap" on:change=cap/></label>
            <label>{tx!(i18n, plans.downtime_target)}<input type="number" min="1" max="100000" data-testid="opt-downtime" on:change=downtime/></label>
            <label>{tx!(i18n, plans.start_at)}<input type="datetime-local" data-testid="opt-start-at" on:change=start_at/></label>
            <label>{tx!(i18n, plans.finish_by)}<input type="datetime-local" data-testid="opt-finish-by" on:change=finish_by/></label>
            <label class="check"><input type="checkbox" data-testid="opt-stop" on:change=stop/>{tx!(i18n, plans.stop_on_failure)}</label>
            <label class="check" title=tx!(i18n, plans.pace_explain)>
                <input type="checkbox" data-testid="opt-pace" checked on:change=pace/>{tx!(i18n, plans.pace)}
            </label>
            {move || evacuate().then(|| view! {
                <label class="check"><input type="checkbox" checked=true data-testid="opt-enter" on:change=enter/>{tx!(i18n, plans.enter_once_empty)}</label>
            })}
            {move || rolling().then(|| view! {
                <label>{tx!(i18n, plans.hosts_at_a_time)}<input type="number" min="1" value="1" data-testid="opt-at-a-time" on:change=rolling_field("k")/></label>
                <label>{tx!(i18n, plans.maintenance_per_host)}<input type="number" min="0" value="60" data-testid="opt-maintenance" on:change=rolling_field("m")/></label>
            })}
        </form>
    }
}

/// What Start needs, owned by the page.
#[derive(Clone, Copy)]
struct StartState {
    error: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
    /// Opens a page (the started plan's).
    go: Callback<String>,
}

/// The preview: blockers, placement, timeline, window, what-if; then Start.
#[component]
fn PreviewView(
    preview: Preview,
    options: RwSignal<PlanOptions>,
    request: Memo<Option<PlanRequest>>,
    start: StartState,
) -> impl IntoView {
    let Preview {
        draft,
        prediction,
        what_if,
        ..
    } = preview;
    let blocked = draft.blockers.len();
    let i18n = use_i18n();
    let line = {
        let prediction = prediction.clone();
        move || summary(i18n, &prediction, blocked)
    };
    let chosen = options.with_untracked(|o| o.max_concurrent);
    let choose =
        Callback::new(move |limit: Option<u32>| options.update(|o| o.max_concurrent = limit));
    let StartState { error, busy, go } = start;
    let submit = move |start: bool| {
        let Some(request) = request.get_untracked() else {
            return;
        };
        busy.set(true);
        spawn_local(async move {
            let result = async {
                let plan = rpc::create_plan(request).await?;
                if start {
                    rpc::plan_command(plan.id, PlanAction::Start).await?;
                }
                Ok::<_, rpc::ServerError>(plan.id)
            }
            .await;
            busy.set(false);
            match result {
                Ok(id) => go.run(format!("/plans/{id}")),
                Err(e) => error.set(Some(e.said(i18n.get_locale_untracked()))),
            }
        });
    };
    let operator = crate::allowed(domain::accounts::Role::Operator);
    let has_work = prediction.moves.len() + draft.steps.len() > 1 || !prediction.moves.is_empty();
    let timeline = prediction.clone();
    view! {
        <p class="summary" data-testid="plan-summary">{line}</p>
        <Blockers blockers=draft.blockers.clone() notes=notes_of(&draft)/>
        <h3>{tx!(i18n, plans.placement)}</h3>
        <Placement draft=draft prediction=prediction.clone()/>
        <h3>{tx!(i18n, plans.timeline)}</h3>
        <Timeline prediction=Signal::stored(timeline) runs=Signal::stored(Vec::new()) now_s=Signal::stored(None)/>
        <WindowVerdict window=prediction.window.clone() total_s=prediction.total_s/>
        <h3>{tx!(i18n, plans.what_if)}</h3>
        <WhatIfTable rows=what_if chosen=chosen on_choose=choose/>
        {move || error.get().map(|m| view! { <p class="form-error" data-testid="start-error">{m}</p> })}
        {(operator && has_work).then(|| view! {
            <div class="toolbar">
                <button class="primary" data-testid="plan-start" disabled=move || busy.get() on:click=move |_| submit(true)>{tx!(i18n, plans.start)}</button>
                <button class="secondary" data-testid="plan-save" disabled=move || busy.get() on:click=move |_| submit(false)>{tx!(i18n, plans.save_draft)}</button>
            </div>
        })}
    }
}
