//! Tasks: every migration, live — phase, progress, rate, ETA, pre-copy round, dirty rate,
//! why it waits — with Cancel; and the Faults panel to inject and clear faults for drills.

use crate::i18n::{t_string, use_i18n};
use crate::lang::use_lang;
use crate::live::{LinkState, LiveState};
use crate::names;
use domain::accounts::Role;
use domain::format;
use domain::migration::{FaultKind, FaultRequest, Phase};
use domain::{MigrationId, ObjectKind};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn TasksPage() -> impl IntoView {
    crate::mark_ready();
    crate::live::follow_all_migrations();
    let live = expect_context::<LiveState>();
    // Newest first; the rows are keyed, so a row (and its Cancel button) stays put while its
    // figures change.
    let ids = Memo::new(move |_| {
        live.migrations.with(|map| {
            let mut list: Vec<(i64, MigrationId)> =
                map.values().map(|m| (m.created_at_ms, m.id)).collect();
            list.sort_by(|a, b| b.cmp(a));
            list.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
        })
    });
    let i18n = use_i18n();
    let empty = move || {
        ids.with(Vec::is_empty).then(|| {
            let text = if live.link.get() == LinkState::Live {
                t_string!(i18n, tasks.empty)
            } else {
                t_string!(i18n, tasks.waiting)
            };
            view! { <p class="empty" data-testid="tasks-empty">{text}</p> }
        })
    };
    view! {
        <section class="page tasks-page" data-testid="tasks">
            <h1>{crate::tx!(i18n, shell.tasks)}</h1>
            {crate::allowed(Role::Operator).then(|| view! { <FaultsPanel/> })}
            <table class="tasks" data-testid="tasks-table">
                <thead>
                    <tr>
                        <th>"VM"</th>
                        <th>{crate::tx!(i18n, tasks.move_col)}</th>
                        <th>{crate::tx!(i18n, migration.phase)}</th>
                        <th class="progress-col">{crate::tx!(i18n, tasks.progress)}</th>
                        <th>{crate::tx!(i18n, migration.rate)}</th>
                        <th>{crate::tx!(i18n, tasks.eta)}</th>
                        <th>{crate::tx!(i18n, migration.round)}</th>
                        <th>{crate::tx!(i18n, migration.dirty_rate)}</th>
                        <th>{crate::tx!(i18n, tasks.status)}</th>
                        <th><span class="visually-hidden">{crate::tx!(i18n, tables.actions)}</span></th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || ids.get() key=|id| *id let:id>
                        <TaskRow id=id/>
                    </For>
                </tbody>
            </table>
            {empty}
        </section>
    }
}

/// Cancels a migration; the answer comes back over the live link.
pub fn cancel(id: MigrationId, error: RwSignal<Option<String>>) {
    spawn_local(async move {
        match crate::rpc::cancel_migration(id).await {
            Ok(_) => error.set(None),
            Err(e) => error.set(Some(e.message)),
        }
    });
}

#[component]
fn TaskRow(id: MigrationId) -> impl IntoView {
    let live = expect_context::<LiveState>();
    let m = Memo::new(move |_| live.migrations.with(|map| map.get(&id).cloned()));
    let error = RwSignal::new(None::<String>);
    let vm = m.with_untracked(|m| m.as_ref().map(|m| m.vm_name.clone()).unwrap_or_default());
    let route = m.with_untracked(|m| m.as_ref().map(|m| m.route.clone()).unwrap_or_default());
    let phase = move || m.with(|m| m.as_ref().map(|m| m.phase));
    let operator = crate::allowed(Role::Operator);
    let running = move || operator && phase().is_some_and(|p| !p.is_final());
    let i18n = use_i18n();
    let lang = use_lang();
    view! {
        <tr
            data-testid="task-row"
            data-vm=vm.clone()
            data-id=id.to_string()
            data-phase=move || phase().map(|p| p.as_str())
        >
            <td>
                <a href=format!("/tasks/{id}") data-testid="task-link">{vm.clone()}</a>
            </td>
            <td class="small">
                {move || m.with(|m| m.as_ref().map(|m| names::migration_kind(i18n, m.kind)))}
                <br/>
                <span class="muted">{route}</span>
            </td>
            <td>
                <span
                    class=move || format!("phase phase-{}", phase().map_or("", |p| p.as_str()))
                    data-testid="task-phase"
                >
                    {move || phase().map(|p| names::phase(i18n, p))}
                </span>
            </td>
            <td class="progress-col">
                <ProgressBar percent=Signal::derive(move || m.with(|m| m.as_ref().map_or(0.0, |m| m.percent)))/>
            </td>
            <td class="num" data-testid="task-rate">
                {move || m.with(|m| m.as_ref().filter(|m| m.rate_bytes_s > 0.0).map(|m| format::rate(lang.get(), m.rate_bytes_s)))}
            </td>
            <td class="num" data-testid="task-eta">
                {move || m.with(|m| m.as_ref().filter(|m| !m.phase.is_final()).and_then(|m| m.eta_s).map(|s| format::duration(lang.get(), s)))}
            </td>
            <td class="num" data-testid="task-round">
                {move || m.with(|m| m.as_ref().filter(|m| m.phase >= Phase::MemoryPrecopy && m.kind.moves_host()).map(|m| m.round.to_string()))}
            </td>
            <td class="num">
                {move || m.with(|m| m.as_ref().filter(|m| m.dirty_rate_bytes_s > 0.0 && !m.phase.is_final()).map(|m| format::rate(lang.get(), m.dirty_rate_bytes_s)))}
            </td>
            <td class="small status" data-testid="task-message">
                <span>{move || m.with(|m| m.as_ref().map(|m| crate::phrase_text::status_in(i18n.get_locale(), m)))}</span>
                {move || error.get().map(|e| view! { <span class="error" data-testid="task-error">{e}</span> })}
            </td>
            <td>
                {move || {
                    running()
                        .then(|| {
                            view! {
                                <button
                                    class="danger small"
                                    data-testid="task-cancel"
                                    on:click=move |_| cancel(id, error)
                                >
                                    {crate::tx!(i18n, migration.cancel)}
                                </button>
                            }
                        })
                }}
            </td>
        </tr>
    }
}

#[component]
pub fn ProgressBar(#[prop(into)] percent: Signal<f64>) -> impl IntoView {
    let lang = use_lang();
    let i18n = use_i18n();
    view! {
        <div
            class="progress"
            role="progressbar"
            aria-label=crate::tx!(i18n, tasks.progress)
            aria-valuemin="0"
            aria-valuemax="100"
            aria-valuenow=move || format!("{:.0}", percent.get())
            data-testid="progress"
        >
            <div class="progress-fill" style=move || format!("width: {:.1}%", percent.get())></div>
            <span class="progress-label" data-testid="progress-label">
                {move || format::pct(lang.get(), percent.get(), 0)}
            </span>
        </div>
    }
}

/// Inject a fault (a host's vMotion link, a host, a datastore) and clear it.
#[component]
fn FaultsPanel() -> impl IntoView {
    let live = expect_context::<LiveState>();
    // Past the scale threshold the target is found by name (docs/DESIGN.md#search): the app
    // does not hold the whole inventory there.
    let large = expect_context::<crate::Scale>().large;
    let inventory = expect_context::<crate::live::InventoryResource>();
    let kind = RwSignal::new(FaultKind::VmotionLinkDown);
    let target = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let i18n = use_i18n();
    let targets = move || {
        let Some(Ok(inv)) = inventory.get() else {
            return Vec::new();
        };

        let mut list: Vec<(String, String)> = if kind.get().targets_host() {
            inv.hosts
                .values()
                .map(|h| (h.id.to_string(), h.name.to_string()))
                .collect()
        } else {
            inv.datastores
                .values()
                .map(|d| (d.id.to_string(), d.name.to_string()))
                .collect()
        };
        list.sort_by(|a, b| a.1.cmp(&b.1));
        list
    };
    let inject = move |_| {
        let Ok(target_id) = uuid::Uuid::parse_str(&target.get_untracked()) else {
            error.set(Some(t_string!(i18n, tasks.fault_choose).into()));
            return;
        };
        let request = FaultRequest {
            kind: kind.get_untracked(),
            target_id,
        };
        spawn_local(async move {
            match crate::rpc::add_fault(request).await {
                Ok(_) => error.set(None),
                Err(e) => error.set(Some(e.said(i18n.get_locale_untracked()))),
            }
        });
    };
    view! {
        <details class="faults-panel" data-testid="faults-panel" open=move || !live.faults.with(Vec::is_empty)>
            <summary>
                {crate::tx!(i18n, tasks.faults)}" "
                <span class="muted small">{crate::tx!(i18n, tasks.faults_explain)}</span>
            </summary>
            <div class="fault-form">
                <select
                    aria-label=crate::tx!(i18n, tasks.fault_kind)
                    data-testid="fault-kind"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some(k) = FaultKind::ALL.into_iter().find(|k| k.as_str() == v) {
                            kind.set(k);
                            target.set(String::new());
                        }
                    }
                >
                    {FaultKind::ALL
                        .into_iter()
                        .map(|k| view! { <option value=k.as_str()>{move || names::fault_kind(i18n, k)}</option> })
                        .collect_view()}
                </select>
                {move || large.then(|| {
                    let only = Some(if kind.get().targets_host() { ObjectKind::Host } else { ObjectKind::Datastore });
                    let picked = Callback::new(move |hit: domain::search::Hit| target.set(hit.id.to_string()));
                    view! {
                        <crate::components::search::Combobox
                            label=Signal::derive(move || t_string!(i18n, tasks.fault_target).to_string())
                            placeholder=Signal::derive(move || t_string!(i18n, tasks.fault_target_placeholder).to_string())
                            testid="fault-target-search"
                            only
                            on_pick=picked
                        />
                    }
                })}
                <Transition fallback=|| ()>
                    <select aria-label=crate::tx!(i18n, tasks.fault_target) data-testid="fault-target" hidden=large on:change=move |ev| target.set(event_target_value(&ev))>
                        <option value="" selected=move || target.get().is_empty()>{crate::tx!(i18n, tasks.choose_target)}</option>
                        {move || {
                            targets()
                                .into_iter()
                                .map(|(id, name)| view! { <option value=id.clone()>{name}</option> })
                                .collect_view()
                        }}
                    </select>
                </Transition>
                <button
                    class="danger"
                    data-testid="fault-inject"
                    disabled=move || target.get().is_empty()
                    on:click=inject
                >
                    {crate::tx!(i18n, tasks.inject)}
                </button>
                {move || error.get().map(|e| view! { <span class="error" data-testid="fault-error">{e}</span> })}
            </div>
            <ul class="fault-list" data-testid="fault-list">
                {move || {
                    live.faults
                        .get()
                        .into_iter()
                        .map(|f| {
                            let id = f.id;
                            let clear = move |_| {
                                spawn_local(async move {
                                    match crate::rpc::clear_fault(id).await {
                                        Ok(_) => error.set(None),
                                        Err(e) => error.set(Some(e.said(i18n.get_locale_untracked()))),
                                    }
                                });
                            };
                            view! {
                                <li data-testid="fault-item" data-kind=f.kind.as_str()>
                                    <strong>{names::fault_kind(i18n, f.kind)}</strong>
                                    " "{crate::tx!(i18n, tasks.on)}" "
                                    {f.target_name.clone()}
                                    <button class="small" data-testid="fault-clear" on:click=clear>
                                        {crate::tx!(i18n, tasks.clear)}
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </details>
    }
}
