//! One migration in detail: where it stands, what was predicted against what happens, charts
//! of the remaining dirty memory per pre-copy round and of the transfer rate over time, and
//! the event log — all live.

use super::tasks::{cancel, ProgressBar};
use crate::i18n::{t_string, use_i18n};
use crate::lang::{fill, use_lang};
use crate::live::LiveState;
use crate::names;
use domain::migration::{Migration, MigrationEvent, Phase};
use domain::precopy::Round;
use domain::MigrationId;
use domain::{format, Lang};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

const CHART_W: f64 = 560.0;
const CHART_H: f64 = 180.0;
const PAD: f64 = 36.0;
/// Events listed in the log (the newest).
const LOG_LIMIT: usize = 300;

#[component]
pub fn MigrationPage() -> impl IntoView {
    crate::mark_ready();
    crate::live::follow_all_migrations();
    let live = expect_context::<LiveState>();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<MigrationId>().ok()));
    // Follow this migration's live events; the history comes from the server.
    Effect::new(move |_| {
        live.watched.set(id());
        live.watched_events.set(Vec::new());
    });
    on_cleanup(move || live.watched.set(None));
    // Reloaded after every resync of the live link, so a reconnect leaves no hole.
    let history = LocalResource::new(move || {
        let id = id();
        live.resyncs.track();
        async move {
            match id {
                Some(id) => crate::rpc::migration_events(id).await.unwrap_or_default(),
                None => Vec::new(),
            }
        }
    });
    Effect::new(move |_| {
        if let Some(stored) = history.get() {
            live.watched_events.update(|list| {
                // Stored history first, then what arrived live meanwhile.
                let last = stored.last().map_or(0, |e| e.seq);
                let newer: Vec<MigrationEvent> = list.drain(..).filter(|e| e.seq > last).collect();
                *list = stored;
                list.extend(newer);
            });
        }
    });
    // A migration older than the live snapshot's window is fetched once.
    let stored = LocalResource::new(move || {
        let id = id();
        async move {
            match id {
                Some(id) => crate::rpc::get_migration(id).await.ok().flatten(),
                None => None,
            }
        }
    });
    let m = Memo::new(move |_| {
        id().and_then(|id| live.migrations.with(|map| map.get(&id).cloned()))
            .or_else(|| stored.get().flatten())
    });
    let error = RwSignal::new(None::<String>);
    let i18n = use_i18n();
    let lang = use_lang();
    // Whether each chart's table is open, kept across the charts' redraws.
    let (rounds_open, rate_open) = (RwSignal::new(false), RwSignal::new(false));

    view! {
        <section class="page migration-page" data-testid="migration-detail">
            <p><a href="/tasks" data-testid="back-to-tasks">{crate::tx!(i18n, migration.back)}</a></p>
            {move || match m.get() {
                None => view! { <p class="empty" data-testid="migration-missing">{crate::tx!(i18n, migration.loading)}</p> }.into_any(),
                Some(m) => {
                    let l = lang.get();
                    let route = m.route.clone();
                    let mid = m.id;
                    let running = !m.phase.is_final()
                        && crate::allowed(domain::accounts::Role::Operator);
                    view! {
                        <header class="detail-head">
                            <h1>{format!("{} — {}", m.vm_name, names::migration_kind(i18n, m.kind))}</h1>
                            <p class="muted">{route}</p>
                            <p>
                                <span class=format!("phase phase-{}", m.phase.as_str()) data-testid="detail-phase">
                                    {names::phase(i18n, m.phase)}
                                </span>
                                " "
                                <span data-testid="detail-message">{crate::phrase_text::status_in(i18n.get_locale(), &m)}</span>
                            </p>
                            <ProgressBar percent=Signal::derive(move || m_percent(live, mid))/>
                            {running.then(|| view! {
                                <button class="danger" data-testid="detail-cancel" on:click=move |_| cancel(mid, error)>
                                    {crate::tx!(i18n, migration.cancel)}
                                </button>
                            })}
                            {move || error.get().map(|e| view! { <p class="error">{e}</p> })}
                        </header>
                        {figures(&m, l)}
                    }
                    .into_any()
                }
            }}
            <div class="charts">
                <figure class="chart" data-testid="chart-rounds">
                    <figcaption>{crate::tx!(i18n, migration.rounds_caption)}</figcaption>
                    {move || rounds_chart(&m.with(|m| m.as_ref().map(|m| m.rounds.clone()).unwrap_or_default()), lang.get(), rounds_open)}
                </figure>
                <figure class="chart" data-testid="chart-rate">
                    <figcaption>{crate::tx!(i18n, migration.rate_caption)}</figcaption>
                    {move || live.watched_events.with(|e| rate_chart(e, lang.get(), rate_open))}
                </figure>
            </div>
            <EventLog/>
        </section>
    }
}

/// The newest events of the watched migration, newest first.
#[component]
fn EventLog() -> impl IntoView {
    let live = expect_context::<LiveState>();
    let i18n = use_i18n();
    let lang = use_lang();
    view! {
            <h3>{crate::tx!(i18n, migration.event_log)}</h3>
            // Focusable, so a keyboard scrolls it (WCAG 2.1.1, docs/ACCESSIBILITY.md).
            <div class="event-log-scroll" tabindex="0" role="region" aria-label=crate::tx!(i18n, migration.event_log)>
            <table class="event-log" data-testid="event-log">
                <thead>
                    <tr>
                        <th>"#"</th>
                        <th>{crate::tx!(i18n, migration.time)}</th>
                        <th>{crate::tx!(i18n, migration.phase)}</th>
                        <th>"%"</th>
                        <th>{crate::tx!(i18n, migration.sent)}</th>
                        <th>{crate::tx!(i18n, migration.rate)}</th>
                        <th>{crate::tx!(i18n, migration.round)}</th>
                        <th>{crate::tx!(i18n, migration.message)}</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let l = lang.get();
                        let locale = i18n.get_locale();
                        live.watched_events.with(|events| {
                            let said = crate::phrase_text::events_in(locale, events);
                            events
                                .iter()
                                .zip(said)
                                .rev()
                                .take(LOG_LIMIT)
                                .map(|(e, said)| {
                                    view! {
                                        <tr data-testid="event-row" data-phase=e.phase.as_str()>
                                            <td class="num">{e.seq}</td>
                                            <td class="num">{format::duration(l, e.sim_time_s)}</td>
                                            <td>{names::phase(i18n, e.phase)}</td>
                                            <td class="num">{format!("{:.0}", e.percent)}</td>
                                            <td class="num">{format::bytes(l, e.bytes_sent)}</td>
                                            <td class="num">{(e.rate_bytes_s > 0.0).then(|| format::rate(l, e.rate_bytes_s))}</td>
                                            <td class="num">{e.round}</td>
                                            <td class="small">{said}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()
                        })
                    }}
                </tbody>
            </table>
            </div>
    }
}

fn m_percent(live: LiveState, id: MigrationId) -> f64 {
    live.migrations
        .with(|map| map.get(&id).map_or(0.0, |m| m.percent))
}

/// The figures now, and the prediction made at start next to what happened.
fn figures(m: &Migration, l: Lang) -> impl IntoView {
    let i18n = use_i18n();
    let p = &m.prediction;
    let done = m.phase == Phase::Completed;
    let ms = |v: f64| format!("{} ms", format::number(l, v, 0));
    let rows: Vec<(&str, String)> = vec![
        (
            t_string!(i18n, migration.sent),
            fill(
                t_string!(i18n, migration.sent_of),
                &[
                    ("sent", format::bytes(l, m.bytes_sent)),
                    ("total", format::bytes(l, m.bytes_total_estimate)),
                ],
            ),
        ),
        (
            t_string!(i18n, migration.rate),
            if m.rate_bytes_s > 0.0 {
                format::rate(l, m.rate_bytes_s)
            } else {
                "—".into()
            },
        ),
        (
            t_string!(i18n, migration.eta),
            m.eta_s
                .filter(|_| !m.phase.is_final())
                .map(|s| format::duration(l, s))
                .unwrap_or_else(|| "—".into()),
        ),
        (
            t_string!(i18n, migration.precopy_round),
            if m.kind.moves_host() {
                m.round.to_string()
            } else {
                "—".into()
            },
        ),
        (
            t_string!(i18n, migration.dirty_rate),
            format::rate(l, m.dirty_rate_bytes_s),
        ),
        (
            t_string!(i18n, migration.dirty_left),
            format::bytes(l, m.remaining_dirty_bytes),
        ),
        (
            t_string!(i18n, migration.expected_downtime),
            ms(m.expected_downtime_ms),
        ),
        (
            t_string!(i18n, migration.throttle),
            format::pct(l, m.max_throttle * 100.0, 0),
        ),
        (
            if m.real {
                t_string!(i18n, migration.elapsed)
            } else {
                t_string!(i18n, migration.elapsed_simulated)
            },
            format::duration(l, m.sim_time_s),
        ),
    ];
    let outcome = |duration: f64, bytes: f64, downtime: f64, rounds: usize| {
        fill(
            t_string!(i18n, migration.outcome),
            &[
                ("duration", format::duration(l, duration)),
                ("bytes", format::bytes(l, bytes)),
                ("downtime", format::number(l, downtime, 0)),
                ("rounds", rounds.to_string()),
            ],
        )
    };
    let predicted = if p.converges {
        outcome(p.duration_s, p.bytes_total, p.downtime_ms, p.rounds.len())
    } else {
        fill(
            t_string!(i18n, migration.would_fail),
            &[("why", crate::phrase_text::failure_in(i18n.get_locale(), p))],
        )
    };
    let real = m.real;
    let by_vcenter = m.external_task.is_some();
    // A move vCenter ran: its task, as vCenter's own task list shows it.
    let task = m.external_task.clone().map(|t| {
        view! {
            <dt>{crate::tx!(i18n, migration.vcenter_task)}</dt><dd data-testid="detail-vcenter-task">{t}</dd>
        }
    });
    let actual = done.then(|| {
        outcome(
            m.sim_time_s,
            m.bytes_sent,
            m.downtime_ms.unwrap_or(0.0),
            m.rounds.len(),
        )
    });
    view! {
        <dl class="figures" data-testid="detail-figures">
            {rows
                .into_iter()
                .map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> })
                .collect_view()}
            {task}
            <dt>{crate::tx!(i18n, migration.predicted)}</dt>
            <dd data-testid="detail-predicted">{predicted}</dd>
            {actual
                .map(|a| {
                    let (label, flag) = if by_vcenter {
                        (t_string!(i18n, migration.measured_vcenter), "true")
                    } else if real {
                        (t_string!(i18n, migration.measured_qemu), "true")
                    } else {
                        (t_string!(i18n, migration.actual), "false")
                    };
                    view! { <dt>{label}</dt><dd data-testid="detail-actual" data-real=flag>{a}</dd> }
                })}
        </dl>
    }
}

fn axis(max_label: String, x_label: &'static str) -> impl IntoView {
    view! {
        <line class="axis" x1=PAD y1=CHART_H - PAD x2=CHART_W - 8.0 y2=CHART_H - PAD></line>
        <line class="axis" x1=PAD y1=8.0 x2=PAD y2=CHART_H - PAD></line>
        <text class="tick" x=4.0 y=14.0>{max_label}</text>
        <text class="tick" x=CHART_W - 8.0 y=CHART_H - 8.0 text-anchor="end">{x_label}</text>
    }
}

/// Bars: the bytes each round had to send (the last one is the stop-and-copy); rounds
/// under SDPS are marked.
fn rounds_chart(rounds: &[Round], l: Lang, open: RwSignal<bool>) -> AnyView {
    let i18n = use_i18n();
    if rounds.is_empty() {
        return view! { <p class="muted small">{crate::tx!(i18n, migration.no_rounds)}</p> }
            .into_any();
    }
    let max = rounds.iter().map(|r| r.bytes).fold(1.0, f64::max);
    let plot_w = CHART_W - PAD - 12.0;
    let plot_h = CHART_H - PAD - 12.0;
    let w = plot_w / rounds.len() as f64;
    let bars = rounds
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let h = (r.bytes / max * plot_h).max(1.0);
            let class = if r.switchover {
                "bar switchover"
            } else if r.throttle > 0.0 {
                "bar throttled"
            } else {
                "bar"
            };
            let mut title = fill(
                t_string!(i18n, migration.round_title),
                &[
                    ("round", r.round.to_string()),
                    ("bytes", format::bytes(l, r.bytes)),
                    ("duration", format::duration(l, r.duration_s)),
                ],
            );
            if r.throttle > 0.0 {
                title += &fill(
                    t_string!(i18n, migration.round_throttled),
                    &[("throttle", format::pct(l, r.throttle * 100.0, 0))],
                );
            }
            view! {
                <rect
                    class=class
                    x=PAD + i as f64 * w + 1.0
                    y=CHART_H - PAD - h
                    width=(w - 2.0).max(1.0)
                    height=h
                    data-testid="round-bar"
                >
                    <title>{title}</title>
                </rect>
            }
        })
        .collect_view();
    let rows = rounds.to_vec();
    let table = move || {
        rows.iter()
            .map(|r| {
                let round = if r.switchover {
                    format!("{} ({})", r.round, t_string!(i18n, migration.stop_and_copy))
                } else {
                    r.round.to_string()
                };
                view! {
                    <tr>
                        <td>{round}</td>
                        <td>{format::bytes(l, r.bytes)}</td>
                        <td>{format::duration(l, r.duration_s)}</td>
                        <td>{format::pct(l, r.throttle * 100.0, 0)}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    let head = view! {
        <th scope="col">{crate::tx!(i18n, migration.round)}</th>
        <th scope="col">{crate::tx!(i18n, migration.col_bytes)}</th>
        <th scope="col">{crate::tx!(i18n, migration.col_duration)}</th>
        <th scope="col">{crate::tx!(i18n, migration.col_throttle)}</th>
    };
    view! {
        <svg viewBox=format!("0 0 {CHART_W} {CHART_H}") role="img" aria-label=t_string!(i18n, migration.rounds_label)>
            {axis(format::bytes(l, max), t_string!(i18n, migration.round_axis))}
            {bars}
        </svg>
        {figures_table("rounds-table", open, head.into_any(), move || table().into_any())}
    }
    .into_any()
}

/// A chart's figures as a table (WCAG 1.1.1: the chart's text alternative), drawn only while
/// it is open (`open` outlives the chart, redrawn on every event): a long migration's rate has
/// thousands of points.
fn figures_table(
    testid: &'static str,
    open: RwSignal<bool>,
    head: AnyView,
    rows: impl Fn() -> AnyView + Send + Sync + 'static,
) -> AnyView {
    let i18n = use_i18n();
    view! {
        <details class="chart-table" data-testid=testid prop:open=move || open.get()>
            <summary on:click=move |ev| {
                ev.prevent_default();
                open.update(|o| *o = !*o);
            }>{crate::tx!(i18n, migration.as_table)}</summary>
            <table class="objects">
                <thead><tr>{head}</tr></thead>
                <tbody>{move || open.get().then(&rows)}</tbody>
            </table>
        </details>
    }
    .into_any()
}

/// A line: the rate of each progress event against simulated time.
fn rate_chart(events: &[MigrationEvent], l: Lang, open: RwSignal<bool>) -> AnyView {
    let i18n = use_i18n();
    let points: Vec<(f64, f64)> = events
        .iter()
        .filter(|e| !e.phase.is_final())
        .map(|e| (e.sim_time_s, e.rate_bytes_s))
        .collect();
    if points.len() < 2 {
        return view! { <p class="muted small">{crate::tx!(i18n, migration.not_enough)}</p> }
            .into_any();
    }
    let head = view! {
        <th scope="col">{crate::tx!(i18n, migration.time)}</th>
        <th scope="col">{crate::tx!(i18n, migration.rate)}</th>
    };
    let t_max = points.iter().map(|p| p.0).fold(1e-9, f64::max);
    let r_max = points.iter().map(|p| p.1).fold(1.0, f64::max);
    let plot_w = CHART_W - PAD - 12.0;
    let plot_h = CHART_H - PAD - 12.0;
    let path = points
        .iter()
        .map(|(t, r)| {
            format!(
                "{:.1},{:.1}",
                PAD + t / t_max * plot_w,
                CHART_H - PAD - r / r_max * plot_h
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <svg viewBox=format!("0 0 {CHART_W} {CHART_H}") role="img" aria-label=t_string!(i18n, migration.rate_label)>
            {axis(format::rate(l, r_max), t_string!(i18n, migration.time_axis))}
            <polyline class="line" points=path data-testid="rate-line"></polyline>
            <text class="tick" x=PAD y=CHART_H - 8.0>"0"</text>
            <text class="tick" x=PAD + plot_w / 2.0 y=CHART_H - 8.0>{format::duration(l, t_max)}</text>
        </svg>
        {figures_table("rate-table", open, head.into_any(), move || {
            points
                .iter()
                .map(|(t, r)| view! { <tr><td>{format::duration(l, *t)}</td><td>{format::rate(l, *r)}</td></tr> })
                .collect_view()
                .into_any()
        })}
    }
    .into_any()
}
