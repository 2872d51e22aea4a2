//! The pieces of a plan's page: its blockers (first: why won't this host empty?), its
//! placement, the window verdict, the what-if rows, times of day.

use crate::components::markup::Markup;
use crate::i18n::{t_string, td_string, use_i18n, Locale};
use crate::lang::{fill, lang_of};
use crate::phrase_text::{blocker_in, said_in};
use crate::{names, tx};
use domain::format;
use domain::plan::{Blocker, Draft, MoveTimeline, PlanPrediction, Step, WhatIf, Window};
use domain::{Lang, Phrase, VmId};
use leptos::prelude::*;
use leptos_i18n::I18nContext;
use std::collections::HashMap;

/// The page's language now (tracked: a closure that reads it follows a switch).
pub fn lang_now(i18n: I18nContext<Locale>) -> Lang {
    lang_of(i18n.get_locale())
}

/// A draft's notes as phrases (a plan stored before notes had codes: its English ones).
pub fn notes_of(draft: &Draft) -> Vec<Phrase> {
    if !draft.note_phrases.is_empty() || draft.notes.is_empty() {
        return draft.note_phrases.clone();
    }
    draft
        .notes
        .iter()
        .map(|n| Phrase {
            english: n.clone(),
            ..Phrase::default()
        })
        .collect()
}

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
pub fn Blockers(blockers: Vec<Blocker>, notes: Vec<Phrase>) -> impl IntoView {
    let i18n = use_i18n();
    if blockers.is_empty() {
        return view! { <p class="ok-note" data-testid="no-blockers">{tx!(i18n, plans.every_vm_can_move)}</p> }
            .into_any();
    }
    let count = blockers.len();
    view! {
        <section class="blockers" data-testid="blockers">
            <h3>{move || fill(t_string!(i18n, plans.cannot_move), &[("count", count.to_string())])}</h3>
            {notes.into_iter().map(|n| {
                let untranslated = n.code.is_empty().then_some("engine");
                view! { <p class="form-error" data-testid="plan-note" data-untranslated=untranslated>{move || said_in(i18n.get_locale(), Some(&n), &n.english)}</p> }
            }).collect_view()}
            <table class="objects">
                <thead><tr>
                    <th>{tx!(i18n, plans.vm)}</th><th>{tx!(i18n, plans.check)}</th>
                    <th>{tx!(i18n, plans.why)}</th><th>{tx!(i18n, plans.fix)}</th>
                </tr></thead>
                <tbody>
                    {blockers.into_iter().map(|b| {
                        let (vm, check) = (b.vm_name.clone(), b.check.clone());
                        let (vm_attr, check_attr) = (vm.clone(), check.clone());
                        let untranslated = blocker_in(Locale::en, &b).2.then_some("server");
                        let words = Memo::new(move |_| blocker_in(i18n.get_locale(), &b));
                        view! {
                            <tr data-testid="blocker" data-vm=vm_attr data-check=check_attr>
                                <td class="name">{vm}</td>
                                <td><code>{check}</code></td>
                                <td data-untranslated=untranslated>{move || words.with(|w| w.0.clone())}</td>
                                <td data-testid="blocker-fix">{move || words.with(|w| w.1.clone())}</td>
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
    let i18n = use_i18n();
    let rows = move || {
        placement_rows(
            i18n.get_locale(),
            &draft,
            &prediction,
            (!all.get()).then_some(SHOWN),
        )
    };
    view! {
        <table class="objects placement" data-testid="placement">
            <thead>
                <tr>
                    <th>{tx!(i18n, plans.vm)}</th><th>{tx!(i18n, plans.move_kind)}</th><th>{tx!(i18n, plans.to)}</th>
                    <th>{tx!(i18n, plans.why)}</th><th>{tx!(i18n, plans.starts)}</th><th>{tx!(i18n, plans.ends)}</th>
                    <th>{tx!(i18n, plans.downtime)}</th>
                </tr>
            </thead>
            <tbody inner_html=rows></tbody>
        </table>
        {move || (!all.get()).then(|| view! {
            <p>
                <button class="secondary" data-testid="placement-all" on:click=move |_| all.set(true)>
                    {move || fill(t_string!(i18n, plans.show_all), &[("count", total.to_string())])}
                </button>
            </p>
        })}
    }
}

/// Rows of a long placement shown before "Show all" (the timeline shows every move).
const SHOWN: usize = 50;

/// The placement table's rows, as markup (hundreds of rows: see `components::markup`): the
/// first `limit` moves, or all.
pub fn placement_rows(
    locale: Locale,
    draft: &Draft,
    prediction: &PlanPrediction,
    limit: Option<usize>,
) -> String {
    let lang = lang_of(locale);
    let phrase = |p: &Phrase, english: &str| said_in(locale, Some(p), english);
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
                    let kind = names::migration_kind_in(locale, mv.kind);
                    let kind = if mv.live {
                        kind.to_string()
                    } else {
                        fill(
                            td_string!(locale, plans.cold),
                            &[("kind", kind.to_string())],
                        )
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
                        &phrase(&mv.target_phrase, &mv.target),
                    );
                    m.element(
                        "td",
                        &[("class", Some("muted"))],
                        &phrase(&mv.why_phrase, &mv.why),
                    );
                    m.element(
                        "td",
                        &[("class", num)],
                        &p.map(|p| format::duration(lang, p.start_s))
                            .unwrap_or_default(),
                    );
                    m.element(
                        "td",
                        &[("class", num)],
                        &p.map(|p| format::duration(lang, p.end_s))
                            .unwrap_or_default(),
                    );
                    m.element(
                        "td",
                        &[("class", num)],
                        &p.map(|p| format::millis(lang, p.downtime_ms))
                            .unwrap_or_default(),
                    );
                    m.close("tr");
                }
            }
            Step::EnterMaintenance { .. } => step_row(&mut m, td_string!(locale, plans.then_enter)),
            Step::Hold { seconds } => step_row(
                &mut m,
                &fill(
                    td_string!(locale, plans.then_hold),
                    &[("time", format::duration(lang, f64::from(*seconds)))],
                ),
            ),
            Step::ExitMaintenance { .. } => step_row(&mut m, td_string!(locale, plans.then_exit)),
        }
    }
    m.finish()
}

/// "Fits: ends at 02:41", or "Misses the window by 14 min".
#[component]
pub fn WindowVerdict(window: Window, total_s: f64) -> impl IntoView {
    let i18n = use_i18n();
    let margin = window.margin_s;
    let (class, key): (_, fn(I18nContext<Locale>) -> &'static str) =
        match (window.must_finish_by_ms, margin) {
            (Some(_), Some(m)) if m >= 0.0 => ("verdict fits", |i| t_string!(i, plans.fits)),
            (Some(_), Some(_)) => ("verdict misses", |i| t_string!(i, plans.misses)),
            _ => ("verdict", |i| t_string!(i, plans.no_window)),
        };
    let text = move || {
        let by = margin.map(|m| format::duration(lang_now(i18n), m.abs()));
        fill(key(i18n), &[("time", by.unwrap_or_default())])
    };
    let takes = move || {
        let takes = format::duration(lang_now(i18n), total_s);
        fill(t_string!(i18n, plans.takes), &[("time", takes)])
    };
    view! {
        <p class=class data-testid="window-verdict" data-fits=window.fits.to_string()>
            {text}" "
            <Clock ms=window.ends_at_ms/>
            " "{takes}
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
    let i18n = use_i18n();
    let lang = lang_now(i18n);
    view! {
        <table class="objects what-if" data-testid="what-if">
            <thead>
                <tr>
                    <th>{tx!(i18n, plans.at_once)}</th><th>{tx!(i18n, plans.total_time)}</th><th>{tx!(i18n, plans.worst_downtime)}</th>
                    <th>{tx!(i18n, plans.median_downtime)}</th><th>{tx!(i18n, plans.peak)}</th>
                    <th><span class="visually-hidden">{tx!(i18n, tables.actions)}</span></th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let limit_text = r.max_concurrent.map_or("vSphere's limits".to_string(), |n| n.to_string());
                    let label = r.max_concurrent.map_or_else(|| t_string!(i18n, plans.vsphere_limits).to_string(), |n| n.to_string());
                    let selected = r.max_concurrent == chosen;
                    let limit = r.max_concurrent;
                    view! {
                        <tr
                            class=if selected { "chosen" } else { "" }
                            data-testid="what-if-row"
                            data-limit=limit_text
                            data-chosen=selected.to_string()
                            data-total=format!("{:.3}", r.total_s)
                        >
                            <td>{label}</td>
                            <td class="num">{format::duration(lang, r.total_s)}</td>
                            <td class="num">{format::millis(lang, r.worst_downtime_ms)}</td>
                            <td class="num">{format::millis(lang, r.median_downtime_ms)}</td>
                            <td class="num">{r.peak_concurrency}</td>
                            <td>
                                {(!selected && !fixed).then(|| view! {
                                    <button class="link" on:click=move |_| on_choose.run(limit)>{tx!(i18n, plans.use_it)}</button>
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
pub fn summary(i18n: I18nContext<Locale>, prediction: &PlanPrediction, blocked: usize) -> String {
    let lang = lang_now(i18n);
    fill(
        t_string!(i18n, plans.summary),
        &[
            ("moves", prediction.moves.len().to_string()),
            ("blocked", blocked.to_string()),
            ("time", format::duration(lang, prediction.total_s)),
            ("peak", prediction.peak_concurrency.to_string()),
            ("bytes", format::bytes(lang, prediction.bytes_total)),
            (
                "downtime",
                format::millis(lang, prediction.worst_downtime_ms),
            ),
        ],
    )
}
