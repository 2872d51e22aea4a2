//! vCenter's own compatibility verdict beside the wizard's checks (docs/VCENTER.md#migrations):
//! for a VM mirrored from a vCenter moving host, the server asks vCenter
//! (`QueryVMotionCompatibilityEx`) and the answer is listed under vmshift's own results.

use crate::i18n::{t_string, use_i18n};

use crate::rpc::vcenter_verdict;
use domain::checks::Severity;
use domain::{HostId, VmId};
use leptos::prelude::*;

#[component]
pub fn VcenterVerdict(vm: VmId, host: HostId) -> impl IntoView {
    let verdict = Resource::new(move || (vm, host), |(vm, host)| vcenter_verdict(vm, host));
    let i18n = use_i18n();
    let pending = move || view! { <p class="muted small" data-testid="vcenter-verdict-pending">{crate::tx!(i18n, wizard.asking_vcenter)}</p> };
    view! {
        <div class="check-results vcenter-verdict" data-testid="vcenter-verdict">
            <Transition fallback=pending>
                {move || verdict.get().map(|answer| match answer {
                    Ok(results) => view! {
                        <ul>
                            {results.into_iter().map(|r| {
                                let (severity, severity_name) = match r.severity {
                                    Severity::Error => ("error", t_string!(i18n, severity.error)),
                                    Severity::Warning => ("warning", t_string!(i18n, severity.warning)),
                                    Severity::Info => ("info", t_string!(i18n, severity.info)),
                                };
                                let (message, remedy) = crate::check_text::words(i18n, &r);
                                view! {
                                    <li class=format!("result {severity}") data-testid="check-vcenter.compatibility" data-severity=severity>
                                        <span class="severity">{severity_name}</span>
                                        <div>
                                            <p class="message">{message}</p>
                                            <p class="remedy muted small">{remedy}</p>
                                        </div>
                                        <code class="rule muted small">{r.id}</code>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="muted small">{e.said(i18n.get_locale_untracked())}</p> }.into_any(),
                })}
            </Transition>
        </div>
    }
}
