//! A stored plan (`/plans/:id`), live: its state, n of N moves done, the predicted end
//! re-computed from the moves still to go, the timeline with what the run did beneath each
//! predicted bar and the plan's clock marked, what it did beside the moves; Start, Pause,
//! Resume, Cancel.

use super::parts::{notes_of, summary, Blockers, Clock, Placement, WhatIfTable, WindowVerdict};
use super::timeline::Timeline;
use crate::i18n::{t_string, use_i18n};
use crate::lang::{fill, use_lang};
use crate::live::LiveState;
use crate::rpc::{self, PlanAction};
use crate::{names, phrase_text, tx};
use domain::accounts::Role;
use domain::format;
use domain::plan::{PlanRecord, PlanState};
use domain::PlanId;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;

#[component]
pub fn PlanPage() -> impl IntoView {
    crate::mark_ready();
    // Its moves, wherever they run, phase by phase and tick by tick.
    crate::live::follow_all_migrations();
    let live = expect_context::<LiveState>();
    let params = use_params_map();
    let id =
        Memo::new(move |_| params.with(|p| p.get("id").and_then(|v| v.parse::<PlanId>().ok())));
    let loaded = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => rpc::get_plan(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    // The loaded record joins the live ones (which stay current through the live link).
    Effect::new(move |_| {
        if let Some(Ok(Some(plan))) = loaded.get() {
            live.absorb_plans(vec![plan]);
        }
    });
    // What to show: a plan the live state holds (the plans list loaded it, the live link keeps
    // it current) at once; another once loaded. It changes only with the plan shown, never
    // with the plan's progress (the view follows that itself).
    let shown = Memo::new(move |_| {
        let id = id.get()?;
        if live.plans.with(|m| m.contains_key(&id)) {
            return Some(Ok(Some(id)));
        }
        loaded
            .get()
            .map(|r| r.map(|p| p.map(|p| p.id)).map_err(|e| e.message))
    });
    let record = move |id: PlanId| {
        live.plans
            .with_untracked(|m| m.get(&id).cloned())
            .or_else(|| loaded.get_untracked().and_then(Result::ok).flatten())
    };
    let i18n = use_i18n();
    view! {
        <section class="page plan-page" data-testid="plan">
            <Suspense fallback=move || view! { <p class="empty">{tx!(i18n, plans.loading)}</p> }>
                {move || match shown.get() {
                    Some(Err(message)) => view! { <p class="form-error">{message}</p> }.into_any(),
                    Some(Ok(Some(id))) => match record(id) {
                        Some(p) => view! { <PlanView plan=p/> }.into_any(),
                        None => view! { <p class="empty">{tx!(i18n, plans.no_such)}</p> }.into_any(),
                    },
                    Some(Ok(None)) => view! { <p class="empty">{tx!(i18n, plans.no_such)}</p> }.into_any(),
                    None => view! { <p class="empty">{tx!(i18n, plans.loading)}</p> }.into_any(),
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn PlanView(plan: PlanRecord) -> impl IntoView {
    let live = expect_context::<LiveState>();
    let id = plan.id;
    // The live record, so the figures and the controls follow the run.
    let current = Memo::new(move |_| {
        live.plans
            .with(|m| m.get(&id).cloned())
            .unwrap_or_else(|| plan.clone())
    });
    let error = RwSignal::new(None::<String>);
    let act = move |action: PlanAction| {
        spawn_local(async move {
            match rpc::plan_command(id, action).await {
                Ok(p) => {
                    error.set(None);
                    live.absorb_plans(vec![p]);
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let state = move || current.with(|p| p.state);
    let operator = crate::allowed(Role::Operator);
    let i18n = use_i18n();
    let lang = use_lang();
    let progress = move || {
        current.with(|p| {
            let (done, total) = p.progress();
            fill(
                t_string!(i18n, plans.progress),
                &[
                    ("done", done.to_string()),
                    ("total", total.to_string()),
                    ("completed", p.completed_moves().to_string()),
                ],
            )
        })
    };
    let timing = move || {
        current.with(|p| {
            let lang = lang.get();
            let predicted = ("predicted", format::duration(lang, p.prediction.total_s));
            if p.state.is_final() {
                let took = ("took", format::duration(lang, p.elapsed_s));
                fill(t_string!(i18n, plans.took), &[took, predicted])
            } else if p.started_at_ms.is_some() {
                let clock = ("clock", format::duration(lang, p.clock_s));
                fill(t_string!(i18n, plans.in_so_far), &[clock, predicted])
            } else {
                fill(t_string!(i18n, plans.predicted_total), &[predicted])
            }
        })
    };
    let predicted_end =
        move || current.with(|p| p.predicted_end_ms.filter(|_| !p.state.is_final()));
    let draft = plan_draft(current);
    let prediction = Signal::derive(move || current.with(|p| p.prediction.clone()));
    let runs = Signal::derive(move || current.with(|p| p.moves.clone()));
    let now_s = Signal::derive(move || {
        current.with(|p| (p.started_at_ms.is_some() && !p.state.is_final()).then_some(p.clock_s))
    });
    let button = move |label: fn(leptos_i18n::I18nContext<crate::i18n::Locale>) -> &'static str,
                       testid: &'static str,
                       action: PlanAction,
                       when: fn(PlanState) -> bool| {
        move || {
            (operator && when(state())).then(|| view! {
            <button class="secondary" data-testid=testid on:click=move |_| act(action)>{crate::lang::text(i18n, label)}</button>
        })
        }
    };
    view! {
        <h1 data-testid="plan-title">{move || current.with(|p| phrase_text::title(i18n.get_locale(), p))}</h1>
        <p>
            <span class=move || format!("badge plan-state state-{}", state().as_str()) data-testid="plan-state" data-state=move || state().as_str()>
                {move || names::plan_state(i18n, state())}
            </span>
            " "
            <span data-testid="plan-message">{move || current.with(|p| phrase_text::said_in(i18n.get_locale(), p.message_words.as_ref(), &p.message))}</span>
        </p>
        <p class="summary">
            <span data-testid="plan-progress" data-done=move || current.with(|p| p.progress().0) data-total=move || current.with(|p| p.progress().1)>{progress}</span>
            " · "
            <span data-testid="plan-timing">{timing}</span>
            {move || predicted_end().map(|ms| view! { " · " {tx!(i18n, plans.predicted_end)} " " <span data-testid="plan-predicted-end"><Clock ms=ms/></span> })}
        </p>
        <div class="toolbar">
            {button(|i| t_string!(i, plans.start), "plan-start", PlanAction::Start, |s| s == PlanState::Draft)}
            {button(|i| t_string!(i, plans.pause), "plan-pause", PlanAction::Pause, |s| matches!(s, PlanState::Running | PlanState::Scheduled))}
            {button(|i| t_string!(i, plans.resume), "plan-resume", PlanAction::Resume, |s| s == PlanState::Paused)}
            {button(|i| t_string!(i, plans.cancel), "plan-cancel", PlanAction::Cancel, |s| !s.is_final())}
        </div>
        {move || error.get().map(|m| view! { <p class="form-error" data-testid="plan-error">{m}</p> })}
        {move || current.with(|p| (!p.log.is_empty()).then(|| view! {
            <ul class="plan-log" data-testid="plan-log">
                {p.log.iter().enumerate().map(|(i, l)| {
                    let words = p.log_words.get(i).cloned();
                    let l = l.clone();
                    view! { <li>{move || phrase_text::said_in(i18n.get_locale(), words.as_ref(), &l)}</li> }
                }).collect_view()}
            </ul>
        }))}
        {draft}
        <h3>{tx!(i18n, plans.timeline)}</h3>
        <Timeline prediction=prediction runs=runs now_s=now_s/>
        {move || current.with(|p| view! {
            <WindowVerdict window=p.prediction.window.clone() total_s=p.prediction.total_s/>
            <h3>{t_string!(i18n, plans.what_if)}</h3>
            <WhatIfTable rows=p.what_if.clone() chosen=p.options.max_concurrent on_choose=Callback::new(|_| ()) fixed=true/>
        })}
    }
}

/// What the plan was drafted with: its summary, blockers and placement (fixed once stored).
fn plan_draft(current: Memo<PlanRecord>) -> impl IntoView {
    let p = current.get_untracked();
    let i18n = use_i18n();
    view! {
        <p class="summary" data-testid="plan-summary">{let prediction = p.prediction.clone(); let blocked = p.draft.blockers.len(); move || summary(i18n, &prediction, blocked)}</p>
        <Blockers blockers=p.draft.blockers.clone() notes=notes_of(&p.draft)/>
        <h3>{tx!(i18n, plans.placement)}</h3>
        <Placement draft=p.draft.clone() prediction=p.prediction.clone()/>
    }
}
