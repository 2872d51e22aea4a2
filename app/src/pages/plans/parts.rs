//! The pieces of a plan's page: its blockers (first: why won't this host empty?), its
//! placement, the window verdict, the what-if rows, times of day.

use crate::components::markup::Markup;
use domain::format;
use domain::plan::{Blocker, Draft, MoveTimeline, PlanPrediction, Step, WhatIf, Window};
use domain::VmId;
use leptos::prelude::*;
use std::collections::HashMap;

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }
}

/// A time of day: UTC as the server renders it, the browser's own time zone once hydrated.
#[component]
pub fn Clock(ms: i64) -> impl IntoView {
    let secs = ms.div_euclid(1000);
    let utc = format!(
        "{:02}:{:02} UTC",
        secs.rem_euclid(86_400) / 3600,
        secs.rem_euclid(3600) / 60
    );
    let text = RwSignal::new(utc);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
            text.set(format!("{:02}:{:02}", d.get_hours(), d.get_minutes()));
        }
    });
    view! { <time data-ms=ms>{move || text.get()}</time> }
}

/// The blocked VMs, each with the failing check, why, and the fix.
#[component]
pub fn Blockers(blockers: Vec<Blocker>, notes: Vec<String>) -> impl IntoView {
    if blockers.is_empty() {
        return view! { <p class="ok-note" data-testid="no-blockers">"Every VM can move."</p> }
            .into_any();
    }
    view! {
        <section class="blockers" data-testid="blockers">
            <h3>{format!("{} VM(s) cannot move", blockers.len())}</h3>
            {notes.into_iter().map(|n| view! { <p class="form-error" data-testid="plan-note">{n}</p> }).collect_view()}
            <table class="objects">
                <thead><tr><th>"VM"</th><th>"Check"</th><th>"Why"</th><th>"Fix"</th></tr></thead>
                <tbody>
                    {blockers.into_iter().map(|b| {
                        let (vm, check) = (b.vm_name.clone(), b.check.clone());
                        view! {
                            <tr data-testid="blocker" data-vm=vm data-check=check>
                                <td class="name">{b.vm_name}</td>
                                <td><code>{b.check}</code></td>
                                <td>{b.message}</td>
                                <td data-testid="blocker-fix">{b.remedy}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

/// Every planned move: where it goes and why, with its predicted times.
#[component]
pub fn Placement(draft: Draft, prediction: PlanPrediction) -> impl IntoView {
    let total = prediction.moves.len();
    let all = RwSignal::new(total <= SHOWN);
    let rows = move || placement_rows(&draft, &prediction, (!all.get()).then_some(SHOWN));
    view! {
        <table class="objects placement" data-testid="placement">
            <thead>
                <tr>
                    <th>"VM"</th><th>"Move"</th><th>"To"</th><th>"Why"</th>
                    <th>"Starts"</th><th>"Ends"</th><th>"Downtime"</th>
                </tr>
            </thead>
            <tbody inner_html=rows></tbody>
        </table>
        {move || (!all.get()).then(|| view! {
            <p>
                <button class="secondary" data-testid="placement-all" on:click=move |_| all.set(true)>
                    {format!("Show all {total} moves")}
                </button>
            </p>
        })}
    }
}

/// Rows of a long placement shown before "Show all" (the timeline shows every move).
const SHOWN: usize = 50;

/// The placement table's rows, as markup (hundreds of rows: see `components::markup`): the
/// first `limit` moves, or all.
pub fn placement_rows(draft: &Draft, prediction: &PlanPrediction, limit: Option<usize>) -> String {
    let mut left = limit.unwrap_or(usize::MAX);
    let timed: HashMap<(usize, VmId), &MoveTimeline> = prediction
        .moves
        .iter()
        .map(|p| ((p.step, p.vm_id), p))
        .collect();
    let mut m = Markup::with_capacity(400 * prediction.moves.len() + 500);
    let step_row = |m: &mut Markup, text: &str| {
        m.open("tr", &[("class", Some("step-row"))]);
        m.element(
            "td",
            &[("colspan", Some("7")), ("class", Some("muted"))],
            text,
        );
        m.close("tr");
    };
    for (i, step) in draft.steps.iter().enumerate() {
        match step {
            Step::Moves { moves } => {
                for mv in moves {
                    if left == 0 {
                        return m.finish();
                    }
                    left -= 1;
                    let p = timed.get(&(i, mv.vm_id));
                    let kind = if mv.live {
                        mv.kind.label().to_string()
                    } else {
                        format!("{} (cold)", mv.kind.label())
                    };
                    let num = Some("num");
                    m.open(
                        "tr",
                        &[
                            ("data-testid", Some("placement-row")),
                            ("data-vm", Some(&mv.vm_name)),
                        ],
                    );
                    m.element("td", &[("class", Some("name"))], &mv.vm_name);
                    m.element("td", &[], &kind);
                    m.element(
                        "td",
                        &[("data-testid", Some("placement-target"))],
                        &mv.target,
                    );
                    m.element("td", &[("class", Some("muted"))], &mv.why);
                    m.element(
                        "td",
                        &[("class", num)],
                        &p.map(|p| format::duration(domain::Lang::En, p.start_s))
                            .unwrap_or_default(),
                    );
                    m.element(
                        "td",
                        &[("class", num)],
                        &p.map(|p| format::duration(domain::Lang::En, p.end_s))
                            .unwrap_or_default(),
                    );
                    m.element(
                        "td",
                        &[("class", num)],
                        &p.map(|p| format!("{:.0} ms", p.downtime_ms))
                            .unwrap_or_default(),
                    );
                    m.close("tr");
                }
            }
            Step::EnterMaintenance { .. } => {
                step_row(&mut m, "Then: the host enters maintenance mode, once empty")
            }
            Step::Hold { seconds } => step_row(
                &mut m,
                &format!(
                    "Then: maintenance for {}",
                    format::duration(domain::Lang::En, f64::from(*seconds))
                ),
            ),
            Step::ExitMaintenance { .. } => {
                step_row(&mut m, "Then: the host leaves maintenance mode")
            }
        }
    }
    m.finish()
}

/// "Fits: ends at 02:41", or "Misses the window by 14 min".
#[component]
pub fn WindowVerdict(window: Window, total_s: f64) -> impl IntoView {
    let (class, text) = match (window.must_finish_by_ms, window.margin_s) {
        (Some(_), Some(m)) if m >= 0.0 => (
            "verdict fits",
            format!(
                "Fits, {} to spare: ends at ",
                format::duration(domain::Lang::En, m)
            ),
        ),
        (Some(_), Some(m)) => (
            "verdict misses",
            format!(
                "Misses the window by {}: ends at ",
                format::duration(domain::Lang::En, -m)
            ),
        ),
        _ => ("verdict", "No window set: ends at ".to_string()),
    };
    view! {
        <p class=class data-testid="window-verdict" data-fits=window.fits.to_string()>
            {text}
            <Clock ms=window.ends_at_ms/>
            {format!(" (takes {})", format::duration(domain::Lang::En, total_s))}
        </p>
    }
}

/// The same plan at several concurrency limits, side by side; the row in use marked.
#[component]
pub fn WhatIfTable(
    rows: Vec<WhatIf>,
    chosen: Option<u32>,
    on_choose: Callback<Option<u32>>,
    /// A stored plan's rows: shown, not chosen from.
    #[prop(optional)]
    fixed: bool,
) -> impl IntoView {
    view! {
        <table class="objects what-if" data-testid="what-if">
            <thead>
                <tr>
                    <th>"Moves at once"</th><th>"Total time"</th><th>"Worst downtime"</th>
                    <th>"Median downtime"</th><th>"Peak"</th><th></th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let label = r.max_concurrent.map_or("vSphere's limits".to_string(), |n| n.to_string());
                    let selected = r.max_concurrent == chosen;
                    let limit = r.max_concurrent;
                    let limit_text = label.clone();
                    view! {
                        <tr
                            class=if selected { "chosen" } else { "" }
                            data-testid="what-if-row"
                            data-limit=limit_text
                            data-chosen=selected.to_string()
                            data-total=format!("{:.3}", r.total_s)
                        >
                            <td>{label}</td>
                            <td class="num">{format::duration(domain::Lang::En, r.total_s)}</td>
                            <td class="num">{format!("{:.0} ms", r.worst_downtime_ms)}</td>
                            <td class="num">{format!("{:.0} ms", r.median_downtime_ms)}</td>
                            <td class="num">{r.peak_concurrency}</td>
                            <td>
                                {(!selected && !fixed).then(|| view! {
                                    <button class="link" on:click=move |_| on_choose.run(limit)>"Use"</button>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// The prediction in one line: moves, peak, bytes, downtimes.
pub fn summary(prediction: &PlanPrediction, blocked: usize) -> String {
    format!(
        "{} moves · {} blocked · predicted {} · up to {} at once · {} to send · worst downtime {:.0} ms",
        prediction.moves.len(),
        blocked,
        format::duration(domain::Lang::En, prediction.total_s),
        prediction.peak_concurrency,
        format::bytes(domain::Lang::En, prediction.bytes_total),
        prediction.worst_downtime_ms
    )
}
