//! One migration in detail: where it stands, what was predicted against what happens, charts
//! of the remaining dirty memory per pre-copy round and of the transfer rate over time, and
//! the event log — all live.

use super::tasks::{cancel, ProgressBar};
use crate::live::LiveState;
use domain::format;
use domain::migration::{Migration, MigrationEvent, Phase};
use domain::precopy::Round;
use domain::MigrationId;
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

    view! {
        <section class="page migration-page" data-testid="migration-detail">
            <p><a href="/tasks" data-testid="back-to-tasks">"← Tasks"</a></p>
            {move || match m.get() {
                None => view! { <p class="empty" data-testid="migration-missing">"Loading this migration…"</p> }.into_any(),
                Some(m) => {
                    let route = m.route.clone();
                    let mid = m.id;
                    let running = !m.phase.is_final()
                        && crate::allowed(domain::accounts::Role::Operator);
                    view! {
                        <header class="detail-head">
                            <h2>{format!("{} — {}", m.vm_name, m.kind.label())}</h2>
                            <p class="muted">{route}</p>
                            <p>
                                <span class=format!("phase phase-{}", m.phase.as_str()) data-testid="detail-phase">
                                    {m.phase.label()}
                                </span>
                                " "
                                <span data-testid="detail-message">{m.queue_reason.clone().unwrap_or_else(|| m.message.clone())}</span>
                            </p>
                            <ProgressBar percent=Signal::derive(move || m_percent(live, mid))/>
                            {running.then(|| view! {
                                <button class="danger" data-testid="detail-cancel" on:click=move |_| cancel(mid, error)>
                                    "Cancel"
                                </button>
                            })}
                            {move || error.get().map(|e| view! { <p class="error">{e}</p> })}
                        </header>
                        {figures(&m)}
                    }
                    .into_any()
                }
            }}
            <div class="charts">
                <figure class="chart" data-testid="chart-rounds">
                    <figcaption>"Dirty memory to send, per pre-copy round"</figcaption>
                    {move || rounds_chart(&m.with(|m| m.as_ref().map(|m| m.rounds.clone()).unwrap_or_default()))}
                </figure>
                <figure class="chart" data-testid="chart-rate">
                    <figcaption>"Transfer rate over (simulated) time"</figcaption>
                    {move || live.watched_events.with(|e| rate_chart(e))}
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
    view! {
            <h3>"Event log"</h3>
            <div class="event-log-scroll">
            <table class="event-log" data-testid="event-log">
                <thead>
                    <tr>
                        <th>"#"</th>
                        <th>"Time"</th>
                        <th>"Phase"</th>
                        <th>"%"</th>
                        <th>"Sent"</th>
                        <th>"Rate"</th>
                        <th>"Round"</th>
                        <th>"Message"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        live.watched_events.with(|events| {
                            events
                                .iter()
                                .rev()
                                .take(LOG_LIMIT)
                                .map(|e| {
                                    view! {
                                        <tr data-testid="event-row" data-phase=e.phase.as_str()>
                                            <td class="num">{e.seq}</td>
                                            <td class="num">{format::duration(e.sim_time_s)}</td>
                                            <td>{e.phase.label()}</td>
                                            <td class="num">{format!("{:.0}", e.percent)}</td>
                                            <td class="num">{format::bytes(e.bytes_sent)}</td>
                                            <td class="num">{(e.rate_bytes_s > 0.0).then(|| format::rate(e.rate_bytes_s))}</td>
                                            <td class="num">{e.round}</td>
                                            <td class="small">{e.message.clone()}</td>
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
fn figures(m: &Migration) -> impl IntoView {
    let p = &m.prediction;
    let done = m.phase == Phase::Completed;
    let rows: Vec<(&str, String)> = vec![
        (
            "Sent",
            format!(
                "{} of ~{}",
                format::bytes(m.bytes_sent),
                format::bytes(m.bytes_total_estimate)
            ),
        ),
        (
            "Rate",
            if m.rate_bytes_s > 0.0 {
                format::rate(m.rate_bytes_s)
            } else {
                "—".into()
            },
        ),
        (
            "ETA",
            m.eta_s
                .filter(|_| !m.phase.is_final())
                .map(format::duration)
                .unwrap_or_else(|| "—".into()),
        ),
        (
            "Pre-copy round",
            if m.kind.moves_host() {
                m.round.to_string()
            } else {
                "—".into()
            },
        ),
        ("Dirty rate", format::rate(m.dirty_rate_bytes_s)),
        ("Dirty memory left", format::bytes(m.remaining_dirty_bytes)),
        (
            "Expected downtime",
            format!("{:.0} ms", m.expected_downtime_ms),
        ),
        (
            "SDPS throttle (max)",
            format!("{:.0} %", m.max_throttle * 100.0),
        ),
        (
            if m.real {
                "Elapsed"
            } else {
                "Elapsed (simulated)"
            },
            format::duration(m.sim_time_s),
        ),
    ];
    let predicted = if p.converges {
        format!(
            "{} · {} · {:.0} ms downtime · {} round(s)",
            format::duration(p.duration_s),
            format::bytes(p.bytes_total),
            p.downtime_ms,
            p.rounds.len()
        )
    } else {
        format!("would fail: {}", p.failure.clone().unwrap_or_default())
    };
    let real = m.real;
    let by_vcenter = m.external_task.is_some();
    // A move vCenter ran: its task, as vCenter's own task list shows it.
    let task = m.external_task.clone().map(|t| {
        view! {
            <dt>"vCenter task"</dt><dd data-testid="detail-vcenter-task">{t}</dd>
        }
    });
    let actual = done.then(|| {
        format!(
            "{} · {} · {:.0} ms downtime · {} round(s)",
            format::duration(m.sim_time_s),
            format::bytes(m.bytes_sent),
            m.downtime_ms.unwrap_or(0.0),
            m.rounds.len()
        )
    });
    view! {
        <dl class="figures" data-testid="detail-figures">
            {rows
                .into_iter()
                .map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> })
                .collect_view()}
            {task}
            <dt>"Predicted"</dt>
            <dd data-testid="detail-predicted">{predicted}</dd>
            {actual
                .map(|a| {
                    let (label, flag) = if by_vcenter {
                        ("Measured (vCenter)", "true")
                    } else if real {
                        ("Measured (QEMU)", "true")
                    } else {
                        ("Actual", "false")
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
fn rounds_chart(rounds: &[Round]) -> AnyView {
    if rounds.is_empty() {
        return view! { <p class="muted small">"No pre-copy rounds (yet)."</p> }.into_any();
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
            let title = format!(
                "round {}: {} in {}{}",
                r.round,
                format::bytes(r.bytes),
                format::duration(r.duration_s),
                if r.throttle > 0.0 {
                    format!(", guest throttled {:.0} %", r.throttle * 100.0)
                } else {
                    String::new()
                }
            );
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
    view! {
        <svg viewBox=format!("0 0 {CHART_W} {CHART_H}") role="img" aria-label="dirty memory per round">
            {axis(format::bytes(max), "round")}
            {bars}
        </svg>
    }
    .into_any()
}

/// A line: the rate of each progress event against simulated time.
fn rate_chart(events: &[MigrationEvent]) -> AnyView {
    let points: Vec<(f64, f64)> = events
        .iter()
        .filter(|e| !e.phase.is_final())
        .map(|e| (e.sim_time_s, e.rate_bytes_s))
        .collect();
    if points.len() < 2 {
        return view! { <p class="muted small">"Not enough progress yet."</p> }.into_any();
    }
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
        <svg viewBox=format!("0 0 {CHART_W} {CHART_H}") role="img" aria-label="transfer rate over time">
            {axis(format::rate(r_max), "time")}
            <polyline class="line" points=path data-testid="rate-line"></polyline>
            <text class="tick" x=PAD y=CHART_H - 8.0>"0"</text>
            <text class="tick" x=PAD + plot_w / 2.0 y=CHART_H - 8.0>{format::duration(t_max)}</text>
        </svg>
    }
    .into_any()
}
