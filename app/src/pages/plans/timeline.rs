//! The plan's timeline (docs/DESIGN.md#plan-prediction): a Gantt chart drawn in SVG, one row
//! per move — its queue wait, its transfer and its switchover shaded apart — predicted, with
//! what the run did beneath each bar and the plan's clock marked while it runs. The geometry
//! is computed here (pure, tested); the component only draws it.

use crate::components::markup::Markup;
use crate::i18n::{td_string, use_i18n, Locale};
use crate::lang::{fill, lang_of};
use crate::tx;
use domain::format;
use domain::plan::{MoveRun, PlanPrediction};
use leptos::prelude::*;

/// Width of the bars' area, in SVG units.
pub const WIDTH: f64 = 900.0;
/// Room for the VM names on the left.
pub const LABELS: f64 = 150.0;

/// One row of the chart, in SVG units.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub vm: String,
    pub y: f64,
    /// (x, width) of the queue wait, the transfer and the switchover.
    pub queue: (f64, f64),
    pub transfer: (f64, f64),
    pub switchover: (f64, f64),
    /// What the run did: (x, width), and whether the move is over.
    pub actual: Option<(f64, f64, bool)>,
    pub failed: bool,
    pub title: String,
}

/// The chart's geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub rows: Vec<Row>,
    pub height: f64,
    pub row_height: f64,
    /// Axis ticks: (x, label).
    pub ticks: Vec<(f64, String)>,
    /// Steps other than moves: (x, label) (a host entering maintenance…).
    pub marks: Vec<(f64, String)>,
    pub now: Option<f64>,
}

/// A tick spacing that gives about eight ticks over `span` seconds.
fn tick_step(span: f64) -> f64 {
    let raw = (span / 8.0).max(1.0);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
}

/// Lays the chart out: predicted bars, the run's (matched by step and VM), the clock.
pub fn chart(
    locale: Locale,
    prediction: &PlanPrediction,
    runs: &[MoveRun],
    now_s: Option<f64>,
) -> Chart {
    let lang = lang_of(locale);
    let time = |s: f64| format::duration(lang, s);
    let actual_end = runs
        .iter()
        .filter_map(|r| r.end_s.or(r.start_s))
        .fold(0.0, f64::max);
    let span = prediction
        .total_s
        .max(actual_end)
        .max(now_s.unwrap_or(0.0))
        .max(1.0);
    let scale = WIDTH / span;
    let x = |s: f64| LABELS + s.max(0.0) * scale;
    let w = |a: f64, b: f64| ((b - a) * scale).max(0.0);
    let row_height = if prediction.moves.len() > 100 {
        10.0
    } else {
        18.0
    };
    let top = 22.0;
    let by_move: std::collections::HashMap<_, &MoveRun> =
        runs.iter().map(|r| ((r.step, r.vm_id), r)).collect();
    let rows = prediction
        .moves
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let y = top + i as f64 * row_height;
            let switch_s = m.breakdown.switchover_s.min(m.end_s - m.start_s).max(0.0);
            let transfer_end = m.end_s - switch_s;
            let run = by_move.get(&(m.step, m.vm_id)).copied();
            let actual = run.and_then(|r| {
                let start = r.start_s?;
                let (end, over) = match (r.end_s, now_s) {
                    (Some(end), _) => (end, true),
                    (None, Some(now)) => (now.max(start), false),
                    (None, None) => (start, false),
                };
                Some((x(start), w(start, end).max(1.5), over))
            });
            let b = &m.breakdown;
            Row {
                vm: m.vm_name.clone(),
                y,
                queue: (x(m.queued_s), w(m.queued_s, m.start_s)),
                transfer: (x(m.start_s), w(m.start_s, transfer_end)),
                switchover: (x(transfer_end), w(transfer_end, m.end_s).max(1.5)),
                actual,
                failed: m.failure.is_some() || run.is_some_and(|r| r.error.is_some()),
                title: fill(
                    td_string!(locale, plans.bar_title),
                    &[
                        ("vm", m.vm_name.clone()),
                        ("queue", time(b.queue_s)),
                        ("prepare", time(b.prepare_s)),
                        ("disks", time(b.disk_copy_s)),
                        ("memory", time(b.memory_precopy_s)),
                        ("switchover", time(b.switchover_s)),
                        ("downtime", format::millis(lang, m.downtime_ms)),
                        ("end", time(m.end_s)),
                    ],
                ),
            }
        })
        .collect::<Vec<_>>();
    let step = tick_step(span);
    let ticks = (0..)
        .map(|i| i as f64 * step)
        .take_while(|t| *t <= span + 1e-9)
        .map(|t| (x(t), time(t)))
        .collect();
    let marks = prediction
        .steps
        .iter()
        .filter(|s| s.kind != "moves")
        .map(|s| (x(s.start_s), step_name(locale, &s.kind)))
        .collect();
    Chart {
        height: top + rows.len() as f64 * row_height + 8.0,
        rows,
        row_height,
        ticks,
        marks,
        now: now_s.map(x),
    }
}

/// A step's name on the chart ("enter maintenance").
fn step_name(locale: Locale, kind: &str) -> String {
    match kind {
        "enter_maintenance" => td_string!(locale, plans.step_enter),
        "hold" => td_string!(locale, plans.step_hold),
        "exit_maintenance" => td_string!(locale, plans.step_exit),
        other => return other.replace('_', " "),
    }
    .to_string()
}

/// Charts of more rows than this draw only those near the visible part of the frame.
const DRAW_ALL: usize = 150;
/// Drawn above and below the visible part (SVG units).
const MARGIN: f64 = 600.0;

/// The rows to draw when the frame is scrolled to `top` and shows `height` (SVG units): all
/// of a short chart; of a long one, those within [`MARGIN`] of what is visible.
pub fn drawn(c: &Chart, top: f64, height: f64) -> std::ops::Range<usize> {
    let n = c.rows.len();
    if n <= DRAW_ALL {
        return 0..n;
    }
    let first_y = c.rows.first().map_or(0.0, |r| r.y);
    let index = |y: f64| (((y - first_y) / c.row_height).floor().max(0.0) as usize).min(n);
    index(top - MARGIN)..(index(top + height + MARGIN) + 1).min(n)
}

/// The chart's SVG content, as markup (hundreds of rows: see `components::markup`): the axis,
/// the marks, the clock and the rows in `rows`.
pub fn svg_body(c: &Chart, rows: std::ops::Range<usize>) -> String {
    let mut m = Markup::with_capacity(300 * c.rows.len() + 1_000);
    let n = |v: f64| format!("{v:.1}");
    let (top, bottom) = (n(14.0), n(c.height));
    for (x, label) in &c.ticks {
        let x = n(*x);
        m.element(
            "line",
            &[
                ("class", Some("tick")),
                ("x1", Some(&x)),
                ("x2", Some(&x)),
                ("y1", Some(&top)),
                ("y2", Some(&bottom)),
            ],
            "",
        );
        m.element(
            "text",
            &[
                ("class", Some("tick-label")),
                ("x", Some(&x)),
                ("y", Some("10")),
            ],
            label,
        );
    }
    for (x, label) in &c.marks {
        let (x, tx, ty) = (n(*x), n(x + 3.0), n(c.height - 2.0));
        m.element(
            "line",
            &[
                ("class", Some("mark")),
                ("x1", Some(&x)),
                ("x2", Some(&x)),
                ("y1", Some(&top)),
                ("y2", Some(&bottom)),
            ],
            "",
        );
        m.element(
            "text",
            &[
                ("class", Some("mark-label")),
                ("x", Some(&tx)),
                ("y", Some(&ty)),
            ],
            label,
        );
    }
    let bar = c.row_height - 4.0;
    let height = n(bar);
    for r in &c.rows[rows] {
        let y = n(r.y);
        let class = if r.failed { "move failed" } else { "move" };
        m.open(
            "g",
            &[
                ("class", Some(class)),
                ("data-testid", Some("timeline-row")),
                ("data-vm", Some(&r.vm)),
            ],
        );
        m.element("title", &[], &r.title);
        m.element(
            "text",
            &[
                ("class", Some("row-label")),
                ("x", Some(&n(LABELS - 6.0))),
                ("y", Some(&n(r.y + bar - 2.0))),
            ],
            &r.vm,
        );
        for (class, (x, w)) in [
            ("queue", r.queue),
            ("transfer", r.transfer),
            ("switchover", r.switchover),
        ] {
            m.element(
                "rect",
                &[
                    ("class", Some(class)),
                    ("x", Some(&n(x))),
                    ("y", Some(&y)),
                    ("width", Some(&n(w))),
                    ("height", Some(&height)),
                ],
                "",
            );
        }
        if let Some((x, w, over)) = r.actual {
            let class = if over { "actual" } else { "actual running" };
            m.element(
                "rect",
                &[
                    ("class", Some(class)),
                    ("data-testid", Some("timeline-actual")),
                    ("x", Some(&n(x))),
                    ("y", Some(&n(r.y + bar - 3.0))),
                    ("width", Some(&n(w))),
                    ("height", Some("3")),
                ],
                "",
            );
        }
        m.close("g");
    }
    if let Some(x) = c.now {
        let x = n(x);
        m.element(
            "line",
            &[
                ("class", Some("now")),
                ("data-testid", Some("timeline-now")),
                ("x1", Some(&x)),
                ("x2", Some(&x)),
                ("y1", Some("12")),
                ("y2", Some(&bottom)),
            ],
            "",
        );
    }
    m.finish()
}

/// The Gantt chart of a plan: its geometry recomputed as the run goes on, its rows written
/// as one string — of a long plan, only the rows near what the frame shows, redrawn as it
/// scrolls (`data-rows`: every move; `data-drawn`: those drawn).
#[component]
pub fn Timeline(
    #[prop(into)] prediction: Signal<PlanPrediction>,
    #[prop(into)] runs: Signal<Vec<MoveRun>>,
    #[prop(into)] now_s: Signal<Option<f64>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let chart = Memo::new(move |_| {
        let locale = i18n.get_locale();
        prediction.with(|p| runs.with(|r| chart(locale, p, r, now_s.get())))
    });
    let width = LABELS + WIDTH + 20.0;
    let height = move || chart.with(|c| c.height);
    let rows = move || chart.with(|c| c.rows.len());
    // The frame's scroll position and visible height (a tall screen until hydrated).
    let frame = RwSignal::new((0.0, 1_200.0));
    let range = Memo::new(move |_| {
        let (top, shown) = frame.get();
        chart.with(|c| drawn(c, top, shown))
    });
    let on_scroll = move |ev: leptos::ev::Event| {
        let el = event_target::<leptos::web_sys::Element>(&ev);
        frame.set((
            f64::from(el.scroll_top()),
            f64::from(el.client_height()).max(1.0),
        ));
    };
    view! {
        <div class="timeline-frame" on:scroll=on_scroll>
            <svg
                class="timeline"
                data-testid="timeline"
                data-rows=rows
                data-drawn=move || range.get().len()
                width=width
                height=height
                viewBox=move || format!("0 0 {width} {}", height())
                role="img"
                aria-label=move || fill(td_string!(i18n.get_locale(), plans.timeline_of), &[("count", rows().to_string())])
                inner_html=move || chart.with(|c| svg_body(c, range.get()))
            ></svg>
        </div>
        <p class="legend small muted">
            <span class="key queue"></span>{tx!(i18n, plans.key_queue)}" "
            <span class="key transfer"></span>{tx!(i18n, plans.key_transfer)}" "
            <span class="key switchover"></span>{tx!(i18n, plans.key_switchover)}" "
            <span class="key actual"></span>{tx!(i18n, plans.key_actual)}" "
            <span class="key now"></span>{tx!(i18n, plans.key_now)}
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::plan::predict::{MoveTimeline, StepSpan, Window};
    use domain::plan::Breakdown;

    fn timeline(name: &str, start: f64, end: f64) -> MoveTimeline {
        MoveTimeline {
            vm_id: domain::VmId::new_random(),
            vm_name: name.into(),
            kind: domain::checks::MigrationKind::VMotion,
            step: 0,
            queued_s: 0.0,
            start_s: start,
            end_s: end,
            downtime_ms: 500.0,
            bytes: 1.0,
            breakdown: Breakdown {
                queue_s: start,
                prepare_s: 1.0,
                disk_copy_s: 0.0,
                memory_precopy_s: end - start - 1.5,
                switchover_s: 0.5,
            },
            failure: None,
        }
    }

    #[test]
    fn bars_are_laid_out_on_one_scale_with_the_run_beneath() {
        let moves = vec![timeline("a", 0.0, 50.0), timeline("b", 50.0, 100.0)];
        let p = PlanPrediction {
            total_s: 100.0,
            moves: moves.clone(),
            steps: vec![
                StepSpan {
                    step: 0,
                    kind: "moves".into(),
                    start_s: 0.0,
                    end_s: 100.0,
                },
                StepSpan {
                    step: 1,
                    kind: "enter_maintenance".into(),
                    start_s: 100.0,
                    end_s: 100.0,
                },
            ],
            peak_concurrency: 1,
            bytes_total: 2.0,
            worst_downtime_ms: 500.0,
            median_downtime_ms: 500.0,
            failures: 0,
            window: Window {
                start_at_ms: 0,
                ends_at_ms: 100_000,
                must_finish_by_ms: None,
                fits: true,
                margin_s: None,
            },
        };
        let runs = vec![MoveRun {
            vm_id: moves[1].vm_id,
            step: 0,
            migration_id: None,
            phase: None,
            start_s: Some(60.0),
            end_s: None,
            error: None,
            error_words: None,
        }];
        let c = chart(Locale::en, &p, &runs, Some(80.0));
        assert_eq!(c.rows.len(), 2);
        // b waits for the first half: its queue bar spans it, its transfer starts mid-way.
        assert_eq!(c.rows[1].queue, (LABELS, WIDTH / 2.0));
        assert_eq!(c.rows[1].transfer.0, LABELS + WIDTH / 2.0);
        let end = c.rows[1].switchover.0 + c.rows[1].switchover.1;
        assert!((end - (LABELS + WIDTH)).abs() < 1e-9);
        // The run's bar: from 60 s to now (80 s), still going.
        let (x, w, over) = c.rows[1].actual.unwrap();
        assert!(
            (x - (LABELS + 0.6 * WIDTH)).abs() < 1e-9 && (w - 0.2 * WIDTH).abs() < 1e-9 && !over
        );
        assert!(c.rows[0].actual.is_none());
        assert_eq!(c.now, Some(LABELS + 0.8 * WIDTH));
        assert_eq!(c.marks.len(), 1);
        assert!(c.ticks.len() >= 5 && c.ticks.len() <= 11, "{:?}", c.ticks);
        // Drawn: one group per move, the run's bar, the clock; names escaped.
        let mut named = p.clone();
        named.moves[0].vm_name = "a<b>".into();
        let named = chart(Locale::en, &named, &runs, Some(80.0));
        let svg = svg_body(&named, drawn(&named, 0.0, 100.0));
        assert_eq!(svg.matches(r#"data-testid="timeline-row""#).count(), 2);
        assert_eq!(svg.matches(r#"data-testid="timeline-actual""#).count(), 1);
        assert_eq!(svg.matches(r#"data-testid="timeline-now""#).count(), 1);
        assert!(svg.contains(r#"data-vm="a&lt;b&gt;""#) && !svg.contains("a<b>"));
    }

    #[test]
    fn a_long_chart_draws_the_rows_near_what_the_frame_shows() {
        let moves: Vec<_> = (0..1_000)
            .map(|i| timeline(&format!("vm-{i}"), 0.0, 10.0))
            .collect();
        let p = PlanPrediction {
            total_s: 10.0,
            moves,
            steps: Vec::new(),
            peak_concurrency: 1,
            bytes_total: 1.0,
            worst_downtime_ms: 500.0,
            median_downtime_ms: 500.0,
            failures: 0,
            window: Window {
                start_at_ms: 0,
                ends_at_ms: 10_000,
                must_finish_by_ms: None,
                fits: true,
                margin_s: None,
            },
        };
        let c = chart(Locale::en, &p, &[], None);
        let (top, shown) = (5_000.0, 500.0);
        let range = drawn(&c, top, shown);
        // Every row the frame shows is drawn, and far fewer than all.
        for (i, r) in c.rows.iter().enumerate() {
            if r.y + c.row_height > top && r.y < top + shown {
                assert!(range.contains(&i), "row {i} at {} not in {range:?}", r.y);
            }
        }
        assert!(range.len() < 250, "{range:?}");
        assert_eq!(drawn(&c, 0.0, shown).start, 0);
        assert_eq!(drawn(&c, c.height, shown).end, 1_000);
        let svg = svg_body(&c, range.clone());
        assert_eq!(
            svg.matches("data-testid=\"timeline-row\"").count(),
            range.len()
        );
        // A short chart is drawn whole.
        let mut short = p.clone();
        short.moves.truncate(40);
        let c = chart(Locale::en, &short, &[], None);
        assert_eq!(drawn(&c, 0.0, 10.0), 0..40);
    }
}
