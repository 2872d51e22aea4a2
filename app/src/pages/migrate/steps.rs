//! The wizard's target lists (the best first, the rest on demand) and its check results.

use crate::i18n::{t_string, use_i18n};
use crate::lang::{fill, use_lang};
use domain::checks::{CheckReport, Severity, TargetSummary};
use domain::format;
use leptos::prelude::*;

pub(super) fn target_list(
    title: &'static str,
    kind: &'static str,
    items: Vec<TargetSummary>,
    chosen: Option<uuid::Uuid>,
    all: RwSignal<bool>,
    choose: impl Fn(uuid::Uuid) + Copy + Send + Sync + 'static,
) -> AnyView {
    // The best ones (ranked: valid first), the chosen one, the rest on demand.
    let i18n = use_i18n();
    let lang = use_lang().get_untracked();
    let total = items.len();
    let everything = all.get();
    let items: Vec<TargetSummary> = items
        .into_iter()
        .enumerate()
        .filter(|(i, t)| everything || *i < TARGETS_SHOWN || chosen == Some(t.id))
        .map(|(_, t)| t)
        .collect();
    let hidden = total - items.len();
    let more = (hidden > 0).then(|| {
        view! {
            <button class="link small" data-testid=format!("targets-{kind}-more") on:click=move |_| all.set(true)>
                {fill(t_string!(i18n, wizard.show_more), &[("hidden", hidden.to_string())])}
            </button>
        }
    });
    view! {
        <div class="target-list" data-testid=format!("targets-{kind}")>
            <h4>{title}</h4>
            <ul>
                {items
                    .into_iter()
                    .map(|t| {
                        let id = t.id;
                        let testid = format!("target-{kind}-{}", t.name);
                        let free = fill(t_string!(i18n, wizard.free), &[("free", format::mib(lang, t.free_mib))]);
                        let note = match (&t.first_error_check, &t.first_error, t.warnings) {
                            (Some(check), _, _) => crate::check_text::words(i18n, check).0,
                            (None, Some(e), _) => e.clone(),
                            (None, None, 0) => t_string!(i18n, wizard.all_pass).to_string(),
                            (None, None, w) => fill(t_string!(i18n, wizard.n_warnings), &[("warnings", w.to_string())]),
                        };
                        view! {
                            <li>
                                <button
                                    class="target"
                                    class:blocked=!t.allowed
                                    class:chosen=chosen == Some(id)
                                    data-testid=testid
                                    data-allowed=t.allowed.to_string()
                                    on:click=move |_| choose(id)
                                >
                                    <span class="target-name">{t.name.clone()}</span>
                                    <span class="muted small">{free}</span>
                                    <span class="target-note small">{note}</span>
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            {more}
        </div>
    }
    .into_any()
}

/// Targets shown before "Show more".
const TARGETS_SHOWN: usize = 12;

pub(super) fn results_view(report: &CheckReport, check_ms: f64) -> AnyView {
    let i18n = use_i18n();
    let verdict = if report.allowed {
        t_string!(i18n, wizard.allowed)
    } else {
        t_string!(i18n, wizard.blocked)
    };
    view! {
        <div
            class="check-results"
            data-testid="check-results"
            data-allowed=report.allowed.to_string()
            data-check-ms=format!("{check_ms:.3}")
        >
            <p class=if report.allowed { "verdict ok" } else { "verdict blocked" } data-testid="check-verdict">
                {verdict}
            </p>
            <ul>
                {report
                    .results
                    .iter()
                    .map(|r| {
                        let (severity, severity_name) = match r.severity {
                            Severity::Error => ("error", t_string!(i18n, severity.error)),
                            Severity::Warning => ("warning", t_string!(i18n, severity.warning)),
                            Severity::Info => ("info", t_string!(i18n, severity.info)),
                        };
                        let (message, remedy) = crate::check_text::words(i18n, r);
                        view! {
                            <li class=format!("result {severity}") data-testid=format!("check-{}", r.id) data-severity=severity>
                                <span class="severity">{severity_name}</span>
                                <div>
                                    <p class="message" data-code=r.code.clone()>{message}</p>
                                    <p class="remedy muted small">{remedy}</p>
                                </div>
                                <code class="rule muted small">{r.id.clone()}</code>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </div>
    }
    .into_any()
}
