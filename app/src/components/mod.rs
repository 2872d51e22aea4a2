//! Small reusable view pieces.

pub mod announcer;
pub mod form;
pub mod markup;
pub mod search;

use leptos::prelude::*;

/// A horizontal gauge: green, then amber above 75 %, red above 90 %.
#[component]
pub fn Gauge(
    #[prop(into)] label: String,
    percent: f64,
    #[prop(into)] detail: String,
) -> impl IntoView {
    let level = if percent > 90.0 {
        "high"
    } else if percent > 75.0 {
        "warm"
    } else {
        "ok"
    };
    let title = detail.clone();
    view! {
        <div class="gauge" title=title>
            <span class="gauge-label">{label}</span>
            <span class="gauge-track">
                <span class=format!("gauge-fill {level}") style=format!("width: {percent:.1}%")></span>
            </span>
            <span class="gauge-detail">{detail}</span>
        </div>
    }
}
