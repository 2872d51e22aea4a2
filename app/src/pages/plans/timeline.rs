//! The plan's timeline (docs/DESIGN.md#plan-prediction): a Gantt chart drawn in SVG, one row
//! per move — its queue wait, its transfer and its switchover shaded apart — predicted, with
//! what the run did beneath each bar and the plan's clock marked while it runs. The geometry
//! is computed here (pure, tested); the component only draws it.

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
pub fn chart(prediction: &PlanPrediction, runs: &[MoveRun], now_s: Option<f64>) -> Chart {
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
    let rows = prediction
        .moves
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let y = top + i as f64 * row_height;
            let switch_s = m.breakdown.switchover_s.min(m.end_s - m.start_s).max(0.0);
            let transfer_end = m.end_s - switch_s;
            let run = runs
                .iter()
                .find(|r| r.step == m.step && r.vm_id == m.vm_id);
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
                failed: m.failure.is_some()
                    || run.is_some_and(|r| r.error.is_some()),
                title: format!(
                    "{}: waits {}, prepares {}, copies disks {}, pre-copies memory {}, switches over {} (downtime {:.0} ms); ends at {}",
                    m.vm_name,
                    format::duration(b.queue_s),
                    format::duration(b.prepare_s),
                    format::duration(b.disk_copy_s),
                    format::duration(b.memory_precopy_s),
                    format::duration(b.switchover_s),
                    m.downtime_ms,
                    format::duration(m.end_s)
                ),
            }
        })
        .collect::<Vec<_>>();
    let step = tick_step(span);
    let ticks = (0..)
        .map(|i| i as f64 * step)
        .take_while(|t| *t <= span + 1e-9)
        .map(|t| (x(t), format::duration(t)))
        .collect();
    let marks = prediction
        .steps
        .iter()
        .filter(|s| s.kind != "moves")
        .map(|s| (x(s.start_s), s.kind.replace('_', " ")))
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

/// The Gantt chart of a plan.
#[component]
pub fn Timeline(
    #[prop(into)] prediction: Signal<PlanPrediction>,
    #[prop(into)] runs: Signal<Vec<MoveRun>>,
    #[prop(into)] now_s: Signal<Option<f64>>,
) -> impl IntoView {
    let chart = Memo::new(move |_| prediction.with(|p| runs.with(|r| chart(p, r, now_s.get()))));
    let width = LABELS + WIDTH + 20.0;
    view! {
        <div class="timeline-frame">
            {move || {
                let c = chart.get();
                let bar = c.row_height - 4.0;
                view! {
                    <svg
                        class="timeline"
                        data-testid="timeline"
                        data-rows=c.rows.len()
                        width=width
                        height=c.height
                        viewBox=format!("0 0 {width} {}", c.height)
                        role="img"
                        aria-label=format!("Timeline of {} moves", c.rows.len())
                    >
                        {c.ticks.iter().map(|(x, label)| view! {
                            <line class="tick" x1=*x x2=*x y1=14 y2=c.height></line>
                            <text class="tick-label" x=*x y=10>{label.clone()}</text>
                        }).collect_view()}
                        {c.marks.iter().map(|(x, label)| view! {
                            <line class="mark" x1=*x x2=*x y1=14 y2=c.height></line>
                            <text class="mark-label" x=x + 3.0 y=c.height - 2.0>{label.clone()}</text>
                        }).collect_view()}
                        {c.rows.iter().map(|r| {
                            let y = r.y;
                            view! {
                                <g
                                    class=if r.failed { "move failed" } else { "move" }
                                    data-testid="timeline-row"
                                    data-vm=r.vm.clone()
                                >
                                    <title>{r.title.clone()}</title>
                                    <text class="row-label" x=LABELS - 6.0 y=y + bar - 2.0>{r.vm.clone()}</text>
                                    <rect class="queue" x=r.queue.0 y=y width=r.queue.1 height=bar></rect>
                                    <rect class="transfer" x=r.transfer.0 y=y width=r.transfer.1 height=bar></rect>
                                    <rect class="switchover" x=r.switchover.0 y=y width=r.switchover.1 height=bar></rect>
                                    {r.actual.map(|(x, w, over)| view! {
                                        <rect
                                            class=if over { "actual" } else { "actual running" }
                                            data-testid="timeline-actual"
                                            x=x
                                            y=y + bar - 3.0
                                            width=w
                                            height=3
                                        ></rect>
                                    })}
                                </g>
                            }
                        }).collect_view()}
                        {c.now.map(|x| view! {
                            <line class="now" data-testid="timeline-now" x1=x x2=x y1=12 y2=c.height></line>
                        })}
                    </svg>
                }
            }}
        </div>
        <p class="legend small muted">
            <span class="key queue"></span>"queue wait "
            <span class="key transfer"></span>"transfer "
            <span class="key switchover"></span>"switchover "
            <span class="key actual"></span>"what the run did "
            <span class="key now"></span>"now"
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
        }];
        let c = chart(&p, &runs, Some(80.0));
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
    }
}
